"""SpotifyClient: the new-releases feed and the tracks of albums, fetched fast and politely.

A short facade: it wires the parts (transport, token, pacer, worker pool, the app's memory) once
from a ClientConfig, and hands the work to the feed and the album-tracks readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal, TypeVar

import requests
from requests.adapters import HTTPAdapter

from spotify_assets.spotify.api import SpotifyApi, origin
from spotify_assets.spotify.auth import ClientCredentialsAuth
from spotify_assets.spotify.config import ClientConfig
from spotify_assets.spotify.context import ClientContext, Workers
from spotify_assets.spotify.feed import Feed
from spotify_assets.spotify.memory import AppMemory, MemoryStore, app_key, default_store
from spotify_assets.spotify.pacing import Pacer, PacingLimits
from spotify_assets.spotify.results import AlbumTracks, NewReleases
from spotify_assets.spotify.stats import ClientStats, Report, StatsRecorder
from spotify_assets.spotify.tracks import Tracks
from spotify_assets.spotify.transport import Transport

R = TypeVar("R")


class SpotifyClient:
    """Spotify Web API client for batch extraction with client credentials.

    Thread-safe. One instance is one "run": it counts everything it did in `stats`, whatever
    markets its calls name (the market goes with each call, so one token, pacer and memory serve
    all the markets of a run). What it learns about the app (endpoints it may not use, the pace
    the rate limit allows) it keeps for its life and in `memory` (default: a local file; None:
    nowhere) for the next runs (see memory.py).
    After a day-long 429, a spent quota or a 403 that refuses the whole app it stops: no worker
    sends another request.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        memory: MemoryStore | Literal["default"] | None = "default",
    ) -> None:
        self.config = config
        self._session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=2, pool_maxsize=config.max_workers + 1, max_retries=0
        )
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = "spotify_assets (+requests)"
        self._memory = AppMemory(
            default_store() if memory == "default" else memory,
            app_key(config.client_id, "://".join(origin(config.api_base_url))),
        )
        limits = PacingLimits(
            max_workers=config.max_workers,
            max_requests_per_second=config.max_requests_per_second,
            max_retry_after_s=config.max_retry_after_s,
            max_rate_limit_retries=config.max_rate_limit_retries,
        )
        self._pacer = Pacer(limits, memory=self._memory)
        self._stats = StatsRecorder(held=lambda: self._pacer.waited_s)
        transport = Transport(self._session, config, stats=self._stats, pacer=self._pacer)
        auth = ClientCredentialsAuth(config, transport=transport, stats=self._stats)
        api = SpotifyApi(config.api_base_url, transport=transport, auth=auth, pacer=self._pacer)
        self._workers = Workers(config.max_workers)
        context = ClientContext(config, api, self._workers, self._memory, self._pacer, self._stats)
        self._feed = Feed(context)
        self._tracks = Tracks(context)

    @property
    def stats(self) -> ClientStats:
        """Everything the client did so far: requests, retries, 429s, waits, token refreshes."""
        return self._stats.snapshot()

    def new_releases(self, market: str | None = None) -> NewReleases:
        """The whole new-releases feed from the configured source (see feed.py); with `market`
        (ISO 3166-1 alpha-2), that country's feed from search."""
        return self._learning(lambda: self._feed.read(market))

    def album_tracks(
        self,
        album_ids: Iterable[str],
        *,
        market: str | None = None,
        progress: Report | None = None,
        keep_on_stop: bool = False,
    ) -> AlbumTracks:
        """Every track of every album, with as few requests as the app's access allows (see
        tracks.py), for `market` when given (Spotify then fills is_playable for it); albums
        without tracks are listed in `missing`, with why in `reasons`. `progress` is called with
        a Progress every `progress_interval_s` while it runs, and at the end. An error that ends
        the fetch for the whole run (a ban, a refused app, a spent retry budget) is raised, or
        with `keep_on_stop` handed back in `stopped` with every album fetched before it."""
        tracks = self._learning(lambda: self._tracks.read(album_ids, market, progress))
        if tracks.stopped is not None and not keep_on_stop:
            raise tracks.stopped
        return tracks

    def close(self) -> None:
        """Stop the worker threads and release the HTTP connections."""
        self._workers.close()
        self._session.close()

    def __enter__(self) -> SpotifyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _learning(self, work: Callable[[], R]) -> R:
        """Do `work`, then let the pacer remember what it learned (also when it failed)."""
        try:
            return work()
        finally:
            self._pacer.remember()
