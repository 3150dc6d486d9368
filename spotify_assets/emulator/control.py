"""EmulatorControl: the in-process control API, over HTTP, for an emulator in another process."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import requests

from spotify_assets.emulator.faults import Fault

TIMEOUT_S = 10.0


class EmulatorControl:
    """Talks to /_emulator/* of a running emulator, with the same methods as EmulatorServer."""

    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        """Control the emulator at `base_url` (http://host:port, no /v1)."""
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()

    def health(self) -> dict[str, Any]:
        """Liveness and what is served."""
        return self._call("GET", "health")

    def stats(self) -> dict[str, Any]:
        """Counters and request log."""
        return self._call("GET", "stats")

    def config(self) -> dict[str, Any]:
        """The current configuration."""
        return self._call("GET", "config")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Apply any subset of the tunable knobs; sets and tuples travel as JSON lists."""
        payload = {key: _jsonable(value) for key, value in changes.items()}
        return self._call("POST", "config", payload)

    def add_fault(self, fault: Fault) -> None:
        """Arm a scripted fault."""
        self._call("POST", "faults", fault.to_json())

    def reset(self) -> None:
        """Clear stats, scripted faults and issued tokens."""
        self._call("POST", "reset")

    def catalog_json(self, day: int | None = None, market: str | None = None) -> dict[str, Any]:
        """Ground truth: every album of the feed of `day` (default today) with all its tracks;
        with `market`, only the albums sold there, tracks carrying is_playable."""
        query = urlencode(
            {key: value for key, value in (("day", day), ("market", market)) if value is not None}
        )
        return self._call("GET", f"catalog?{query}" if query else "catalog")

    def _call(self, method: str, name: str, payload: Any = None) -> dict[str, Any]:
        """One control request; raises with the emulator's message on an error status."""
        response = self._session.request(
            method, f"{self.base_url}/_emulator/{name}", json=payload, timeout=TIMEOUT_S
        )
        if response.status_code >= 400:
            message = response.json().get("error", {}).get("message", response.text)
            raise ValueError(f"emulator refused {method} /_emulator/{name}: {message}")
        body: dict[str, Any] = response.json()
        return body


def _jsonable(value: Any) -> Any:
    """Sets and tuples as lists, everything else as is."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value
    if isinstance(value, dict):
        return value
    return list(value)
