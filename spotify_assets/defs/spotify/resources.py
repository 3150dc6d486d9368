"""SpotifyResource, the configured Spotify client of a run, and every resource of the code
location wired to one data storage."""

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from dagster import ConfigurableResource, EnvVar, Failure, InitResourceContext
from pydantic import Field, PrivateAttr, ValidationError

from spotify_assets import settings
from spotify_assets.defs.app_memory import DataFolderStore
from spotify_assets.defs.iceberg.io_manager import IcebergCatalog, IcebergIOManager
from spotify_assets.defs.io_manager import IO_MANAGER, ParquetIOManager
from spotify_assets.defs.spotify.reuse import DEFAULT_MAX_AGE_DAYS, TRACK_REUSE, TrackReuse
from spotify_assets.defs.storage import DATA_STORAGE, DataStorage
from spotify_assets.spotify import (
    ClientConfig,
    Source,
    SpotifyAppForbiddenError,
    SpotifyClient,
    SpotifyConfigError,
    SpotifyCredentialsError,
    SpotifyError,
    SpotifyRunStoppedError,
)
from spotify_assets.spotify.config import check_market, defaults

if TYPE_CHECKING:
    from dagster._config.pythonic_config.resource import PartialResource

FINAL = (SpotifyRunStoppedError, SpotifyAppForbiddenError, SpotifyCredentialsError)
"""Errors a retry would only repeat (or, during a ban, lengthen)."""
SPOTIFY = "spotify"
"""The resource key of `SpotifyResource`."""
DEFAULT = defaults()
"""The client's defaults, which are the resource's: each knob's default is written once."""


class SpotifyResource(ConfigurableResource):  # type: ignore[type-arg]
    """Builds one SpotifyClient per run and hands the same one to every asset of the run.

    Its fields are ClientConfig's (defaults and validation live there), the markets whose feeds
    a run reads (the market goes with each call, so one client serves them all), and where to
    keep what the client learns. Sharing the client lets the run remember what it learned:
    which endpoints the app may not use (a 403 is asked once) and the pace the rate limit
    allows; `storage` keeps it for the next runs, wherever they run. Credentials come in
    through EnvVar, so they never appear in run config, logs or metadata.
    """

    client_id: str = Field(description="Spotify app client id (SPOTIFY_CLIENT_ID).")
    client_secret: str = Field(
        description="Spotify app client secret (SPOTIFY_CLIENT_SECRET).",
        json_schema_extra={"dagster__is_secret": True},
    )
    api_base_url: str = Field(default=DEFAULT["api_base_url"], description="Web API base URL.")
    token_url: str = Field(default=DEFAULT["token_url"], description="Token endpoint URL.")
    new_releases_source: Source = Field(
        default=DEFAULT["new_releases_source"],
        description="browse, search (q=tag:new) or auto (browse, then search on 403).",
    )
    markets: list[str] = Field(
        default_factory=list,
        description="ISO 3166-1 alpha-2 countries (SPOTIFY_MARKETS), one feed each, in order; "
        "empty: one feed without a market.",
    )
    page_size: int = Field(default=DEFAULT["page_size"], description="Page size (1-50).")
    search_page_size: int = Field(
        default=DEFAULT["search_page_size"], description="Search page (1-10)."
    )
    max_workers: int = Field(
        default=DEFAULT["max_workers"], description="Requests in flight at once."
    )
    max_requests_per_second: float | None = Field(
        default=DEFAULT["max_requests_per_second"],
        description="Ceiling on the pace; unset learns it from 429s.",
    )
    max_retries: int = Field(
        default=DEFAULT["max_retries"], description="Retries of one failing request."
    )
    retry_budget: int = Field(
        default=DEFAULT["retry_budget"], description="Retries the run may spend."
    )
    backoff_base_s: float = Field(
        default=DEFAULT["backoff_base_s"], description="First backoff ceiling."
    )
    backoff_max_s: float = Field(
        default=DEFAULT["backoff_max_s"], description="Largest backoff ceiling."
    )
    max_retry_after_s: float = Field(
        default=DEFAULT["max_retry_after_s"],
        description="Longest Retry-After worth waiting; longer fails at once.",
    )
    max_rate_limit_retries: int = Field(
        default=DEFAULT["max_rate_limit_retries"],
        description="429s one request may wait out before the run gives up.",
    )
    max_drift_restarts: int = Field(
        default=DEFAULT["max_drift_restarts"], description="Re-reads of a listing that changed."
    )
    connect_timeout_s: float = Field(
        default=DEFAULT["connect_timeout_s"], description="Connect (s)."
    )
    read_timeout_s: float = Field(
        default=DEFAULT["read_timeout_s"],
        description="Longest wait for an answer, its whole body included (s).",
    )
    token_refresh_margin_s: float = Field(
        default=DEFAULT["token_refresh_margin_s"],
        description="Renew the token this long before expiry.",
    )

    progress_interval_s: float = Field(
        default=DEFAULT["progress_interval_s"], description="Seconds between progress lines."
    )
    storage: DataStorage = Field(
        description="The data storage, whose _spotify_assets/ keeps what the client learned "
        "about the app for the next runs (the data_storage resource)."
    )

    _client: SpotifyClient | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def client_config(self) -> ClientConfig:
        """The client configuration these fields describe; a setting that cannot work fails the
        run at once, without retries, saying which and why."""
        try:
            return ClientConfig(**{f.name: getattr(self, f.name) for f in fields(ClientConfig)})
        except SpotifyConfigError as exc:
            raise Failure(description=str(exc), allow_retries=False) from exc

    def feed_markets(self) -> tuple[str | None, ...]:
        """The market of each feed to read, in order: the configured ones, or one feed without
        a market (None); a list that cannot work fails the run at once, saying why."""
        if len(set(self.markets)) != len(self.markets):
            raise Failure(
                description=f"markets must name each market once, got {self.markets}",
                allow_retries=False,
            )
        try:
            for market in self.markets:
                check_market(market)
        except SpotifyConfigError as exc:
            raise Failure(description=f"markets: {exc}", allow_retries=False) from exc
        return tuple(self.markets) or (None,)

    def get_client(self) -> SpotifyClient:
        """The run's client, created on first use."""
        with self._lock:
            if self._client is None:
                memory = DataFolderStore(self.storage)
                self._client = SpotifyClient(self.client_config(), memory=memory)
            return self._client

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Close the client's connections at the end of the run."""
        if self._client is not None:
            self._client.close()


