"""One run of one contender: a child process against the emulator, judged by the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotify_assets.emulator import Catalog, EmulatorServer, Fault

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR_ENV = "SPOTIFY_ASSETS_CACHE_DIR"
RUN_TIMEOUT_S = 300.0
STDERR_TAIL_LINES = 3


@dataclass(frozen=True)
class Run:
    """What one run cost (timed by the child, counted by the emulator) and whether it was right."""

    wall_s: float | None
    requests: int
    http_429: int
    peak_rss_mb: float | None
    complete: bool
    error: str | None

    @property
    def accepted(self) -> int:
        """Requests the emulator accepted: a 429 does not count in its rolling window."""
        return self.requests - self.http_429

    def to_json(self) -> dict[str, Any]:
        """The run's figures as JSON data (what `from_json` reads back)."""
        return {
            "wall_s": None if self.wall_s is None else round(self.wall_s, 3),
            "requests": self.requests,
            "http_429": self.http_429,
            "peak_rss_mb": None if self.peak_rss_mb is None else round(self.peak_rss_mb, 1),
            "complete": self.complete,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Run:
        """A run from the figures `to_json` wrote, so a later bench can judge it again."""
        return cls(
            wall_s=data["wall_s"],
            requests=int(data["requests"]),
            http_429=int(data["http_429"]),
            peak_rss_mb=data["peak_rss_mb"],
            complete=bool(data["complete"]),
            error=data["error"],
        )


def expected(catalog: Catalog) -> list[list[Any]]:
    """The ground truth in the child's shape: [album id, [track ids]] in feed order."""
    return [[album.id, [track.id for track in album.tracks]] for album in catalog.albums]


def run(emu: EmulatorServer, contender: str, cache_dir: Path, faults: Sequence[Fault] = ()) -> Run:
    """Reset the emulator, arm `faults`, run `contender` once in a fresh process and judge what
    it returned.

    Requests and 429s come from the emulator's own counters (token requests excluded), so every
    contender is counted the same way; `cache_dir` is the project client's app memory.
    """
    emu.reset()
    for fault in faults:
        emu.add_fault(fault)
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        out = Path(tmp) / "result.json"
        command = [
            sys.executable,
            "-m",
            "bench.run_one",
            "--contender",
            contender,
            "--api-base",
            emu.api_base_url,
            "--token-url",
            emu.token_url,
            "--client-id",
            emu.client_id,
            "--client-secret",
            emu.client_secret,
            "--out",
            str(out),
        ]
        env = {**os.environ, CACHE_DIR_ENV: str(cache_dir)}
        result, failure = _child(command, env, out)
    stats = emu.stats()
    truth = expected(emu.catalog)
    albums = result.get("albums", [])
    error = failure or result.get("error") or _mismatch(albums, truth)
    return Run(
        wall_s=result.get("wall_s"),
        requests=int(stats["api_requests"]),
        http_429=int(stats["http_429"]),
        peak_rss_mb=result.get("peak_rss_mb"),
        complete=albums == truth,
        error=error,
    )


def _child(command: list[str], env: dict[str, str], out: Path) -> tuple[dict[str, Any], str | None]:
    """Run the child; its JSON result, or {} and why there is none (timeout, crash)."""
    try:
        proc = subprocess.run(
            command,
            check=False,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return {}, f"timed out after {RUN_TIMEOUT_S:g} s (killed)"
    if proc.returncode != 0 or not out.exists():
        tail = " | ".join(proc.stderr.strip().splitlines()[-STDERR_TAIL_LINES:])
        return {}, f"child exited with {proc.returncode}: {tail}"
    result: dict[str, Any] = json.loads(out.read_text())
    return result, None


def _mismatch(albums: list[list[Any]], truth: list[list[Any]]) -> str | None:
    """Why the extraction differs from the catalog, or None when it is exact."""
    if albums == truth:
        return None
    truth_ids = [album_id for album_id, _ in truth]
    got_ids = [album_id for album_id, _ in albums]
    if got_ids != truth_ids:
        return f"incomplete: {len(got_ids)} albums extracted, the feed holds {len(truth_ids)}"
    wrong = sum(1 for got, want in zip(albums, truth, strict=True) if got != want)
    return f"incomplete: the tracks of {wrong} of {len(truth)} albums differ from the catalog"
