"""How long to back off before a retry, and the retry budget for outages shared by the whole run
(5xx, timeouts, dropped connections, 429 waits; asking again for an album that answered 404 is
no outage and spends none of it)."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from spotify_assets.spotify.errors import SpotifyRetryBudgetError, SpotifyUnavailableError


@dataclass(frozen=True)
class Backoff:
    """The wait before a retry: "full jitter", a uniform draw between 0 and an exponential ceiling,
    which spreads the retries of many workers instead of letting them hit a recovering server in
    lockstep."""

    base_s: float
    max_s: float
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def seconds(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        ceiling = min(self.max_s, self.base_s * 2 ** (attempt - 1))
        return self.rng.uniform(0.0, ceiling)


class RetryBudget:
    """A count of retries the whole client may still spend on outages, shared by its threads,
    and how many one request may spend (`per_request`, max_retries).

    Per-request limits alone let a run against a failing API spend `max_retries` on every one of
    its thousands of requests; the budget makes such a run fail fast instead.
    """

    def __init__(self, total: int, per_request: int) -> None:
        self._left = total
        self._per_request = per_request
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Spend one retry; False when the budget is exhausted."""
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def ends(
        self, failures: int, what: str, *, url: str, status: int | None
    ) -> SpotifyUnavailableError | None:
        """The error that ends a request whose outage (`what`, its `failures`-th failure in a
        row) outlasted its own retries, or the run's budget (SpotifyRetryBudgetError: the service
        fails for the whole run, so nothing more is asked); None when a retry is allowed, which
        spends one from the budget."""
        spent = failures <= self._per_request and not self.take()
        if failures <= self._per_request and not spent:
            return None
        why = "and the run's retry budget is spent" if spent else f"after {failures} attempts"
        return (SpotifyRetryBudgetError if spent else SpotifyUnavailableError)(
            f"{what} {why}; the service is having trouble, try the run again later.",
            url=url,
            status=status,
        )
