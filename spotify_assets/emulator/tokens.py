"""Access tokens the emulator issued: random strings that expire, or get revoked or expired."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from enum import Enum


class TokenStatus(Enum):
    """What the API says about a bearer token; the values are Spotify's 401 messages."""

    VALID = ""
    INVALID = "Invalid access token"
    EXPIRED = "The access token expired"


class TokenStore:
    """Issued tokens and their deadlines (not locked: the emulator state guards it)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        """Start empty; `clock` is monotonic seconds, replaceable so tests need not sleep."""
        self._clock = clock
        self._deadlines: dict[str, float] = {}

    def issue(self, ttl_s: float) -> str:
        """A new random token valid for `ttl_s` seconds from now."""
        token = "BQ" + secrets.token_urlsafe(60)
        self._deadlines[token] = self._clock() + ttl_s
        return token

    def status(self, token: str) -> TokenStatus:
        """Valid, invalid (never issued, revoked or forgotten by a reset) or expired."""
        deadline = self._deadlines.get(token)
        if deadline is None:
            return TokenStatus.INVALID
        return TokenStatus.VALID if self._clock() < deadline else TokenStatus.EXPIRED

    def revoke(self, token: str) -> None:
        """Forget the token: from now on it is invalid."""
        self._deadlines.pop(token, None)

    def expire(self, token: str) -> None:
        """Move the token's deadline to now: from now on it is expired."""
        if token in self._deadlines:
            self._deadlines[token] = min(self._deadlines[token], self._clock())

    def clear(self) -> None:
        """Forget every token."""
        self._deadlines.clear()
