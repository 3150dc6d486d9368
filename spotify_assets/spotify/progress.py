"""Progress of a long fetch, reported at a steady interval: a run paced at Spotify's rate limit
takes minutes, and a log that says nothing between start and end looks hung."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from spotify_assets.spotify.stats import ClientStats


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
