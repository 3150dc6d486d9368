"""Running both assets into Iceberg tables, and reading what a run stored, for the Iceberg tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
from dagster import AssetsDefinition, DagsterInstance, ExecuteInProcessResult, materialize

from spotify_assets.defs.iceberg.io_manager import IcebergIOManager, IcebergIOManagerFactory
from spotify_assets.defs.io_manager import IO_MANAGER
from spotify_assets.defs.spotify.assets import album_tracks, new_releases
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.defs.spotify.reuse import TRACK_REUSE, TrackReuse
from spotify_assets.emulator import EmulatorServer
from spotify_assets_tests.pipeline.conftest import spotify_resource


def run_into_iceberg(
    emu: EmulatorServer,
    manager: IcebergIOManager | IcebergIOManagerFactory,
    instance: DagsterInstance,
    *,
    day: date | None = None,
    selection: Sequence[AssetsDefinition] = (new_releases, album_tracks),
    **settings: Any,
) -> ExecuteInProcessResult:
    """Materialize `selection` for `day` (today by default) with `manager` as the IO manager.

    Track reuse is off: it reads Parquet files until the code location wires it to the table.
    """
    return materialize(
        [new_releases, album_tracks],
        selection=list(selection),
        partition_key=(day or today()).isoformat(),
        resources={
            "spotify": spotify_resource(emu, **settings),
            IO_MANAGER: manager,
            TRACK_REUSE: TrackReuse(max_age_days=0),
        },
        instance=instance,
        raise_on_error=False,
    )


def duckdb_count(rows: pa.Table, where: str = "true") -> int:
    """Rows of an Arrow table DuckDB counts with `where`, with extension downloads and loads off
    (what the README shows: DuckDB over the Arrow table a pyiceberg scan gives, offline)."""
    connection = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        connection.register("stored", rows)
        [(count,)] = connection.execute(f"SELECT count(*) FROM stored WHERE {where}").fetchall()
        return int(count)
    finally:
        connection.close()
