"""Authorized GETs against the Web API: bearer token, renewals on 401, typed errors, JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from spotify_assets.spotify.auth import ClientCredentialsAuth
from spotify_assets.spotify.errors import (
    SpotifyAppForbiddenError,
    SpotifyAuthError,
    SpotifyForbiddenError,
    SpotifyNotFoundError,
    SpotifyPagingError,
    SpotifyRequestError,
)
from spotify_assets.spotify.pacing import Pacer
from spotify_assets.spotify.transport import Transport, error_detail, request_label

Params = Mapping[str, str | int]
WHOLE_APP_REFUSALS = re.compile(r"premium subscription required|unavailable in this country", re.I)
"""403 messages that refuse the whole app, not one endpoint (users' reports, 2025-2026)."""
RENEWALS_ON_401 = 2
"""Tokens asked for after a 401 before it counts as the app's: a token just issued has been
refused once before it worked, so one 401 with a fresh token is no proof; two in a row are."""


def origin(url: str) -> tuple[str, str]:
    """The (scheme, host:port) a URL points at, lower-cased, with default ports made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, f"{(parts.hostname or '').lower()}:{port}"


class SpotifyApi:
    """The Web API as JSON documents, for the paging and endpoint code above it."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: Transport,
        auth: ClientCredentialsAuth,
        pacer: Pacer,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._origin = origin(self.base_url)
        self._transport = transport
        self._auth = auth
        self._pacer = pacer

    def url(self, path: str) -> str:
        """The absolute URL of an API path such as `/browse/new-releases`."""
        return f"{self.base_url}{path}"

    def get(
        self,
        url: str,
        params: Params | None = None,
        *,
        patience: int | None = None,
        not_found_is_transient: bool = False,
    ) -> dict[str, Any]:
        """GET `url` with a valid token and return its JSON object, or raise a typed error.

        A URL on any host but the configured API host is refused before anything is sent: the
        request would carry the access token there (such URLs come from `next` links). For
        `patience` and `not_found_is_transient` see Transport.send.
        """
        if origin(url) != self._origin:
            raise SpotifyPagingError(
                f"Refusing to follow a link to {url.split('?', maxsplit=1)[0]}: it is not on "
                f"the configured API host {self.base_url}, and the request would carry the "
                "access token there. Check SPOTIFY_API_BASE_URL and any proxy in between."
            )
        label = request_label("GET", url)
        for renewals in range(RENEWALS_ON_401 + 1):
            token = self._auth.token()
            answer = self._transport.send(
                "GET",
                url,
                endpoint="api",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                patience=patience,
                not_found_is_transient=not_found_is_transient,
            )
            if answer.response.status_code != 401 or renewals == RENEWALS_ON_401:
                break
            self._auth.invalidate(token)
        if answer.body is not None:
            return answer.body
        response = answer.response
        status = response.status_code
        message, _ = error_detail(response)
        if status == 401:
            raise SpotifyAuthError(
                f"Spotify answered 401 on {label} ({message}) even with {RENEWALS_ON_401} "
                "fresh tokens; "
                "check that the app is still active in the Spotify developer dashboard.",
                status=status,
                url=url,
            )
        if status == 403 and WHOLE_APP_REFUSALS.search(message):
            refused = SpotifyAppForbiddenError(
                f"Spotify refused the app itself on {label} (403: {message}): no endpoint will "
                "answer until that is fixed. In Development Mode the app's owner needs an active "
                "Premium subscription, and Spotify serves only some countries; check the app in "
                "the Spotify developer dashboard.",
                status=status,
                url=url,
            )
            self._pacer.halt(refused)
            raise refused
        if status == 403:
            raise SpotifyForbiddenError(
                f"Spotify answered 403 on {label} ({message}): this app may not use the "
                "endpoint (Development Mode apps lost it in 2026).",
                status=status,
                url=url,
            )
        if status == 404:
            raise SpotifyNotFoundError(
                f"Spotify answered 404 on {label} ({message})", status=status, url=url
            )
        raise SpotifyRequestError(
            f"Spotify refused {label} with {status} ({message})", status=status, url=url
        )
