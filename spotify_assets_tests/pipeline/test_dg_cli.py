"""The project is a `dg` project: `dg list defs` and `dg check defs` see the code location."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DG = Path(sys.executable).parent / "dg"


def dg(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `dg` in the project root without any Spotify setting in the environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SPOTIFY_")}
    return subprocess.run(
        [str(DG), *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_dg_list_defs_shows_the_assets_checks_job_schedule_and_resources() -> None:
    done = dg("list", "defs", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    listed = json.loads(done.stdout)
    assert {a["asset_key"] for a in listed["assets"]} == {"new_releases", "album_tracks"}
    assert len(listed["asset_checks"]) == 7
    assert [j["name"] for j in listed["jobs"]] == ["spotify_daily"]
    assert [s["name"] for s in listed["schedules"]] == ["spotify_daily_schedule"]
    assert {r["name"] for r in listed["resources"]} == {
        "data_storage",
        "io_manager",
        "spotify",
        "track_reuse",
    }


def test_dg_check_defs_passes() -> None:
    done = dg("check", "defs")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "All definitions loaded successfully." in done.stdout + done.stderr
