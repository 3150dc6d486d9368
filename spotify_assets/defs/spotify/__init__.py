"""Spotify: the daily new releases and their albums' tracks, their checks, job and schedule.

`defs.yaml` makes this folder an instance of `component.SpotifyAssetsComponent`, which builds
everything from the others (and which other `dg` projects scaffold): `assets` (the two assets),
`checks`, `metadata` (what a materialization reports), `partitions` (the days and the daily
times), `schedules` (the job and its schedule), `resources` (the Spotify client, and every
resource of the code location on one storage), `reuse` (tracks taken from stored copies) and
`request_cost` (what a fetch would have cost).
"""
