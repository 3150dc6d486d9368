"""A minimal raw HTTP client for emulator tests: explicit tokens, nothing retried or hidden."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from spotify_assets.emulator import EmulatorServer

TIMEOUT_S = 5.0


class Api:
    """Requests against one emulator with one keep-alive session."""

    def __init__(self, emulator: EmulatorServer) -> None:
        """Talk to `emulator`."""
        self.emulator = emulator
        self.session = requests.Session()
        self._token: str | None = None

    def close(self) -> None:
        """Release the session's connections."""
        self.session.close()

    def request_token(self, **form: str) -> requests.Response:
        """POST the token endpoint with form fields only (no Basic header)."""
        return self.session.post(self.emulator.token_url, data=form, timeout=TIMEOUT_S)

    def new_token(self) -> str:
        """A fresh access token for the emulator's client."""
        response = self.session.post(
            self.emulator.token_url,
            data={"grant_type": "client_credentials"},
            auth=(self.emulator.client_id, self.emulator.client_secret),
            timeout=TIMEOUT_S,
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    @property
    def token(self) -> str:
        """A token fetched once and reused."""
        if self._token is None:
            self._token = self.new_token()
        return self._token

    def get(
        self,
        path_or_url: str,
        query_map: Mapping[str, str] | None = None,
        *,
        token: str | None = None,
        auth: bool = True,
        **params: Any,
    ) -> requests.Response:
        """GET an API path (under /v1) or absolute URL; query from `query_map` and `params`."""
        params = {**(query_map or {}), **params}
        url = path_or_url
        if not url.startswith("http"):
            url = self.emulator.api_base_url + path_or_url
        headers = {}
        if auth:
            headers["Authorization"] = f"Bearer {token or self.token}"
        return self.session.get(
            url, params=params, headers=headers, timeout=TIMEOUT_S, allow_redirects=False
        )

    def json(self, path_or_url: str, **params: Any) -> Any:
        """GET and return the JSON of a 200 answer."""
        response = self.get(path_or_url, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def collect(self, path: str, key: str | None = None, **params: Any) -> list[dict[str, Any]]:
        """Follow `next` links from `path`, returning every item; `key` picks the paging object."""
        items: list[dict[str, Any]] = []
        body = self.json(path, **params)
        while True:
            page = body[key] if key else body
            items.extend(page["items"])
            if page["next"] is None:
                return items
            body = self.json(page["next"])


class FakeClock:
    """A monotonic clock that moves only when told: rate windows and tokens without sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        """Start at `start` seconds."""
        self.now = start

    def __call__(self) -> float:
        """The current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds
