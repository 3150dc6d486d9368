"""Counters of everything the client did, shared by its threads, for logs and run metadata."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ClientStats:
    """A snapshot of the client's counters.

    `requests` counts every HTTP request sent (API and token endpoint, retries included), so it is
    what the app's Spotify quota sees plus the token calls. `waited_s` is the time Spotify's limits
    held the run back: the wall time during which the pacer held back any worker (to keep under the
    learned quota or the configured ceiling, or until a Retry-After pause ended), plus the backoffs
    before retries.
    """

    requests: int = 0
    api_requests: int = 0
    token_requests: int = 0
    retries: int = 0
    http_429: int = 0
    http_5xx: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    waited_s: float = 0.0
    token_refreshes: int = 0
    drift_restarts: int = 0

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
