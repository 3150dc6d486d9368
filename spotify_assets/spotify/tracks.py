"""Every track of a list of albums, with as few requests as the app's access allows.

`/albums?ids=` answers 20 albums a request with their first 50 tracks embedded; Development Mode
apps lost it in 2026 (403), and then each album is listed with `/albums/{id}/tracks`. The first
batch request alone probes whether the app may use the endpoint, so a refusal costs one request
rather than one per worker; the refusal is remembered like the one on browse (memory.py). An album
Spotify answers null or 404 for is asked again on its own (404s retried a few times): Spotify has
been seen to do that once for albums it listed seconds before. A `market` given to a read goes
with every request of that read (`market=XX`), so Spotify fills is_playable for that market.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from functools import partial

from spotify_assets.spotify.config import check_market
from spotify_assets.spotify.context import PROBE_PATIENCE, ClientContext, is_refusal
from spotify_assets.spotify.errors import (
    SpotifyForbiddenError,
    SpotifyNotFoundError,
    SpotifyProtocolError,
    SpotifyRateLimitError,
)
from spotify_assets.spotify.paging import Page, fetch, follow
from spotify_assets.spotify.progress import ProgressTracker, Report
from spotify_assets.spotify.results import AlbumTracks, SpotifyObject, TracksEndpoint

log = logging.getLogger(__name__)

MAX_IDS_PER_REQUEST = 20


class Tracks:
    """Fetches album tracks in batches where the app may, one listing per album otherwise."""

    def __init__(self, context: ClientContext) -> None:
        self._context = context
        self._config = context.config
        self._api = context.api
        self._memory = context.memory
        self._batches_allowed = False

    def read(
        self, album_ids: Iterable[str], market: str | None = None, progress: Report | None = None
    ) -> AlbumTracks:
        """Every track of every album (duplicates asked once), in the order asked, for `market`
        (None: without one); `progress` is called every `progress_interval_s` while it runs."""
        check_market(market)
        ids = list(dict.fromkeys(album_ids))
        tracker = ProgressTracker(
            len(ids), self._context.stats.snapshot, lambda: self._context.pacer.requests_per_second
        )
        with tracker.reporting(progress, self._config.progress_interval_s):
            return self._read(ids, market, tracker)

    def _read(self, ids: list[str], market: str | None, tracker: ProgressTracker) -> AlbumTracks:
        """The work of `read`, counting albums done on `tracker`."""
        tracks = None
        if self._memory.reason("albums") is None and ids:
            try:
                return self._result(ids, self._batched(ids, market, tracker), "albums")
            except SpotifyForbiddenError as exc:
                self._memory.forbid("albums", str(exc))
            except SpotifyRateLimitError as exc:
                if self._batches_allowed or not is_refusal(exc):
                    raise
                reason = str(exc)
                tracks = self._context.fall_back(
                    lambda: self._each(ids, market, tracker),
                    lambda persist: self._memory.forbid("albums", reason, persist=persist),
                )
        if tracks is None:
            tracks = self._each(ids, market, tracker)
        return self._result(ids, tracks, "album_tracks", self._memory.reason("albums"))

    def _each(
        self, ids: Sequence[str], market: str | None, tracker: ProgressTracker
    ) -> dict[str, list[SpotifyObject]]:
        """Tracks of each album from its own listing; albums Spotify does not know are left out."""
        calls = [partial(self._listing_or_none, a, market, tracker) for a in ids]
        listings = self._context.workers.run_all(calls)
        return {a: listing for a, listing in zip(ids, listings, strict=True) if listing is not None}

    def _batched(
        self, ids: list[str], market: str | None, tracker: ProgressTracker
    ) -> dict[str, list[SpotifyObject]]:
        """Tracks of all albums via `/albums?ids=`, in waves on the worker pool: the batches, then
        the extra pages of albums over 50 tracks (all such albums at once), then on their own the
        albums a batch answered null for."""
        run_all = self._context.workers.run_all
        chunks = [ids[i : i + MAX_IDS_PER_REQUEST] for i in range(0, len(ids), MAX_IDS_PER_REQUEST)]
        batches = []
        if not self._batches_allowed:
            batches.append(self._batch(chunks.pop(0), market))
            self._batches_allowed = True
        batches += run_all([partial(self._batch, chunk, market) for chunk in chunks])
        first_pages = {album_id: page for batch in batches for album_id, page in batch.items()}
        longer = [album_id for album_id, page in first_pages.items() if page.next is not None]
        rest = run_all([partial(self._listing, a, market, first_pages[a]) for a in longer])
        tracks = dict(zip(longer, rest, strict=True))
        for album_id, page in first_pages.items():
            if album_id not in tracks:
                tracks[album_id] = self._listing(album_id, market, page)
            tracker.album_done()
        nulls = [album_id for album_id in ids if album_id not in first_pages]
        return {**tracks, **self._each(nulls, market, tracker)}

    def _batch(self, ids: Sequence[str], market: str | None) -> dict[str, Page]:
        """The first track page of up to 20 albums from one `/albums?ids=` request."""
        params: dict[str, str | int] = {"ids": ",".join(ids)}
        if market is not None:
            params["market"] = market
        patience = None if self._batches_allowed else PROBE_PATIENCE
        body = self._api.get(self._api.url("/albums"), params, patience=patience)
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

    def _listing_or_none(
        self, album_id: str, market: str | None, tracker: ProgressTracker
    ) -> list[SpotifyObject] | None:
        """Tracks of one album from `/albums/{id}/tracks`; None when Spotify does not know it."""
        try:
            return self._listing(album_id, market, None)
        except SpotifyNotFoundError:
            log.warning("Spotify does not know album %s (404, asked again in vain)", album_id)
            return None
        finally:
            tracker.album_done()

    def _listing(
        self, album_id: str, market: str | None, first: Page | None
    ) -> list[SpotifyObject]:
        """All tracks of an album, from `first` (embedded) or a fresh listing; restarts on drift."""

        def pages(attempt: int) -> Iterator[Page]:
            if first is not None and attempt == 0:
                return follow(self._api, first)
            params: dict[str, str | int] = {"limit": self._config.page_size}
            if market is not None:
                params["market"] = market
            url = self._api.url(f"/albums/{album_id}/tracks")
            return fetch(self._api, url, params, not_found_is_transient=True)

        return self._context.settled(f"Album {album_id}", pages)[0]

    @staticmethod
    def _result(
        ids: list[str],
        tracks: dict[str, list[SpotifyObject]],
        endpoint: TracksEndpoint,
        fallback_reason: str | None = None,
    ) -> AlbumTracks:
        """The result in request order, with the ids Spotify did not know."""
        ordered = {album_id: tracks[album_id] for album_id in ids if album_id in tracks}
        missing = tuple(album_id for album_id in ids if album_id not in tracks)
        return AlbumTracks(ordered, endpoint, missing, fallback_reason)
