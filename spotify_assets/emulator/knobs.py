"""The emulator's knobs (EmulatorConfig): catalog shape, app mode and the behaviour knobs tests
turn at runtime, each validated once."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from spotify_assets.emulator.records import is_market_code

Mode = Literal["extended", "development"]
MODES: tuple[Mode, ...] = ("extended", "development")
AuthErrors = Literal["legacy", "2026"]
AUTH_ERRORS: tuple[AuthErrors, ...] = ("legacy", "2026")
ExpiresInTold = Literal["ttl", "zero", "null", "absent"]
"""What a token answer says as `expires_in`: the token's real lifetime, 0, null, or nothing."""
EXPIRES_IN_TOLD: tuple[ExpiresInTold, ...] = ("ttl", "zero", "null", "absent")
AppForbidden = Literal["premium", "country"]
# The whole-app 403 messages users report in 2026, by the value of the app_forbidden knob.
APP_FORBIDDEN_MESSAGES: dict[AppForbidden, str] = {
    "premium": "Active premium subscription required for the owner of the app.",
    "country": "Spotify is unavailable in this country",
}
RATE_WINDOW_S = (0.1, 60.0)  # shortest and longest rolling window the emulator accepts
RetryAfterMode = Literal["header", "absent", "zero"]
# What a rate-limit 429 (rolling window or lone) carries: Retry-After in whole seconds, no
# Retry-After at all (as seen through proxies, 2026), or `Retry-After: 0`.
RETRY_AFTER_MODES: tuple[RetryAfterMode, ...] = ("header", "absent", "zero")

