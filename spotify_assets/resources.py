"""SpotifyResource: the configured Spotify client of a run."""

from __future__ import annotations

import threading

from dagster import ConfigurableResource, Failure, InitResourceContext
from pydantic import Field, PrivateAttr

from spotify_assets import settings
from spotify_assets.spotify import Source, SpotifyClient
from spotify_assets.spotify import client as defaults


class SpotifyResource(ConfigurableResource):  # type: ignore[type-arg]
    """Builds one SpotifyClient per run and hands the same one to every asset of the run.

    Sharing the client lets the run remember what it learned: which endpoints the app may not use
    (a 403 is asked once) and the pace the rate limit allows. Credentials come in through EnvVar,
    so they never appear in run config, logs or metadata.
    """

    client_id: str = Field(description="Spotify app client id (SPOTIFY_CLIENT_ID).")
    client_secret: str = Field(description="Spotify app client secret (SPOTIFY_CLIENT_SECRET).")
    api_base_url: str = Field(
        default=defaults.DEFAULT_API_BASE_URL, description="Web API base URL."
    )
    token_url: str = Field(default=defaults.DEFAULT_TOKEN_URL, description="Token endpoint URL.")
    new_releases_source: Source = Field(
        default="auto",
        description="browse, search (q=tag:new) or auto (browse, then search on 403).",
    )
    market: str | None = Field(default=None, description="ISO country for album tracks.")
    page_size: int = Field(
        default=defaults.MAX_PAGE_SIZE, ge=1, le=defaults.MAX_PAGE_SIZE, description="Page size."
    )
    search_page_size: int = Field(
        default=defaults.MAX_SEARCH_PAGE_SIZE,
        ge=1,
        le=defaults.MAX_SEARCH_PAGE_SIZE,
        description="Search page size.",
    )
    max_workers: int = Field(
        default=defaults.DEFAULT_MAX_WORKERS, ge=1, description="Concurrent requests."
    )
    max_requests_per_second: float | None = Field(
        default=None, gt=0, description="Ceiling on the pace; unset learns it from 429s."
    )
    max_retries: int = Field(
        default=defaults.DEFAULT_MAX_RETRIES, ge=0, description="Retries of one failing request."
    )
    max_rate_limit_retries: int = Field(
        default=defaults.DEFAULT_MAX_RATE_LIMIT_RETRIES,
        ge=0,
        description="429s one request may wait out before the run gives up.",
    )
    retry_budget: int = Field(
        default=defaults.DEFAULT_RETRY_BUDGET, ge=0, description="Retries the run may spend."
    )
    max_retry_after_s: float = Field(
        default=defaults.DEFAULT_MAX_RETRY_AFTER_S,
        ge=0,
        description="Longest Retry-After worth waiting; longer fails at once.",
    )
    connect_timeout_s: float = Field(
        default=defaults.DEFAULT_CONNECT_TIMEOUT_S, gt=0, description="Connect timeout (s)."
    )
    read_timeout_s: float = Field(
        default=defaults.DEFAULT_READ_TIMEOUT_S, gt=0, description="Read timeout (s)."
    )

    _client: SpotifyClient | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def get_client(self) -> SpotifyClient:
        """The run's client, created on first use."""
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Close the client's connections at the end of the run."""
        if self._client is not None:
            self._client.close()

    def _build_client(self) -> SpotifyClient:
        for variable, value in (
            (settings.CLIENT_ID, self.client_id),
            (settings.CLIENT_SECRET, self.client_secret),
        ):
            if not value.strip():
                raise Failure(
                    description=(
                        f"{variable} is not set: put the Spotify app's credentials in the "
                        "environment or in .env (see .env.example), or run `make run` without "
                        "credentials to use the bundled emulator."
                    ),
                    allow_retries=False,
                )
        return SpotifyClient(
            client_id=self.client_id,
            client_secret=self.client_secret,
            api_base_url=self.api_base_url,
            token_url=self.token_url,
            market=self.market,
            page_size=self.page_size,
            search_page_size=self.search_page_size,
            max_workers=self.max_workers,
            max_requests_per_second=self.max_requests_per_second,
            max_retries=self.max_retries,
            max_rate_limit_retries=self.max_rate_limit_retries,
            retry_budget=self.retry_budget,
            max_retry_after_s=self.max_retry_after_s,
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
        )
