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

from collections.abc import Mapping
from datetime import date
from typing import Final

import pandas as pd
import pyarrow as pa
from dagster import (
    ConfigurableIOManagerFactory,
    ConfigurableResource,
    InitResourceContext,
    InputContext,
    IOManager,
    OutputContext,
)
from pydantic import Field

from spotify_assets import settings
from spotify_assets.contract import names, schemas
from spotify_assets.defs.iceberg.tables import (
    IcebergTables,
    replace_day,
)
from spotify_assets.defs.storage import DataStorage

RUN_ID_PROPERTY: Final = "dagster-run-id"
"""Snapshot summary property: the Dagster run that wrote the snapshot."""
STORAGE_KIND: Final = "iceberg"


class IcebergCatalog(ConfigurableResource):  # type: ignore[type-arg]
    """The SQL catalog of the two Iceberg tables, whose warehouse is under the data storage.

    What Iceberg adds to the data storage: the catalog URI (SPOTIFY_ASSETS_ICEBERG_CATALOG_URI,
    given through EnvVar since it may hold a password) and the namespace.
    """

    storage: DataStorage = Field(description="Where the data lives (the data_storage resource).")
    uri: str | None = Field(
        default=None,
        description=f"SQLAlchemy URL of the SQL catalog ({settings.ICEBERG_CATALOG_URI}); unset: "
        "SQLite in <data dir>/_spotify_assets/iceberg.db (a local data dir only).",
        json_schema_extra={"dagster__is_secret": True},
    )
    namespace: str = Field(
        default=settings.DEFAULT_ICEBERG_NAMESPACE,
        description=f"Namespace of the two tables ({settings.ICEBERG_NAMESPACE}).",
    )

    def tables(self) -> IcebergTables:
        """The tables of this catalog, on the storage's root and its storage options."""
        return IcebergTables(self.storage.root(), self.uri, self.namespace)


class IcebergTablesIOManager(IOManager):
    """Stores each asset's day as its Iceberg table's partition and loads it back as pandas."""

    def __init__(
        self, tables: IcebergTables, asset_schemas: Mapping[str, pa.Schema] = schemas.SCHEMAS
    ) -> None:
        self.tables = tables
        self._schemas = asset_schemas

    def _asset(self, context: InputContext | OutputContext) -> tuple[str, pa.Schema, date]:
        name = context.asset_key.path[-1]
        if name not in self._schemas:
            raise KeyError(f"No Arrow schema is declared for asset {name!r} in contract.schemas")
        return name, self._schemas[name], date.fromisoformat(context.asset_partition_key)

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        """Replace the day's partition with the frame, failing before any write if the frame
        does not fit the contract; the snapshot records the run (the `market` column carries
        each row's market); the output metadata names the table, its location and the
        snapshot."""
        name, schema, day = self._asset(context)
        rows = pa.Table.from_pandas(obj, schema=schema, preserve_index=False)
        table = self.tables.table(name, schema)
        properties = {RUN_ID_PROPERTY: context.run_id}
        snapshot_id = replace_day(table, rows, day, properties)
        context.add_output_metadata(
            {
                names.TABLE_NAME: self.tables.identifier(name),
                names.STORAGE_KIND: STORAGE_KIND,
                names.URI: table.location(),
                names.SNAPSHOT_ID: str(snapshot_id),
            }
        )

    def load_input(self, context: InputContext) -> pd.DataFrame:
        """Read the day's partition back with the dtypes the asset produced."""
        name, schema, day = self._asset(context)
        rows = self.tables.read_day(name, day, schema)
        if rows is None:
            raise FileNotFoundError(
                f"No stored {name} for {day} in Iceberg table {self.tables.identifier(name)}: "
                f"materialize {name} for that day first (or check "
                f"{settings.ICEBERG_CATALOG_URI} and {settings.ICEBERG_NAMESPACE})."
            )
        return schemas.to_frame(rows)


class IcebergIOManager(ConfigurableIOManagerFactory[IcebergTablesIOManager]):
    """Stores each partition in the Iceberg tables of the catalog (SPOTIFY_ASSETS_TABLE_FORMAT=
    iceberg), the warehouse under the data storage."""

    catalog: IcebergCatalog = Field(description="The tables' SQL catalog and namespace.")

    def create_io_manager(self, context: InitResourceContext) -> IcebergTablesIOManager:
        """The IO manager of a run, on the catalog's tables."""
        return IcebergTablesIOManager(self.catalog.tables())
