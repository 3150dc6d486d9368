"""Scripted faults: what goes wrong, on which endpoint, from the n-th matching request, how long."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

TOKEN = "token"
API_ENDPOINTS = ("new_releases", "search", "album_tracks", "album", "albums")
ANY_API = "*"
ENDPOINTS = (TOKEN, *API_ENDPOINTS, ANY_API)

ALBUM_ENDPOINTS = ("album_tracks", "album", "albums")  # requests that name album ids

# Actions and where they make sense: token-only, API-only, or both.
BOTH_ACTIONS = frozenset({"status", "html", "drop", "truncate", "trickle", "delay", "rate_limit"})
API_ACTIONS = frozenset(
    {
        "revoke_token",
        "expire_token",
        "foreign_next",
        "same_next",
        "null_offset",
        "stale_next",
        "total_plus_one",
        "missing_album",
        "repeat_album",
    }
)
TOKEN_ACTIONS = frozenset({"invalid_client"})
ACTIONS = BOTH_ACTIONS | API_ACTIONS | TOKEN_ACTIONS
# How `status` and `rate_limit` faults shape their body when no `body` is given.
BODY_FORMATS = ("json", "text", "empty")


@dataclass(frozen=True)
class Fault:
    """One scripted fault; fires on matching requests nth .. nth+times-1 counted from when added.

    Every fault first waits `delay_s` (a stall), then acts; `trickle` sends the body a few
    bytes every `pause_s`. With `album_id` it only counts
    requests naming that album (path id, or one of `ids`). Error bodies: `body` verbatim as JSON,
    else by `body_format`: "json" (the endpoint's error shape, `message` if given), "text"
    (text/plain, `message` verbatim if given) or "empty"; with status 200 (`bad_success`) these
    are a success that answers something else than the endpoint would. `retry_after_s=None`
    sends a 429 without Retry-After.
    """

    endpoint: str
    action: str
    nth: int = 1
    times: int = 1
    status: int = 500
    retry_after_s: int | None = 1
    delay_s: float = 0.0
    pause_s: float = 0.05
    next_base_url: str = ""
    body: dict[str, Any] | None = None
    message: str = ""
    body_format: str = "json"
    album_id: str = ""
    turn: int = field(default=0, compare=False)
    """Which of its turns the request it fires on is (0 for the first): set by FaultBook when it
    fires, not part of what is scripted (nor of its JSON form)."""

    def __post_init__(self) -> None:
        """Refuse faults that could never fire as written."""
        if self.endpoint not in ENDPOINTS:
            raise ValueError(
                f"endpoint must be one of {', '.join(ENDPOINTS)}, got {self.endpoint!r}"
            )
        if self.action not in ACTIONS:
            raise ValueError(
                f"action must be one of {', '.join(sorted(ACTIONS))}, got {self.action!r}"
            )
        if self.endpoint == TOKEN and self.action in API_ACTIONS:
            raise ValueError(
                f"action {self.action!r} applies to API endpoints, not the token endpoint"
            )
        if self.endpoint != TOKEN and self.action in TOKEN_ACTIONS:
            raise ValueError(f"action {self.action!r} applies to the token endpoint only")
        if self.nth < 1 or self.times < 1:
            raise ValueError(f"nth and times must be >= 1, got nth={self.nth} times={self.times}")
        if not (400 <= self.status <= 599 or (self.status == 200 and self.bad_success)):
            raise ValueError(
                f"status must be an HTTP error status (400-599), or 200 for an html fault or a "
                f"status fault with a `body` or body_format empty or text (a success whose body "
                f"is not what the endpoint answers), got {self.status}"
            )
        if (self.retry_after_s is not None and self.retry_after_s < 0) or self.delay_s < 0:
            raise ValueError("retry_after_s and delay_s must be >= 0")
        if self.pause_s <= 0:
            raise ValueError(f"pause_s must be > 0, got {self.pause_s}")
        if self.action == "foreign_next" and not self.next_base_url:
            raise ValueError("foreign_next needs next_base_url")
        if self.body_format not in BODY_FORMATS:
            raise ValueError(
                f"body_format must be one of {', '.join(BODY_FORMATS)}, got {self.body_format!r}"
            )
        if self.album_id and self.endpoint not in ALBUM_ENDPOINTS:
            raise ValueError(f"album_id only applies to {', '.join(ALBUM_ENDPOINTS)}")
        if self.action == "missing_album" and not self.album_id:
            raise ValueError("missing_album needs album_id (the album to answer as unknown)")

    @property
    def bad_success(self) -> bool:
        """Whether the fault answers something else than an error of the endpoint's shape (its
        `body`, an HTML page, text or nothing), which it may then send with status 200, as
        proxies, half-written answers and odd listings do."""
        return self.action == "html" or (
            self.action == "status" and (self.body is not None or self.body_format != "json")
        )

    def matches(self, endpoint: str, album_ids: Collection[str] = ()) -> bool:
        """Whether a request to `endpoint` (naming `album_ids`) counts towards this fault."""
        if self.album_id and self.album_id not in album_ids:
            return False
        return self.endpoint == endpoint or (self.endpoint == ANY_API and endpoint != TOKEN)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Build a fault from its JSON form, refusing unknown keys."""
        known = {f.name for f in dataclasses.fields(cls)} - {"turn"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(str(exc)) from None

    def to_json(self) -> dict[str, Any]:
        """JSON form, the body of POST /_emulator/faults."""
        scripted = dataclasses.asdict(self)
        del scripted["turn"]
        return scripted


class FaultBook:
    """Faults armed and how many matching requests each has seen (not locked)."""

    def __init__(self) -> None:
        """Start with no faults."""
        self._armed: list[tuple[Fault, int]] = []

    def add(self, fault: Fault) -> None:
        """Arm a fault; its count starts now."""
        self._armed.append((fault, 0))

    def take(self, endpoint: str, album_ids: Collection[str] = ()) -> Fault | None:
        """Count this request against every matching fault; return the oldest whose turn it is."""
        # A fault is dropped once its last turn has passed; when two faults want the same request,
        # the older one fires and the younger one's turn is spent.
        fired: Fault | None = None
        armed: list[tuple[Fault, int]] = []
        for fault, seen_before in self._armed:
            seen = seen_before + 1 if fault.matches(endpoint, album_ids) else seen_before
            if seen > seen_before and fired is None and fault.nth <= seen < fault.nth + fault.times:
                fired = dataclasses.replace(fault, turn=seen - fault.nth)
            if seen < fault.nth + fault.times - 1:
                armed.append((fault, seen))
        self._armed = armed
        return fired

    def clear(self) -> None:
        """Disarm everything."""
        self._armed.clear()
