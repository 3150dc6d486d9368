"""A rolling-window rate limit like Spotify's: at most R accepted requests in any W seconds."""

from __future__ import annotations

import math
from collections import deque


class RollingWindow:
    """Accepts a request when fewer than R were accepted in the last W seconds (not locked)."""

    def __init__(self, requests: int, window_s: float) -> None:
        """Allow `requests` accepted requests per `window_s` seconds."""
        self.requests = requests
        self.window_s = window_s
        self._accepted: deque[float] = deque()

    def admit(self, now: float) -> int | None:
        """Record and accept the request (None), or refuse it and return Retry-After seconds."""
        # Refused requests are not recorded, so hammering through 429s does not extend the ban.
        # Retry-After is the time until the oldest accepted request leaves the window, rounded
        # up to whole seconds and at least 1: the header only carries integers.
        while self._accepted and self._accepted[0] <= now - self.window_s:
            self._accepted.popleft()
        if len(self._accepted) < self.requests:
            self._accepted.append(now)
            return None
        return max(1, math.ceil(self._accepted[0] + self.window_s - now))
