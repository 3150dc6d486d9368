"""Running the code location with the Iceberg table format, and reading what a run stored."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult, materialize
from pyiceberg.table import Table
from upath import UPath

from spotify_assets import settings
from spotify_assets.definitions import defs
from spotify_assets.defs.iceberg.tables import IcebergTables
from spotify_assets.defs.spotify.assets import album_tracks, new_releases
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.emulator import EmulatorServer
from spotify_assets.spotify.memory import CACHE_DIR_ENV

OFFLINE_DUCKDB: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
"""DuckDB without extensions: its iceberg and httpfs extensions are downloaded on first use,
which fails offline; it reads the Arrow tables pyiceberg gives instead."""


def point_at(
    emu: EmulatorServer, data_dir: str, monkeypatch: pytest.MonkeyPatch, **variables: str
) -> None:
    """The code location's environment: the emulator, the data dir, the Iceberg table format,
    `variables` (by name), and no other setting of the project (the test's app memory stays)."""
    for name in [n for n in os.environ if n.startswith("SPOTIFY_") and n != CACHE_DIR_ENV]:
        monkeypatch.delenv(name)
    environment = {
        settings.CLIENT_ID: emu.client_id,
        settings.CLIENT_SECRET: emu.client_secret,
        settings.API_BASE_URL: emu.api_base_url,
        settings.TOKEN_URL: emu.token_url,
        settings.DATA_DIR: data_dir,
        settings.TABLE_FORMAT: "iceberg",
        **variables,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)


def run_code_location(instance: DagsterInstance) -> ExecuteInProcessResult:
    """Today's partition of both assets with the resources the code location builds from the
    environment."""
    return materialize(
        [new_releases, album_tracks],
        partition_key=today().isoformat(),
        resources=defs().resources,
        instance=instance,
        raise_on_error=False,
    )


def tables(data_dir: Path | str, catalog_uri: str | None = None) -> IcebergTables:
    """A fresh view of the tables (a catalog connection of its own), as another process has."""
    return IcebergTables(UPath(data_dir), catalog_uri)


def stored(data_dir: Path | str, asset: str, catalog_uri: str | None = None) -> Table:
    """The asset's table as stored now."""
    return tables(data_dir, catalog_uri).catalog.load_table(
        f"{settings.DEFAULT_ICEBERG_NAMESPACE}.{asset}"
    )


def duckdb_count(rows: pa.Table, where: str = "true") -> int:
    """Rows of an Arrow table DuckDB counts with `where`, with extension downloads and loads off
    (what the docs show: DuckDB over the Arrow table a pyiceberg scan gives, offline)."""
    connection = duckdb.connect(config=OFFLINE_DUCKDB)
    try:
        connection.register("stored", rows)
        [(count,)] = connection.execute(f"SELECT count(*) FROM stored WHERE {where}").fetchall()
        return int(count)
    finally:
        connection.close()
