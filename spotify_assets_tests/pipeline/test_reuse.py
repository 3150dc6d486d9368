"""Track reuse day after day, through real materializations against the emulator's rolling feed:
counting the requests it serves and comparing the rows with what a full fetch gives."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from math import ceil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from dagster import ExecuteInProcessResult

from spotify_assets.contract import names
from spotify_assets.defs.spotify import assets as assets_module
from spotify_assets.defs.spotify.assets import album_tracks, new_releases
from spotify_assets.emulator import EmulatorServer, Fault
from spotify_assets.local.summary import summarize
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.pipeline.conftest import Materialize
from spotify_assets_tests.pipeline.iceberg_runs import stored as stored_table
from spotify_assets_tests.pipeline.reuse_helpers import (
    BASE,
    SimulatedClock,
    all_checks_pass,
    as_before_the_market_column,
    fetched_at,
    meta,
    pages,
    stored,
    stored_path,
    tracks_listed,
)

ALBUMS = 40
NEW_A_DAY = 4
"""10 % turnover of 40 albums; one album that stays gains a track each day."""
THREE = ("US", "SE", "DE")


@pytest.fixture
def emu(emulator_factory: EmulatorFactory, request: pytest.FixtureRequest) -> EmulatorServer:
    """A Development Mode emulator whose feed turns over 10 % a day, one album growing a track;
    its albums sold in the markets of the test's parameter when it gives some."""
    return emulator_factory(
        albums=ALBUMS,
        mode="development",
        feed_turnover=0.1,
        feed_track_changes=1,
        markets=getattr(request, "param", None),
    )


def first_markets(emu: EmulatorServer, day: int, markets: tuple[str, ...]) -> dict[str, str]:
    """The albums of feed day `day` in any of `markets` -> the first market listing each."""
    assigned: dict[str, str] = {}
    for market in markets:
        for album in emu.catalog.feed(day, market):
            assigned.setdefault(album.id, market)
    return assigned


@pytest.fixture
def run_day(
    emu: EmulatorServer, run_assets: Materialize, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., ExecuteInProcessResult]:
    """`run_day(k, faults, **settings)`: feed day k, emulator stats reset and `faults` added, both
    assets for BASE + k, run on that day (06:00 UTC, a minute later for each further run) as the
    assets see it."""
    runs = Counter[date]()

    def run(feed_day: int, faults: Sequence[Fault] = (), **settings: Any) -> ExecuteInProcessResult:
        emu.configure(feed_day=feed_day)
        emu.reset()
        for fault in faults:
            emu.add_fault(fault)
        day = BASE + timedelta(days=feed_day)
        start = datetime.combine(day, time(6), tzinfo=UTC) + timedelta(minutes=runs[day])
        runs[day] += 1
        with monkeypatch.context() as on_that_day:
            on_that_day.setattr(assets_module, "today", lambda: day)
            on_that_day.setattr(SimulatedClock, "moment", start)
            on_that_day.setattr(assets_module, "datetime", SimulatedClock)
            return run_assets(emu, day=day, **settings)

    return run


