"""Parquet IO manager: one file per asset per daily partition, written atomically, any fsspec URL.

Built on Dagster's UPathIOManager, so the same code writes to a local folder or to object storage
(`s3://bucket/prefix`, `gs://...`, `memory://...`); the layout is `<base>/<asset>/<day>.parquet`,
written once in `partition_path`, which readers of stored partitions (track reuse) use too.
"""

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dagster import (
    ConfigurableIOManagerFactory,
    InitResourceContext,
    InputContext,
    OutputContext,
    UPathIOManager,
)
from pydantic import Field
from upath import UPath

from spotify_assets import settings
from spotify_assets.contract import schemas
from spotify_assets.defs.storage import DataStorage, write_atomically

IO_MANAGER = "parquet_io_manager"
"""The resource key of the IO manager both assets are stored with."""
EXTENSION = ".parquet"


def partition_path(root: UPath, asset: str, partition_key: str) -> UPath:
    """Where a partition of `asset` is stored under `root`: `<root>/<asset>/<key>.parquet`.

    The one place the layout is written: the IO manager stores and loads with it, and the track
    reuse reads earlier days with it, so both always agree.
    """
    return root / asset / f"{partition_key}{EXTENSION}"


def write_parquet_atomically(table: pa.Table, path: UPath) -> None:
    """Write `table` as zstd-compressed Parquet at `path`, atomically (see
    storage.write_atomically)."""
    write_atomically(path, lambda sink: pq.write_table(table, sink, compression="zstd"))


class ParquetUPathIOManager(UPathIOManager):
    """Stores pandas frames as Parquet with each asset's explicit Arrow schema.

    `extension` stays unset: `partition_path` adds it, so the layout is written in one place.
    """

    def __init__(self, base_path: UPath, asset_schemas: Mapping[str, pa.Schema]) -> None:
        super().__init__(base_path=base_path)
        self._schemas = asset_schemas

    def get_path_for_partition(
        self, context: InputContext | OutputContext, path: UPath, partition: str
    ) -> UPath:
        """The partition's file, as `partition_path` lays it out."""
        return partition_path(self._base_path, context.asset_key.path[-1], partition)

    def _schema(self, context: InputContext | OutputContext) -> pa.Schema:
        name = context.asset_key.path[-1]
        if name not in self._schemas:
            raise KeyError(f"No Arrow schema is declared for asset {name!r} in contract.schemas")
        return self._schemas[name]

    def dump_to_path(self, context: OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        """Write the frame, failing before any file is touched if it does not fit the schema.

        The pandas metadata pyarrow would add is dropped: it names this process's pandas dtypes,
        which other readers (older pandas, Spark) cannot rebuild; the schema is the contract.
        """
        schema = self._schema(context)
        table = pa.Table.from_pandas(obj, schema=schema, preserve_index=False)
        write_parquet_atomically(table.replace_schema_metadata(schema.metadata), path)

    def load_from_path(self, context: InputContext, path: UPath) -> pd.DataFrame:
        """Read a partition back with the same dtypes the asset produced; a nullable column a
        file written before it existed lacks (such as `market`) reads back as nulls."""
        if not self.path_exists(path):
            name = context.asset_key.path[-1]
            raise FileNotFoundError(
                f"No stored {name} for {context.asset_partition_key} at {path}: materialize "
                f"{name} for that day first (or check {settings.DATA_DIR})."
            )
        with path.open("rb") as source:
            table = pq.read_table(source, schema=self._schema(context))
        return schemas.to_frame(table)


class ParquetIOManager(ConfigurableIOManagerFactory[ParquetUPathIOManager]):
    """Stores each partition as Parquet under the data storage (SPOTIFY_ASSETS_DATA_DIR)."""

    storage: DataStorage = Field(description="Where the data lives (the data_storage resource).")

    def create_io_manager(self, context: InitResourceContext) -> ParquetUPathIOManager:
        """The UPath IO manager on the storage's root, with the contract's schemas."""
        return ParquetUPathIOManager(self.storage.root(), schemas.SCHEMAS)
