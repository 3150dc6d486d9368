"""Iceberg on the production parts: the catalog in PostgreSQL, the warehouse in SeaweedFS (S3).

Both assets are materialized against the emulator with the Iceberg IO manager on them, run again
(the day replaced, not doubled), and both tables read back from another catalog connection with
pyiceberg and with DuckDB over the Arrow tables it gives.
"""

from __future__ import annotations

from dagster import DagsterInstance

from spotify_assets.contract import names, schemas
from spotify_assets.defs.iceberg.io_manager import IcebergIOManager
from spotify_assets.defs.iceberg.location import CATALOG_NAME
from spotify_assets.defs.iceberg.tables import IcebergTables
from spotify_assets.defs.spotify.partitions import today
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.deployment.conftest import BUCKET
from spotify_assets_tests.deployment.postgres import Postgres
from spotify_assets_tests.deployment.seaweedfs import S3Server
from spotify_assets_tests.e2e.queries import expected_rows
from spotify_assets_tests.pipeline.iceberg_runs import duckdb_count, run_into_iceberg

PREFIX = "iceberg-deployment"


def test_both_tables_are_written_to_s3_with_a_postgres_catalog_and_read_back(
    postgres_server: Postgres, s3_server: S3Server, emulator_factory: EmulatorFactory
) -> None:
    emu = emulator_factory(albums=12, mode="development")
    root = f"s3://{BUCKET}/{PREFIX}"
    manager = IcebergIOManager(root, s3_server.storage_options(), postgres_server.url())
    with DagsterInstance.ephemeral() as instance:
        assert run_into_iceberg(emu, manager, instance).success
        assert run_into_iceberg(emu, manager, instance).success

    reader = IcebergTables(
        manager.tables.data_root, s3_server.storage_options(), postgres_server.url()
    )
    rows = expected_rows(emu)
    for asset in names.ASSETS:
        table = reader.catalog.load_table(f"spotify.{asset}")
        assert table.location() == f"{root}/iceberg/spotify/{asset}"
        assert [s.summary.operation.value for s in table.snapshots() if s.summary] == [
            "append",
            "overwrite",
        ]
        day = reader.read_day(asset, today(), schemas.SCHEMAS[asset])
        assert day is not None and len(day) == rows[asset] == duckdb_count(day)
        assert (
            duckdb_count(table.scan().to_arrow(), f"snapshot_date = DATE '{today()}'")
            == rows[asset]
        )
    stored = s3_server.filesystem().find(f"{BUCKET}/{PREFIX}/iceberg")
    assert any(path.endswith(".parquet") and "/album_tracks/data/" in path for path in stored)
    catalog_rows = postgres_server.query(
        "SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = :name",
        name=CATALOG_NAME,
    )
    assert sorted((r["table_namespace"], r["table_name"]) for r in catalog_rows) == [
        ("spotify", names.ALBUM_TRACKS),
        ("spotify", names.NEW_RELEASES),
    ]
