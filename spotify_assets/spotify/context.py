"""What the feed and album-tracks readers share: the configuration and the client's parts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from spotify_assets.spotify.api import SpotifyApi
from spotify_assets.spotify.config import ClientConfig
from spotify_assets.spotify.listing import Listing, settled
from spotify_assets.spotify.memory import AppMemory
from spotify_assets.spotify.pacing import Pacer
from spotify_assets.spotify.paging import Page, get_page
from spotify_assets.spotify.stats import StatsRecorder
from spotify_assets.spotify.workers import Workers

R = TypeVar("R")


@dataclass(frozen=True)
class ClientContext:
    """The parts of one client, wired once by SpotifyClient and handed to its readers."""

    config: ClientConfig
    api: SpotifyApi
    workers: Workers
    memory: AppMemory
    pacer: Pacer
    stats: StatsRecorder

    def fall_back(self, fallback: Callable[[], R], refuse: Callable[[bool], None]) -> R:
        """After a 429 on a probe where a restricted app expects a 403 (pacing.is_refusal): note the
        refusal for this run (`refuse(False)`), run `fallback`, and keep the refusal for later
        runs (`refuse(True)`) only when `fallback` met no 429; else the 429 was the rate limit."""
        refuse(False)
        before = self.stats.snapshot().http_429
        result = fallback()
        if self.stats.snapshot().http_429 == before:
            refuse(True)
        return result

    def settled(
        self, what: str, pages: Callable[[int], Iterator[Page]], key: str | None = None
    ) -> Listing:
        """A listing read without drift (see listing.settled), counting the restarts in the
        client's stats; a page holding a duplicate is read again from its `href` (bodies
        `{key: paging}` when `key` is given)."""
        return settled(
            what,
            pages,
            max_restarts=self.config.max_drift_restarts,
            on_restart=lambda: self.stats.add(drift_restarts=1),
            reread=lambda href: get_page(self.api, href, key),
        )
