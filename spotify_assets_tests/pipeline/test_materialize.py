"""Both assets materialized against the emulator into Parquet, checked row by row."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, ExecuteInProcessResult

from spotify_assets.contract import names, schemas
from spotify_assets.defs.spotify import assets as assets_module
from spotify_assets.defs.spotify import checks
from spotify_assets.defs.spotify.assets import album_tracks, new_releases
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.emulator import Fault
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.pipeline.conftest import Materialize, check_results, partition_file


def metadata(result: ExecuteInProcessResult, asset: str) -> dict[str, object]:
    """Raw metadata values of the asset's materialization in the run."""
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey(asset)
    ]
    entries = event.step_materialization_data.materialization.metadata
    return {key: getattr(value, "value", value) for key, value in entries.items()}


MODES = {"extended": ("browse", "albums"), "development": ("search", "album_tracks")}


@pytest.mark.parametrize("mode", list(MODES))
def test_both_assets_land_the_whole_catalog_row_by_row(
    mode: str, emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    source, endpoint = MODES[mode]
    emu = emulator_factory(albums=60, mode=mode)
    result = run_assets(emu)

    assert result.success
    assert check_results(result) == {
        f"{spec.asset_key.path[-1]}.{spec.name}": True
        for spec in [*checks.NEW_RELEASES_CHECKS, *checks.ALBUM_TRACKS_CHECKS]
    }
    releases = pd.read_parquet(partition_file(data_dir, "new_releases"), dtype_backend="pyarrow")
    tracks = pd.read_parquet(partition_file(data_dir, "album_tracks"), dtype_backend="pyarrow")
    catalog = emu.catalog.albums

    assert releases["album_id"].tolist() == [a.id for a in catalog]
    assert releases["position"].tolist() == list(range(1, len(catalog) + 1))
    assert set(releases["source"]) == {source}
    assert set(releases["snapshot_date"]) == {today()}
    assert releases["market"].isna().all() and tracks["market"].isna().all(), "no market set"
    for row, album in zip(releases.to_dict("records"), catalog, strict=True):
        assert row["album_name"] == album.name
        assert (row["album_type"], row["release_date"], row["release_date_precision"]) == (
            album.album_type,
            album.release_date,
            album.release_date_precision,
        )
        assert row["total_tracks"] == album.total_tracks
        assert list(row["artist_ids"]) == [a.id for a in album.artists]
        assert list(row["artist_names"]) == [a.name for a in album.artists]
        widest = max(album.images, key=lambda i: (i.width or 0) * (i.height or 0), default=None)
        assert row["image_url"] == (widest.url if widest else None)
        assert row["uri"] == f"spotify:album:{album.id}"

    expected_tracks = [(album.id, track) for album in catalog for track in album.tracks]
    assert len(tracks) == len(expected_tracks)
    for row, (album_id, track) in zip(tracks.to_dict("records"), expected_tracks, strict=True):
        assert (row["album_id"], row["track_id"], row["track_name"]) == (
            album_id,
            track.id,
            track.name,
        )
        assert (row["disc_number"], row["track_number"], row["duration_ms"]) == (
            track.disc_number,
            track.track_number,
            track.duration_ms,
        )
        assert row["explicit"] == track.explicit and row["is_local"] is False
        assert row["preview_url"] == track.preview_url
        assert row["is_playable"] is None
        assert list(row["artist_names"]) == [a.name for a in track.artists]
    assert any(t.preview_url is None for _, t in expected_tracks)
    assert any(t.preview_url is not None for _, t in expected_tracks)
    assert (
        any(not a.images for a in catalog)
        and tracks["track_name"].str.contains("[^\x00-\x7f]").any()
    )

    nr = metadata(result, "new_releases")
    assert (nr[names.PARTITION_ROW_COUNT], nr["api_total"], nr["source"]) == (
        len(catalog),
        len(catalog),
        source,
    )
    at = metadata(result, "album_tracks")
    assert (at[names.PARTITION_ROW_COUNT], at["tracks_endpoint"]) == (
        len(expected_tracks),
        endpoint,
    )
    assert nr["requests"] + at["requests"] == emu.stats()["api_requests"]  # type: ignore[operator]
    assert nr[names.MARKETS] == at[names.MARKETS] == [names.NO_MARKET]
    for key in ("retries", "http_429", "waited_s", "token_refreshes", "preview"):
        assert key in at and key in nr


def test_parquet_files_have_the_contract_schema_and_read_back_with_duckdb(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=15)
    assert run_assets(emu).success
    for asset, schema in (
        ("new_releases", schemas.NEW_RELEASES),
        ("album_tracks", schemas.ALBUM_TRACKS),
    ):
        stored = pq.read_schema(partition_file(data_dir, asset))
        assert stored.names == schema.names
        for field in schema:
            assert stored.field(field.name).type.equals(field.type, check_metadata=False) or (
                pa_list_of_strings(stored.field(field.name).type) and field.type == schemas.STRINGS
            )
    frame = pd.read_parquet(data_dir / "new_releases")
    assert str(frame["album_name"].dtype) == "str"
    [(albums, tracks, types)] = duckdb.execute(
        f"SELECT count(DISTINCT t.album_id), count(*), typeof(any_value(t.artist_ids)) "
        f"FROM '{data_dir}/album_tracks/*.parquet' t "
        f"JOIN '{data_dir}/new_releases/*.parquet' n USING (album_id, snapshot_date)"
    ).fetchall()
    assert (albums, tracks, types) == (
        15,
        sum(len(a.tracks) for a in emu.catalog.albums),
        "VARCHAR[]",
    )


def pa_list_of_strings(type_: object) -> bool:
    """Parquet names list items `element`; the type is still list<string>."""
    return isinstance(type_, pa.ListType) and type_.value_type == pa.string()


def test_a_feed_deeper_than_search_pages_passes_its_check_at_search_depth(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=1015, mode="development")
    result = run_assets(emu)
    assert result.success and all(check_results(result).values())
    nr = metadata(result, "new_releases")
    assert (nr[names.PARTITION_ROW_COUNT], nr["api_total"], nr["reachable"]) == (
        1000,
        1015,
        1000,
    )
    tracks = pd.read_parquet(partition_file(data_dir, "album_tracks"))
    assert tracks["album_id"].nunique() == 1000


def test_a_wrong_api_total_fails_the_check_and_blocks_album_tracks(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=12)
    emu.configure(total_offset=2)
    result = run_assets(emu)

    assert not result.success
    assert check_results(result)["new_releases.rows_match_api_total"] is False
    [evaluation] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == names.ROWS_MATCH_API_TOTAL
    ]
    assert evaluation.metadata["api_total"].value == 14
    assert evaluation.metadata["rows"].value == 12
    assert evaluation.partition == str(today())
    assert result.get_asset_materialization_events() == []
    assert not (data_dir / "new_releases").exists() and not (data_dir / "album_tracks").exists()


