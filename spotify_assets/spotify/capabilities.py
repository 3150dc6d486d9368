"""Which endpoints the app may not use, remembered across runs in a small JSON file.

A Development Mode app gets 403 from /browse/new-releases and /albums?ids= (since 2026). Without a
memory, a daily job would spend a request on that 403 every morning, and meet the worse variant
users report (a 429 with a day-long Retry-After instead of the 403) just as often. So a 403 is
kept for `ttl_s` (a week): the endpoint is probed again after that, which notices an app that was
moved to Extended Quota Mode. The file holds no secret: entries are keyed by a hash of the client
id and the API origin. A cache that cannot be read or written only costs that probe; it never
fails a run. Two processes writing at once may lose one entry (last writer wins): also one probe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_DIR_ENV = "SPOTIFY_ASSETS_CACHE_DIR"
DEFAULT_TTL_S = 7 * 24 * 3600.0


def default_cache_file() -> Path:
    """$SPOTIFY_ASSETS_CACHE_DIR, else $XDG_CACHE_HOME/spotify_assets, else ~/.cache/...; plus
    capabilities.json."""
    folder = os.environ.get(CACHE_DIR_ENV)
    if not folder:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = str(Path(xdg) / "spotify_assets")
    return Path(folder) / "capabilities.json"


def app_key(client_id: str, api_origin: str) -> str:
    """A stable, secret-free key for one app talking to one API host."""
    return hashlib.sha256(f"{client_id}@{api_origin}".encode()).hexdigest()[:16]


class Capabilities:
    """The endpoints this app may not use: in memory for the client's life, on disk for `ttl_s`."""

    def __init__(
        self,
        path: Path | None,
        key: str,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._path = path
        self._key = key
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._forbidden: dict[str, str] = {}
        for endpoint, entry in self._read().get(key, {}).items():
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(entry["at"]))
            self._forbidden[endpoint] = f"remembered from {when}: {entry['reason']}"

    def reason(self, endpoint: str) -> str | None:
        """Why the app may not use `endpoint`, or None when it may (as far as we know)."""
        with self._lock:
            return self._forbidden.get(endpoint)

    def forbid(self, endpoint: str, reason: str, *, persist: bool = True) -> None:
        """Remember that the app may not use `endpoint`; on disk too unless `persist` is False."""
        with self._lock:
            if endpoint in self._forbidden:
                return
            self._forbidden[endpoint] = reason
            if persist and self._path is not None:
                self._write(endpoint, reason)

    def _read(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The unexpired, well-formed entries of the file; nothing when it is missing or bad."""
        if self._path is None or not self._path.exists():
            return {}
        try:
            data = json.loads(self._path.read_text())
        except (OSError, ValueError) as exc:
            log.warning("Ignoring the capability cache %s: %s", self._path, exc)
            return {}
        now = self._clock()
        fresh: dict[str, dict[str, dict[str, Any]]] = {}
        for key, entries in data.items() if isinstance(data, dict) else []:
            for endpoint, entry in entries.items() if isinstance(entries, dict) else []:
                at = entry.get("at") if isinstance(entry, dict) else None
                if isinstance(at, int | float) and 0 <= now - at < self._ttl_s:
                    reason = str(entry.get("reason", ""))
                    fresh.setdefault(key, {})[endpoint] = {"reason": reason, "at": at}
        return fresh

    def _write(self, endpoint: str, reason: str) -> None:
        """Add one entry to the file (dropping expired ones), replacing it atomically."""
        assert self._path is not None
        data = self._read()
        data.setdefault(self._key, {})[endpoint] = {"reason": reason, "at": self._clock()}
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=self._path.parent, prefix=".capabilities.", delete=False
            ) as handle:
                json.dump(data, handle, indent=1)
            Path(handle.name).replace(self._path)
        except OSError as exc:
            log.warning("Could not update the capability cache %s: %s", self._path, exc)
