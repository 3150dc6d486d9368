"""The new-releases feed: from browse, from search (`tag:new`), or browse with search as fallback.

Spotify withdrew /browse/new-releases from Development Mode apps in 2026 (403). In `auto` mode the
feed tries browse once and, when it is refused, reads search instead and remembers the refusal
(see capabilities.py), so later runs go straight to search.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from spotify_assets.spotify.context import ClientContext
from spotify_assets.spotify.errors import SpotifyForbiddenError, SpotifyRateLimitError
from spotify_assets.spotify.paging import Page, get_page, read_ahead
from spotify_assets.spotify.results import NewReleases, SpotifyObject

log = logging.getLogger(__name__)

NEW_RELEASES_QUERY = "tag:new"
MAX_SEARCH_ITEMS = 1000
"""Search pages no deeper than this: "maximum offset (including limit): 1,000"."""
FEED_WINDOW = 4
"""Feed pages read at once: the feed is what a run asks for first, before the rate limiter knows
the pace, so a few pages at once speed it up several times while a cold start against a tight
rate limit meets only a handful of 429s."""


class Feed:
    """Reads the whole new-releases feed the way the configured source says."""

    def __init__(self, context: ClientContext) -> None:
        self._config = context.config
        self._api = context.api
        self._workers = context.workers
        self._capabilities = context.capabilities
        self._context = context

    def read(self) -> NewReleases:
        """The feed from the configured source, falling back from browse to search in `auto`."""
        source = self._config.new_releases_source
        if source == "browse":
            return self._browse()
        if source == "search":
            return self._search(None)
        fallback_reason = self._capabilities.reason("browse")
        if fallback_reason is not None:
            log.info("Using search (q=%s): browse was %s", NEW_RELEASES_QUERY, fallback_reason)
            return self._search(fallback_reason)
        try:
            return self._browse()
        except SpotifyForbiddenError as exc:
            fallback_reason = str(exc)
            self._capabilities.forbid("browse", fallback_reason)
            # Spotify withdrew /browse/new-releases and /albums?ids= from Development Mode apps
            # together (2026-02-11 / 2026-03-09): an app refused one is refused both.
            self._capabilities.forbid("albums", f"not tried after {exc}")
        except SpotifyRateLimitError as exc:
            # Restricted apps have been seen getting a 429 instead of the 403 on an endpoint
            # they lost; search may still answer. Not remembered past the run: it may just have
            # been the rate limit, and then search fails the same way.
            fallback_reason = str(exc)
            self._capabilities.forbid("albums", f"not tried after {exc}", persist=False)
        log.warning("Falling back to search (q=%s): %s", NEW_RELEASES_QUERY, fallback_reason)
        return self._search(fallback_reason)

    def _browse(self) -> NewReleases:
        """The feed from `/browse/new-releases`."""
        albums, total = self._collect(
            self._api.url("/browse/new-releases"), {"limit": self._config.page_size}
        )
        return NewReleases(albums, total, total, "browse")

    def _search(self, fallback_reason: str | None) -> NewReleases:
        """The feed from search (`q=tag:new`), as deep as Spotify lets one page."""
        params: dict[str, str | int] = {
            "q": NEW_RELEASES_QUERY,
            "type": "album",
            "limit": self._config.search_page_size,
        }
        albums, total = self._collect(self._api.url("/search"), params, MAX_SEARCH_ITEMS)
        reachable = min(total, MAX_SEARCH_ITEMS)
        return NewReleases(albums, total, reachable, "search", fallback_reason)

    def _collect(
        self, url: str, params: dict[str, str | int], max_items: int | None = None
    ) -> tuple[list[SpotifyObject], int]:
        """All albums of a feed listing and its reported total, restarting when it drifts."""

        def pages(attempt: int) -> Iterator[Page]:
            first = get_page(self._api, url, "albums", params)
            return read_ahead(
                self._api,
                first,
                "albums",
                self._workers.run_all,
                window=FEED_WINDOW,
                max_items=max_items,
            )

        return self._context.settled("The new-releases feed", pages)
