"""All mutable emulator state behind one lock: shared by the HTTP routes and in-process callers."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

from spotify_assets.emulator.catalog import Catalog, generate_catalog
from spotify_assets.emulator.config import EmulatorConfig
from spotify_assets.emulator.faults import Fault, FaultBook
from spotify_assets.emulator.limits import Limits
from spotify_assets.emulator.tokens import TokenStatus, TokenStore
from spotify_assets.emulator.traffic import Served, Stats


class InvalidClient(Exception):
    """Client credentials refused; the message is the OAuth error_description."""


class EmulatorState:
    """Config, catalog, tokens, faults, rate window and stats; every method takes the lock."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.monotonic) -> None:
        """Generate the catalog for `config` and start with no tokens, faults or stats."""
        self._lock = threading.Lock()
        self._clock = clock
        self._config = config
        self._catalog = generate_catalog(
            config.albums,
            config.seed,
            config.feed_turnover,
            config.feed_track_changes,
            config.feed_day,
            markets=config.markets,
        )
        self._tokens = TokenStore(clock)
        self._faults = FaultBook()
        self._stats = Stats()
        self._limits = Limits(config)
        self._drift_pages = 0
        self._drift_if_due()

    # Control: the in-process API and the /_emulator endpoints both call these.

    @property
    def config(self) -> EmulatorConfig:
        """The current configuration."""
        with self._lock:
            return self._config

    @property
    def catalog(self) -> Catalog:
        """The current catalog (grows by one album when drift fires)."""
        with self._lock:
            return self._catalog

    def snapshot(self) -> tuple[EmulatorConfig, Catalog]:
        """Config and catalog read together, so one request sees one consistent world."""
        with self._lock:
            return self._config, self._catalog

    def configure(self, **changes: Any) -> EmulatorConfig:
        """Apply any subset of the tunable knobs at once; a changed knob starts afresh."""
        with self._lock:
            self._config = self._config.updated(changes)
            self._limits = self._limits.reconfigured(self._config, set(changes))
            if "feed_day" in changes:
                self._catalog = self._catalog.on_day(self._config.feed_day)
            if "drift_after_pages" in changes:
                self._drift_pages = 0
                self._drift_if_due()
            return self._config

    def add_fault(self, fault: Fault) -> None:
        """Arm a scripted fault."""
        with self._lock:
            self._faults.add(fault)

    def reset(self) -> None:
        """Forget stats, faults, tokens, rate window and quota spent; keep catalog and config."""
        with self._lock:
            self._stats = Stats()
            self._faults.clear()
            self._tokens.clear()
            self._limits = Limits(self._config)
            self._drift_pages = 0

    def stats(self) -> dict[str, Any]:
        """Snapshot of the counters, the quota spent and the request log."""
        with self._lock:
            return {**self._stats.snapshot(), "quota_used": self._limits.quota_used}

    def catalog_json(
        self, api_base: str, day: int | None = None, market: str | None = None
    ) -> dict[str, Any]:
        """Ground truth of the feed of `day` (default: today) as JSON, links under `api_base`;
        with `market`, that market's feed as search lists it and its tracks' is_playable."""
        return self.catalog.to_json(api_base, day, market)

    # Request path: called by the routes, one short critical section each.

    def take_fault(self, endpoint: str, album_ids: Collection[str] = ()) -> Fault | None:
        """The scripted fault this request (naming `album_ids`) triggers, if any."""
        with self._lock:
            return self._faults.take(endpoint, album_ids)

    def issue_token(self, client_id: str, client_secret: str) -> tuple[str, int]:
        """A new (token, expires_in) for valid credentials; raises InvalidClient otherwise."""
        with self._lock:
            if client_id != self._config.client_id:
                raise InvalidClient("Invalid client")
            if client_secret != self._config.client_secret:
                raise InvalidClient("Invalid client secret")
            self._stats.token_issued()
            return self._tokens.issue(self._config.token_ttl_s), self._config.expires_in

    def token_status(self, token: str) -> TokenStatus:
        """Whether a bearer token is valid, invalid or expired."""
        with self._lock:
            return self._tokens.status(token)

    def revoke_token(self, token: str) -> None:
        """Make a token invalid for good."""
        with self._lock:
            self._tokens.revoke(token)

    def expire_token(self, token: str) -> None:
        """Make a token expired now."""
        with self._lock:
            self._tokens.expire(token)

    def spend_quota(self) -> bool:
        """Count one authorized API request against the quota; False once it is spent."""
        with self._lock:
            return self._limits.spend_quota()

    def admit(self) -> int | None:
        """Pass the rate limit (None) or get the Retry-After seconds of a 429."""
        with self._lock:
            return self._limits.admit(self._clock())

    def draw_server_error(self) -> int | None:
        """A random 5xx status for this request at the configured error rate, seeded."""
        with self._lock:
            return self._limits.draw_server_error()

    def page_served(self) -> None:
        """Count a served feed page; insert the drift album once enough pages went out."""
        with self._lock:
            if self._config.drift_after_pages is not None:
                self._drift_pages += 1
                self._drift_if_due()

    def record(self, served: Served) -> None:
        """Count a finished request."""
        with self._lock:
            self._stats.record(served)

    def _drift_if_due(self) -> None:
        """One-shot drift: put a new album at the front of the feed and disarm (lock held)."""
        due = self._config.drift_after_pages
        if due is not None and self._drift_pages >= due:
            self._catalog = self._catalog.with_new_release()
            self._config = dataclasses.replace(self._config, drift_after_pages=None)
            self._drift_pages = 0
