"""Spotify: the daily new releases and their albums' tracks, their checks, job and schedule.

`assets` (the two assets), `checks`, `metadata` (what a materialization reports), `partitions`
(the days and the daily times), `schedules` (the job and its schedule), `resources` (the Spotify
client, and every resource of the code location as the environment sets them), `reuse` (tracks
taken from stored copies) and `request_cost` (what a fetch would have cost).
"""
