"""How long to back off before a retry, and the retry budget shared by the whole run."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


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
    """A count of retries the whole client may still spend, shared by its threads.

    Per-request limits alone let a run against a failing API spend `max_retries` on every one of
    its thousands of requests; the budget makes such a run fail fast instead.
    """

    def __init__(self, total: int) -> None:
        self._left = total
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Spend one retry; False when the budget is exhausted."""
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True