@contextmanager
def explained_failures() -> Iterator[None]:
    """Spotify's errors as Dagster Failures that carry the client's own words (what happened,
    what to do); those no retry can fix (a ban, a refused app or credentials) allow none."""
    try:
        yield
    except FINAL as exc:
        raise Failure(description=str(exc), allow_retries=False) from exc
    except SpotifyError as exc:
        raise Failure(description=str(exc)) from exc


@dataclass(frozen=True)
class TableFormatConfig:
    """How both assets are stored: the table format and, for Iceberg, the environment variable
    that holds the catalog URI (None: SQLite under a local data dir) and the namespace."""

    table_format: settings.TableFormat = settings.DEFAULT_TABLE_FORMAT
    catalog_uri_variable: str | None = None
    namespace: str = settings.DEFAULT_ICEBERG_NAMESPACE


def storing(
    storage: "DataStorage | PartialResource[DataStorage]",
    tables: TableFormatConfig = TableFormatConfig(),
    reuse_max_age_days: int = DEFAULT_MAX_AGE_DAYS,
) -> dict[str, Any]:
    """The IO manager `tables` picks, on `storage` (Parquet files, or Iceberg tables of a
    catalog whose warehouse is under it), and the track reuse that reads where it stores.

    `storage` is the DataStorage itself or, as the code location has it, its partial resource
    (`configure_at_launch`), which Dagster resolves once for all of them.

    The catalog URI is given through EnvVar, as it may hold a password: the resource config shows
    the variable's name, never its value; unset, the catalog is SQLite under a local data dir.
    """
    iceberg = (
        IcebergCatalog(
            storage=storage,
            uri=EnvVar(tables.catalog_uri_variable) if tables.catalog_uri_variable else None,
            namespace=tables.namespace,
        )
        if tables.table_format == "iceberg"
        else None
    )
    io_manager = (
        ParquetIOManager(storage=storage) if iceberg is None else IcebergIOManager(catalog=iceberg)
    )
    reuse = TrackReuse(storage=storage, iceberg=iceberg, max_age_days=reuse_max_age_days)
    return {IO_MANAGER: io_manager, TRACK_REUSE: reuse}


def resources(
    data_dir: str,
    storage_options: Mapping[str, Any],
    client: Mapping[str, Any],
    max_age_days: int,
    origins: Mapping[str, str],
    *,
    tables: TableFormatConfig = TableFormatConfig(),
) -> dict[str, Any]:
    """Every resource of the code location: the Spotify resource with the `client` fields (what
    `origins` says set each, to name it when the resource refuses one), the IO manager of
    `tables`' format and the track reuse at `max_age_days` that reads where it stores, all on the
    data storage at `data_dir`.

    One DataStorage object, open to run config (`configure_at_launch`), is registered as
    `data_storage` and given to the IO manager, track reuse and the Spotify resource (for its app
    memory): Dagster resolves it by that key, so a run configures where the data lives once.
    Credentials are never among `client`: the resource reads them through EnvVar at run time.
    """
    storage = DataStorage.configure_at_launch(
        data_dir=data_dir, storage_options=dict(storage_options)
    )
    try:
        spotify = SpotifyResource(
            client_id=EnvVar(settings.CLIENT_ID),
            client_secret=EnvVar(settings.CLIENT_SECRET),
            storage=storage,
            **client,
        )
    except ValidationError as exc:
        wrong = "; ".join(
            f"{origins.get(str(error['loc'][0]), error['loc'][0])}={error['input']!r}: "
            f"{error['msg']}"
            for error in exc.errors()
        )
        raise ValueError(
            f"The Spotify resource refuses its configuration ({wrong}). Fix or unset that "
            "setting (a variable in the environment or .env, a key in defs.yaml)."
        ) from exc
    return {
        DATA_STORAGE: storage,
        **storing(storage, tables, max_age_days),
        SPOTIFY: spotify,
    }
