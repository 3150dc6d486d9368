"""Counters of everything the client did, shared by its threads, for logs and run metadata; and
the progress of a long fetch, reported from them at a steady interval: a run paced at Spotify's
rate limit takes minutes, and a log that says nothing between start and end looks hung."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class ClientStats:
    """A snapshot of the client's counters.

    `requests` counts every HTTP request sent (API and token endpoint, retries included), so it is
    what the app's Spotify quota sees plus the token calls. `waited_s` is the time Spotify's limits
    held the run back: the wall time during which the pacer held back any worker (to keep under the
    learned quota or the configured ceiling, or until a Retry-After pause ended), plus the backoffs
    before retries. `refused_probes` counts the asks of an endpoint the app may have lost that
    Spotify refused with 403 (a full fetch in the same run sends them too).
    """

    requests: int = 0
    api_requests: int = 0
    token_requests: int = 0
    retries: int = 0
    http_429: int = 0
    http_5xx: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    bad_bodies: int = 0
    waited_s: float = 0.0
    token_refreshes: int = 0
    drift_restarts: int = 0
    refused_probes: int = 0

    def since(self, earlier: ClientStats) -> ClientStats:
        """What happened between `earlier` and this snapshot."""
        return ClientStats(
            **{
                f.name: getattr(self, f.name) - getattr(earlier, f.name)
                for f in dataclasses.fields(self)
            }
        )


class StatsRecorder:
    """Thread-safe accumulator behind `SpotifyClient.stats`; `held` gives the seconds the pacer
    has held workers back so far, added to `waited_s` at each snapshot (a wait still going on
    counts up to now)."""

    def __init__(self, held: Callable[[], float] = lambda: 0.0) -> None:
        self._lock = threading.Lock()
        self._stats = ClientStats()
        self._held = held

    def add(self, **deltas: float) -> None:
        """Add to one or more counters at once, e.g. `add(requests=1, api_requests=1)`."""
        with self._lock:
            changes = {name: getattr(self._stats, name) + delta for name, delta in deltas.items()}
            self._stats = dataclasses.replace(self._stats, **changes)

    def snapshot(self) -> ClientStats:
        """The counters as they are now."""
        with self._lock:
            stats = self._stats
        return dataclasses.replace(stats, waited_s=stats.waited_s + self._held())


@dataclass(frozen=True)
class Progress:
    """Where a fetch stands: albums done of all, what it cost so far, and what is left."""

    done: int
    total: int
    elapsed_s: float
    stats: ClientStats
    pace: float | None
    """Requests per second the pacer allows (learned quota or configured ceiling), None when
    neither holds it back."""

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the speed so far, None before the first album is done."""
        if not self.done:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)

    def __str__(self) -> str:
        pace = "unpaced" if self.pace is None else f"{self.pace:.2f} requests/s"
        eta = "unknown" if self.eta_s is None else f"{self.eta_s:.0f} s"
        return (
            f"{self.done}/{self.total} albums, {self.stats.api_requests} requests, "
            f"{self.stats.http_429} x 429, pace {pace}, waited {self.stats.waited_s:.1f} s, "
            f"about {eta} left"
        )


Report = Callable[[Progress], None]


class ProgressTracker:
    """Counts albums done (from any thread) and reports a Progress every `interval_s`."""

    def __init__(
        self,
        total: int,
        stats: Callable[[], ClientStats],
        pace: Callable[[], float | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._total = total
        self._stats = stats
        self._pace = pace
        self._clock = clock
        self._start = clock()
        self._done = 0
        self._lock = threading.Lock()

    def album_done(self) -> None:
        """Count one album as fetched."""
        with self._lock:
            self._done += 1

    def snapshot(self) -> Progress:
        """Where the fetch stands now."""
        with self._lock:
            done = self._done
        return Progress(done, self._total, self._clock() - self._start, self._stats(), self._pace())

    @contextmanager
    def reporting(self, report: Report | None, interval_s: float) -> Iterator[ProgressTracker]:
        """Call `report` every `interval_s` on a background thread while the block runs, and once
        at its end when it succeeded."""
        if report is None:
            yield self
            return
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(interval_s):
                report(self.snapshot())

        thread = threading.Thread(target=beat, name="spotify-progress", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()
        report(self.snapshot())
