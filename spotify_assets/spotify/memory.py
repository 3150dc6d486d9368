"""What the client learned about the app, remembered across runs: endpoints it may not use, and
the pace Spotify's rate limit allows it.

A Development Mode app gets 403 from /browse/new-releases and /albums?ids= (since 2026). Without a
memory, a daily job would spend a request on that 403 every morning, and meet the worse variant
users report (a 429 instead of the 403) just as often; and it would meet a burst of 429s every
morning before it learned the rate limit again. So a refusal is kept for a week (then probed
again, which notices an app moved to Extended Quota Mode) and the learned pace for three days
from when it was learned, however many runs held it since: the quota may change, and one learned
while another client id of the developer account used part of the shared quota would else hold
the app to that fraction for good (a run at a learned pace meets no 429 to correct it).

A 403 is Spotify's own answer and is believed at once; still, one run's 403 (asked twice, a
moment apart) holds only until the first run a day later (RECHECK_AFTER_S), which asks once more:
a 403 again keeps the refusal for the week, an answer clears it. A refusal that lasted minutes (an
incident of Spotify's) would else send an Extended Quota app down the dearer path (search, one
listing per album) for a week; the price is two requests more a week for a Development Mode app.
A refusal inferred from 429s is only suspected: one burst from another client sharing the
account's quota looks the same, and believing it would send an Extended Quota app down the dearer
path for a week. It holds for the rest of the run that learned it; the next run that reads the
endpoint asks it once more, the same way, and then at most once a run: the same answer an hour or
more later confirms the refusal (sooner it may be the same burst), the endpoint answering clears
it, and anything else (a stop, a fallback that meets 429s too) leaves it suspected.

What a pace is, when it is worth keeping and how sure it is, pacing.py decides; this module only
keeps the entry it is given, with the time it was learned. The memory holds no secret: entries
are keyed by a hash of the client id and the API origin. It lives in a store: a local file by
default, or wherever a deployment's runs all find it (the Dagster layer keeps it beside the
data). A store that cannot be read or written only costs a probe or a cold start; it never fails
a run. Two runs writing at once may lose one entry (last writer wins): also only a probe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

CACHE_DIR_ENV = "SPOTIFY_ASSETS_CACHE_DIR"
FORBIDDEN_TTL_S = 7 * 24 * 3600.0
CONFIRM_AFTER_S = 3600.0
"""A refusal inferred from 429s is confirmed only by the same answer at least this long after it
was suspected: a run retried at once, or one running beside it, would meet the same burst."""
RECHECK_AFTER_S = 20 * 3600.0
"""A 403 seen once is asked about again by the first run this long after it: a day, less the
slack of a daily schedule whose run starts a little earlier than the day before's."""
PACE_TTL_S = 3 * 24 * 3600.0
FILE_NAME = "app_memory.json"


class MemoryStore(Protocol):
    """Where the memory's JSON text lives; both methods may raise OSError."""

    def read(self) -> str | None:
        """The stored text, None when nothing is stored yet."""

    def write(self, text: str) -> None:
        """Replace the stored text (atomically, where the store can)."""


