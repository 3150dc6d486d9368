"""SpotifyClient: the new-releases feed and the tracks of albums, fetched fast and politely.

A short facade: it wires the parts (transport, token, rate limiter, worker pool, what the app may
use) once from a ClientConfig, and hands the work to the feed and the album-tracks readers.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import requests
from requests.adapters import HTTPAdapter

from spotify_assets.spotify.api import SpotifyApi, origin
from spotify_assets.spotify.auth import ClientCredentialsAuth
from spotify_assets.spotify.capabilities import Capabilities, app_key, default_cache_file
from spotify_assets.spotify.config import ClientConfig
from spotify_assets.spotify.context import ClientContext
from spotify_assets.spotify.feed import Feed
from spotify_assets.spotify.ratelimit import RateLimiter
from spotify_assets.spotify.results import AlbumTracks, NewReleases
from spotify_assets.spotify.stats import ClientStats, StatsRecorder
from spotify_assets.spotify.tracks import Tracks
from spotify_assets.spotify.transport import Transport
from spotify_assets.spotify.workers import Workers


class SpotifyClient:
    """Spotify Web API client for batch extraction with client credentials.

    Thread-safe. One instance is one "run": it counts everything it did in `stats`. Which endpoints
    the app may not use (403) it remembers for its life and, in `capabilities_file` (None: not at
    all), for a week across runs (see capabilities.py).
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        capabilities_file: Path | Literal["default"] | None = "default",
    ) -> None:
        self.config = config
        self._stats = StatsRecorder()
        self._session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=2, pool_maxsize=config.max_workers + 1, max_retries=0
        )
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = "spotify_assets (+requests)"
        transport = Transport(self._session, config, stats=self._stats)
        auth = ClientCredentialsAuth(config, transport=transport, stats=self._stats)
        limiter = RateLimiter(config.max_requests_per_second)
        api = SpotifyApi(config.api_base_url, transport=transport, auth=auth, limiter=limiter)
        capabilities = Capabilities(
            default_cache_file() if capabilities_file == "default" else capabilities_file,
            app_key(config.client_id, "://".join(origin(config.api_base_url))),
        )
        self._workers = Workers(config.max_workers)
        context = ClientContext(config, api, self._workers, capabilities, self._stats)
        self._feed = Feed(context)
        self._tracks = Tracks(context)

    @property
    def stats(self) -> ClientStats:
        """Everything the client did so far: requests, retries, 429s, waits, token refreshes."""
        return self._stats.snapshot()

    def new_releases(self) -> NewReleases:
        """The whole new-releases feed from the configured source (see feed.py)."""
        return self._feed.read()

    def album_tracks(self, album_ids: Iterable[str]) -> AlbumTracks:
        """Every track of every album, with as few requests as the app's access allows (see
        tracks.py); albums Spotify does not know are listed in `missing`."""
        return self._tracks.read(album_ids)

    def close(self) -> None:
        """Stop the worker threads and release the HTTP connections."""
        self._workers.close()
        self._session.close()

    def __enter__(self) -> SpotifyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