# Knobs that may change while the emulator runs; the catalog (albums, seed, markets) and the app
# credentials are fixed for the life of an emulator.
TUNABLE_KEYS = frozenset(
    {
        "mode",
        "latency_ms",
        "rate_limit",
        "rate_limit_retry_after",
        "lone_429_at",
        "error_rate",
        "token_ttl_s",
        "expires_in_told",
        "total_offset",
        "drop_tracks",
        "drift_after_pages",
        "quota",
        "feed_day",
        "search_total",
        "feed_shortfall",
        "app_forbidden",
        "auth_errors",
        "unknown_albums",
        "null_albums",
        "null_pages",
        "feed_duplicate",
    }
)


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that decides what the emulator serves; immutable, replaced whole on change."""

    albums: int = 100
    seed: int = 42
    mode: Mode = "extended"
    latency_ms: float = 0.0
    rate_limit: tuple[int, float] | None = None
    rate_limit_retry_after: RetryAfterMode = "header"
    lone_429_at: tuple[int, ...] = ()  # API requests (1-based) refused by a lone 429
    error_rate: float = 0.0
    token_ttl_s: float = 3600.0
    expires_in_told: ExpiresInTold = "ttl"
    client_id: str = "emulator-client-id"
    client_secret: str = "emulator-client-secret"
    total_offset: int = 0
    drop_tracks: frozenset[str] = frozenset()
    drift_after_pages: int | None = None
    quota: int | None = None
    feed_day: int = 0
    feed_turnover: float = 0.1
    feed_track_changes: int = 0
    search_total: int | None = None
    feed_shortfall: int = 0
    app_forbidden: AppForbidden | None = None
    auth_errors: AuthErrors = "legacy"
    # The markets albums are sold in; None: Spotify's whole list, most albums everywhere.
    markets: tuple[str, ...] | None = None
    # Odd data users see in live responses (2026): albums listed but unknown on every request,
    # null entries at feed places, pages whose `items` is null (by offset), and one album listed
    # twice at fixed places: (place of the album, place of its second listing), 0-based, in each
    # feed served (a market's feed too short for the first place lists no album twice).
    unknown_albums: frozenset[str] = frozenset()
    null_albums: frozenset[int] = frozenset()
    null_pages: frozenset[int] = frozenset()
    feed_duplicate: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        """Reject values the emulator cannot honour, so a typo fails at once and says why."""
        if self.markets is not None:
            object.__setattr__(self, "markets", tuple(self.markets))  # a list given works too
            check_markets(self.markets)
        if self.albums < 0:
            raise ValueError(f"albums must be >= 0, got {self.albums}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not math.isfinite(self.latency_ms) or self.latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, got {self.latency_ms}")
        if self.rate_limit is not None:
            requests, window = self.rate_limit
            low, high = RATE_WINDOW_S
            if requests < 1 or not low <= window <= high:
                raise ValueError(
                    f"rate_limit must be (R >= 1, {low:g} <= W <= {high:g} seconds), "
                    f"got {self.rate_limit}"
                )
        if self.rate_limit_retry_after not in RETRY_AFTER_MODES:
            raise ValueError(
                f"rate_limit_retry_after must be one of {', '.join(RETRY_AFTER_MODES)}, "
                f"got {self.rate_limit_retry_after!r}"
            )
        if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in self.lone_429_at):
            raise ValueError(f"lone_429_at must hold request numbers >= 1, got {self.lone_429_at}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be within [0, 1], got {self.error_rate}")
        if not math.isfinite(self.token_ttl_s) or self.token_ttl_s <= 0:
            raise ValueError(f"token_ttl_s must be > 0, got {self.token_ttl_s}")
        if not self.client_id or not self.client_secret:
            raise ValueError("client_id and client_secret must not be empty")
        for key in ("drift_after_pages", "quota", "search_total"):
            value = getattr(self, key)
            if value is not None and value < 0:
                raise ValueError(f"{key} must be >= 0 or None, got {value}")
        for key in ("feed_day", "feed_track_changes", "feed_shortfall"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        if not 0.0 <= self.feed_turnover <= 1.0:
            raise ValueError(f"feed_turnover must be within [0, 1], got {self.feed_turnover}")
        if self.app_forbidden is not None and self.app_forbidden not in APP_FORBIDDEN_MESSAGES:
            raise ValueError(
                f"app_forbidden must be one of {', '.join(APP_FORBIDDEN_MESSAGES)} or None, "
                f"got {self.app_forbidden!r}"
            )
        for key in ("null_albums", "null_pages"):
            if any(place < 0 for place in getattr(self, key)):
                raise ValueError(f"{key} must hold places >= 0, got {sorted(getattr(self, key))}")
        if self.feed_duplicate is not None:
            source, copy = self.feed_duplicate
            if not 0 <= source < self.albums or not 0 <= copy <= self.albums or source == copy:
                raise ValueError(
                    f"feed_duplicate must be (place of an album, another place <= {self.albums}), "
                    f"got {self.feed_duplicate}"
                )
        if self.expires_in_told not in EXPIRES_IN_TOLD:
            raise ValueError(
                f"expires_in_told must be one of {', '.join(EXPIRES_IN_TOLD)}, "
                f"got {self.expires_in_told!r}"
            )
        if self.auth_errors not in AUTH_ERRORS:
            raise ValueError(
                f"auth_errors must be one of {', '.join(AUTH_ERRORS)}, got {self.auth_errors!r}"
            )

    @property
    def expires_in(self) -> int:
        """Whole seconds reported as `expires_in` (OAuth wants an integer; fractions round up)."""
        return math.ceil(self.token_ttl_s)

    def updated(self, changes: Mapping[str, Any]) -> EmulatorConfig:
        """Return a copy with the tunable `changes` applied (coerced from JSON-ish values)."""
        return dataclasses.replace(self, **coerce_changes(changes))

    def to_json(self) -> dict[str, Any]:
        """JSON view of the config as the control endpoint reports it (the secret is fake)."""
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        data["rate_limit"] = None if self.rate_limit is None else list(self.rate_limit)
        data["lone_429_at"] = list(self.lone_429_at)
        for key in ("drop_tracks", "unknown_albums", "null_albums", "null_pages"):
            data[key] = sorted(getattr(self, key))
        data["feed_duplicate"] = None if self.feed_duplicate is None else list(self.feed_duplicate)
        data["markets"] = None if self.markets is None else list(self.markets)
        return data


def coerce_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate keys and normalise values of a `configure` call, from Python or JSON alike."""
    unknown = set(changes) - TUNABLE_KEYS
    if unknown:
        raise ValueError(
            f"unknown or fixed config keys: {', '.join(sorted(unknown))} "
            f"(tunable: {', '.join(sorted(TUNABLE_KEYS))})"
        )
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("mode", "auth_errors", "rate_limit_retry_after", "expires_in_told"):
            out[key] = str(value)
        elif key == "app_forbidden":
            out[key] = None if value is None else str(value)
        elif key in ("latency_ms", "error_rate", "token_ttl_s"):
            out[key] = _number(key, value)
        elif key in ("total_offset", "feed_day", "feed_shortfall"):
            out[key] = _integer(key, value)
        elif key in ("drift_after_pages", "quota", "search_total"):
            out[key] = None if value is None else _integer(key, value)
        elif key == "rate_limit":
            out[key] = None if value is None else parse_rate_limit(value)
        elif key in ("null_albums", "null_pages"):
            out[key] = frozenset(_integer(key, place) for place in _listed(key, value))
        elif key == "feed_duplicate":
            pair = None if value is None else tuple(_integer(key, p) for p in _listed(key, value))
            if pair is not None and len(pair) != 2:
                raise ValueError(f"feed_duplicate must be [place, place] or None, got {value!r}")
            out[key] = pair
        elif key == "lone_429_at":
            out[key] = parse_request_numbers(value)
        else:
            out[key] = _id_set(key, value)
    return out


