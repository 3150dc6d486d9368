"""The workloads: the emulator's settings for each, and the fewest requests the API allows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from spotify_assets.emulator import Catalog, EmulatorConfig, Mode

BROWSE_PAGE_MAX = 50
SEARCH_PAGE_MAX = 10
IDS_PER_REQUEST_MAX = 20
EMBEDDED_TRACKS = 50


@dataclass(frozen=True)
class Workload:
    """One workload: the catalog size, the app's mode, the latency and any rate limit (at most
    R accepted requests in any rolling W seconds)."""

    name: str
    albums: int
    mode: Mode
    latency_ms: float
    rate_limit: tuple[int, float] | None = None

    def config(self) -> EmulatorConfig:
        """The emulator configuration that serves this workload (default seed, same for all)."""
        return EmulatorConfig(
            albums=self.albums,
            mode=self.mode,
            latency_ms=self.latency_ms,
            rate_limit=self.rate_limit,
        )

    @property
    def allowed_rate(self) -> float | None:
        """Requests per second the emulator lets through, None when unlimited."""
        if self.rate_limit is None:
            return None
        requests, window_s = self.rate_limit
        return requests / window_s

    def bound_s(self, accepted: int) -> float | None:
        """The least wall time `accepted` requests need under the rolling window: the last of
        them cannot leave before floor((R - 1) / Q) windows have passed. None without a limit."""
        if self.rate_limit is None:
            return None
        quota, window_s = self.rate_limit
        return max(0, accepted - 1) // quota * window_s

    def describe(self) -> str:
        """One line for the table: mode, size, latency, rate limit."""
        limit = "no rate limit"
        if self.rate_limit is not None:
            limit = f"rate limit {self.rate_limit[0]} requests / {self.rate_limit[1]:g} s"
        return f"{self.mode} mode, {self.albums:,} albums, {self.latency_ms:g} ms latency, {limit}"

    def settings(self) -> dict[str, Any]:
        """The emulator settings, for the JSON report."""
        return {
            "albums": self.albums,
            "mode": self.mode,
            "latency_ms": self.latency_ms,
            "rate_limit": list(self.rate_limit) if self.rate_limit is not None else None,
            "seed": self.config().seed,
        }


WORKLOADS: tuple[Workload, ...] = (
    Workload("W1", albums=100, mode="extended", latency_ms=40),
    Workload("W2", albums=100, mode="development", latency_ms=40),
    Workload("W3", albums=300, mode="development", latency_ms=10, rate_limit=(20, 1.0)),
    Workload("W4", albums=1000, mode="development", latency_ms=10),
    Workload("W4-100", albums=100, mode="development", latency_ms=10),
    Workload("W5", albums=200, mode="development", latency_ms=50, rate_limit=(90, 30.0)),
    Workload("W6", albums=200, mode="development", latency_ms=10, rate_limit=(60, 10.0)),
)


def min_requests(workload: Workload, catalog: Catalog) -> int:
    """The fewest API requests the mode allows: feed pages + album requests + extra track pages.

    Feed pages at the largest page size (browse 50, search 10); album requests of 20 ids each in
    extended mode (first 50 tracks embedded), one `/albums/{id}/tracks` per album in development
    mode; plus every page beyond the first 50 tracks of an album. Token requests do not count.
    """
    albums = len(catalog.albums)
    extra_pages = sum(
        math.ceil(len(album.tracks) / EMBEDDED_TRACKS) - 1 for album in catalog.albums
    )
    if workload.mode == "extended":
        feed = math.ceil(albums / BROWSE_PAGE_MAX)
        album_requests = math.ceil(albums / IDS_PER_REQUEST_MAX)
    else:
        feed = math.ceil(albums / SEARCH_PAGE_MAX)
        album_requests = albums
    return feed + album_requests + extra_pages
