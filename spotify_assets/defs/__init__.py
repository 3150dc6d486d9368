"""The Dagster layer, the folder `load_from_defs_folder` reads: one folder per source.

Here, shared by every source: `storage` (the data_storage resource: where the data lives),
`io_manager` (Parquet partitions under it), `app_memory` (the client's memory beside the data)
and `executor` (every run in one process). `spotify/` holds the Spotify assets and what they use,
loaded through its `defs.yaml` as the SpotifyAssetsComponent.
"""
