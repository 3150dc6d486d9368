"""The child process of `make run`: today's partition of the daily job, in process, summarized.

Run with the environment `make run` prepared (DAGSTER_HOME, data folder, where Spotify is); the
backend's description is its only argument.
"""

from __future__ import annotations

import sys

from dagster import DagsterInstance

from spotify_assets import settings
from spotify_assets.definitions import defs
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.defs.spotify.schedules import DAILY_JOB_NAME
from spotify_assets.local.summary import summarize


def main(backend: str) -> int:
    """Run the job for today and print what it did; 0 when the run and every check passed."""
    partition = today().isoformat()
    print(f"Materializing new_releases and album_tracks for {partition} ...", flush=True)
    with DagsterInstance.get() as instance:
        result = (
            defs()
            .resolve_job_def(DAILY_JOB_NAME)
            .execute_in_process(partition_key=partition, instance=instance, raise_on_error=False)
        )
    summary = summarize(result, backend)
    configured = settings.Settings.from_environ()
    root = configured.data_dir
    print(summary.text)
    if configured.table_format == "iceberg":
        print(
            f"\nRead the tables {configured.iceberg_namespace}.new_releases and "
            f"{configured.iceberg_namespace}.album_tracks with pyiceberg (and through it pandas "
            "or DuckDB): docs/table-formats.md"
        )
    else:
        print(
            f"\nRead every day at once: pandas.read_parquet('{root}/album_tracks'), "
            f"or in DuckDB: SELECT * FROM '{root}/album_tracks/*.parquet'"
        )
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
