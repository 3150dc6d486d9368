"""Where the data lives: one resource that the IO manager, track reuse and the app memory take.

The data folder (or fsspec URL) and its fsspec storage options are configured here and nowhere
else, so setting S3 options once moves what is written, what reuse reads and what the client
remembers together. The code location registers it as the `data_storage` resource and hands the
same object to the others, which Dagster then resolves by that key: run config given to
`data_storage` reaches all three.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import pyarrow as pa
from dagster import ConfigurableResource
from pydantic import Field
from upath import UPath

from spotify_assets import settings

DATA_STORAGE = "data_storage"
"""The resource key of `DataStorage`."""


class DataStorage(ConfigurableResource):  # type: ignore[type-arg]
    """The data folder or fsspec URL (SPOTIFY_ASSETS_DATA_DIR) and its fsspec storage options.

    Both table formats store under it: Parquet files, or the warehouse of the Iceberg tables
    (whose catalog, the one thing Iceberg adds, is the iceberg package's resource).
    """

    data_dir: str = Field(
        default=settings.DEFAULT_DATA_DIR,
        description=f"Local folder or fsspec URL such as s3://bucket/prefix ({settings.DATA_DIR}).",
    )
    storage_options: dict[str, Any] = Field(
        default_factory=dict,
        description="fsspec storage options, e.g. endpoint_url (credentials usually come from "
        "the environment, as AWS_* variables for S3).",
    )

    def root(self) -> UPath:
        """The data folder as a UPath: URLs as given (with the storage options), local paths
        made absolute."""
        root: UPath = (
            UPath(self.data_dir, **self.storage_options)
            if "://" in self.data_dir
            else UPath(Path(self.data_dir).expanduser().resolve())
        )
        return root


def write_atomically(path: UPath, write: Callable[[BinaryIO], object]) -> None:
    """Let `write` fill a hidden temporary name beside `path`, then move it into place.

    A reader therefore sees the old file or the complete new one, never a half-written file: a
    rename is atomic on local disks, and object stores publish an object only once it is whole.
    The temporary name does not end in .parquet, so globs like `*.parquet` never pick it up.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("wb") as sink:
            write(sink)
        path.fs.mv(temporary.path, path.path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class StoredDay:
    """What an asset stored for one day: the rows and the columns asked for that the day has;
    `market` only for a day stored before the market column (its rows then lack it): the market
    the whole day was fetched for ("" without one; None when the storage does not say)."""

    rows: pa.Table
    market: str | None


class StoredDays(Protocol):
    """Reads the days an IO manager stored, whatever the table format (Parquet files or an
    Iceberg table): track reuse reads earlier days of album_tracks through it."""

    def where(self, asset: str, day: date) -> str:
        """Where `asset`'s `day` is stored, for messages."""
        ...

    def read(
        self, asset: str, day: date, album_ids: Collection[str], columns: Sequence[str]
    ) -> StoredDay | None:
        """The stored rows of `album_ids` on `day`, only those of `columns` the day has (typed
        as the contract has them); None when that day was never stored. Raises OSError or
        pyarrow's ArrowException when what is stored cannot be read."""
        ...
