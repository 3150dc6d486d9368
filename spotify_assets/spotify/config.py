"""The client's configuration: every knob with its one default and its one validation.

In the spirit of httpx's `_config.py`: one frozen value that the client's parts read, so a
default is written here and nowhere else (the Dagster resource takes its defaults
from `ClientConfig` too).
"""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from spotify_assets.spotify.errors import SpotifyConfigError

Source = Literal["auto", "browse", "search"]
"""Where the new-releases feed comes from: browse, search (q=tag:new), or browse then search."""

MAX_PAGE_SIZE = 50
MAX_SEARCH_PAGE_SIZE = 10
SOURCES: tuple[str, ...] = get_args(Source)
MARKET_CODE = re.compile(r"[A-Z]{2}")
"""An ISO 3166-1 alpha-2 country code as Spotify takes it for `market`: two capital letters."""
CREDENTIALS = {"client_id": "SPOTIFY_CLIENT_ID", "client_secret": "SPOTIFY_CLIENT_SECRET"}
"""The credential fields and the environment variables users set them with."""


@dataclass(frozen=True)
class ClientConfig:
    """How a SpotifyClient talks to Spotify; validated on creation, immutable afterwards."""

    client_id: str
    client_secret: str = field(repr=False)
    api_base_url: str = "https://api.spotify.com/v1"
    token_url: str = "https://accounts.spotify.com/api/token"
    new_releases_source: Source = "auto"
    page_size: int = MAX_PAGE_SIZE
    search_page_size: int = MAX_SEARCH_PAGE_SIZE
    max_workers: int = 16
    max_requests_per_second: float | None = None
    max_retries: int = 5
    retry_budget: int = 100
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 60.0
    max_rate_limit_retries: int = 10
    max_drift_restarts: int = 2
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    token_refresh_margin_s: float = 60.0
    progress_interval_s: float = 10.0

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, naming the setting and what it must be."""
        for name, variable in CREDENTIALS.items():
            if not getattr(self, name).strip():
                raise SpotifyConfigError(
                    f"{variable} is not set ({name} is empty): put the Spotify app's credentials "
                    "in the environment or in .env (see .env.example), or run `make run` "
                    "without credentials to use the bundled emulator."
                )
        for name in ("api_base_url", "token_url"):
            url = getattr(self, name)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise SpotifyConfigError(f"{name} must be an http(s) URL with a host, not {url!r}")
        if self.new_releases_source not in SOURCES:
            raise SpotifyConfigError(
                f"new_releases_source must be auto, browse or search, "
                f"not {self.new_releases_source!r}"
            )
        _within("page_size", self.page_size, 1, MAX_PAGE_SIZE)
        _within("search_page_size", self.search_page_size, 1, MAX_SEARCH_PAGE_SIZE)
        _within("max_workers", self.max_workers, 1)
        for name in ("max_retries", "retry_budget", "max_rate_limit_retries", "max_drift_restarts"):
            _within(name, getattr(self, name), 0)
        for name in ("backoff_base_s", "backoff_max_s", "max_retry_after_s"):
            _within(name, getattr(self, name), 0)
        for name in ("connect_timeout_s", "read_timeout_s", "progress_interval_s"):
            if getattr(self, name) <= 0:
                raise SpotifyConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.max_requests_per_second is not None and self.max_requests_per_second <= 0:
            raise SpotifyConfigError(
                f"max_requests_per_second must be > 0 or unset, got {self.max_requests_per_second}"
            )


def defaults() -> dict[str, Any]:
    """Every knob that has a default, with it (for the Dagster resource and the README)."""
    return {f.name: f.default for f in fields(ClientConfig) if f.default is not MISSING}


def check_market(market: str | None) -> None:
    """Refuse a market that is not an ISO 3166-1 alpha-2 code in capitals (None: no market)."""
    if market is not None and not MARKET_CODE.fullmatch(market):
        raise SpotifyConfigError(
            f"market must be an ISO 3166-1 alpha-2 country code in capitals (US, SE, DE), "
            f"not {market!r}"
        )


def _within(name: str, value: float, low: float, high: float | None = None) -> None:
    """Fail unless low <= value (<= high)."""
    if value < low or (high is not None and value > high):
        bounds = f"{low:g}..{high:g}" if high is not None else f">= {low:g}"
        raise SpotifyConfigError(f"{name} must be {bounds}, got {value}")