def test_a_second_day_reuses_unchanged_albums_and_fetches_new_and_grown_ones(
    emu: EmulatorServer, run_day: Callable[..., ExecuteInProcessResult], data_dir: Path
) -> None:
    first = run_day(0)
    assert all_checks_pass(first)
    assert (meta(first)[names.ALBUMS_FETCHED], meta(first)[names.ALBUMS_REUSED]) == (ALBUMS, 0)
    day0 = {album.id: album for album in emu.catalog.feed(0)}
    feed1 = emu.catalog.feed(1)
    new = {a.id for a in feed1 if a.id not in day0}
    grown = {a.id for a in feed1 if a.id in day0 and a.total_tracks != day0[a.id].total_tracks}
    assert (len(new), len(grown)) == (NEW_A_DAY, 1)

    second = run_day(1)

    assert all_checks_pass(second)
    listed = tracks_listed(emu)
    assert set(listed) == new | grown
    assert listed == {a.id: pages(a.total_tracks) for a in feed1 if a.id in new | grown}
    by_endpoint = emu.stats()["by_endpoint"]
    spent = by_endpoint["album_tracks"]
    assert spent == sum(listed.values()) and by_endpoint["albums"] == by_endpoint["album"] == 0
    at = meta(second)
    assert (at[names.ALBUMS_FETCHED], at[names.ALBUMS_REUSED]) == (5, ALBUMS - 5)
    assert at[names.FETCH_REASONS] == {"no_copy": NEW_A_DAY, "track_count_differs": 1}
    assert at[names.REUSED_FROM] == {str(BASE): ALBUMS - 5}
    assert at[names.REQUESTS_SAVED] == sum(pages(a.total_tracks) for a in feed1) - spent > 0
    assert at[names.REQUESTS] == spent
    summary = summarize(second, "emulator").text
    saved = at[names.REQUESTS_SAVED]
    assert f"albums: 5 fetched, 35 reused from stored copies ({saved} requests saved)" in summary
    reused = stored(data_dir, 1)
    earlier = fetched_at(stored(data_dir, 0))
    for album_id, when in fetched_at(reused).items():
        assert (when == earlier.get(album_id)) is (album_id not in new | grown), album_id
    assert set(reused["snapshot_date"]) == {BASE + timedelta(days=1)}

    full = run_day(1, reuse_max_age_days=0)

    assert all_checks_pass(full)
    assert tracks_listed(emu) == {a.id: pages(a.total_tracks) for a in feed1}
    assert meta(full)[names.REQUESTS_SAVED] == 0
    assert meta(full)[names.FETCH_REASONS] == {"reuse_off": ALBUMS}
    fresh = stored(data_dir, 1)
    pd.testing.assert_frame_equal(
        reused.drop(columns="fetched_at"), fresh.drop(columns="fetched_at")
    )
    assert fresh["track_id"].tolist() == [t.id for a in feed1 for t in a.tracks]


def test_a_second_day_reuses_from_the_iceberg_table_as_from_the_parquet_files(
    emu: EmulatorServer, run_day: Callable[..., ExecuteInProcessResult], data_dir: Path
) -> None:
    assert all_checks_pass(run_day(0, table_format="iceberg"))
    day0 = {album.id: album for album in emu.catalog.feed(0)}
    feed1 = emu.catalog.feed(1)
    not_stored = {
        a.id for a in feed1 if a.id not in day0 or a.total_tracks != day0[a.id].total_tracks
    }

    second = run_day(1, table_format="iceberg")

    assert all_checks_pass(second)
    assert tracks_listed(emu) == {a.id: pages(a.total_tracks) for a in feed1 if a.id in not_stored}
    at = meta(second)
    assert (at[names.ALBUMS_FETCHED], at[names.ALBUMS_REUSED]) == (5, ALBUMS - 5)
    assert at[names.REUSED_FROM] == {str(BASE): ALBUMS - 5}
    assert not (data_dir / names.ALBUM_TRACKS).exists(), "reuse wrote or read Parquet files"
    day1 = BASE + timedelta(days=1)
    table = stored_table(data_dir, names.ALBUM_TRACKS)
    rows = table.scan(row_filter=f"snapshot_date = '{day1}'").to_arrow()
    assert rows["track_id"].to_pylist() == [t.id for a in feed1 for t in a.tracks]


def test_an_iceberg_day_fetched_for_another_market_is_not_reused(
    emu: EmulatorServer, run_day: Callable[..., ExecuteInProcessResult], data_dir: Path
) -> None:
    assert run_day(0, table_format="iceberg").success

    in_sweden = run_day(1, markets=["SE"], table_format="iceberg")

    assert all_checks_pass(in_sweden)
    sold = [a.id for a in emu.catalog.feed(1, "SE")]
    assert meta(in_sweden)[names.FETCH_REASONS] == {"no_copy": len(sold)}
    table = stored_table(data_dir, names.ALBUM_TRACKS)
    current = table.current_snapshot()
    assert current is not None and current.summary is not None
    day1 = BASE + timedelta(days=1)
    rows = table.scan(row_filter=f"snapshot_date = '{day1}'").to_arrow()
    assert set(rows["market"].to_pylist()) == {"SE"}
    day0 = {album.id: album.total_tracks for album in emu.catalog.feed(0)}
    unchanged = [a for a in emu.catalog.feed(2) if day0.get(a.id) == a.total_tracks]
    without_market = run_day(2, table_format="iceberg")
    assert meta(without_market)[names.REUSED_FROM] == {str(BASE): len(unchanged)}, (
        "the SE copies of day 1 are skipped"
    )


