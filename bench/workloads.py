"""The workloads: the emulator's settings for each, and the fewest requests the API allows.

The emulator knobs the bench turns are named here and nowhere else: issue 16's workloads need
knobs that other branches add (RETRY_AFTER_KNOB); a workload whose knob this emulator lacks is
not run, and says which knob it waits for.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

from spotify_assets.emulator import Catalog, EmulatorConfig, Fault, Mode

BROWSE_PAGE_MAX = 50
SEARCH_PAGE_MAX = 10
SEARCH_DEPTH_MAX = 1000
"""Search pages go no deeper than offset + limit = 1,000."""
IDS_PER_REQUEST_MAX = 20
EMBEDDED_TRACKS = 50
RetryAfter = Literal["header", "absent", "zero"]
RETRY_AFTER_KNOB = "rate_limit_retry_after"
"""EmulatorConfig knob (issue 16): the rolling window's 429s carry Retry-After, none, or 0."""
LONE_RETRY_AFTER_S = 1
"""Retry-After of a workload's lone 429 (a scripted fault, which the emulator has already)."""


@dataclass(frozen=True)
class Workload:
    """One workload: the catalog size, the app's mode, the latency and any rate limit (at most
    R accepted requests in any rolling W seconds)."""

    name: str
    albums: int
    mode: Mode
    latency_ms: float
    rate_limit: tuple[int, float] | None = None
    retry_after: RetryAfter = "header"
    """What the rolling window's 429s say about when to come back."""
    lone_429_at: int | None = None
    """The n-th API request of a run answers one 429 (Retry-After LONE_RETRY_AFTER_S)."""

    def config(self) -> EmulatorConfig:
        """The emulator configuration that serves this workload (default seed, same for all)."""
        missing = self.missing_knob()
        if missing is not None:
            raise ValueError(f"{self.name}: {missing}")
        knobs: dict[str, Any] = {}
        if self.retry_after != "header":
            knobs[RETRY_AFTER_KNOB] = self.retry_after
        return EmulatorConfig(
            albums=self.albums,
            mode=self.mode,
            latency_ms=self.latency_ms,
            rate_limit=self.rate_limit,
            **knobs,
        )

    def missing_knob(self) -> str | None:
        """Why this emulator cannot serve the workload (a knob it lacks), None when it can."""
        knobs = {field.name for field in dataclasses.fields(EmulatorConfig)}
        if self.retry_after != "header" and RETRY_AFTER_KNOB not in knobs:
            return (
                f"the emulator has no knob {RETRY_AFTER_KNOB} (429s without Retry-After, "
                "issue 16): merge the branch that adds it, then run the bench again"
            )
        return None

    def faults(self) -> tuple[Fault, ...]:
        """The scripted faults armed before each faulted run (after the emulator's reset)."""
        if self.lone_429_at is None:
            return ()
        return (
            Fault(
                endpoint="*",
                action="rate_limit",
                nth=self.lone_429_at,
                retry_after_s=LONE_RETRY_AFTER_S,
            ),
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
            if self.retry_after != "header":
                limit += f" (429s with Retry-After {self.retry_after})"
        if self.lone_429_at is not None:
            limit += (
                f", one lone 429 (Retry-After {LONE_RETRY_AFTER_S} s) at request "
                f"{self.lone_429_at} of each faulted run"
            )
        return f"{self.mode} mode, {self.albums:,} albums, {self.latency_ms:g} ms latency, {limit}"

    def settings(self) -> dict[str, Any]:
        """The emulator settings, for the JSON report."""
        return {
            "albums": self.albums,
            "mode": self.mode,
            "latency_ms": self.latency_ms,
            "rate_limit": list(self.rate_limit) if self.rate_limit is not None else None,
            **({RETRY_AFTER_KNOB: self.retry_after} if self.retry_after != "header" else {}),
            **({"lone_429_at": self.lone_429_at} if self.lone_429_at is not None else {}),
            "seed": EmulatorConfig().seed,
        }


WORKLOADS: tuple[Workload, ...] = (
    Workload("W1", albums=100, mode="extended", latency_ms=40),
    Workload("W2", albums=100, mode="development", latency_ms=40),
    Workload("W3", albums=300, mode="development", latency_ms=10, rate_limit=(20, 1.0)),
    Workload("W4", albums=1000, mode="development", latency_ms=10),
    Workload("W4-100", albums=100, mode="development", latency_ms=10),
    Workload("W5", albums=200, mode="development", latency_ms=50, rate_limit=(90, 30.0)),
    Workload("W6", albums=200, mode="development", latency_ms=10, rate_limit=(60, 10.0)),
    Workload(
        "W8",
        albums=200,
        mode="development",
        latency_ms=20,
        rate_limit=(90, 30.0),
        retry_after="absent",
    ),
    Workload("W9", albums=1000, mode="development", latency_ms=5, lone_429_at=3),
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
        feed = math.ceil(min(albums, SEARCH_DEPTH_MAX) / SEARCH_PAGE_MAX)
        album_requests = albums
    return feed + album_requests + extra_pages