class FileStore:
    """The memory in a local file, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return str(self.path)

    def read(self) -> str | None:
        """The file's text, None when there is no file."""
        return self.path.read_text() if self.path.exists() else None

    def write(self, text: str) -> None:
        """Write a temporary file beside the target, then move it into place."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.path.parent, prefix=f".{self.path.name}.", delete=False
        ) as handle:
            handle.write(text)
        Path(handle.name).replace(self.path)


def default_store() -> FileStore:
    """$SPOTIFY_ASSETS_CACHE_DIR, else $XDG_CACHE_HOME/spotify_assets, else ~/.cache/...: the
    local fallback when the caller gives no store."""
    folder = os.environ.get(CACHE_DIR_ENV)
    if not folder:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = str(Path(xdg) / "spotify_assets")
    return FileStore(Path(folder) / FILE_NAME)


def app_key(client_id: str, api_origin: str) -> str:
    """A stable, secret-free key for one app talking to one API host."""
    return hashlib.sha256(f"{client_id}@{api_origin}".encode()).hexdigest()[:16]


class AppMemory:
    """The app's refused endpoints and learned pace: in memory for the client's life, in the
    store within their time to live."""

    def __init__(
        self, store: MemoryStore | None, key: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._key = key
        self._clock = clock
        self._lock = threading.Lock()
        self._forbidden: dict[str, str] = {}
        self._suspected: set[str] = set()
        """Refusals the store holds in doubt (suspected from 429s, or a 403 seen once a day or
        more ago) that no reader of this client has asked about yet."""
        self._rechecking: set[str] = set()
        """Refusals a reader is asking about again: a refusal now replaces the old reason."""
        mine = self._read().get(key, {})
        now = clock()
        for endpoint, entry in mine.get("forbidden", {}).items():
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(entry["at"]))
            self._forbidden[endpoint] = f"remembered from {when}: {entry['reason']}"
            if not entry["confirmed"] or _due(entry, now):
                self._suspected.add(endpoint)
        self._pace: dict[str, Any] | None = mine.get("pace")

    def reason(self, endpoint: str) -> str | None:
        """Why the app may not use `endpoint`, or None when it may (as far as we know)."""
        with self._lock:
            return self._forbidden.get(endpoint)

    def recheck(self, endpoint: str) -> bool:
        """Whether the caller should ask `endpoint` once more before trusting its refusal: the
        refusal was stored as suspected, or it is a 403 seen once, a day or more ago. True for
        the client's first caller only, so a run asks once however many reads it makes."""
        with self._lock:
            if endpoint not in self._suspected:
                return False
            self._suspected.discard(endpoint)
            self._rechecking.add(endpoint)
            return True

    def forbid(
        self, endpoint: str, reason: str, *, persist: bool = True, by_429: bool = False
    ) -> bool:
        """`forbid_all` for one endpoint."""
        return self.forbid_all({endpoint: reason}, persist=persist, by_429=by_429)

    def forbid_all(
        self, reasons: Mapping[str, str], *, persist: bool = True, by_429: bool = False
    ) -> bool:
        """Remember that the app may not use these endpoints, each for its reason; in the store
        too unless `persist` is False. From a 403 a refusal is confirmed at once, for a day, and
        for the week when a 403 meets it again RECHECK_AFTER_S or more later; from 429s
        (`by_429`) it is stored as suspected, and confirmed for the week only when a suspicion
        stored CONFIRM_AFTER_S or more before meets the same answer. The store is read afresh,
        and a confirmed entry (this run's or another process's) is never turned back into a
        suspicion. Returns whether any of the refusals is news to this run, for the caller's
        warning."""
        with self._lock:
            news = False
            for endpoint, reason in reasons.items():
                if endpoint not in self._forbidden or endpoint in self._rechecking:
                    self._forbidden[endpoint] = reason
                    news = True
                self._rechecking.discard(endpoint)
                self._suspected.discard(endpoint)
            if not persist:
                return news
            now = self._clock()

            def record(mine: dict[str, Any]) -> bool:
                stored = mine.setdefault("forbidden", {})
                changed = False
                for endpoint, reason in reasons.items():
                    old = stored.get(endpoint)
                    if old is None:
                        entry = {"confirmed": not by_429, "held": False}
                    elif not old["confirmed"] and by_429:
                        if now - old["at"] < CONFIRM_AFTER_S:
                            continue
                        entry = {"confirmed": True, "held": True}
                    elif not old["confirmed"]:
                        entry = {"confirmed": True, "held": False}
                    elif not by_429 and _due(old, now):
                        entry = {"confirmed": True, "held": True}
                    else:
                        continue
                    stored[endpoint] = {"reason": reason, "at": now, **entry}
                    changed = True
                return changed

            self._update(record)
            return news

    def allow(self, answered: str, *, also_suspected: tuple[str, ...] = ()) -> None:
        """`answered` answered after all: forget its refusal, here and in the store; and those of
        `also_suspected` (inferred along with it) where they are in doubt too."""
        with self._lock:
            dropped = [answered] + [e for e in also_suspected if e in self._suspected]
            for endpoint in dropped:
                self._forbidden.pop(endpoint, None)
                self._suspected.discard(endpoint)
                self._rechecking.discard(endpoint)

            now = self._clock()

            def forget(mine: dict[str, Any]) -> bool:
                stored = mine.get("forbidden", {})
                gone = [answered] + [
                    e
                    for e in also_suspected
                    if e in stored and (not stored[e]["confirmed"] or _due(stored[e], now))
                ]
                found = [e for e in gone if e in stored]
                for endpoint in found:
                    del stored[endpoint]
                return bool(found)

            self._update(forget)

    def stored_pace(self) -> dict[str, Any] | None:
        """The pace entry a run of this app learned within PACE_TTL_S (without its time), None
        when none did (see pacing.PaceMemory)."""
        with self._lock:
            if self._pace is None:
                return None
            return {key: value for key, value in self._pace.items() if key != "at"}

    def store_pace(self, entry: Mapping[str, Any] | None, *, learned: bool = True) -> None:
        """Keep `entry` (or forget the pace: None) for the next runs, with the time it was
        learned: now, or when `learned` is False (the stored pace held again) the stored time.
        Nothing is written when it is what the store holds already."""
        with self._lock:
            if entry is None:
                if self._pace is not None:
                    self._pace = None
                    self._update(lambda mine: mine.pop("pace", None))
                return
            current = None if self._pace is None else {**self._pace, "at": None}
            if current != {**entry, "at": None}:
                at = self._clock() if learned or self._pace is None else self._pace["at"]
                self._pace = {**entry, "at": at}
                stored = self._pace
                self._update(lambda mine: mine.update(pace=stored))

    def _update(self, change: Callable[[dict[str, Any]], bool | None]) -> None:
        """Apply `change` to this app's entry as the store holds it now and write the whole
        memory back (lock held); a change that returns False changed nothing: no write."""
        if self._store is None:
            return
        data = self._read()
        if change(data.setdefault(self._key, {})) is False:
            return
        try:
            self._store.write(json.dumps(data, indent=1))
        except OSError as exc:
            log.warning("Could not update the app memory in %s: %s", self._store, exc)

    def _read(self) -> dict[str, dict[str, Any]]:
        """The unexpired, well-formed entries of the store; nothing when it is empty or bad."""
        try:
            text = None if self._store is None else self._store.read()
            data = json.loads(text) if text else {}
        except (OSError, ValueError) as exc:
            log.warning("Ignoring the app memory in %s: %s", self._store, exc)
            return {}
        now = self._clock()
        fresh: dict[str, dict[str, Any]] = {}
        for key, entry in data.items() if isinstance(data, dict) else []:
            kept = _fresh(entry, now)
            if kept:
                fresh[key] = kept
        return fresh