def test_a_day_that_fails_a_blocking_check_leaves_the_published_day_alone(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=12)
    assert run_assets(emu).success
    published = {
        asset: partition_file(data_dir, asset).read_bytes()
        for asset in ("new_releases", "album_tracks")
    }
    emu.configure(total_offset=1)

    assert not run_assets(emu).success

    for asset, content in published.items():
        assert partition_file(data_dir, asset).read_bytes() == content, asset


def test_a_dropped_track_fails_the_track_count_check_naming_the_album(
    emulator_factory: EmulatorFactory, run_assets: Materialize
) -> None:
    emu = emulator_factory(albums=12)
    broken = emu.catalog.albums[3]
    emu.configure(drop_tracks={broken.id})
    result = run_assets(emu)

    assert check_results(result)["album_tracks.track_counts_match_total_tracks"] is False
    [evaluation] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == names.TRACK_COUNTS_MATCH_TOTAL_TRACKS
    ]
    assert evaluation.metadata["offending_albums"].value == [broken.id]
    assert evaluation.metadata["expected_vs_stored"].value == {
        broken.id: [broken.total_tracks, broken.total_tracks - 1]
    }


def test_new_releases_refuses_any_day_but_today(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=5)
    yesterday = today() - timedelta(days=1)
    result = run_assets(emu, day=yesterday, selection=[new_releases])

    assert not result.success
    [failure] = result.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data
    assert description is not None
    assert f"only fetch today's partition ({today()} UTC), not {yesterday}" in str(
        description.description
    )
    assert emu.stats()["api_requests"] == 0
    assert not (data_dir / "new_releases").exists()


