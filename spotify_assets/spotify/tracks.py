"""Every track of a list of albums, with as few requests as the app's access allows.

`/albums?ids=` answers 20 albums a request with their first 50 tracks embedded; Development Mode
apps lost it in 2026 (403), and then each album is listed with `/albums/{id}/tracks`. The first
batch request alone probes whether the app may use the endpoint, so a refusal costs one request
rather than one per worker; the refusal is remembered like the one on browse (memory.py). An album
Spotify answers null or 404 for is asked again on its own (404s retried a few times): Spotify has
been seen to do that once for albums it listed seconds before. A `market` given to a read goes
with every request of that read (`market=XX`), so Spotify fills is_playable for that market.

A run never loses what it fetched: each album's tracks are kept as they come (`Harvest`). An
album Spotify does not know, whose retries ran out on an outage, that Spotify refuses (403, 400)
or answers with something that is no listing, is named with the reason and the others go on; a
batch refused or malformed that way has its albums asked on their own. An error that holds for
the whole run (a ban, a refused app, a spent retry budget) ends the fetch, and the result keeps
what came before it; so do REFUSALS_IN_A_ROW albums refused one after another with none answering
between them: then the endpoint refuses the app, not each album.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import partial

from spotify_assets.spotify.config import check_market
from spotify_assets.spotify.context import ClientContext
from spotify_assets.spotify.errors import (
    SpotifyError,
    SpotifyForbiddenError,
    SpotifyNotFoundError,
    SpotifyPagingError,
    SpotifyProtocolError,
    SpotifyRateLimitError,
    SpotifyRequestError,
    SpotifyRetryBudgetError,
    SpotifyUnavailableError,
)
from spotify_assets.spotify.pacing import PROBE_PATIENCE, is_refusal
from spotify_assets.spotify.paging import Page, fetch, follow
from spotify_assets.spotify.results import (
    NOT_ASKED,
    UNKNOWN,
    AlbumTracks,
    SpotifyObject,
    TracksEndpoint,
)
from spotify_assets.spotify.stats import ProgressTracker, Report

log = logging.getLogger(__name__)

MAX_IDS_PER_REQUEST = 20
REFUSALS_IN_A_ROW = 5
"""Albums refused (403, 400, no listing) one after another, with no album asked after them
answering, that end the fetch: one album's refusal is that album's, five in a row are the
endpoint's (it costs at most the requests then in flight, one per worker)."""
REFUSALS = (SpotifyForbiddenError, SpotifyRequestError, SpotifyProtocolError, SpotifyPagingError)
"""What Spotify may answer for one album alone, to be told from a refusal of the endpoint by how
many come in a row."""
Pages = dict[str, Page]
"""The first track page of each album a batch answered for."""


class Harvest:
    """What a read of album tracks got so far, album by album, kept as it comes (shared by the
    workers), so that an error ending the read loses nothing fetched before it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tracks: dict[str, list[SpotifyObject]] = {}
        self._reasons: dict[str, str] = {}
        self._refusals = 0
        self._answered_after = 0
        self._ended = threading.Event()

    @property
    def ended(self) -> bool:
        """Whether an error that holds for the whole run was met: no album starts after it."""
        return self._ended.is_set()

    def end(self) -> None:
        """Note an error that holds for the whole run, so the albums still queued are not asked."""
        self._ended.set()

    @property
    def refusals(self) -> int:
        """Albums refused so far: noted when an album is asked, to tell later when it answers
        which refusals came before it."""
        with self._lock:
            return self._refusals

    def got(self, album_id: str, tracks: list[SpotifyObject], asked_after: int = 0) -> None:
        """Keep an album's tracks; it was asked after `asked_after` refusals, which its answer
        shows to be the albums' own (an album asked before them proves nothing about them)."""
        with self._lock:
            self._tracks[album_id] = tracks
            self._answered_after = max(self._answered_after, asked_after)

    def refused(self, album_id: str, reason: str) -> bool:
        """Note that Spotify refused an album; True when REFUSALS_IN_A_ROW refusals came with no
        album asked after them answering (the endpoint refuses, not the album)."""
        with self._lock:
            self._reasons[album_id] = reason
            self._refusals += 1
            return self._refusals - self._answered_after >= REFUSALS_IN_A_ROW

    def lost(self, album_id: str, reason: str) -> None:
        """Note why an album's tracks cannot be had."""
        with self._lock:
            self._reasons[album_id] = reason

    def done(self, album_id: str) -> bool:
        """Whether the album's tracks are kept or known to be missing."""
        with self._lock:
            return album_id in self._tracks or album_id in self._reasons

    def result(
        self,
        ids: list[str],
        endpoint: TracksEndpoint,
        fallback_reason: str | None,
        stopped: SpotifyError | None,
    ) -> AlbumTracks:
        """The result in request order: the albums kept, and why each other one is missing."""
        with self._lock:
            tracks = {
                album_id: self._tracks[album_id] for album_id in ids if album_id in self._tracks
            }
            reasons = {
                album_id: self._reasons.get(album_id, NOT_ASKED)
                for album_id in ids
                if album_id not in tracks
            }
        return AlbumTracks(
            tracks, endpoint, tuple(reasons), fallback_reason, reasons, stopped=stopped
        )


