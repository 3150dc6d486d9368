"""Several markets materialized against the emulator into Parquet files or Iceberg tables: a row
per market and album, each album's tracks once for the first market that lists it, requests
counted, a re-run of the day replacing its partitions."""

from __future__ import annotations

from math import ceil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pandas as pd
import pyarrow.parquet as pq
import pytest
from dagster import AssetCheckSeverity, AssetKey, ExecuteInProcessResult

from spotify_assets import settings
from spotify_assets.contract import names, schemas
from spotify_assets.defs.spotify.assets import album_tracks
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.emulator import EmulatorServer, Fault
from spotify_assets.emulator.records import Album
from spotify_assets.local.summary import summarize
from spotify_assets.spotify import SpotifyClient
from spotify_assets.spotify.results import NOT_ASKED
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.pipeline.conftest import Materialize, check_results, partition_file
from spotify_assets_tests.pipeline.iceberg_runs import stored as stored_table
from spotify_assets_tests.pipeline.iceberg_runs import tables

THREE = ("US", "SE", "DE")


def meta(result: ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    """Raw metadata values of the asset's materialization in the run."""
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey(asset)
    ]
    entries = event.step_materialization_data.materialization.metadata
    return {key: getattr(value, "value", value) for key, value in entries.items()}


def evaluation(result: ExecuteInProcessResult, check: str) -> Any:
    """The one evaluation of `check` in the run."""
    [found] = [e for e in result.get_asset_check_evaluations() if e.check_name == check]
    return found


def stored(
    data_dir: Path, asset: str, table_format: settings.TableFormat = "parquet"
) -> pd.DataFrame:
    """Today's stored partition of `asset`, as pandas reads it; from Iceberg, new_releases in
    the order of THREE and feed position (its files, one per market, come back in any order)."""
    if table_format == "parquet":
        return pd.read_parquet(partition_file(data_dir, asset), dtype_backend="pyarrow")
    rows = tables(data_dir).read_day(asset, today(), schemas.SCHEMAS[asset])
    assert rows is not None, f"no {asset} stored today"
    frame: pd.DataFrame = rows.to_pandas(types_mapper=pd.ArrowDtype)
    if asset == names.NEW_RELEASES:
        order = frame["market"].map(THREE.index).astype("int64")
        frame = frame.assign(_order=order).sort_values(["_order", "position"], kind="stable")
        frame = frame.drop(columns="_order").reset_index(drop=True)
    return frame


def first_market(emu: EmulatorServer, markets: tuple[str, ...]) -> dict[str, str]:
    """The union of the markets' feeds -> the first market listing each album, albums in the
    order a run meets them (the first market's feed, then what the next one adds, ...)."""
    assigned: dict[str, str] = {}
    for market in markets:
        for album in emu.catalog.feed(market=market):
            assigned.setdefault(album.id, market)
    return assigned


def pages(total: int, size: int) -> int:
    """Requests to list `total` items `size` a page (an empty listing still costs one)."""
    return max(1, ceil(total / size))


def albums_of(emu: EmulatorServer) -> dict[str, Album]:
    """The emulator's albums by id."""
    return {album.id: album for album in emu.catalog.albums}


