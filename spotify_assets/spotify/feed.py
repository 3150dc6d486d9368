"""The new-releases feed: from browse, from search (`tag:new`), or browse with search as fallback.

Spotify withdrew /browse/new-releases from Development Mode apps in 2026 (403). In `auto` mode the
feed tries browse once and, when it is refused, reads search instead and remembers the refusal
(see memory.py), so later runs go straight to search. Some restricted apps get 429 instead of
403 from their first browse call: after PROBE_PATIENCE waits on browse's first page the feed
falls back too (429s on a later page are the rate limit: browse answered). When search then
answers without a 429, the refusal is remembered as suspected: a burst of another client sharing
the quota looks the same. The next run asks browse once more, the same way (memory.py says when
the same answer confirms the refusal); browse answering clears it.

A market's feed comes from search with `market=XX`, which lists only the albums available there:
/browse/new-releases takes no market (Spotify's OpenAPI document lists only limit and offset), so
`auto` goes straight to search for a market and `browse` refuses one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

from spotify_assets.spotify.config import check_market
from spotify_assets.spotify.context import ClientContext
from spotify_assets.spotify.errors import (
    SpotifyConfigError,
    SpotifyForbiddenError,
    SpotifyRateLimitError,
)
from spotify_assets.spotify.listing import Listing
from spotify_assets.spotify.pacing import PROBE_PATIENCE, is_refusal
from spotify_assets.spotify.paging import Page, get_page, read_ahead
from spotify_assets.spotify.results import Duplicate, NewReleases, NewReleasesSource

log = logging.getLogger(__name__)

NEW_RELEASES_QUERY = "tag:new"
MAX_SEARCH_ITEMS = 1000
"""Search pages no deeper than this: "maximum offset (including limit): 1,000"."""
FEED_WINDOW = 4
"""Feed pages read at once: the feed is what a run asks for first, before the pacer knows the
rate limit, so a few pages at once speed it up several times while a cold start against a tight
limit meets only a handful of 429s."""


class Feed:
    """Reads the whole new-releases feed the way the configured source says."""

    def __init__(self, context: ClientContext) -> None:
        self._context = context
        self._config = context.config
        self._api = context.api
        self._memory = context.memory

    def read(self, market: str | None = None) -> NewReleases:
        """The feed from the configured source, falling back from browse to search in `auto`;
        with a `market`, that market's feed from search."""
        check_market(market)
        source = self._config.new_releases_source
        if market is not None:
            if source == "browse":
                raise SpotifyConfigError(
                    f"new_releases_source is browse, which cannot read the feed of market "
                    f"{market}: /browse/new-releases takes no market. Use search or auto "
                    "(SPOTIFY_NEW_RELEASES_SOURCE), or configure no market."
                )
            return self._search(None, market)
        if source == "browse":
            return self._browse()
        if source == "search":
            return self._search(None)
        remembered = self._memory.reason("browse")
        recheck = self._memory.recheck("browse")
        if remembered is not None and not recheck:
            log.info("Using search (q=%s): browse was %s", NEW_RELEASES_QUERY, remembered)
            return self._search(remembered)
        if recheck:
            log.info("Asking browse again before trusting its refusal (%s)", remembered)
        answered = threading.Event()
        try:
            return self._context.refused_twice(
                lambda: self._browse(PROBE_PATIENCE, answered, recheck),
                again=lambda: not answered.is_set(),
            )
        except SpotifyForbiddenError as exc:
            self._refused(str(exc), persist=True, by_429=False)
            return self._search(str(exc))
        except SpotifyRateLimitError as exc:
            if answered.is_set() or not is_refusal(exc):
                raise
            reason = str(exc)
            return self._context.fall_back(
                lambda: self._search(reason),
                lambda persist: self._refused(reason, persist=persist, by_429=True),
            )

    def _refused(self, reason: str, *, persist: bool, by_429: bool) -> None:
        """Remember that browse was refused, and with it /albums?ids=: Spotify withdrew both from
        Development Mode apps together (2026-02-11 / 2026-03-09)."""
        if self._memory.forbid_all(
            {"browse": reason, "albums": f"not tried after {reason}"},
            persist=persist,
            by_429=by_429,
        ):
            log.warning("Falling back to search (q=%s): %s", NEW_RELEASES_QUERY, reason)

    def _browse(
        self,
        patience: int | None = None,
        answered: threading.Event | None = None,
        recheck: bool = False,
    ) -> NewReleases:
        """The feed from `/browse/new-releases`; `answered` is set once its first page came
        (and a suspected refusal, `recheck`, is then forgotten)."""

        def first_page_came() -> None:
            if answered is not None and not answered.is_set():
                answered.set()
                if recheck:
                    self._memory.allow("browse", also_suspected=("albums",))

        listing = self._collect(
            self._api.url("/browse/new-releases"),
            {"limit": self._config.page_size},
            patience,
            on_first_page=first_page_came,
        )
        return self._told(feed_of(listing, listing.total, "browse"))

    def _search(self, fallback_reason: str | None, market: str | None = None) -> NewReleases:
        """The feed from search (`q=tag:new`, of `market` when given), as deep as Spotify lets
        one page."""
        params: dict[str, str | int] = {
            "q": NEW_RELEASES_QUERY,
            "type": "album",
            "limit": self._config.search_page_size,
        }
        if market is not None:
            params["market"] = market
        listing = self._collect(self._api.url("/search"), params, max_items=MAX_SEARCH_ITEMS)
        reachable = min(listing.total, MAX_SEARCH_ITEMS)
        return self._told(feed_of(listing, reachable, "search", fallback_reason, market))

    @staticmethod
    def _told(feed: NewReleases) -> NewReleases:
        """`feed`, with a warning in the log when Spotify sent null for albums, or ran out before
        the total it reported."""
        of_market = f" of market {feed.market}" if feed.market else ""
        if feed.unsent:
            log.warning(
                "Spotify's %s listing%s sent null for %d of its places (pages whose items were "
                "null at offsets %s, the rest null entries): skipped, the other albums kept",
                feed.source,
                of_market,
                feed.unsent,
                list(feed.null_pages),
            )
        if feed.shortfall:
            log.warning(
                "Spotify's %s listing%s ran out after %d of the %d albums it reported as "
                "reachable; keeping what came",
                feed.source,
                of_market,
                len(feed.albums),
                feed.reachable,
            )
        return feed

    def _collect(
        self,
        url: str,
        params: dict[str, str | int],
        patience: int | None = None,
        max_items: int | None = None,
        on_first_page: Callable[[], None] | None = None,
    ) -> Listing:
        """All albums of a feed listing and its reported total, restarting when it drifts;
        `on_first_page` is called when a first page came. A listing paged no deeper than
        `max_items` is search's, whose total is an estimate (see listing.collect) and whose
        paging is not stable: when no read settles, its best read is kept (listing.settled).
        Browse's total is exact, so a browse listing that keeps changing fails."""

        def pages(attempt: int) -> Iterator[Page]:
            first = get_page(self._api, url, "albums", params, patience=patience)
            if on_first_page is not None:
                on_first_page()
            return read_ahead(
                self._api,
                first,
                "albums",
                self._context.workers.run_all,
                window=FEED_WINDOW,
                max_items=max_items,
            )

        return self._context.settled(
            "The new-releases feed",
            pages,
            "albums",
            total_is_estimate=max_items is not None,
            keep_unsettled=max_items is not None,
        )


def feed_of(
    listing: Listing,
    reachable: int,
    source: NewReleasesSource,
    fallback_reason: str | None = None,
    market: str | None = None,
) -> NewReleases:
    """The feed a listing makes (of `market` when given): each album once, its duplicates
    (listed the same way on every read; `repeated` when the listing never settled) and null
    places noted."""
    duplicates = tuple(
        Duplicate(album_id, tuple(place + 1 for place in places))
        for album_id, places in listing.duplicates.items()
    )
    return NewReleases(
        listing.items,
        listing.total,
        reachable,
        source,
        fallback_reason,
        () if listing.unsettled else duplicates,
        listing.unsent,
        listing.null_pages,
        market,
        duplicates if listing.unsettled else (),
    )
