"""The environment variables users set, read in one place into one frozen value.

Credentials are not read here: the Spotify resource takes them through EnvVar at run time, so
their values never appear in run config. Blank values count as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

CLIENT_ID: Final = "SPOTIFY_CLIENT_ID"
CLIENT_SECRET: Final = "SPOTIFY_CLIENT_SECRET"
API_BASE_URL: Final = "SPOTIFY_API_BASE_URL"
TOKEN_URL: Final = "SPOTIFY_TOKEN_URL"
DATA_DIR: Final = "SPOTIFY_ASSETS_DATA_DIR"
NEW_RELEASES_SOURCE: Final = "SPOTIFY_NEW_RELEASES_SOURCE"
MARKET: Final = "SPOTIFY_MARKET"
TABLE_FORMAT: Final = "SPOTIFY_ASSETS_TABLE_FORMAT"
ICEBERG_CATALOG_URI: Final = "SPOTIFY_ASSETS_ICEBERG_CATALOG_URI"
ICEBERG_NAMESPACE: Final = "SPOTIFY_ASSETS_ICEBERG_NAMESPACE"
GIT_URL: Final = "SPOTIFY_ASSETS_GIT_URL"
GIT_BRANCH: Final = "SPOTIFY_ASSETS_GIT_BRANCH"

CLIENT_FIELDS: Final = {
    API_BASE_URL: "api_base_url",
    TOKEN_URL: "token_url",
    NEW_RELEASES_SOURCE: "new_releases_source",
    MARKET: "market",
}
"""Variables that set a field of the Spotify resource (whose defaults are the client's)."""
DEFAULT_DATA_DIR: Final = "./data"
TableFormat = Literal["parquet", "iceberg"]
TABLE_FORMATS: Final[tuple[TableFormat, ...]] = get_args(TableFormat)
DEFAULT_TABLE_FORMAT: Final[TableFormat] = "parquet"
DEFAULT_ICEBERG_NAMESPACE: Final = "spotify"
LOCAL_PROTOCOLS: Final = frozenset({"", "file", "local"})
"""fsspec protocols of a folder on this machine (a path without `://` has the protocol "")."""
DEFAULT_GIT_BRANCH: Final = "main"


def is_local(data_dir: str) -> bool:
    """Whether a data dir (path or fsspec URL) is a folder on this machine, not object storage."""
    protocol = data_dir.split("://", 1)[0] if "://" in data_dir else ""
    return protocol in LOCAL_PROTOCOLS


def table_format(value: str) -> TableFormat:
    """The table format SPOTIFY_ASSETS_TABLE_FORMAT names; anything else fails, saying what
    it may be."""
    for known in TABLE_FORMATS:
        if value.lower() == known:
            return known
    raise ValueError(
        f"{TABLE_FORMAT}={value!r} is not a table format: use {' or '.join(TABLE_FORMATS)} "
        f"(unset: {DEFAULT_TABLE_FORMAT})."
    )


@dataclass(frozen=True)
class Settings:
    """What the environment configures: resource fields it sets, the data folder, credentials,
    the table format (with Iceberg's catalog and namespace), and the git repository the UI links
    the assets' code to (unset: links to local files)."""

    client: Mapping[str, str] = field(default_factory=dict)
    data_dir: str = DEFAULT_DATA_DIR
    credentials_given: tuple[str, ...] = ()
    table_format: TableFormat = DEFAULT_TABLE_FORMAT
    iceberg_catalog_uri: str | None = None
    """None: SQLite under the data dir (`<data dir>/_spotify_assets/iceberg.db`)."""
    iceberg_namespace: str = DEFAULT_ICEBERG_NAMESPACE
    git_url: str | None = None
    git_branch: str = DEFAULT_GIT_BRANCH

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the variables from `environ` (default: this process's environment); a table
        format that is not one fails at once, naming the variable. Whether a catalog URI is
        needed (Iceberg on object storage) the component judges, knowing the YAML's values too."""
        values = {
            name: value.strip()
            for name, value in (os.environ if environ is None else environ).items()
            if name.startswith("SPOTIFY_") and value.strip()
        }
        return cls(
            client={key: values[name] for name, key in CLIENT_FIELDS.items() if name in values},
            data_dir=values.get(DATA_DIR, DEFAULT_DATA_DIR),
            credentials_given=tuple(name for name in (CLIENT_ID, CLIENT_SECRET) if name in values),
            table_format=table_format(values.get(TABLE_FORMAT, DEFAULT_TABLE_FORMAT)),
            iceberg_catalog_uri=values.get(ICEBERG_CATALOG_URI),
            iceberg_namespace=values.get(ICEBERG_NAMESPACE, DEFAULT_ICEBERG_NAMESPACE),
            git_url=values.get(GIT_URL),
            git_branch=values.get(GIT_BRANCH, DEFAULT_GIT_BRANCH),
        )

    @property
    def has_credentials(self) -> bool:
        """Whether both app credentials are set to something non-blank."""
        return len(self.credentials_given) == 2
