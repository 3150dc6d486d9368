"""Where the Iceberg tables live: the SQL catalog's URI, the warehouse under the data dir, and how
pyiceberg reaches it (its FileIO and the data dir's storage options as FileIO properties)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from upath import UPath

from spotify_assets import settings
from spotify_assets.defs.app_memory import FOLDER

CATALOG_NAME: Final = "spotify_assets"
"""The name the tables are registered under in the SQL catalog (its `catalog_name` column):
Spark's and Trino's JDBC catalogs must use the same name to see them."""
WAREHOUSE_FOLDER: Final = "iceberg"
"""The warehouse is `<data dir>/iceberg`, beside the Parquet folders of the same data dir."""
CATALOG_FILE: Final = Path(FOLDER) / "iceberg.db"
"""The default SQLite catalog of a local data dir, beside the app memory."""
FSSPEC_FILE_IO: Final = "pyiceberg.io.fsspec.FsspecFileIO"
"""pyiceberg's FileIO on fsspec (s3fs for s3://), for object storage: see `file_io`."""


def local_folder(root: UPath) -> Path:
    """A local data dir as an absolute path (a relative one is taken from the working dir)."""
    return Path(root.path).expanduser().resolve()


def default_catalog_uri(root: UPath) -> str:
    """The catalog of a local data dir: SQLite in `<data dir>/_spotify_assets/iceberg.db`.

    Object storage has no default: SQLite cannot live in a bucket, and a catalog on the local
    disk of one machine would not be found by the next run on another.
    """
    if not settings.is_local(str(root)):
        raise ValueError(
            f"The data dir {root} is object storage, so the Iceberg catalog cannot default to "
            f"SQLite beside it: set {settings.ICEBERG_CATALOG_URI} to a SQLAlchemy URL of a "
            "database every run reaches, e.g. postgresql+psycopg2://user:password@host:5432/iceberg."
        )
    database = local_folder(root) / CATALOG_FILE
    database.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{database}"


def warehouse(root: UPath) -> str:
    """The warehouse location under the data dir, as a URL pyiceberg's FileIO understands."""
    if settings.is_local(str(root)):
        return (local_folder(root) / WAREHOUSE_FOLDER).as_uri()
    return f"{str(root).rstrip('/')}/{WAREHOUSE_FOLDER}"


def file_io(root: UPath) -> dict[str, str]:
    """The FileIO properties of the warehouse under `root`: its storage options, and for object
    storage pyiceberg's fsspec FileIO.

    On object storage the tables' files are then read and written by the same s3fs as the
    Parquet files and the app memory, which finds what the storage options leave out (endpoint,
    keys, region) where boto does: the AWS_* variables (AWS_ENDPOINT_URL included), profiles,
    instance roles. pyiceberg's default pyarrow FileIO reads neither AWS_ENDPOINT_URL nor
    AWS_REGION, so a deployment configured by the environment alone would reach for AWS itself.
    """
    properties = file_io_properties(root.storage_options)
    if not settings.is_local(str(root)):
        properties["py-io-impl"] = FSSPEC_FILE_IO
    return properties


def file_io_properties(storage_options: Mapping[str, Any]) -> dict[str, str]:
    """The data dir's fsspec (s3fs) storage options as pyiceberg FileIO properties.

    Covers what s3fs users set for S3-compatible servers: keys, session token, endpoint, region,
    anonymous access, and the addressing style. What is not given is left to pyarrow, which
    reads the AWS_* environment variables and ~/.aws like s3fs does.
    """
    client_kwargs = storage_options.get("client_kwargs") or {}
    s3_config = (storage_options.get("config_kwargs") or {}).get("s3") or {}
    given = {
        "s3.access-key-id": storage_options.get("key"),
        "s3.secret-access-key": storage_options.get("secret"),
        "s3.session-token": storage_options.get("token"),
        "s3.endpoint": storage_options.get("endpoint_url") or client_kwargs.get("endpoint_url"),
        "s3.region": client_kwargs.get("region_name"),
        "s3.anonymous": storage_options.get("anon"),
        "s3.force-virtual-addressing": (
            s3_config["addressing_style"] == "virtual" if "addressing_style" in s3_config else None
        ),
    }
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in given.items()
        if value is not None
    }
