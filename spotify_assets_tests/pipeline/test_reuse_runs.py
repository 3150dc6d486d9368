"""Track reuse across runs and storages: a same-day re-run, the saving on the batch endpoint,
object storage, the code location's resource and a full refresh through run config."""

from __future__ import annotations

from math import ceil
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult
from pydantic import ValidationError

from spotify_assets import settings
from spotify_assets.contract import names
from spotify_assets.definitions import defs
from spotify_assets.defs.io_manager import IO_MANAGER
from spotify_assets.defs.spotify.assets import album_tracks
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.defs.spotify.resources import SPOTIFY
from spotify_assets.defs.spotify.reuse import TRACK_REUSE, TrackReuse
from spotify_assets.defs.storage import DATA_STORAGE, DataStorage
from spotify_assets.local.summary import summarize
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.pipeline.conftest import Materialize, partition_file
from spotify_assets_tests.pipeline.reuse_helpers import (
    BASE,
    all_checks_pass,
    meta,
    pages,
    stored,
    tracks_listed,
)


def test_a_same_day_rerun_sends_only_the_feed_requests(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=30, mode="development")
    assert run_assets(emu).success
    first = stored(data_dir, (today() - BASE).days)
    emu.reset()

    rerun = run_assets(emu)

    assert all_checks_pass(rerun)
    served = {k: v for k, v in emu.stats()["by_endpoint"].items() if v and k != "token"}
    assert served == {"search": ceil(30 / 10)}
    at = meta(rerun)
    assert (at[names.ALBUMS_FETCHED], at[names.ALBUMS_REUSED], at[names.REQUESTS]) == (0, 30, 0)
    assert at[names.TRACKS_ENDPOINT] == ""
    assert "all reused" in summarize(rerun, "emulator").text
    assert at[names.REQUESTS_SAVED] == sum(pages(a.total_tracks) for a in emu.catalog.albums)
    pd.testing.assert_frame_equal(stored(data_dir, (today() - BASE).days), first)


def test_the_saving_is_estimated_for_the_batch_endpoint_where_the_app_may_use_it(
    emulator_factory: EmulatorFactory, run_assets: Materialize
) -> None:
    emu = emulator_factory(albums=45, mode="extended")
    assert run_assets(emu).success
    by_endpoint = emu.stats()["by_endpoint"]
    full_fetch = by_endpoint["albums"] + by_endpoint["album_tracks"]
    assert by_endpoint["albums"] == 3 and by_endpoint["album_tracks"] > 0  # some albums > 50
    emu.reset()

    rerun = run_assets(emu)

    assert all_checks_pass(rerun)
    assert meta(rerun)[names.REQUESTS_SAVED] == full_fetch
    assert emu.stats()["by_endpoint"]["new_releases"] == 1
    assert emu.stats()["by_endpoint"]["albums"] == 0


@pytest.mark.parametrize("storage", ["folder", "memory"])
def test_stored_copies_are_read_from_object_storage_as_from_a_folder(
    storage: str, emulator_factory: EmulatorFactory, run_assets: Materialize
) -> None:
    emu = emulator_factory(albums=12, mode="development")
    base = "memory://reuse-test/spotify" if storage == "memory" else None
    assert run_assets(emu, base_path=base).success
    emu.reset()

    rerun = run_assets(emu, base_path=base)

    assert all_checks_pass(rerun)
    assert (
        meta(rerun)[names.ALBUMS_REUSED] == 12 and emu.stats()["by_endpoint"]["album_tracks"] == 0
    )
    if base is not None:
        fsspec.filesystem("memory").rm("/reuse-test", recursive=True)


def test_the_code_location_gives_one_storage_to_the_io_manager_reuse_and_app_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(settings.DATA_DIR, "s3://bucket/prefix")
    resources = defs().resources or {}
    storage = resources[DATA_STORAGE]
    assert storage.data == {"data_dir": "s3://bucket/prefix", "storage_options": {}}
    for key in (IO_MANAGER, TRACK_REUSE, SPOTIFY):
        assert resources[key].storage is storage, f"{key} has a storage of its own"
    assert resources[TRACK_REUSE].max_age_days == 7
    with pytest.raises(ValidationError, match="max_age_days"):
        TrackReuse(storage=DataStorage(data_dir="data"), max_age_days=-1)


def test_a_full_refresh_is_one_line_of_run_config(
    emulator_factory: EmulatorFactory, run_assets: Materialize
) -> None:
    emu = emulator_factory(albums=8, mode="development")
    assert run_assets(emu).success
    emu.reset()

    def refresh(run_config: dict[str, Any]) -> ExecuteInProcessResult:
        return run_assets(emu, selection=[album_tracks], run_config=run_config)

    full = refresh({"resources": {TRACK_REUSE: {"config": {"max_age_days": 0}}}})
    assert meta(full)[names.FETCH_REASONS] == {"reuse_off": 8}
    assert sum(tracks_listed(emu).values()) == meta(full)[names.REQUESTS] > 0
    emu.reset()
    assert meta(refresh({}))[names.ALBUMS_REUSED] == 8 and not tracks_listed(emu)


def test_an_unreadable_stored_copy_is_fetched_again_with_a_warning(
    emulator_factory: EmulatorFactory,
    run_assets: Materialize,
    data_dir: Path,
    instance: DagsterInstance,
) -> None:
    emu = emulator_factory(albums=6, mode="development")
    assert run_assets(emu).success
    damaged = partition_file(data_dir, names.ALBUM_TRACKS)
    damaged.write_bytes(damaged.read_bytes()[:100])

    rerun = run_assets(emu)

    assert all_checks_pass(rerun)
    assert meta(rerun)[names.FETCH_REASONS] == {"no_copy": 6}
    [warning] = [
        entry.user_message
        for entry in instance.all_logs(rerun.run_id)
        if "is unreadable" in entry.user_message
    ]
    assert f"Stored copy {damaged} is unreadable (ArrowInvalid: " in warning