def test_a_copy_older_than_the_window_is_fetched_again(
    emu: EmulatorServer, run_day: Callable[..., ExecuteInProcessResult], data_dir: Path
) -> None:
    assert run_day(0, reuse_max_age_days=1).success
    assert run_day(1, reuse_max_age_days=1).success
    fetched_day1 = set(tracks_listed(emu))
    outside = data_dir / names.ALBUM_TRACKS / f"{BASE - timedelta(days=1)}.parquet"
    outside.write_bytes(b"not parquet: a file outside the window is never opened")

    third = run_day(2, reuse_max_age_days=1)

    assert all_checks_pass(third)
    feed1 = {a.id: a for a in emu.catalog.feed(1)}
    feed2 = {a.id: a for a in emu.catalog.feed(2)}
    stayed = feed2.keys() & feed1.keys()
    fresh = stayed & fetched_day1
    kept = {a for a in fresh if feed2[a].total_tracks == feed1[a].total_tracks}
    assert len(stayed) == ALBUMS - NEW_A_DAY and kept
    at = meta(third)
    assert at[names.ALBUMS_REUSED] == len(kept)
    assert at[names.REUSED_FROM] == {str(BASE + timedelta(days=1)): len(kept)}
    expected = {
        "no_copy": NEW_A_DAY,
        "stale_copy": len(stayed - fresh),
        "track_count_differs": len(fresh - kept),
    }
    assert at[names.FETCH_REASONS] == {reason: n for reason, n in expected.items() if n}
    assert set(tracks_listed(emu)) == feed2.keys() - kept


def test_a_copy_fetched_for_another_market_is_not_reused(
    emu: EmulatorServer, run_day: Callable[..., ExecuteInProcessResult], data_dir: Path
) -> None:
    assert run_day(0).success
    assert stored(data_dir, 0)["market"].isna().all()

    in_sweden = run_day(1, markets=["SE"])

    assert all_checks_pass(in_sweden)
    sold = [a.id for a in emu.catalog.feed(1, "SE")]
    assert meta(in_sweden)[names.FETCH_REASONS] == {"no_copy": len(sold)}
    assert set(tracks_listed(emu)) == set(sold)
    assert stored(data_dir, 1)["is_playable"].notna().all()
    assert set(stored(data_dir, 1)["market"]) == {"SE"}

    without_market = run_day(1)

    assert all_checks_pass(without_market)
    at = meta(without_market)
    assert at[names.REUSED_FROM] == {str(BASE): ALBUMS - 5}, "the SE copies of day 1 are skipped"
    assert stored(data_dir, 1)["is_playable"].isna().all()


def unchanged_since(emu: EmulatorServer, market: str | None) -> set[str]:
    """Albums of `market`'s day-1 feed listed in its day-0 feed with the same track count."""
    before = {a.id: a.total_tracks for a in emu.catalog.feed(0, market)}
    return {a.id for a in emu.catalog.feed(1, market) if before.get(a.id) == a.total_tracks}


@pytest.mark.parametrize(("market", "footer"), [(None, None), ("SE", None), ("SE", b"SE")])
def test_a_copy_stored_before_the_market_column_counts_for_the_market_it_says(
    market: str | None,
    footer: bytes | None,
    emu: EmulatorServer,
    run_day: Callable[..., ExecuteInProcessResult],
    data_dir: Path,
) -> None:
    markets = [] if market is None else [market]
    assert run_day(0, markets=markets).success
    as_before_the_market_column(data_dir / names.ALBUM_TRACKS / f"{BASE}.parquet", footer)

    result = run_day(1, markets=markets)

    assert all_checks_pass(result)
    # Without a market recorded a copy counts only for no market (its is_playable all null).
    reusable = footer is not None or market is None
    expected = unchanged_since(emu, market) if reusable else set()
    assert len(unchanged_since(emu, market)) > len(emu.catalog.feed(1, market)) / 2
    assert meta(result)[names.ALBUMS_REUSED] == len(expected)
    fetched = {a.id for a in emu.catalog.feed(1, market)} - expected
    assert set(tracks_listed(emu)) == fetched
    markets_stored = pq.read_table(stored_path(data_dir, 1), columns=[names.MARKET])
    assert set(markets_stored[names.MARKET].to_pylist()) == {market}


