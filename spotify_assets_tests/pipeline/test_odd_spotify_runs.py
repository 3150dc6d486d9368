"""Dagster runs against the odd data of issue 16: albums Spotify listed but no longer knows among
outages, a search page whose `items` is null, null entries, an album listed twice on every read.
Each run completes, publishes what Spotify sent, and its metadata and checks name the rest."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from dagster import AssetCheckEvaluation, ExecuteInProcessResult

from spotify_assets.contract import names
from spotify_assets.defs.spotify.assets import album_tracks
from spotify_assets.emulator import Fault
from spotify_assets.spotify.results import UNKNOWN
from spotify_assets.spotify.transport import NOT_FOUND_RETRIES
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.pipeline.conftest import Materialize, check_results, partition_file
from spotify_assets_tests.pipeline.test_materialize import metadata
from spotify_assets_tests.spotify.conftest import catalog_ids


def evaluation(result: ExecuteInProcessResult, check: str) -> AssetCheckEvaluation:
    """The one evaluation of `check` in the run."""
    [found] = [e for e in result.get_asset_check_evaluations() if e.check_name == check]
    return found


def test_35_of_150_albums_unknown_and_five_5xx_still_land_the_other_115(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=150, mode="development")
    ids = catalog_ids(emu)
    gone = ids[::4][:35]
    emu.configure(unknown_albums=set(gone))
    emu.add_fault(Fault("album_tracks", "status", status=503, album_id=ids[-1], times=5))

    result = run_assets(emu, retry_budget=5, backoff_base_s=0.01, backoff_max_s=0.05)

    assert result.success
    tracks = pd.read_parquet(partition_file(data_dir, "album_tracks"))
    known = [a for a in emu.catalog.albums if a.id not in gone]
    assert list(zip(tracks["album_id"], tracks["track_id"], strict=True)) == [
        (album.id, track.id) for album in known for track in album.tracks
    ]
    at = metadata(result, "album_tracks")
    assert at[names.ALBUMS_MISSING] == {UNKNOWN: gone}
    assert at[names.ALBUMS_UNKNOWN] == gone and at[names.STOPPED] == ""
    present = evaluation(result, names.EVERY_ALBUM_PRESENT)
    assert not present.passed
    assert present.metadata["offending_albums"].value == sorted(gone)
    assert present.metadata["reasons"].value == dict.fromkeys(sorted(gone), UNKNOWN)
    assert f"35 {UNKNOWN}" in (present.description or "")
    others = {
        k: v for k, v in check_results(result).items() if k != "album_tracks.every_album_present"
    }
    assert set(others.values()) == {True}
    asked = [e["path"] for e in emu.stats()["log"] if e["endpoint"] == "album_tracks"]
    assert {asked.count(f"/v1/albums/{a}/tracks") for a in gone} == {1 + NOT_FOUND_RETRIES}
    listings = sum(math.ceil(len(a.tracks) / 50) for a in known)
    assert len(asked) == listings + 35 * (1 + NOT_FOUND_RETRIES) + 5
    assert at[names.RETRIES] == 35 * NOT_FOUND_RETRIES + 5


def test_a_search_page_of_null_items_and_null_entries_are_skipped_and_counted(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=50, mode="development", null_pages={20}, null_albums={3})

    result = run_assets(emu)

    assert result.success
    ids = catalog_ids(emu)
    sent = [a for i, a in enumerate(ids) if i != 3 and not 20 <= i < 30]
    releases = pd.read_parquet(partition_file(data_dir, "new_releases"))
    assert releases["album_id"].tolist() == sent
    tracks = pd.read_parquet(partition_file(data_dir, "album_tracks"))
    assert tracks["album_id"].unique().tolist() == sent
    nr = metadata(result, "new_releases")
    assert (nr[names.NULL_PLACES_SKIPPED], nr[names.NULL_PAGES]) == (11, [20])
    count = evaluation(result, names.ROWS_MATCH_API_TOTAL)
    assert not count.passed and count.severity.value == "WARN"
    assert "it sent null for 11 places" in (count.description or "")
    assert emu.stats()["by_endpoint"]["search"] == 5
    assert set(check_results(result).values()) == {True, False}
    assert [k for k, v in check_results(result).items() if not v] == [
        "new_releases.rows_match_api_total"
    ]


def test_an_album_listed_twice_on_every_read_is_kept_once_and_the_day_is_complete(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=60, mode="development", feed_duplicate=(4, 33))

    result = run_assets(emu)

    assert result.success
    assert set(check_results(result).values()) == {True}
    ids = catalog_ids(emu)
    releases = pd.read_parquet(partition_file(data_dir, "new_releases"))
    assert releases["album_id"].tolist() == ids
    nr = metadata(result, "new_releases")
    assert nr[names.DUPLICATE_LISTINGS] == {ids[4]: [5, 34]}
    assert nr[names.API_TOTAL] == 61
    # 7 pages for 61 places, then the two pages holding places 5 and 34 once more; three full
    # re-reads as drift would have taken 28 and then failed the day.
    assert emu.stats()["by_endpoint"]["search"] == 7 + 2


def test_search_that_repeats_albums_in_moving_places_publishes_its_best_read_and_warns(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    # Every search page lists one album again in the place of the next, at a place that moves
    # with each read: reading again never settles it (search paging is not stable).
    emu = emulator_factory(albums=50, mode="development")
    emu.add_fault(Fault("search", "repeat_album", times=1000))

    result = run_assets(emu)

    assert result.success
    ids = catalog_ids(emu)
    releases = pd.read_parquet(partition_file(data_dir, "new_releases"))
    kept = releases["album_id"].tolist()
    assert len(kept) == len(set(kept)) == 45 and set(kept) < set(ids)
    assert kept == [a for a in ids if a in set(kept)]  # feed order
    nr = metadata(result, "new_releases")
    assert (nr[names.REPEATED_PLACES], nr[names.SHORTFALL], nr[names.API_TOTAL]) == (5, 0, 50)
    assert nr[names.DUPLICATE_LISTINGS] == {}
    count = evaluation(result, names.ROWS_MATCH_API_TOTAL)
    assert not count.passed and count.severity.value == "WARN"
    assert "5 of its places listed an album again" in (count.description or "")
    # Three reads of 5 pages (the first and two restarts), each with one page read again.
    assert emu.stats()["by_endpoint"]["search"] == 3 * (5 + 1)
    tracks = pd.read_parquet(partition_file(data_dir, "album_tracks"))
    assert tracks["album_id"].unique().tolist() == kept


def test_a_rerun_after_a_stop_fetches_only_the_albums_the_stop_left_out(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=40, mode="development", quota=20)
    stopped = run_assets(emu)
    assert not stopped.success
    by_reason = metadata(stopped, "album_tracks")[names.ALBUMS_MISSING]
    assert isinstance(by_reason, dict)
    [left_out] = by_reason.values()
    kept = pd.read_parquet(partition_file(data_dir, "album_tracks"))["album_id"].unique()
    assert len(kept) + len(left_out) == 40 and len(kept) > 0

    emu.reset()
    emu.configure(quota=None)
    rerun = run_assets(emu, selection=[album_tracks])

    assert rerun.success
    assert set(check_results(rerun).values()) == {True}
    asked = {e["path"].split("/")[3] for e in emu.stats()["log"] if e["endpoint"] == "album_tracks"}
    assert asked == set(left_out)
    tracks = pd.read_parquet(partition_file(data_dir, "album_tracks"))
    assert list(zip(tracks["album_id"], tracks["track_id"], strict=True)) == [
        (album.id, track.id) for album in emu.catalog.albums for track in album.tracks
    ]
