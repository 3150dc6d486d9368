"""The two Iceberg tables: made to the contract's schema, a day replaced in one commit, read back
by day, and rows of given albums read by day for track reuse.

A materialization replaces its day with one snapshot in one catalog commit (`replace_day`): the
day's old data files out and the new ones in, together, so a reader sees the old day or the
new one, never neither nor half, even when it time-travels through the history.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Final

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NoSuchTableError,
    TableAlreadyExistsError,
    ValidationException,
)
from pyiceberg.expressions import And, BooleanExpression, EqualTo, In, Reference
from pyiceberg.expressions.literals import literal
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot, ancestors_of
from upath import UPath

from spotify_assets import settings
from spotify_assets.contract import names, schemas
from spotify_assets.defs.iceberg.location import (
    CATALOG_NAME,
    default_catalog_uri,
    file_io,
    warehouse,
)
from spotify_assets.defs.storage import StoredDay

PARTITION_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    names.NEW_RELEASES: ("snapshot_date", "market"),
    names.ALBUM_TRACKS: ("snapshot_date",),
}
"""Identity partition fields of each table; a column the contract does not have (yet) is left
out, and joins the spec when a later write brings the column (see `ensure_table`)."""
DAY_COLUMN: Final = "snapshot_date"
PARTITION_PROPERTY: Final = "spotify-assets.partition"
"""Snapshot summary property: the day (Dagster partition key) a snapshot replaced."""


def iceberg_schema(schema: pa.Schema) -> pa.Schema:
    """The contract's schema with each column's description as its Iceberg doc (pyiceberg reads
    the `doc` key of an Arrow field's metadata), so catalogs and engines show it."""
    return pa.schema(
        [
            field.with_metadata({b"doc": (field.metadata or {}).get(b"description", b"")})
            for field in schema
        ]
    )


def ensure_table(
    catalog: Catalog, identifier: str, schema: pa.Schema, partition_columns: Sequence[str]
) -> Table:
    """The table `identifier`, created with `schema` and identity partitions on those of
    `partition_columns` it has, in one commit; an existing table missing columns of `schema`
    gets them (and their partition fields) in one commit, so a table follows a contract that
    gains columns."""
    wanted = [column for column in partition_columns if column in schema.names]
    try:
        table = catalog.load_table(identifier)
    except NoSuchTableError:
        creating = catalog.create_table_transaction(identifier, iceberg_schema(schema))
        with creating.update_spec() as spec:
            for column in wanted:
                spec.add_identity(column)
        with contextlib.suppress(TableAlreadyExistsError):  # another run made it first
            creating.commit_transaction()
        table = catalog.load_table(identifier)
    missing = [name for name in schema.names if name not in table.schema().column_names]
    partitioned = {
        table.schema().find_column_name(field.source_id) for field in table.spec().fields
    }
    unpartitioned = [column for column in wanted if column not in partitioned]
    if missing or unpartitioned:
        with table.transaction() as upgrade:
            with upgrade.update_schema() as columns:
                columns.union_by_name(iceberg_schema(schema))
            with upgrade.update_spec() as spec:
                for column in unpartitioned:
                    spec.add_identity(column)
        table = catalog.load_table(identifier)
    return table


def day_filter(day: date) -> BooleanExpression:
    """The rows of one snapshot day (a partition filter: it prunes files without reading them)."""
    return EqualTo(term=Reference(DAY_COLUMN), value=literal(day.isoformat()))


def replace_day(
    table: Table, rows: pa.Table, day: date, properties: Mapping[str, str] | None = None
) -> int:
    """Make `rows` the whole of `day` in `table`: one snapshot in one commit; returns its id.

    pyiceberg's public `overwrite` would commit a DELETE and an APPEND snapshot (one commit, but
    the history then holds a snapshot without the day); Iceberg's replace-partition is one
    snapshot that removes the day's files and adds the new ones, built here from pyiceberg's
    snapshot producer. Its data-file writer is not public API (hence the pinned pyiceberg
    minor version); the tests check the result. It is built by the overwrite producer even for
    a new day (whose snapshot pyiceberg then records as an `append`, nothing being deleted): an
    overwrite checks, when it commits, that no other write added rows to the day meanwhile, so
    two runs of one day never both land (a fast append would not check). Every row must belong
    to `day`, or the replacement would leak into other days.
    """
    name = ".".join(table.name())
    days = set(rows.column(DAY_COLUMN).to_pylist())
    if days - {day}:
        raise ValueError(
            f"Refusing to store {sorted(map(str, days - {day}))} rows as partition {day} of "
            f"{name}: every row's {DAY_COLUMN} must be the partition's day."
        )
    summary = {PARTITION_PROPERTY: day.isoformat(), **(properties or {})}
    old_files = [task.file for task in table.scan(row_filter=day_filter(day)).plan_files()]
    try:
        with (
            table.transaction() as transaction,
            transaction.update_snapshot(snapshot_properties=summary).overwrite() as snapshot,
        ):
            snapshot.delete_by_predicate(day_filter(day))
            for data_file in old_files:
                snapshot.delete_data_file(data_file)
            if len(rows):
                for data_file in _dataframe_to_data_files(
                    table_metadata=transaction.table_metadata,
                    df=rows,
                    io=table.io,
                    write_uuid=snapshot.commit_uuid,
                ):
                    snapshot.append_data_file(data_file)
    except (ValidationException, CommitFailedException) as exc:
        raise RuntimeError(
            f"Another write replaced {day} of {name} while this one was writing, so this one "
            f"was not stored ({type(exc).__name__}: {exc}); the day holds the other write's "
            "rows, whole. Re-materialize the day if this run's rows should win."
        ) from exc
    return snapshot.snapshot_id


def day_snapshot(table: Table, day: date) -> Snapshot | None:
    """The snapshot of the table's current history that last replaced `day` (None: no write of
    that day is in the history, or it was expired). An empty day leaves no data file, only it."""
    for snapshot in ancestors_of(table.current_snapshot(), table.metadata):
        if (
            snapshot.summary is not None
            and snapshot.summary.additional_properties.get(PARTITION_PROPERTY) == day.isoformat()
        ):
            return snapshot
    return None


@dataclass(frozen=True)
class IcebergTables:
    """Where the two tables are: the data dir (the warehouse, with its storage options) and
    the catalog (`catalog_uri` None: SQLite under a local data dir; object storage needs one).

    Also storage.StoredDays, the reading track reuse does: `where` and `read`.
    """

    data_root: UPath
    catalog_uri: str | None = None
    namespace: str = settings.DEFAULT_ICEBERG_NAMESPACE

    @cached_property
    def catalog(self) -> SqlCatalog:
        """The SQL catalog (its tables are made on first use), namespace ensured."""
        catalog = SqlCatalog(
            CATALOG_NAME,
            uri=self.catalog_uri or default_catalog_uri(self.data_root),
            warehouse=warehouse(self.data_root),
            **file_io(self.data_root),
        )
        catalog.create_namespace_if_not_exists(self.namespace)
        return catalog

    def identifier(self, asset: str) -> str:
        """`<namespace>.<asset>`, the table's name in the catalog and in engines."""
        return f"{self.namespace}.{asset}"

    def table(self, asset: str, schema: pa.Schema) -> Table:
        """The asset's table, created (or upgraded) to `schema` first when needed."""
        return ensure_table(
            self.catalog, self.identifier(asset), schema, PARTITION_COLUMNS.get(asset, ())
        )

    def existing(self, asset: str) -> Table | None:
        """The asset's table, or None before anything was written to it."""
        try:
            return self.catalog.load_table(self.identifier(asset))
        except NoSuchTableError:
            return None

    def read_day(self, asset: str, day: date, schema: pa.Schema) -> pa.Table | None:
        """Rows of one day (None when that day was never stored), cast to the contract's
        `schema` (field docs, nullability and string types as the Parquet files have them)."""
        table = self.existing(asset)
        if table is None:
            return None
        rows = table.scan(row_filter=day_filter(day)).to_arrow()
        if not len(rows) and day_snapshot(table, day) is None:
            return None
        return rows.select(schema.names).cast(schema)

    def where(self, asset: str, day: date) -> str:
        """`<namespace>.<asset>` and the day, for messages."""
        return f"{self.identifier(asset)} ({DAY_COLUMN} = {day})"

    def read(
        self, asset: str, day: date, album_ids: Collection[str], columns: Sequence[str]
    ) -> StoredDay | None:
        """The rows of `album_ids` on `day`, only `columns`, read with the filter pushed down
        (files of other days are never opened); None when the day was never stored. Each row
        carries its market in the `market` column, so the day names none."""
        table = self.existing(asset)
        if table is None:
            return None
        snapshot = day_snapshot(table, day)
        row_filter = And(
            day_filter(day),
            In(term=Reference("album_id"), values={literal(a) for a in album_ids}),
        )
        present = [name for name in columns if name in table.schema().column_names]
        rows = table.scan(row_filter=row_filter, selected_fields=tuple(present)).to_arrow()
        if snapshot is None and not len(rows):
            return None
        subset = pa.schema([schemas.SCHEMAS[asset].field(name) for name in present])
        return StoredDay(rows.select(present).cast(subset), None)