@pytest.mark.parametrize("emu", [THREE], indirect=True)
def test_each_market_reuses_the_copies_fetched_for_it_day_after_day(
    emu: EmulatorServer, run_day: Callable[..., ExecuteInProcessResult], data_dir: Path
) -> None:
    assert all_checks_pass(run_day(0, markets=list(THREE)))
    union0 = first_markets(emu, 0, THREE)
    assert set(stored(data_dir, 0)["market"]) == set(THREE)

    second = run_day(1, markets=list(THREE))

    assert all_checks_pass(second)
    union1 = first_markets(emu, 1, THREE)
    totals0 = {a.id: a.total_tracks for a in emu.catalog.feed(0)}
    changed = {
        a.id for a in emu.catalog.feed(1) if a.id in union1 and totals0.get(a.id) != a.total_tracks
    }
    assert changed and len(changed) < len(union1) / 4
    listed = tracks_listed(emu)
    catalog = {a.id: a for a in emu.catalog.feed(1)}
    assert listed == {a: pages(catalog[a].total_tracks) for a in changed}
    by_endpoint = emu.stats()["by_endpoint"]
    feed_pages = sum(max(1, ceil(len(emu.catalog.feed(1, m)) / 10)) for m in THREE)
    assert by_endpoint["search"] == feed_pages
    assert emu.stats()["api_requests"] == feed_pages + sum(listed.values())
    assert meta(second)[names.ALBUMS_REUSED] == len(union1) - len(changed)
    day1 = stored(data_dir, 1)
    assert dict(zip(day1["album_id"], day1["market"], strict=True)) == union1
    assert {a for a, m in union0.items() if a in union1} and all(
        union1[a] == m for a, m in union0.items() if a in union1
    ), "an album keeps its markets, so its assignment, from day to day"

    swapped = ("SE", "US", "DE")
    reordered = run_day(1, markets=list(swapped))

    assert all_checks_pass(reordered)
    moved = {a for a, m in first_markets(emu, 1, swapped).items() if m != union1[a]}
    assert moved and all(union1[a] == "US" for a in moved)
    assert set(tracks_listed(emu)) == moved, "a copy fetched for US does not count for SE"
    assert set(stored(data_dir, 1).query("album_id in @moved")["market"]) == {"SE"}


def test_a_backfill_never_uses_a_later_copy(
    emu: EmulatorServer, run_day: Callable[..., ExecuteInProcessResult], data_dir: Path
) -> None:
    assert run_day(0).success
    assert run_day(1, selection=[new_releases]).success
    assert run_day(2).success
    later = fetched_at(stored(data_dir, 2))
    feed0 = {a.id: a for a in emu.catalog.feed(0)}
    feed1 = emu.catalog.feed(1)
    entered_day1 = {a.id for a in feed1 if a.id not in feed0}
    assert entered_day1 <= set(later), "the later day holds copies of day 1's new albums"

    backfill = run_day(1, selection=[album_tracks])

    assert all_checks_pass(backfill, checks=4)
    grown_day1 = {
        a.id for a in feed1 if a.id in feed0 and a.total_tracks != feed0[a.id].total_tracks
    }
    assert meta(backfill)[names.REUSED_FROM] == {str(BASE): ALBUMS - 5}
    assert set(tracks_listed(emu)) == entered_day1 | grown_day1
    rebuilt = fetched_at(stored(data_dir, 1))
    backfilled_at = datetime.combine(BASE + timedelta(days=1), time(6, 1), tzinfo=UTC)
    assert {rebuilt[album_id] for album_id in entered_day1} == {backfilled_at}
    assert all(later[album_id] != backfilled_at for album_id in entered_day1)


def test_a_day_whose_every_fetched_album_is_unknown_to_spotify_lists_them(
    emu: EmulatorServer, run_day: Callable[..., ExecuteInProcessResult]
) -> None:
    assert run_day(0).success
    day0 = {album.id: album.total_tracks for album in emu.catalog.feed(0)}
    to_fetch = [a.id for a in emu.catalog.feed(1) if day0.get(a.id) != a.total_tracks]
    # Every ask for them, retries included, answers 404.
    unknown = [Fault("album_tracks", "missing_album", album_id=a, times=99) for a in to_fetch]

    second = run_day(1, unknown)

    at = meta(second)
    assert (at[names.ALBUMS_FETCHED], at[names.ALBUMS_REUSED]) == (len(to_fetch), ALBUMS - 5)
    assert sorted(at[names.ALBUMS_UNKNOWN]) == sorted(to_fetch)
    assert at[names.TRACKS_ENDPOINT] == "album_tracks"
