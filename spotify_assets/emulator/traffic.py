"""Traffic counters and a bounded request log of what the emulator served, for tests and bench."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from spotify_assets.emulator.faults import API_ENDPOINTS, TOKEN

UNKNOWN = "unknown"
# Reasons the emulator refuses a request on its own (not by a scripted fault), as Served records.
QUOTA = "quota"
RATE_LIMIT = "rate_limit"
LONE_429 = "lone_429"
SERVER_ERROR = "server_error"
APP_FORBIDDEN = "app_forbidden"
LOG_SIZE = 10_000


@dataclass(frozen=True)
class Served:
    """One request as the log keeps it."""

    endpoint: str
    method: str
    path: str
    query: str
    status: int
    authorized: bool
    fault: str | None
    time: float
    reason: str | None = None  # why the emulator itself refused it: quota, rate_limit, ...

    def to_json(self) -> dict[str, Any]:
        """Log entry as reported by stats()."""
        return {
            "endpoint": self.endpoint,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "authorized": self.authorized,
            "fault": self.fault,
            "time": self.time,
            "reason": self.reason,
        }


class Stats:
    """Request counters since start or the last reset (not locked: the emulator state guards it)."""

    def __init__(self) -> None:
        """Start from zero."""
        self._by_endpoint: Counter[str] = Counter(
            dict.fromkeys((TOKEN, *API_ENDPOINTS, UNKNOWN), 0)
        )
        self._by_status: Counter[str] = Counter()
        self._tokens_issued = 0
        self._faults_fired = 0
        self._by_reason: Counter[str] = Counter()
        self._log: deque[Served] = deque(maxlen=LOG_SIZE)

    def token_issued(self) -> None:
        """Count one access token handed out."""
        self._tokens_issued += 1

    def record(self, served: Served) -> None:
        """Count one finished request (status 0 when the connection was cut without a response)."""
        self._by_endpoint[served.endpoint] += 1
        self._by_status[str(served.status)] += 1
        if served.fault is not None:
            self._faults_fired += 1
        if served.reason is not None:
            self._by_reason[served.reason] += 1
        self._log.append(served)

    def snapshot(self) -> dict[str, Any]:
        """Everything counted so far, as plain JSON-able data."""
        token_requests = self._by_endpoint[TOKEN]
        total = sum(self._by_endpoint.values())
        return {
            "requests": total,
            "api_requests": total - token_requests,
            "token_requests": token_requests,
            "tokens_issued": self._tokens_issued,
            "by_endpoint": dict(self._by_endpoint),
            "by_status": dict(self._by_status),
            "http_429": self._by_status["429"],
            "faults_fired": self._faults_fired,
            "quota_exceeded": self._by_reason[QUOTA],
            "rate_limited": self._by_reason[RATE_LIMIT],
            "lone_429": self._by_reason[LONE_429],
            "by_reason": dict(self._by_reason),
            "log": [served.to_json() for served in self._log],
        }