def test_album_tracks_backfills_a_stored_day(
    emulator_factory: EmulatorFactory,
    run_assets: Materialize,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu = emulator_factory(albums=10, mode="development")
    earlier = today() - timedelta(days=3)
    with monkeypatch.context() as on_that_day:
        on_that_day.setattr(assets_module, "today", lambda: earlier)
        assert run_assets(emu, day=earlier, selection=[new_releases]).success

    result = run_assets(emu, day=earlier, selection=[album_tracks])

    assert result.success
    assert all(check_results(result).values())
    tracks = pd.read_parquet(partition_file(data_dir, "album_tracks", earlier))
    assert set(tracks["snapshot_date"]) == {earlier}
    assert tracks["album_id"].nunique() == 10
    assert not partition_file(data_dir, "album_tracks").exists()


def test_album_tracks_for_a_day_without_new_releases_says_what_to_do(
    emulator_factory: EmulatorFactory, run_assets: Materialize
) -> None:
    emu = emulator_factory(albums=3)
    result = run_assets(emu, day=today() - timedelta(days=9), selection=[album_tracks])
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_failure_data.error is not None
    assert "No stored new_releases" in failure.step_failure_data.error.to_string()


def test_a_run_stopped_mid_way_publishes_what_it_fetched_and_fails_saying_why(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=40, mode="development")
    emu.add_fault(Fault(endpoint="album_tracks", action="rate_limit", retry_after_s=86400, nth=25))
    result = run_assets(emu)

    assert not result.success
    assert partition_file(data_dir, "new_releases").exists()
    assert not list(data_dir.rglob(".*")), "a temporary file was left behind"
    failure = next(e for e in result.get_step_failure_events() if e.step_key == "album_tracks")
    assert failure.step_failure_data.error is not None
    assert "Spotify asked to wait 86400 s" in failure.step_failure_data.error.to_string()
    stored = pd.read_parquet(partition_file(data_dir, "album_tracks"))
    at = metadata(result, "album_tracks")
    by_reason = at[names.ALBUMS_MISSING]
    assert isinstance(by_reason, dict)
    [missing] = by_reason.values()  # every one of them: not fetched
    assert "Spotify asked to wait 86400 s" in str(at[names.STOPPED])
    catalog = {album.id: [track.id for track in album.tracks] for album in emu.catalog.albums}
    assert set(stored["album_id"]) | set(missing) == set(catalog)
    assert not set(stored["album_id"]) & set(missing)
    for album_id, rows in stored.groupby("album_id", sort=False):
        assert rows["track_id"].tolist() == catalog[str(album_id)]
    present = next(
        e for e in result.get_asset_check_evaluations() if e.check_name == names.EVERY_ALBUM_PRESENT
    )
    assert not present.passed
    assert present.metadata["offending_albums_count"].value == len(missing)


def test_a_missing_credential_fails_the_run_naming_the_variable(
    emulator_factory: EmulatorFactory, run_assets: Materialize
) -> None:
    emu = emulator_factory(albums=3)
    result = run_assets(emu, client_secret=" ")
    assert not result.success
    [failure] = result.get_step_failure_events()
    message = str(failure.step_failure_data.user_failure_data.description)  # type: ignore[union-attr]
    assert message.startswith("SPOTIFY_CLIENT_SECRET is not set")
    assert emu.stats()["requests"] == 0
