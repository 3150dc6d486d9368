"""Iceberg IO manager: each asset's day is its table's partition, loaded back as pandas.

Written on pyiceberg directly, not on dagster-iceberg 0.3.14, because that package
- pins `pyiceberg<0.12` and is marked preview;
- builds each table from the frame's inferred Arrow schema (`pa.Table.from_pandas(obj)`), so
  the contract's types, nullability and column docs are lost, and hands inputs back with
  pyarrow's default pandas dtypes instead of the contract's (`schemas.to_frame`);
- partitions only by Dagster partition dimensions (a `day` transform on the time window, set by
  a second commit after the table is created), so `market` cannot be a partition field;
- replaces a partition with pyiceberg's `overwrite`: a DELETE and an APPEND snapshot per re-run,
  the first of them a table state without the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

import pandas as pd
import pyarrow as pa
from dagster import (
    ConfigurableIOManagerFactory,
    InitResourceContext,
    InputContext,
    IOManager,
    OutputContext,
)
from pydantic import Field
from upath import UPath

from spotify_assets.contract import schemas
from spotify_assets.defs.iceberg.location import CATALOG_URI, DEFAULT_NAMESPACE, NAMESPACE
from spotify_assets.defs.iceberg.tables import IcebergTables, replace_day
from spotify_assets.defs.io_manager import data_root as data_dir

RUN_ID_PROPERTY: Final = "dagster-run-id"
TABLE_NAME: Final = "dagster/table_name"
"""Output metadata: `<namespace>.<table>`, which the Dagster UI shows as the asset's table."""
SNAPSHOT_ID: Final = "snapshot_id"
"""Output metadata: the Iceberg snapshot that holds the materialized day."""
TABLE_LOCATION: Final = "table_location"
"""Output metadata: where the table's data and metadata files are."""


class IcebergIOManager(IOManager):
    """Stores each asset's day as its Iceberg table's partition and loads it back as pandas.

    Plain constructor arguments, so the code location can build it from the storage resource:
    the data dir (folder or fsspec URL), its storage options, the catalog URI (None: SQLite
    under a local data dir) and the namespace.
    """

    def __init__(
        self,
        data_root: UPath | str,
        storage_options: Mapping[str, Any] | None = None,
        catalog_uri: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        asset_schemas: Mapping[str, pa.Schema] = schemas.SCHEMAS,
    ) -> None:
        options = dict(storage_options or {})
        root = data_root if isinstance(data_root, UPath) else data_dir(data_root, options)
        self.tables = IcebergTables(root, options, catalog_uri, namespace)
        self._schemas = asset_schemas

    def _asset(self, context: InputContext | OutputContext) -> tuple[str, pa.Schema, date]:
        name = context.asset_key.path[-1]
        if name not in self._schemas:
            raise KeyError(f"No Arrow schema is declared for asset {name!r} in contract.schemas")
        return name, self._schemas[name], date.fromisoformat(context.asset_partition_key)

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        """Replace the day's partition with the frame, failing before any write if the frame
        does not fit the contract; record the table, snapshot and location."""
        name, schema, day = self._asset(context)
        rows = pa.Table.from_pandas(obj, schema=schema, preserve_index=False)
        table = self.tables.table(name, schema)
        snapshot_id = replace_day(table, rows, day, {RUN_ID_PROPERTY: context.run_id})
        context.add_output_metadata(
            {
                TABLE_NAME: self.tables.identifier(name),
                SNAPSHOT_ID: str(snapshot_id),
                TABLE_LOCATION: table.location(),
            }
        )

    def load_input(self, context: InputContext) -> pd.DataFrame:
        """Read the day's partition back with the dtypes the asset produced."""
        name, schema, day = self._asset(context)
        rows = self.tables.read_day(name, day, schema)
        if rows is None:
            raise FileNotFoundError(
                f"No stored {name} for {day} in Iceberg table {self.tables.identifier(name)}: "
                f"materialize {name} for that day first (or check {CATALOG_URI} and "
                f"{NAMESPACE})."
            )
        return schemas.to_frame(rows)


class IcebergIOManagerFactory(ConfigurableIOManagerFactory[IcebergIOManager]):
    """The Iceberg IO manager as a configurable resource: the data dir and its storage options
    (as the Parquet IO manager's), the catalog URI (give it through EnvVar: it may hold a
    password) and the namespace."""

    base_path: str = Field(description="Local folder or fsspec URL such as s3://bucket/prefix.")
    storage_options: dict[str, Any] = Field(
        default_factory=dict, description="fsspec storage options, mapped to pyiceberg's FileIO."
    )
    catalog_uri: str | None = Field(
        default=None,
        description=f"SQLAlchemy URL of the SQL catalog ({CATALOG_URI}); unset: SQLite under a "
        "local data dir.",
    )
    namespace: str = Field(
        default=DEFAULT_NAMESPACE, description=f"Namespace of the two tables ({NAMESPACE})."
    )

    def create_io_manager(self, context: InitResourceContext) -> IcebergIOManager:
        """The IO manager of a run, on this configuration."""
        return IcebergIOManager(
            self.base_path, self.storage_options, self.catalog_uri, self.namespace
        )
