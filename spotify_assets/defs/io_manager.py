"""Parquet IO manager: one file per asset per daily partition, written atomically, any fsspec URL.

Built on Dagster's UPathIOManager, so the same code writes to a local folder or to object storage
(`s3://bucket/prefix`, `gs://...`, `memory://...`); the layout is `<base>/<asset>/<day>.parquet`,
written once in `partition_path`, which `ParquetDays` (how track reuse reads stored days) uses too.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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
from spotify_assets.contract import names, schemas
from spotify_assets.defs.storage import DataStorage, StoredDay, write_atomically

IO_MANAGER = "io_manager"
"""The resource key of the IO manager both assets are stored with (Parquet or Iceberg)."""
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


def stored_market(parquet: pq.ParquetFile) -> str | None:
    """The market a stored file was fetched for ("" without one); None when it does not say
    (written before the market was recorded)."""
    value = (parquet.metadata.metadata or {}).get(names.PARQUET_MARKET)
    return None if value is None else value.decode()


@dataclass(frozen=True)
class ParquetDays:
    """The days stored as Parquet files under `root` (storage.StoredDays)."""

    root: UPath

    def where(self, asset: str, day: date) -> str:
        """The day's file."""
        return str(partition_path(self.root, asset, day.isoformat()))

    def read(
        self, asset: str, day: date, album_ids: Collection[str], columns: Sequence[str]
    ) -> StoredDay | None:
        """The rows of `album_ids` in the day's file, only those of `columns` the file has (a
        file written before the market column lacks it), and, for such a file, the market its
        footer records; one open of the file (None when there is none)."""
        path = partition_path(self.root, asset, day.isoformat())
        schema = schemas.SCHEMAS[asset]
        try:
            with path.open("rb") as source:
                parquet = pq.ParquetFile(source)
                present = [name for name in columns if name in parquet.schema_arrow.names]
                table = parquet.read(columns=list(dict.fromkeys(["album_id", *present])))
        except FileNotFoundError:
            return None
        wanted = pc.is_in(table["album_id"], value_set=pa.array(list(album_ids), pa.string()))
        subset = pa.schema([schema.field(name) for name in present])
        rows = table.filter(wanted).select(present).cast(subset)
        has_market = names.MARKET in parquet.schema_arrow.names
        return StoredDay(rows, None if has_market else stored_market(parquet))


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