def parse_rate_limit(value: object) -> tuple[int, float]:
    """Read a rate limit given as "R/W", [R, W] or (R, W): at most R requests per W seconds."""
    if isinstance(value, str):
        parts: list[Any] = value.split("/")
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        raise ValueError(f"rate_limit must be 'R/W' or [R, W], got {value!r}")
    if len(parts) != 2:
        raise ValueError(f"rate_limit must be 'R/W' or [R, W], got {value!r}")
    try:
        requests, window = int(parts[0]), float(parts[1])
    except (TypeError, ValueError):
        raise ValueError(f"rate_limit must be 'R/W' or [R, W] of numbers, got {value!r}") from None
    return requests, window


def parse_markets(value: str) -> tuple[str, ...]:
    """Read a comma-separated market list ("US,SE,DE") into a tuple, order kept (EmulatorConfig
    checks the codes)."""
    return tuple(part.strip() for part in value.split(","))


def check_markets(markets: tuple[str, ...]) -> None:
    """A market list must hold at least one ISO 3166-1 alpha-2 code, each once."""
    if not markets:
        raise ValueError("markets must name at least one market, e.g. US,SE,DE")
    wrong = [
        market for market in markets if not isinstance(market, str) or not is_market_code(market)
    ]
    if wrong:
        raise ValueError(
            f"markets must be ISO 3166-1 alpha-2 codes in capitals (US, SE, DE), got {wrong}"
        )
    if len(set(markets)) != len(markets):
        raise ValueError(f"markets must name each market once, got {list(markets)}")


def parse_request_numbers(value: object) -> tuple[int, ...]:
    """Read request numbers given as "3,10" or [3, 10], in order, each once."""
    parts: list[Any]
    if isinstance(value, str):
        parts = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        raise ValueError(f"lone_429_at must be 'N,M,...' or a list of numbers, got {value!r}")
    try:
        numbers = [_integer("lone_429_at", int(p) if isinstance(p, str) else p) for p in parts]
    except ValueError:
        raise ValueError(f"lone_429_at must be whole request numbers, got {value!r}") from None
    return tuple(sorted(set(numbers)))


def _number(key: str, value: object) -> float:
    """A finite number, bools refused (True is not a latency)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, got {value!r}")
    return float(value)


def _integer(key: str, value: object) -> int:
    """An int, bools refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    return value


def _listed(key: str, value: object) -> list[Any]:
    """The members of a list-like value (a bare string is refused, it is not a list)."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{key} must be a list, got {value!r}")
    return list(value)


def _id_set(key: str, value: object) -> frozenset[str]:
    """A set of ids from any iterable of strings."""
    ids = frozenset(_listed(key, value))
    if not all(isinstance(item, str) for item in ids):
        raise ValueError(f"{key} must be a list of ids, got {value!r}")
    return ids
