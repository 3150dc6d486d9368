"""One rate limiter shared by every worker thread: honours Retry-After and learns a safe pace.

Written by hand because no library does this for Spotify: the limit is a rolling window whose size
and quota are not published, so the pace has to be learned from the 429s themselves, and a 429
seen by one thread must hold back all of them (the window is counted per app, not per thread).

How it paces:
- Until the first 429 it does not pace at all (the worker pool bounds concurrency).
- The first 429 pauses everyone for Retry-After and sets the pace to what the API let through:
  requests accepted so far / (time taken + Retry-After). Retry-After comes in whole seconds, so
  with a short window that is only a lower bound of the quota: the pace grows by
  `recovery_growth` per estimated window until the next 429 shows where the quota is.
- That 429 drops the pace to `recovery_backoff` x the pace that crossed the quota; from then on
  it probes upward by `settled_growth` per window, halving the probe after every further 429,
  so a long run settles just under the quota with a handful of 429s in all.
The constants were chosen by simulating rolling windows of 1 s to 30 s; bench/ measures the 1 s
case (W3). What no pacing can avoid: when the window first fills, every request then in flight
(up to max_workers) gets its 429, once per cold start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MIN_RATE = 0.2
"""Requests per second the limiter never paces below, so a run always makes progress."""


class RateLimiter:
    """Paces requests across threads; call `acquire()` before each request, then report back."""

    def __init__(
        self,
        max_rate: float | None = None,
        *,
        recovery_backoff: float = 0.9,
        settled_backoff: float = 0.97,
        recovery_growth: float = 0.1,
        settled_growth: float = 0.005,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._ceiling = max_rate
        self._recovery_backoff = recovery_backoff
        self._settled_backoff = settled_backoff
        self._recovery_growth = recovery_growth
        self._settled_growth = settled_growth
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        now = clock()
        self._base_rate: float | None = max_rate
        self._growth = 0.0
        self._settled = False
        self._base_since = now
        self._window_s = 1.0
        self._next_slot = now
        self._paused_until = now
        self._epoch_start = now
        self._accepted = 0

    @property
    def rate(self) -> float | None:
        """The current pace in requests per second, or None while unpaced."""
        with self._lock:
            return self._rate_at(self._clock())

    def acquire(self) -> None:
        """Block until this thread may send a request."""
        while True:
            with self._lock:
                now = self._clock()
                paused = now < self._paused_until
                if paused:
                    delay = self._paused_until - now
                else:
                    rate = self._rate_at(now)
                    if rate is None:
                        return
                    slot = max(now, self._next_slot)
                    self._next_slot = slot + 1.0 / rate
                    delay = slot - now
                    if delay <= 0:
                        return
            self._sleep(delay)
            if not paused:
                with self._lock:
                    if self._clock() >= self._paused_until:
                        return

    def on_accepted(self) -> None:
        """Record a request the API accepted (any answer but 429)."""
        with self._lock:
            self._accepted += 1

    def on_rate_limited(self, retry_after_s: float) -> float:
        """Record a 429: pause every thread for `retry_after_s` and lower the pace.

        Returns the seconds this 429 added to the shared pause (0 when an earlier 429 of the same
        episode already covers it), so the run's total wait is counted once, not per thread.
        """
        with self._lock:
            now = self._clock()
            resume_at = now + retry_after_s
            if now < self._paused_until:
                added = max(0.0, resume_at - self._paused_until)
                self._paused_until = max(self._paused_until, resume_at)
                return added
            current = self._rate_at(now)
            if current is None:
                span = (now - self._epoch_start) + retry_after_s
                if self._accepted > 0 and span > 0:
                    self._base_rate = max(MIN_RATE, self._accepted / span)
                    self._window_s = max(span, 1.0)
                    self._growth = self._recovery_growth
            elif not self._settled:
                self._base_rate = max(MIN_RATE, current * self._recovery_backoff)
                self._growth = self._settled_growth
                self._settled = True
            else:
                self._base_rate = max(MIN_RATE, current * self._settled_backoff)
                self._growth /= 2
            self._paused_until = resume_at
            self._base_since = resume_at
            self._next_slot = resume_at
            self._epoch_start = resume_at
            self._accepted = 0
            return retry_after_s

    def _rate_at(self, now: float) -> float | None:
        """The pace at `now`: the base rate grown since the last pause, capped by the ceiling."""
        if self._base_rate is None:
            return None
        elapsed_windows = max(0.0, now - self._base_since) / self._window_s
        rate = self._base_rate * (1.0 + self._growth * elapsed_windows)
        return rate if self._ceiling is None else min(rate, self._ceiling)