@pytest.mark.parametrize(
    ("mode", "table_format"),
    [("development", "parquet"), ("extended", "parquet"), ("development", "iceberg")],
)
def test_three_markets_land_a_row_per_market_and_album_and_each_albums_tracks_once(
    mode: str,
    table_format: settings.TableFormat,
    emulator_factory: EmulatorFactory,
    run_assets: Materialize,
    data_dir: Path,
) -> None:
    emu = emulator_factory(albums=60, mode=mode, markets=THREE)
    result = run_assets(emu, markets=list(THREE), table_format=table_format)

    assert result.success and len(check_results(result)) == 7
    assert all(check_results(result).values()), check_results(result)
    releases = stored(data_dir, names.NEW_RELEASES, table_format)
    feeds = {market: [a.id for a in emu.catalog.feed(market=market)] for market in THREE}
    assert releases["market"].tolist() == [m for m in THREE for _ in feeds[m]]
    for market, ids in feeds.items():
        in_market = releases[releases["market"] == market]
        assert in_market["album_id"].tolist() == ids
        assert in_market["position"].tolist() == list(range(1, len(ids) + 1))
    assert set(releases["source"]) == {"search"}
    assert (
        sum(map(len, feeds.values()))
        > len(first_market(emu, THREE))
        > max(map(len, feeds.values()))
    )

    tracks = stored(data_dir, names.ALBUM_TRACKS, table_format)
    assigned = first_market(emu, THREE)
    catalog = albums_of(emu)
    expected = [(market, a, t.id) for a, market in assigned.items() for t in catalog[a].tracks]
    assert list(zip(tracks["market"], tracks["album_id"], tracks["track_id"], strict=True)) == (
        expected
    )
    playable = tracks["is_playable"]
    assert playable.notna().all() and playable.all(), "each track plays where it was fetched for"
    for entry in emu.stats()["log"]:  # each request for tracks names its albums' market
        if entry["endpoint"] == "album_tracks":
            assert f"market={assigned[entry['path'].split('/')[-2]]}" in entry["query"]
        elif entry["endpoint"] == "albums" and entry["status"] == 200:
            query = dict(parse_qsl(entry["query"]))
            assert {assigned[a] for a in query["ids"].split(",")} == {query["market"]}
    assert set(assigned.values()) == set(THREE)

    stats = emu.stats()["by_endpoint"]
    feed_pages = sum(pages(len(ids), 10) for ids in feeds.values())
    extra = sum(pages(catalog[a].total_tracks, 50) - 1 for a in assigned)
    assert (stats["search"], stats.get("new_releases", 0)) == (feed_pages, 0)
    if mode == "development":  # the /albums?ids= probe (403, asked twice: one is not believed)
        listings = sum(pages(catalog[a].total_tracks, 50) for a in assigned)
        assert (stats["albums"], stats["album_tracks"]) == (2, listings)
        assert listings == len(assigned) + extra
        # The bound, N feeds + one listing per album of the union, plus the probe, which the
        # app memory spares every later run (test_reuse: day 2 sends no probe).
        tracks_requests = 2 + listings
    else:  # 20 albums a request, in batches of one market each
        groups = [sum(1 for m in assigned.values() if m == market) for market in THREE]
        assert stats["albums"] == sum(pages(n, 20) for n in groups)
        assert stats.get("album_tracks", 0) == extra
        tracks_requests = stats["albums"] + extra
        assert tracks_requests < len(assigned), "batches cost less than a listing per album"
    assert emu.stats()["api_requests"] == feed_pages + tracks_requests
    nr, at = meta(result, names.NEW_RELEASES), meta(result, names.ALBUM_TRACKS)
    assert nr[names.MARKETS] == at[names.MARKETS] == list(THREE)
    assert nr[names.BY_MARKET] == {
        m: {"rows": len(ids), "api_total": len(ids), "reachable": len(ids), "expected": len(ids)}
        | {"shortfall": 0, "extra_listings": 0, "repeated_places": 0, "null_places_skipped": 0}
        for m, ids in feeds.items()
    }
    assert (nr[names.PARTITION_ROW_COUNT], nr[names.API_TOTAL]) == (len(releases), len(releases))
    assert at[names.BY_MARKET] == {
        m: {
            "listed": len(feeds[m]),
            "albums": sum(1 for x in assigned.values() if x == m),
            "fetched": sum(1 for x in assigned.values() if x == m),
            "tracks": int((tracks["market"] == m).sum()),
        }
        for m in THREE
    }
    assert nr[names.REQUESTS] + at[names.REQUESTS] == emu.stats()["api_requests"]
    # A full fetch saves nothing, the refused probe of /albums?ids= counted on both sides.
    assert at[names.REQUESTS_SAVED] == 0
    rows = ", ".join(f"{m} {len(ids)}" for m, ids in feeds.items())
    assert f"markets: {rows} rows" in summarize(result, "emulator").text
    assert emu.stats()["token_requests"] == 1, "one client serves every market of the run"


