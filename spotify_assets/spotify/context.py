"""What the feed and album-tracks readers share: the configuration and the client's parts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from spotify_assets.spotify.api import SpotifyApi
from spotify_assets.spotify.capabilities import Capabilities
from spotify_assets.spotify.config import ClientConfig
from spotify_assets.spotify.paging import Page, settled
from spotify_assets.spotify.results import SpotifyObject
from spotify_assets.spotify.stats import StatsRecorder
from spotify_assets.spotify.workers import Workers


@dataclass(frozen=True)
class ClientContext:
    """The parts of one client, wired once by SpotifyClient and handed to its readers."""

    config: ClientConfig
    api: SpotifyApi
    workers: Workers
    capabilities: Capabilities
    stats: StatsRecorder

    def settled(
        self, what: str, pages: Callable[[int], Iterator[Page]]
    ) -> tuple[list[SpotifyObject], int]:
        """Items and total of a listing read without drift (see paging.settled), counting the
        restarts in the client's stats."""
        return settled(
            what,
            pages,
            max_restarts=self.config.max_drift_restarts,
            on_restart=lambda: self.stats.add(drift_restarts=1),
        )