def _due(entry: Mapping[str, Any], now: float) -> bool:
    """Whether a stored refusal is a 403 seen once that is now to be asked about again."""
    return bool(entry["confirmed"]) and not entry["held"] and now - entry["at"] >= RECHECK_AFTER_S


def _fresh(entry: Any, now: float) -> dict[str, Any]:
    """The parts of one app's entry that are well formed and within their time to live."""
    if not isinstance(entry, dict):
        return {}
    kept: dict[str, Any] = {}
    forbidden = entry.get("forbidden")
    for endpoint, item in forbidden.items() if isinstance(forbidden, dict) else []:
        at = item.get("at") if isinstance(item, dict) else None
        if isinstance(at, int | float) and 0 <= now - at < FORBIDDEN_TTL_S:
            kept.setdefault("forbidden", {})[endpoint] = {
                "reason": str(item.get("reason")),
                "at": at,
                "confirmed": item.get("confirmed", True) is True,  # older stores had no flag...
                "held": item.get("held", True) is True,  # ...and kept every refusal a week
            }
    pace = entry.get("pace")
    at = pace.get("at") if isinstance(pace, dict) else None
    if isinstance(pace, dict) and isinstance(at, int | float) and 0 <= now - at < PACE_TTL_S:
        kept["pace"] = pace  # read (and refused when damaged) by pacing.LearnedPace.from_json
    return kept
