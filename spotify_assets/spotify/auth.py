"""Client-credentials tokens: fetched once, shared by all threads, renewed before they expire.

Hand-written because the flow is small and Spotify-specific: no refresh token exists in this
flow, an `invalid_client` answer must stop the run at once, and a 401 from the API must renew the
token once however many threads saw it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from spotify_assets.spotify.config import ClientConfig
from spotify_assets.spotify.errors import (
    SpotifyCredentialsError,
    SpotifyHTTPError,
    SpotifyProtocolError,
)
from spotify_assets.spotify.stats import StatsRecorder
from spotify_assets.spotify.transport import Transport, error_detail, request_label

log = logging.getLogger(__name__)


SPOTIFY_TOKEN_LIFETIME_S = 3600.0
"""How long Spotify's client-credentials tokens live, as documented: assumed when the token
endpoint does not say."""


def believed_lifetime(expires_in: object) -> float:
    """The seconds a new token lives: `expires_in` when it is a positive number; else (absent,
    null, 0, text) Spotify's documented hour, since a token just issued cannot have expired, and
    a 401 renews it should it live shorter. Believing 0 would renew it before every request."""
    try:
        seconds = float(expires_in) if isinstance(expires_in, int | float | str) else math.nan
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds) and seconds > 0:
        return seconds
    log.warning(
        "The token endpoint said expires_in %r; using the token for Spotify's documented %g s, "
        "or until Spotify answers 401",
        expires_in,
        SPOTIFY_TOKEN_LIFETIME_S,
    )
    return SPOTIFY_TOKEN_LIFETIME_S


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float


class ClientCredentialsAuth:
    """Hands out a valid access token; thread-safe, one token request at a time."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: Transport,
        stats: StatsRecorder,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = (config.client_id, config.client_secret)
        self._token_url = config.token_url
        self._transport = transport
        self._stats = stats
        self._refresh_margin_s = config.token_refresh_margin_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None

    def token(self) -> str:
        """A token that is valid for at least the refresh margin (or a tenth of its lifetime)."""
        with self._lock:
            if self._token is None or self._clock() >= self._token.renew_at:
                if self._token is not None:
                    self._stats.add(token_refreshes=1)
                    log.info("Renewing the Spotify access token before it expires")
                self._token = self._fetch()
            return self._token.value

    def invalidate(self, rejected: str) -> None:
        """Forget `rejected` after the API answered 401 for it, unless it was already replaced."""
        with self._lock:
            if self._token is not None and self._token.value == rejected:
                self._token = None
                self._stats.add(token_refreshes=1)
                log.info("Spotify rejected the access token (401); a new one will be requested")

    def _fetch(self) -> _Token:
        """Ask the token endpoint for a new token."""
        requested_at = self._clock()
        answer = self._transport.send(
            "POST",
            self._token_url,
            endpoint="token",
            data={"grant_type": "client_credentials"},
            auth=self._credentials,
        )
        response, body = answer.response, answer.body
        if body is None:
            message, _ = error_detail(response)
            if "invalid_client" in message:
                raise SpotifyCredentialsError(
                    f"Spotify rejected the app credentials ({message}). Check SPOTIFY_CLIENT_ID "
                    "and SPOTIFY_CLIENT_SECRET against the app's settings in the Spotify "
                    "developer dashboard."
                )
            raise SpotifyHTTPError(
                f"The token endpoint answered {response.status_code} on "
                f"{request_label('POST', self._token_url)}: {message}",
                status=response.status_code,
                url=self._token_url,
            )
        try:
            value = str(body["access_token"])
        except KeyError as exc:
            raise SpotifyProtocolError(
                f"The token endpoint answered 200 without a usable access_token ({exc!r})"
            ) from exc
        lifetime = believed_lifetime(body.get("expires_in"))
        margin = min(self._refresh_margin_s, lifetime / 10)
        return _Token(value=value, renew_at=requested_at + lifetime - margin)
