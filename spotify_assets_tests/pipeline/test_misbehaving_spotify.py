"""Dagster runs against Spotify as users report it in 2026: with every transient oddity at once
the day lands complete; a permanent refusal fails the run within seconds, naming the cause; a
feed that runs out before its total is published with a warning."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from spotify_assets.contract import names
from spotify_assets.emulator import Fault
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.pipeline.conftest import Materialize, check_results, partition_file

BAD_GATEWAY = {"error": {"status": 502, "message": "Bad gateway."}}


def test_every_transient_fault_at_once_still_lands_the_whole_catalog(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=40, mode="development", auth_errors="2026")
    # The last album: its first request comes after the 5th and 9th album_tracks requests the
    # other faults take, so no two faults want the same request (the older would spend the other).
    listed_once = emu.catalog.albums[-1]
    for fault in (
        Fault("token", "html", status=500),
        Fault("token", "status", status=503, body_format="empty", nth=2),
        Fault("token", "status", status=502, body=BAD_GATEWAY, nth=3),
        Fault("token", "status", status=504, delay_s=0.5, nth=4),
        Fault("search", "rate_limit", body_format="text", retry_after_s=0),
        Fault("search", "rate_limit", body_format="empty", retry_after_s=None, nth=2),
        Fault("search", "same_next", nth=3),
        Fault("search", "expire_token", nth=4),
        Fault("album_tracks", "rate_limit", retry_after_s=1, nth=5),
        Fault("album_tracks", "missing_album", album_id=listed_once.id),
        Fault("album_tracks", "status", status=503, nth=9),
    ):
        emu.add_fault(fault)
    result = run_assets(emu, read_timeout_s=0.3, backoff_base_s=0.01, backoff_max_s=0.05)

    assert result.success
    assert set(check_results(result).values()) == {True}
    releases = pd.read_parquet(partition_file(data_dir, "new_releases"))
    tracks = pd.read_parquet(partition_file(data_dir, "album_tracks"))
    assert releases["album_id"].tolist() == [album.id for album in emu.catalog.albums]
    assert list(zip(tracks["album_id"], tracks["track_id"], strict=True)) == [
        (album.id, track.id) for album in emu.catalog.albums for track in album.tracks
    ]
    assert emu.stats()["faults_fired"] >= 11


def test_an_app_spotify_refuses_fails_the_run_within_seconds_naming_the_cause(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=40, mode="development", app_forbidden="premium")
    started = time.monotonic()
    result = run_assets(emu)
    assert time.monotonic() - started < 10
    assert not result.success
    [failure] = result.get_step_failure_events()
    description = str(failure.step_failure_data.user_failure_data.description)  # type: ignore[union-attr]
    assert "Active premium subscription required for the owner of the app." in description
    assert emu.stats()["api_requests"] == 1
    assert not (data_dir / "new_releases").exists()


def test_a_feed_that_runs_out_before_its_total_is_published_with_a_warning(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=50, mode="development", feed_shortfall=8)
    result = run_assets(emu)
    assert result.success
    [count] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == names.ROWS_MATCH_API_TOTAL
    ]
    assert not count.passed and count.severity.value == "WARN"
    assert "ran out 8 albums early" in (count.description or "")
    releases = pd.read_parquet(partition_file(data_dir, "new_releases"))
    assert len(releases) == 42
    tracks = pd.read_parquet(partition_file(data_dir, "album_tracks"))
    assert tracks["album_id"].nunique() == 42