@pytest.mark.parametrize("table_format", ["parquet", "iceberg"])
def test_a_rerun_of_the_day_replaces_its_partitions_without_duplicates(
    table_format: settings.TableFormat,
    emulator_factory: EmulatorFactory,
    run_assets: Materialize,
    data_dir: Path,
) -> None:
    emu = emulator_factory(albums=40, mode="development", markets=THREE)
    assert run_assets(emu, markets=list(THREE), table_format=table_format).success
    first = {asset: stored(data_dir, asset, table_format) for asset in names.ASSETS}
    emu.reset()

    again = run_assets(emu, markets=list(THREE), table_format=table_format)

    assert again.success and all(check_results(again).values())
    for asset, before in first.items():
        after = stored(data_dir, asset, table_format)
        pd.testing.assert_frame_equal(
            after.drop(columns="fetched_at"), before.drop(columns="fetched_at")
        )
    if table_format == "iceberg":  # the day replaced in one snapshot: nothing of the first run
        for asset, before in first.items():
            table = stored_table(data_dir, asset)
            assert table.scan().to_arrow().num_rows == len(before), f"{asset} holds the day once"
            current = table.current_snapshot()
            assert current is not None and current.summary is not None
            assert int(current.summary.additional_properties["deleted-data-files"]) > 0
        spec = stored_table(data_dir, names.NEW_RELEASES).spec()
        assert [f.name for f in spec.fields] == ["snapshot_date", "market"]
    tracks = stored(data_dir, names.ALBUM_TRACKS, table_format)
    assert not tracks.duplicated(["album_id", "disc_number", "track_number"]).any()
    releases = stored(data_dir, names.NEW_RELEASES, table_format)
    assert not releases.duplicated(["market", "album_id"]).any()
    # The re-run reads the feeds again and reuses today's tracks, fetched for the same markets.
    stats = emu.stats()["by_endpoint"]
    assert stats.get("album_tracks", 0) == 0 and stats["search"] > 0
    assert meta(again, names.ALBUM_TRACKS)[names.ALBUMS_REUSED] == tracks["album_id"].nunique()


