"""SpotifyClient: the new-releases feed and the tracks of albums, fetched fast and politely."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from spotify_assets.spotify.api import SpotifyApi, origin
from spotify_assets.spotify.auth import ClientCredentialsAuth
from spotify_assets.spotify.capabilities import Capabilities, app_key, default_cache_file
from spotify_assets.spotify.errors import (
    SpotifyConfigError,
    SpotifyForbiddenError,
    SpotifyNotFoundError,
    SpotifyPagingError,
    SpotifyProtocolError,
    SpotifyRateLimitError,
)
from spotify_assets.spotify.paging import (
    ListingChanged,
    Page,
    collect,
    fetch,
    follow,
    get_page,
    read_ahead,
)
from spotify_assets.spotify.ratelimit import RateLimiter
from spotify_assets.spotify.results import (
    AlbumTracks,
    NewReleases,
    SpotifyObject,
    TracksEndpoint,
)
from spotify_assets.spotify.retry import RetryBudget, RetryPolicy
from spotify_assets.spotify.stats import ClientStats, StatsRecorder
from spotify_assets.spotify.transport import Timeouts, Transport

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.spotify.com/v1"
DEFAULT_TOKEN_URL = "https://accounts.spotify.com/api/token"
MAX_PAGE_SIZE = 50
MAX_SEARCH_PAGE_SIZE = 10
MAX_SEARCH_ITEMS = 1000
"""Search pages no deeper than this: "maximum offset (including limit): 1,000"."""
MAX_IDS_PER_REQUEST = 20
FEED_WINDOW = 4
DEFAULT_MAX_WORKERS = 16
DEFAULT_MAX_RETRIES = 5
DEFAULT_RETRY_BUDGET = 100
DEFAULT_MAX_RETRY_AFTER_S = 60.0
DEFAULT_MAX_RATE_LIMIT_RETRIES = 10
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 30.0
NEW_RELEASES_QUERY = "tag:new"

Source = Literal["auto", "browse", "search"]
R = TypeVar("R")


class SpotifyClient:
    """Spotify Web API client for batch extraction with client credentials.

    Thread-safe. One instance is one "run": it counts everything it did in `stats`. Which endpoints
    the app may not use (403) it remembers for its life and, in `capabilities_file` (None: not at
    all), for a week across runs (see capabilities.py).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        token_url: str = DEFAULT_TOKEN_URL,
        *,
        market: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        search_page_size: int = MAX_SEARCH_PAGE_SIZE,
        max_workers: int = DEFAULT_MAX_WORKERS,
        max_requests_per_second: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_budget: int = DEFAULT_RETRY_BUDGET,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S,
        max_rate_limit_retries: int = DEFAULT_MAX_RATE_LIMIT_RETRIES,
        max_drift_restarts: int = 2,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
        token_refresh_margin_s: float = 60.0,
        capabilities_file: Path | Literal["default"] | None = "default",
    ) -> None:
        for name, value in (("client_id", client_id), ("client_secret", client_secret)):
            if not value:
                raise SpotifyConfigError(f"{name} is empty: the client needs the app's credentials")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise SpotifyConfigError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
        if not 1 <= search_page_size <= MAX_SEARCH_PAGE_SIZE:
            raise SpotifyConfigError(
                f"search_page_size must be 1..{MAX_SEARCH_PAGE_SIZE}, got {search_page_size}"
            )
        if max_workers < 1:
            raise SpotifyConfigError(f"max_workers must be at least 1, got {max_workers}")
        for name, url in (("api_base_url", api_base_url), ("token_url", token_url)):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise SpotifyConfigError(f"{name} must be an http(s) URL with a host, not {url!r}")
        self.market = market
        self.page_size = page_size
        self.search_page_size = search_page_size
        self.max_workers = max_workers
        self._max_drift_restarts = max_drift_restarts
        self._stats = StatsRecorder()
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max_workers + 1, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = "spotify_assets (+requests)"
        policy = RetryPolicy(
            max_retries=max_retries,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
            max_rate_limit_retries=max_rate_limit_retries,
            max_retry_after_s=max_retry_after_s,
        )
        transport = Transport(
            self._session,
            policy=policy,
            budget=RetryBudget(retry_budget),
            stats=self._stats,
            timeouts=Timeouts(connect_s=connect_timeout_s, read_s=read_timeout_s),
        )
        auth = ClientCredentialsAuth(
            client_id,
            client_secret,
            token_url,
            transport=transport,
            stats=self._stats,
            refresh_margin_s=token_refresh_margin_s,
        )
        limiter = RateLimiter(max_requests_per_second)
        self._api = SpotifyApi(api_base_url, transport=transport, auth=auth, limiter=limiter)
        self._lock = threading.Lock()
        self._capabilities = Capabilities(
            default_cache_file() if capabilities_file == "default" else capabilities_file,
            app_key(client_id, "://".join(origin(api_base_url))),
        )
        self._allowed: set[str] = set()

    @property
    def stats(self) -> ClientStats:
        """Everything the client did so far: requests, retries, 429s, waits, token refreshes."""
        return self._stats.snapshot()

    def close(self) -> None:
        """Release the HTTP connections."""
        self._session.close()

    def __enter__(self) -> SpotifyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def new_releases(self, source: Source = "auto") -> NewReleases:
        """The whole new-releases feed from browse, from search (`tag:new`), or browse then search.

        `auto` tries `/browse/new-releases` and, when Spotify answers 403 (Development Mode apps
        since February 2026), falls back to search and records why in `fallback_reason`.
        """
        if source not in ("auto", "browse", "search"):
            raise SpotifyConfigError(f"source must be auto, browse or search, not {source!r}")
        if source == "browse":
            return self._browse()
        if source == "auto":
            fallback_reason = self._capabilities.reason("browse")
            if fallback_reason is None:
                try:
                    return self._browse()
                except SpotifyForbiddenError as exc:
                    fallback_reason = str(exc)
                    self._capabilities.forbid("browse", fallback_reason)
                    # Spotify withdrew /browse/new-releases and /albums?ids= from Development Mode
                    # apps together (2026-02-11 / 2026-03-09): an app refused one is refused both.
                    self._capabilities.forbid("albums", f"not tried after {exc}")
                except SpotifyRateLimitError as exc:
                    # Restricted apps have been seen getting a 429 instead of the 403 on an
                    # endpoint they lost; search may still answer. Not remembered past the run:
                    # it may just have been the rate limit, and then search fails the same way.
                    fallback_reason = str(exc)
                    self._capabilities.forbid("albums", f"not tried after {exc}", persist=False)
                log.warning(
                    "Falling back to search (q=%s): %s", NEW_RELEASES_QUERY, fallback_reason
                )
            else:
                log.info("Using search (q=tag:new): browse was %s", fallback_reason)
        else:
            fallback_reason = None
        albums, total = self._collect_feed(
            self._api.url("/search"),
            {"q": NEW_RELEASES_QUERY, "type": "album", "limit": self.search_page_size},
            max_items=MAX_SEARCH_ITEMS,
        )
        reachable = min(total, MAX_SEARCH_ITEMS)
        return NewReleases(albums, total, reachable, "search", fallback_reason)

    def album_tracks(self, album_ids: Iterable[str], *, market: str | None = None) -> AlbumTracks:
        """Every track of every album, with as few requests as the app's access allows.

        Uses `/albums?ids=` (20 albums a request, first 50 tracks embedded) when the app may, and
        one `/albums/{id}/tracks` listing per album otherwise; a 403 on the batch endpoint is
        remembered like the one on browse (see capabilities.py).
        """
        ids = list(dict.fromkeys(album_ids))
        market = market or self.market
        tracks: dict[str, list[SpotifyObject]] = {}
        if self._capabilities.reason("albums") is None and ids:
            try:
                tracks = self._albums_batches(ids, market)
            except SpotifyForbiddenError as exc:
                self._capabilities.forbid("albums", str(exc))
            except SpotifyRateLimitError as exc:
                if "albums" in self._allowed:
                    raise
                # The probe itself was refused with a long 429: the restricted-app variant of
                # the 403 (see new_releases); per-album listings may still be allowed.
                self._capabilities.forbid("albums", str(exc), persist=False)
            else:
                return self._tracks_result(ids, tracks, "albums")
        listings = self._run_all([partial(self._album_tracks_or_none, a, market) for a in ids])
        for album_id, listing in zip(ids, listings, strict=True):
            if listing is not None:
                tracks[album_id] = listing
        return self._tracks_result(ids, tracks, "album_tracks", self._capabilities.reason("albums"))

    def _browse(self) -> NewReleases:
        """The feed from `/browse/new-releases`."""
        albums, total = self._collect_feed(
            self._api.url("/browse/new-releases"), {"limit": self.page_size}
        )
        return NewReleases(albums, total, total, "browse")

    def _collect_feed(
        self, url: str, params: dict[str, str | int], max_items: int | None = None
    ) -> tuple[list[SpotifyObject], int]:
        """All albums of a feed listing and its reported total, restarting when it drifts.

        The feed is read FEED_WINDOW pages at a time: it is what a run asks for first, before the
        rate limiter knows the pace, so a few pages at once speed it up several times while a
        cold start against a tight rate limit meets only a handful of 429s.
        """

        def pages(attempt: int) -> Iterator[Page]:
            first = get_page(self._api, url, "albums", params)
            return read_ahead(
                self._api,
                first,
                "albums",
                self._run_all,
                window=FEED_WINDOW,
                max_items=max_items,
            )

        return self._settled("The new-releases feed", pages)

    def _settled(
        self, what: str, pages: Callable[[int], Iterator[Page]]
    ) -> tuple[list[SpotifyObject], int]:
        """Items and total of the first pass over `pages(attempt)` that does not drift."""
        for attempt in range(self._max_drift_restarts + 1):
            try:
                return collect(pages(attempt))
            except ListingChanged as change:
                self._stats.add(drift_restarts=1)
                log.warning("%s changed while paged (%s); restart %d", what, change, attempt + 1)
                last = change
        raise SpotifyPagingError(
            f"{what} kept changing while it was paged ({last}); "
            f"gave up after {self._max_drift_restarts} restarts. Run again later."
        )

    def _albums_batches(self, ids: list[str], market: str | None) -> dict[str, list[SpotifyObject]]:
        """Tracks of all albums via `/albums?ids=`, in two waves on the worker pool: the batches,
        then the extra pages of albums over 50 tracks (all such albums at once, not batch by
        batch). The first request alone probes whether the app may use the endpoint, so a 403
        costs one request rather than one per worker."""
        chunks = [ids[i : i + MAX_IDS_PER_REQUEST] for i in range(0, len(ids), MAX_IDS_PER_REQUEST)]
        batches = []
        if "albums" not in self._allowed:
            batches.append(self._albums_batch(chunks.pop(0), market))
            with self._lock:
                self._allowed.add("albums")
        batches += self._run_all([partial(self._albums_batch, chunk, market) for chunk in chunks])
        first_pages = {album_id: page for batch in batches for album_id, page in batch.items()}
        longer = [album_id for album_id, page in first_pages.items() if page.next is not None]
        rest = self._run_all(
            [partial(self._album_listing, a, market, first_pages[a]) for a in longer]
        )
        tracks = dict(zip(longer, rest, strict=True))
        for album_id, page in first_pages.items():
            if album_id not in tracks:
                tracks[album_id] = self._album_listing(album_id, market, page)
        return tracks

    def _albums_batch(self, ids: Sequence[str], market: str | None) -> dict[str, Page]:
        """The first track page of up to 20 albums from one `/albums?ids=` request."""
        params: dict[str, str | int] = {"ids": ",".join(ids)}
        if market:
            params["market"] = market
        body = self._api.get(self._api.url("/albums"), params)
        albums = body.get("albums")
        if not isinstance(albums, list) or len(albums) != len(ids):
            raise SpotifyProtocolError(
                f"/albums answered {len(albums) if isinstance(albums, list) else 'no'} albums "
                f"for {len(ids)} ids"
            )
        return {
            album_id: Page.parse(album.get("tracks"), f"album {album_id} in /albums")
            for album_id, album in zip(ids, albums, strict=True)
            if album is not None
        }

    def _album_tracks_or_none(
        self, album_id: str, market: str | None
    ) -> list[SpotifyObject] | None:
        """Tracks of one album from `/albums/{id}/tracks`; None when Spotify does not know it."""
        try:
            return self._album_listing(album_id, market, None)
        except SpotifyNotFoundError:
            log.warning("Spotify does not know album %s (404)", album_id)
            return None

    def _album_listing(
        self, album_id: str, market: str | None, first: Page | None
    ) -> list[SpotifyObject]:
        """All tracks of an album, from `first` (embedded) or a fresh listing; restarts on drift."""

        def pages(attempt: int) -> Iterator[Page]:
            if first is not None and attempt == 0:
                return follow(self._api, first)
            params: dict[str, str | int] = {"limit": self.page_size}
            if market:
                params["market"] = market
            return fetch(self._api, self._api.url(f"/albums/{album_id}/tracks"), params)

        return self._settled(f"Album {album_id}", pages)[0]

    @staticmethod
    def _tracks_result(
        ids: list[str],
        tracks: dict[str, list[SpotifyObject]],
        endpoint: TracksEndpoint,
        fallback_reason: str | None = None,
    ) -> AlbumTracks:
        """The result in request order, with the ids Spotify did not know."""
        ordered = {album_id: tracks[album_id] for album_id in ids if album_id in tracks}
        missing = tuple(album_id for album_id in ids if album_id not in tracks)
        return AlbumTracks(ordered, endpoint, missing, fallback_reason)

    def _run_all(self, calls: Sequence[Callable[[], R]]) -> list[R]:
        """Run `calls` on the worker pool, results in order; the first error cancels the rest."""
        if len(calls) <= 1:
            return [call() for call in calls]
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="spotify") as pool:
            futures: list[Future[R]] = [pool.submit(call) for call in calls]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in done if f.exception() is not None), None)
            if failed is not None:
                for future in futures:
                    future.cancel()
                failed.result()
            return [future.result() for future in futures]
