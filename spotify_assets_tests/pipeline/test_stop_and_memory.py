"""A Dagster run that Spotify stops keeps what it stored; what a run learns reaches the next run
through the data folder, as it would in a fresh pod."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from spotify_assets.defs.app_memory import FOLDER
from spotify_assets.spotify.memory import FILE_NAME
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.pipeline.conftest import Materialize, partition_file
from spotify_assets_tests.spotify.conftest import WORKERS, after_first_429


def test_a_spent_quota_fails_the_run_saying_why_and_keeps_the_stored_day(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=120, mode="development", latency_ms=5, quota=40)
    result = run_assets(emu, max_workers=WORKERS)
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_key == "album_tracks"
    message = str(failure.step_failure_data.user_failure_data.description)  # type: ignore[union-attr]
    assert "QUOTA_EXCEEDED" in message and "run again after" in message
    assert partition_file(data_dir, "new_releases").exists()
    assert partition_file(data_dir, "album_tracks").exists()  # what came before the stop
    assert len(after_first_429(emu)) <= WORKERS - 1


def test_a_run_in_a_fresh_pod_starts_with_what_the_last_run_learned(
    emulator_factory: EmulatorFactory,
    run_assets: Materialize,
    data_dir: Path,
    capability_cache: Path,
) -> None:
    emu = emulator_factory(albums=30, mode="development", latency_ms=40, rate_limit=(25, 3.0))
    assert run_assets(emu).success
    first = emu.stats()
    assert first["by_endpoint"]["new_releases"] == 2 and first["http_429"] >= 1  # 403, twice
    [memory] = json.loads((data_dir / FOLDER / FILE_NAME).read_text()).values()
    assert set(memory["forbidden"]) == {"browse", "albums"} and memory["pace"]["quota"] == 25
    assert emu.client_secret not in (data_dir / FOLDER / FILE_NAME).read_text()
    assert list(capability_cache.iterdir()) == []
    shutil.rmtree(capability_cache)
    emu.reset()
    assert run_assets(emu).success
    second = emu.stats()
    assert second["by_endpoint"]["new_releases"] == 0 and second["http_429"] <= 2