def test_a_market_whose_listing_runs_short_fails_its_check_naming_it(
    emulator_factory: EmulatorFactory,
    run_assets: Materialize,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu = emulator_factory(albums=30, mode="development", markets=THREE)
    read = SpotifyClient.new_releases

    def short_in_sweden(client: SpotifyClient, market: str | None = None) -> Any:
        """Sweden's search reports two albums more than it lists; the others are exact."""
        emu.configure(total_offset=2 if market == "SE" else 0)
        return read(client, market)

    monkeypatch.setattr(SpotifyClient, "new_releases", short_in_sweden)
    result = run_assets(emu, markets=list(THREE))

    total = evaluation(result, names.ROWS_MATCH_API_TOTAL)
    sweden = len(emu.catalog.feed(market="SE"))
    assert (total.passed, total.severity) == (False, AssetCheckSeverity.WARN)
    assert total.description == (
        f"SE: {sweden} albums stored, but Spotify reported a total of {sweden + 2}; its listing "
        "ran out 2 albums early (empty last page); published with what Spotify sent"
    )
    assert total.metadata["markets_differing"].value == ["SE"]
    by_market = total.metadata[names.BY_MARKET].value
    assert by_market["SE"] == {
        "rows": sweden,
        "api_total": sweden + 2,
        "reachable": sweden + 2,
        "expected": sweden + 2,
        "shortfall": 2,
        "extra_listings": 0,
        "repeated_places": 0,
        "null_places_skipped": 0,
    }
    assert all(by_market[m]["rows"] == by_market[m]["api_total"] for m in ("US", "DE"))
    assert meta(result, names.NEW_RELEASES)[names.SHORTFALL] == 2
    # A warning blocks nothing: the day is published and its tracks fetched, every market's.
    assert result.success
    assert stored(data_dir, names.ALBUM_TRACKS)["album_id"].nunique() == len(
        first_market(emu, THREE)
    )


def test_album_tracks_checks_name_the_markets_of_an_album_without_tracks(
    emulator_factory: EmulatorFactory, run_assets: Materialize
) -> None:
    emu = emulator_factory(albums=40, mode="development", markets=THREE)
    assigned = first_market(emu, THREE)
    gone = next(a.id for a in emu.catalog.albums if a.available_in("SE") and a.available_in("DE"))
    short = next(a for a in emu.catalog.albums if assigned.get(a.id) == "DE")
    emu.configure(drop_tracks={short.id})
    emu.add_fault(Fault("album_tracks", "missing_album", album_id=gone, times=99))

    result = run_assets(emu, markets=list(THREE))

    present = evaluation(result, names.EVERY_ALBUM_PRESENT)
    assert not present.passed and present.metadata["offending_albums"].value == [gone]
    listed_in = [m for m in THREE if albums_of(emu)[gone].available_in(m)]
    assert present.metadata[names.BY_MARKET].value == {m: [gone] for m in listed_in}
    assert present.description.endswith(f"(in {', '.join(listed_in)})")
    counts = evaluation(result, names.TRACK_COUNTS_MATCH_TOTAL_TRACKS)
    assert counts.metadata["offending_albums"].value == [short.id]
    passed = {e.check_name for e in result.get_asset_check_evaluations() if e.passed}
    assert passed == {
        names.ROWS_MATCH_API_TOTAL,
        names.ALBUM_IDS_UNIQUE,
        names.REQUIRED_FIELDS_PRESENT,
        names.NO_UNKNOWN_ALBUMS,
        names.TRACK_KEYS_UNIQUE,
    }


def test_spotify_market_alone_reads_one_market_listing_only_what_plays_there(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=20)
    alias = settings.Settings.from_environ({settings.MARKET: "SE"})
    assert run_assets(emu, markets=list(alias.markets)).success
    releases = stored(data_dir, names.NEW_RELEASES)
    tracks = stored(data_dir, names.ALBUM_TRACKS)
    sold = [a.id for a in emu.catalog.feed(market="SE")]
    assert releases["album_id"].tolist() == sold and set(releases["market"]) == {"SE"}
    assert len(sold) < len(emu.catalog.albums), "some albums are not sold in Sweden"
    assert tracks["album_id"].unique().tolist() == sold and set(tracks["market"]) == {"SE"}
    assert tracks["is_playable"].notna().all() and tracks["is_playable"].all()


def test_a_day_stored_before_the_market_column_still_loads_and_backfills(
    emulator_factory: EmulatorFactory, run_assets: Materialize, data_dir: Path
) -> None:
    emu = emulator_factory(albums=12, mode="development")
    assert run_assets(emu).success
    path = partition_file(data_dir, names.NEW_RELEASES)
    old = pq.read_table(path).drop_columns(["market"])
    pq.write_table(old, path)  # as written before the column existed
    assert "market" not in pq.read_schema(path).names

    backfill = run_assets(emu, selection=[album_tracks], reuse_max_age_days=0)

    assert backfill.success and all(check_results(backfill).values())
    tracks = stored(data_dir, names.ALBUM_TRACKS)
    assert tracks["market"].isna().all()
    assert tracks["album_id"].unique().tolist() == [a.id for a in emu.catalog.albums]
    assert meta(backfill, names.ALBUM_TRACKS)[names.MARKETS] == [names.NO_MARKET]


def test_a_ban_during_the_first_markets_tracks_asks_no_later_market_and_publishes_what_came(
    emulator_factory: EmulatorFactory,
    run_assets: Materialize,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu = emulator_factory(albums=40, mode="development", markets=THREE)
    assigned = first_market(emu, THREE)
    emu.add_fault(Fault("album_tracks", "rate_limit", retry_after_s=86400, nth=8))
    asked: list[str | None] = []
    fetch = SpotifyClient.album_tracks

    def noting_the_market(client: SpotifyClient, *args: Any, **kwargs: Any) -> Any:
        """The client's album_tracks, noting the market of each call."""
        asked.append(kwargs.get("market"))
        return fetch(client, *args, **kwargs)

    monkeypatch.setattr(SpotifyClient, "album_tracks", noting_the_market)
    result = run_assets(emu, markets=list(THREE))

    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_key == names.ALBUM_TRACKS
    assert "run again after" in str(failure.step_failure_data.user_failure_data.description)  # type: ignore[union-attr]
    assert asked == ["US"], "no market is asked after the one Spotify stopped"
    tracks_requests = [
        dict(parse_qsl(entry["query"]))
        for entry in emu.stats()["log"]
        if entry["endpoint"] in ("album_tracks", "albums")
    ]
    assert {query.get("market") for query in tracks_requests} == {"US"}

    kept = stored(data_dir, names.ALBUM_TRACKS)
    fetched = kept["album_id"].unique().tolist()
    assert fetched and set(kept["market"]) == {"US"}
    at = meta(result, names.ALBUM_TRACKS)
    missing = [album_id for album_id in assigned if album_id not in fetched]
    assert at[names.ALBUMS_MISSING] == {NOT_ASKED: missing}
    assert {assigned[a] for a in missing} == set(THREE), "the later markets' albums are named"
    assert "run again after" in at[names.STOPPED]
    present = evaluation(result, names.EVERY_ALBUM_PRESENT)
    assert not present.passed and present.metadata["offending_albums"].value == sorted(missing)
    assert present.metadata["reasons"].value == dict.fromkeys(sorted(missing), NOT_ASKED)
    by_market = at[names.BY_MARKET]
    assert (by_market["US"]["albums"], by_market["SE"]["albums"]) == (len(fetched), 0)
    assert by_market["US"]["fetched"] == len(fetched) and by_market["DE"]["fetched"] == 0


def test_each_markets_null_places_and_duplicates_are_counted_for_it_and_summed(
    emulator_factory: EmulatorFactory, run_assets: Materialize
) -> None:
    emu = emulator_factory(albums=40, mode="development", markets=THREE)
    emu.configure(null_albums={3}, feed_duplicate=(2, 12))  # in each market's listing
    feeds = {market: emu.catalog.feed(market=market) for market in THREE}

    result = run_assets(emu, markets=list(THREE))

    assert result.success, "null places only warn; a stable duplicate is kept once"
    total = evaluation(result, names.ROWS_MATCH_API_TOTAL)
    assert (total.passed, total.severity) == (False, AssetCheckSeverity.WARN)
    assert total.metadata["markets_differing"].value == list(THREE)
    assert total.description == "; ".join(
        f"{market}: {len(feed) - 1} albums stored, but Spotify reported a total of "
        f"{len(feed) + 1}; 1 of its places list an album again (kept once); it sent null for 1 "
        "places (skipped); published with what Spotify sent"
        for market, feed in feeds.items()
    )
    assert total.metadata[names.BY_MARKET].value == {
        market: {"rows": len(feed) - 1, "api_total": len(feed) + 1, "reachable": len(feed) + 1}
        | {
            "expected": len(feed),
            "shortfall": 0,
            "extra_listings": 1,
            "repeated_places": 0,
            "null_places_skipped": 1,
        }
        for market, feed in feeds.items()
    }
    summed = {key: total.metadata[key].value for key in ("extra_listings", "null_places_skipped")}
    assert summed == {"extra_listings": 3, "null_places_skipped": 3}
    assert evaluation(result, names.ALBUM_IDS_UNIQUE).passed
    nr = meta(result, names.NEW_RELEASES)
    assert (nr[names.NULL_PLACES_SKIPPED], nr[names.NULL_PAGES]) == (3, [])
    assert nr[names.DUPLICATE_LISTINGS] == {feed[2].id: [3, 13] for feed in feeds.values()}