def per_album(error: SpotifyError) -> str | None:
    """Why an album is missing when `error` concerns that album alone (Spotify does not know it,
    its own retries ran out on an outage, or it refused it: see REFUSALS); None when it holds
    for the whole run."""
    if isinstance(error, SpotifyNotFoundError):
        return UNKNOWN
    if isinstance(error, SpotifyUnavailableError) and not isinstance(
        error, SpotifyRetryBudgetError
    ):
        return f"unavailable: {error}"
    if isinstance(error, REFUSALS):
        return f"refused: {error}"
    return None


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
        (None: without one), and the albums without tracks with why; `progress` is called every
        `progress_interval_s`."""
        check_market(market)
        ids = list(dict.fromkeys(album_ids))
        tracker = ProgressTracker(
            len(ids), self._context.stats.snapshot, lambda: self._context.pacer.requests_per_second
        )
        harvest = Harvest()
        stopped: SpotifyError | None = None
        with tracker.reporting(progress, self._config.progress_interval_s):
            try:
                self._read(ids, market, tracker, harvest)
            except SpotifyError as exc:
                log.error("Album tracks stopped (%s); keeping the albums fetched before", exc)
                stopped = exc
        batched = self._batches_allowed and self._memory.reason("albums") is None
        return harvest.result(
            ids,
            "albums" if batched else "album_tracks",
            None if batched else self._memory.reason("albums"),
            stopped,
        )

    def _read(
        self, ids: list[str], market: str | None, tracker: ProgressTracker, harvest: Harvest
    ) -> None:
        """The work of `read`: fills `harvest`, counting albums done on `tracker`."""
        recheck = self._memory.recheck("albums")
        if (self._memory.reason("albums") is None or recheck) and ids:
            try:
                self._context.refused_twice(
                    lambda: self._batched(ids, market, tracker, harvest, recheck),
                    again=lambda: not self._batches_allowed,
                )
                return
            except SpotifyForbiddenError as exc:
                if self._batches_allowed:
                    raise  # the batches were allowed: a later refusal is not the batch endpoint's
                self._memory.forbid("albums", str(exc))
            except SpotifyRateLimitError as exc:
                if self._batches_allowed or not is_refusal(exc):
                    raise
                reason = str(exc)
                self._context.fall_back(
                    lambda: self._each(ids, market, tracker, harvest),
                    lambda persist: self._memory.forbid(
                        "albums", reason, persist=persist, by_429=True
                    ),
                )
                return
        self._each(ids, market, tracker, harvest)

    def _each(
        self, ids: Sequence[str], market: str | None, tracker: ProgressTracker, harvest: Harvest
    ) -> None:
        """Tracks of each album from its own listing, into `harvest`."""
        own = [partial(self._own, a, market, tracker, harvest) for a in ids]
        self._context.workers.run_all(own)

    def _batched(
        self,
        ids: list[str],
        market: str | None,
        tracker: ProgressTracker,
        harvest: Harvest,
        recheck: bool = False,
    ) -> None:
        """Tracks of all albums via `/albums?ids=`, in waves on the worker pool: the batches, then
        the extra pages of albums over 50 tracks (all such albums at once), then on their own the
        albums a batch answered null for. A first batch that answers clears a suspected refusal
        (`recheck`)."""
        run_all = self._context.workers.run_all
        chunks = [ids[i : i + MAX_IDS_PER_REQUEST] for i in range(0, len(ids), MAX_IDS_PER_REQUEST)]
        batches = []
        if not self._batches_allowed:
            first = chunks.pop(0)
            try:
                probe = self._batch(first, market)
            except (SpotifyRequestError, SpotifyProtocolError, SpotifyPagingError) as exc:
                log.warning(
                    "The first batch of %d albums failed (%s); asking each alone", len(first), exc
                )
                probe = {}
            self._batches_allowed = True
            if recheck:
                self._memory.allow("albums")
            batches.append(self._keep_whole(probe, market, tracker, harvest))
        batches += run_all(
            [partial(self._batch_or_lost, c, market, tracker, harvest) for c in chunks]
        )
        longer = {album_id: page for batch in batches for album_id, page in batch.items()}
        run_all([partial(self._own, a, market, tracker, harvest, p) for a, p in longer.items()])
        self._each([a for a in ids if not harvest.done(a)], market, tracker, harvest)

    def _keep_whole(
        self, pages: Pages, market: str | None, tracker: ProgressTracker, harvest: Harvest
    ) -> Pages:
        """Keep at once the albums of a batch whose every track is in hand (no request needed),
        so that an error ending the fetch later loses none of them; the others' first pages."""
        for album_id, page in pages.items():
            if page.next is None:
                self._own(album_id, market, tracker, harvest, page)
        return {album_id: page for album_id, page in pages.items() if page.next is not None}

    def _batch(self, ids: Sequence[str], market: str | None) -> dict[str, Page]:
        """The first track page of up to 20 albums from one `/albums?ids=` request, each album
        matched to its id by the `id` it carries, not by its place: an answer in another order
        must not give an album another's tracks. An entry that is null, not an object, or of
        an id not asked leaves its album to be asked on its own."""
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
        asked = set(ids)
        pages: dict[str, Page] = {}
        for album in albums:
            album_id = album.get("id") if isinstance(album, dict) else None
            if isinstance(album_id, str) and album_id in asked and album_id not in pages:
                pages[album_id] = Page.parse(album.get("tracks"), f"album {album_id} in /albums")
        strays = len(albums) - len(pages) - albums.count(None)
        if strays:
            log.warning(
                "/albums answered %d of %d entries that match no id asked (or one already "
                "answered); their albums are asked on their own",
                strays,
                len(ids),
            )
        return pages

    def _batch_or_lost(
        self, ids: list[str], market: str | None, tracker: ProgressTracker, harvest: Harvest
    ) -> Pages:
        """`_batch` with its whole albums kept, or nothing: when its retries ran out on an
        outage its albums are lost, when Spotify refused it they are asked on their own."""
        if harvest.ended:
            return {}
        try:
            pages = self._batch(ids, market)
        except REFUSALS as exc:
            log.warning("A batch of %d albums was refused (%s); asking each alone", len(ids), exc)
            return {}
        except SpotifyError as exc:
            reason = per_album(exc)
            if reason is None:
                harvest.end()
                raise
            log.warning("No tracks for %d albums of a batch: %s", len(ids), reason)
            for album_id in ids:
                harvest.lost(album_id, reason)
                tracker.album_done()
            return {}
        return self._keep_whole(pages, market, tracker, harvest)

    def _own(
        self,
        album_id: str,
        market: str | None,
        tracker: ProgressTracker,
        harvest: Harvest,
        first: Page | None = None,
    ) -> None:
        """One album's tracks into `harvest`, from `first` (embedded) or `/albums/{id}/tracks`;
        an error of this album alone is noted, one of the whole run ends the harvest."""
        if harvest.ended:
            return
        asked_after = harvest.refusals
        try:
            harvest.got(album_id, self._listing(album_id, market, first), asked_after)
        except SpotifyError as exc:
            reason = per_album(exc)
            if reason is None or (isinstance(exc, REFUSALS) and harvest.refused(album_id, reason)):
                harvest.end()
                raise
            log.warning("No tracks for album %s: %s", album_id, reason)
            harvest.lost(album_id, reason)
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

        return self._context.settled(f"Album {album_id}", pages).items
