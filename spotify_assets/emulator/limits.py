"""What refuses an authorized request before it is served: the day quota, lone 429s, the rolling
window and the random 5xx draw (not locked: EmulatorState calls it under its lock)."""

from __future__ import annotations

import random

from spotify_assets.emulator.knobs import EmulatorConfig
from spotify_assets.emulator.rolling_window import RollingWindow

SERVER_ERRORS = (500, 502, 503)


class Limits:
    """The quota spent, the rate window and the seeded error draw of one configuration."""

    def __init__(self, config: EmulatorConfig) -> None:
        """Start with nothing spent, an empty window and a fresh seeded generator."""
        self._config = config
        self._window = None if config.rate_limit is None else RollingWindow(*config.rate_limit)
        self._errors = random.Random(f"spotify-emulator:{config.seed}:errors")
        self.quota_used = 0
        self._judged = 0  # requests that reached the rate limit, for lone_429_at

    def spend_quota(self) -> bool:
        """Count one authorized API request against the quota; False once it is spent."""
        quota = self._config.quota
        if quota is None:
            return True
        if self.quota_used >= quota:
            return False
        self.quota_used += 1
        return True

    def lone_429(self) -> bool:
        """Count one request that reached the rate limit; True when lone_429_at names it."""
        self._judged += 1
        return self._judged in self._config.lone_429_at

    def admit(self, now: float) -> int | None:
        """Pass the rate limit (None) or get the Retry-After seconds of a 429."""
        return None if self._window is None else self._window.admit(now)

    def draw_server_error(self) -> int | None:
        """A random 5xx status for this request at the configured error rate, seeded."""
        rate = self._config.error_rate
        if rate > 0 and self._errors.random() < rate:
            return self._errors.choice(SERVER_ERRORS)
        return None

    def reconfigured(self, config: EmulatorConfig, changed: set[str]) -> Limits:
        """These limits under a new configuration: a changed knob starts afresh, the rest keep
        their state."""
        fresh = Limits(config)
        if "rate_limit" not in changed:
            fresh._window = self._window
        if "error_rate" not in changed:
            fresh._errors = self._errors
        if "quota" not in changed:
            fresh.quota_used = self.quota_used
        if "lone_429_at" not in changed:
            fresh._judged = self._judged
        return fresh
