"""Iceberg tables: the real assets materialized against the emulator with the Iceberg table format
(a SQLite catalog and a warehouse under a temporary data dir), re-run, run on another day, read
back with pyiceberg and DuckDB; the tables' writes and reads on their own; the settings."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import DagsterInstance, build_input_context
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform
from upath import UPath

from spotify_assets import settings
from spotify_assets.contract import names, schemas
from spotify_assets.defs.iceberg.io_manager import RUN_ID_PROPERTY, IcebergTablesIOManager
from spotify_assets.defs.iceberg.location import (
    FSSPEC_FILE_IO,
    file_io,
    file_io_properties,
    warehouse,
)
from spotify_assets.defs.iceberg.tables import (
    PARTITION_COLUMNS,
    PARTITION_PROPERTY,
    IcebergTables,
    replace_day,
)
from spotify_assets.defs.spotify import assets as assets_module
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.emulator import EmulatorServer
from spotify_assets.local.summary import summarize
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.e2e.queries import expected_rows
from spotify_assets_tests.pipeline.conftest import Materialize, partition_file
from spotify_assets_tests.pipeline.iceberg_runs import (
    duckdb_count,
    point_at,
    run_code_location,
    stored,
    tables,
)
from spotify_assets_tests.pipeline.test_materialize import metadata

ALBUMS = 12
TRACK_KEY = ["album_id", "disc_number", "track_number"]
ICEBERG_TYPES = {
    "date32[day]": "date",
    "string": "string",
    "int32": "int",
    "int64": "long",
    "bool": "boolean",
    "list<item: string>": "list<string>",
    "timestamp[us, tz=UTC]": "timestamptz",
}
"""The Iceberg type of each Arrow type of the contract."""


@pytest.fixture
def emu(emulator_factory: EmulatorFactory) -> EmulatorServer:
    """A small Development Mode catalog (search feed, one tracks listing per album)."""
    return emulator_factory(albums=ALBUMS, mode="development")


def snapshot_count(table: Table) -> int:
    """How many snapshots the table's history holds."""
    return len(table.snapshots())


def test_the_code_location_stores_both_assets_as_tables_with_the_contract_schema(
    emu: EmulatorServer,
    instance: DagsterInstance,
    data_dir: Path,
    run_assets: Materialize,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(data_dir.parent)  # a relative data dir, as SPOTIFY_ASSETS_DATA_DIR=data
    point_at(emu, data_dir.name, monkeypatch)

    result = run_code_location(instance)

    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    assert (data_dir / "_spotify_assets" / "iceberg.db").is_file()
    assert not any(data_dir.glob("*/*.parquet")), "Parquet files beside the tables"
    for asset, schema in schemas.SCHEMAS.items():
        table = stored(data_dir, asset)
        assert [(f.name, str(f.field_type), f.required) for f in table.schema().fields] == [
            (f.name, ICEBERG_TYPES[str(f.type)], not f.nullable) for f in schema
        ]
        assert [f.doc for f in table.schema().fields] == [
            f.metadata[b"description"].decode() for f in schema
        ]
        spec = [
            (table.schema().find_column_name(f.source_id), f.transform) for f in table.spec().fields
        ]
        partitioned = [c for c in PARTITION_COLUMNS[asset] if c in schema.names]
        assert spec == [(column, IdentityTransform()) for column in partitioned]
        assert table.location() == (data_dir / "iceberg" / "spotify" / asset).as_uri()
        at = metadata(result, asset)
        current = table.current_snapshot()
        assert current is not None and current.summary is not None
        assert {key: at[key] for key in (names.TABLE_NAME, names.STORAGE_KIND, names.URI)} == {
            names.TABLE_NAME: f"spotify.{asset}",
            names.STORAGE_KIND: "iceberg",
            names.URI: table.location(),
        }
        assert at[names.SNAPSHOT_ID] == str(current.snapshot_id)
        assert at[names.PARTITION_ROW_COUNT] == expected_rows(emu)[asset]
        assert current.summary.additional_properties[PARTITION_PROPERTY] == str(today())
        assert current.summary.additional_properties[RUN_ID_PROPERTY] == result.run_id
    tracks_snapshot = stored(data_dir, names.ALBUM_TRACKS).current_snapshot()
    assert tracks_snapshot is not None and tracks_snapshot.summary is not None
    where = f"spotify.album_tracks (snapshot {tracks_snapshot.snapshot_id})"
    assert where in summarize(result, "emulator").text

    releases = stored(data_dir, names.NEW_RELEASES).scan().to_arrow()
    tracks = stored(data_dir, names.ALBUM_TRACKS).scan().to_arrow()
    rows = expected_rows(emu)
    assert (len(releases), len(tracks)) == (rows[names.NEW_RELEASES], rows[names.ALBUM_TRACKS])
    assert sorted(releases["album_id"].to_pylist()) == sorted(a.id for a in emu.catalog.albums)
    assert duckdb_count(tracks) == rows[names.ALBUM_TRACKS]
    assert duckdb_count(releases, f"snapshot_date = DATE '{today()}'") == ALBUMS

    # The same run into Parquet: the tables hold the same rows with the same dtypes.
    assert run_assets(emu).success
    for asset in names.ASSETS:
        parquet = schemas.to_frame(
            pq.read_table(partition_file(data_dir, asset), schema=schemas.SCHEMAS[asset])
        )
        context = build_input_context(asset_key=asset, partition_key=str(today()))
        loaded = IcebergTablesIOManager(tables(data_dir)).load_input(context)
        pd.testing.assert_frame_equal(
            loaded.drop(columns="fetched_at"), parquet.drop(columns="fetched_at")
        )
        assert loaded["fetched_at"].dtype == parquet["fetched_at"].dtype


def test_a_rerun_of_the_day_replaces_its_partition_in_one_snapshot(
    emu: EmulatorServer, run_assets: Materialize, data_dir: Path
) -> None:
    assert run_assets(emu, table_format="iceberg").success
    first = {asset: stored(data_dir, asset) for asset in names.ASSETS}
    emu.reset()

    second = run_assets(emu, table_format="iceberg")

    assert second.success
    for asset, before in first.items():
        after = stored(data_dir, asset)
        assert (snapshot_count(before), snapshot_count(after)) == (1, 2)
        rows = after.scan().to_arrow()
        assert len(rows) == len(before.scan().to_arrow()) == expected_rows(emu)[asset]
        key = ["album_id"] if asset == names.NEW_RELEASES else TRACK_KEY
        assert not rows.to_pandas().duplicated(key).any()
        old, new = before.current_snapshot(), after.current_snapshot()
        assert old is not None and new is not None and new.parent_snapshot_id == old.snapshot_id
        assert new.summary is not None and new.summary.operation.value == "overwrite"
        changed = new.summary.additional_properties
        assert changed["deleted-records"] == changed["added-records"] == str(len(rows))
        assert metadata(second, asset)[names.SNAPSHOT_ID] == str(new.snapshot_id)
    releases_fetched = stored(data_dir, names.NEW_RELEASES).scan().to_arrow()["fetched_at"]
    assert set(releases_fetched.to_pylist()).isdisjoint(
        first[names.NEW_RELEASES].scan().to_arrow()["fetched_at"].to_pylist()
    )
    # The tracks of the day came from the table: no album was asked for again.
    assert metadata(second, names.ALBUM_TRACKS)[names.ALBUMS_REUSED] == ALBUMS
    assert emu.stats()["by_endpoint"]["album_tracks"] == 0


@pytest.fixture
def two_days(emu: EmulatorServer, run_assets: Materialize, monkeypatch: pytest.MonkeyPatch) -> date:
    """Both assets run into Iceberg for yesterday (on yesterday, as the assets see it), then for
    today; returns yesterday."""
    yesterday = today() - timedelta(days=1)
    with monkeypatch.context() as on_that_day:
        on_that_day.setattr(assets_module, "today", lambda: yesterday)
        assert run_assets(emu, day=yesterday, table_format="iceberg").success
    assert run_assets(emu, table_format="iceberg").success
    return yesterday


def test_another_day_adds_a_partition_and_leaves_the_first_as_it_was(
    emu: EmulatorServer, two_days: date, data_dir: Path
) -> None:
    yesterday, rows = two_days, expected_rows(emu)
    for asset in names.ASSETS:
        table = stored(data_dir, asset)
        first, second = sorted(table.snapshots(), key=lambda snapshot: snapshot.timestamp_ms)
        assert second.summary is not None
        assert "deleted-data-files" not in second.summary.additional_properties
        days = table.scan().to_arrow()["snapshot_date"].value_counts().to_pylist()
        assert {d["values"]: d["counts"] for d in days} == {
            yesterday: rows[asset],
            today(): rows[asset],
        }
        folders = sorted(p.name for p in (Path(UPath(table.location()).path) / "data").iterdir())
        assert folders == [f"snapshot_date={yesterday}", f"snapshot_date={today()}"]
        schema = schemas.SCHEMAS[asset]
        kept = tables(data_dir).read_day(asset, yesterday, schema)
        assert kept is not None
        assert kept.equals(table.scan(snapshot_id=first.snapshot_id).to_arrow().cast(schema))
        assert tables(data_dir).read_day(asset, yesterday - timedelta(days=1), schema) is None


def test_track_reuse_reads_a_day_s_rows_of_given_albums_with_the_filter_pushed_down(
    emu: EmulatorServer, two_days: date, data_dir: Path
) -> None:
    store, yesterday = tables(data_dir), two_days
    albums = {a.id: len(a.tracks) for a in emu.catalog.albums}
    first, second = list(albums)[:2]
    columns = ["album_id", "fetched_at", "is_playable"]

    found = store.read(names.ALBUM_TRACKS, yesterday, [first, second], columns)

    assert found is not None and found.market is None  # a day with the market column
    assert found.rows.schema == pa.schema([schemas.ALBUM_TRACKS.field(c) for c in columns])
    counted = found.rows.group_by("album_id").aggregate([("fetched_at", "count")]).to_pylist()
    assert {r["album_id"]: r["fetched_at_count"] for r in counted} == {
        first: albums[first],
        second: albums[second],
    }
    table = stored(data_dir, names.ALBUM_TRACKS)
    planned = list(table.scan(row_filter=f"snapshot_date = '{yesterday}'").plan_files())
    assert [task.file.partition[0] for task in planned] == [(yesterday - date(1970, 1, 1)).days]
    every_column = store.read(names.ALBUM_TRACKS, today(), [first], schemas.ALBUM_TRACKS.names)
    assert every_column is not None
    assert every_column.rows.schema == schemas.ALBUM_TRACKS
    nothing = store.read(names.ALBUM_TRACKS, today(), [], columns)
    assert nothing is not None and nothing.rows.num_rows == 0
    assert store.read(names.ALBUM_TRACKS, yesterday - timedelta(days=1), [first], columns) is None
    assert store.where(names.ALBUM_TRACKS, yesterday) == (
        f"spotify.album_tracks (snapshot_date = {yesterday})"
    )


def test_track_reuse_finds_no_day_before_anything_is_stored(tmp_path: Path) -> None:
    found = tables(tmp_path).read(names.ALBUM_TRACKS, today(), ["x"], ["album_id"])
    assert found is None


def versioned_day(day: date, version: int, rows: int) -> pa.Table:
    """`rows` tracks of `day`, every one saying which write (`version`) it came from."""
    return pa.Table.from_pylist(
        [
            {
                "snapshot_date": day,
                "album_id": f"album-{index}",
                "track_id": f"v{version}",
                "fetched_at": datetime(2026, 11, 1, tzinfo=UTC),
            }
            for index in range(rows)
        ],
        schema=schemas.ALBUM_TRACKS,
    )


def test_a_concurrent_reader_sees_the_old_day_or_the_new_one_never_neither_nor_half(
    tmp_path: Path,
) -> None:
    day, rows, writes = date(2026, 11, 20), 500, 8
    store = tables(tmp_path)
    table = store.table(names.ALBUM_TRACKS, schemas.ALBUM_TRACKS)
    replace_day(table, versioned_day(day, 0, rows), day)
    replace_day(table, versioned_day(day + timedelta(days=1), 0, 7), day + timedelta(days=1))
    seen: list[tuple[int, frozenset[str]]] = []
    read_once = threading.Condition()
    done = threading.Event()

    def read() -> None:
        reader = tables(tmp_path)
        while not done.is_set():
            found = reader.read(
                names.ALBUM_TRACKS, day, [f"album-{i}" for i in range(rows)], ["track_id"]
            )
            scanned = pa.table({"track_id": []}) if found is None else found.rows
            with read_once:
                seen.append((len(scanned), frozenset(scanned["track_id"].to_pylist())))
                read_once.notify()

    def wait_for_reads(more: int) -> None:
        with read_once:
            count = len(seen)
            assert read_once.wait_for(lambda: len(seen) >= count + more, timeout=60)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for version in range(1, writes + 1):
            wait_for_reads(1)  # the reader reads between any two writes, and before the first
            replace_day(table, versioned_day(day, version, rows), day)
        wait_for_reads(2)  # the second of them began after the last write
    finally:
        done.set()
        thread.join()

    assert len(seen) >= writes
    assert all(count == rows and len(versions) == 1 for count, versions in seen), seen
    assert seen[0][1] == {"v0"} and seen[-1][1] == {f"v{writes}"}
    history = stored(tmp_path, names.ALBUM_TRACKS)
    for snapshot in history.snapshots():  # time travel: every snapshot holds whole days
        at = history.scan(snapshot_id=snapshot.snapshot_id).to_arrow()
        counts = at["snapshot_date"].value_counts().to_pylist()
        assert {c["values"]: c["counts"] for c in counts}.get(day) == rows


@pytest.mark.parametrize("stored_before", [False, True], ids=["new day", "stored day"])
def test_of_two_writes_of_one_day_at_once_the_second_is_refused_and_the_day_stays_whole(
    tmp_path: Path, stored_before: bool
) -> None:
    day = date(2026, 11, 20)
    store = tables(tmp_path)
    store.table(names.ALBUM_TRACKS, schemas.ALBUM_TRACKS)
    if stored_before:
        replace_day(
            store.table(names.ALBUM_TRACKS, schemas.ALBUM_TRACKS), versioned_day(day, 0, 4), day
        )
    first, second = (store.table(names.ALBUM_TRACKS, schemas.ALBUM_TRACKS) for _ in range(2))
    replace_day(first, versioned_day(day, 1, 4), day)

    with pytest.raises(
        RuntimeError,
        match=r"Another write replaced 2026-11-20 of spotify.album_tracks while this one",
    ):
        replace_day(second, versioned_day(day, 2, 4), day)

    rows = stored(tmp_path, names.ALBUM_TRACKS).scan().to_arrow()
    assert rows["track_id"].to_pylist() == ["v1"] * 4


def test_writes_of_different_days_at_once_all_land(tmp_path: Path) -> None:
    days = [date(2026, 11, 20), date(2026, 11, 21)]
    store = tables(tmp_path)
    first, second = (store.table(names.ALBUM_TRACKS, schemas.ALBUM_TRACKS) for _ in days)
    replace_day(first, versioned_day(days[0], 1, 3), days[0])
    replace_day(second, versioned_day(days[1], 1, 5), days[1])  # based on a table without day 1

    rows = stored(tmp_path, names.ALBUM_TRACKS).scan().to_arrow()
    counts = rows["snapshot_date"].value_counts().to_pylist()
    assert {c["values"]: c["counts"] for c in counts} == {days[0]: 3, days[1]: 5}


def test_a_day_is_refused_when_rows_of_another_day_would_leak_into_it(tmp_path: Path) -> None:
    day = date(2026, 11, 20)
    table = tables(tmp_path).table(names.ALBUM_TRACKS, schemas.ALBUM_TRACKS)
    replace_day(table, versioned_day(day, 0, 3), day)
    mixed = pa.concat_tables(
        [versioned_day(day, 1, 2), versioned_day(day + timedelta(days=1), 1, 1)]
    )

    with pytest.raises(ValueError, match=r"\['2026-11-21'\] rows as partition 2026-11-20"):
        replace_day(table, mixed, day)

    assert snapshot_count(stored(tmp_path, names.ALBUM_TRACKS)) == 1


def test_an_empty_day_is_stored_and_loads_as_an_empty_frame(tmp_path: Path) -> None:
    day = date(2026, 11, 20)
    store = tables(tmp_path)
    table = store.table(names.ALBUM_TRACKS, schemas.ALBUM_TRACKS)
    replace_day(table, versioned_day(day, 0, 3), day)
    replace_day(table, versioned_day(day, 1, 0), day)

    empty = store.read_day(names.ALBUM_TRACKS, day, schemas.ALBUM_TRACKS)
    assert empty is not None and empty.num_rows == 0 and empty.schema == schemas.ALBUM_TRACKS
    assert store.read_day(names.ALBUM_TRACKS, day + timedelta(days=1), schemas.ALBUM_TRACKS) is None


def test_loading_a_day_never_stored_names_the_table_and_what_to_do(tmp_path: Path) -> None:
    manager = IcebergTablesIOManager(tables(tmp_path))
    context = build_input_context(asset_key=names.NEW_RELEASES, partition_key="2026-11-20")
    with pytest.raises(
        FileNotFoundError,
        match=r"No stored new_releases for 2026-11-20 in Iceberg table spotify.new_releases: ",
    ):
        manager.load_input(context)


def test_a_table_written_before_the_contract_grew_gets_market_and_a_file_per_market(
    tmp_path: Path,
) -> None:
    day = date(2026, 11, 20)
    grown = schemas.NEW_RELEASES
    old_schema = pa.schema([f for f in grown if f.name not in ("market", "image_url")])
    store = tables(tmp_path)
    old = store.table(names.NEW_RELEASES, old_schema)
    replace_day(old, old_schema.empty_table(), day)

    table = store.table(names.NEW_RELEASES, grown)

    assert [f.name for f in table.schema().fields] == [*old_schema.names, "market", "image_url"]
    spec = [table.schema().find_column_name(f.source_id) for f in table.spec().fields]
    assert spec == ["snapshot_date", "market"]
    feeds = {"US": ["a", "b"], "SE": ["b"], "DE": ["c", "a", "b"]}
    rows = pa.Table.from_pylist(
        [
            {
                "snapshot_date": day,
                "market": market_code,
                "position": position,
                "album_id": album_id,
                "source": "search",
                "fetched_at": datetime(2026, 11, 20, tzinfo=UTC),
            }
            for market_code, album_ids in feeds.items()
            for position, album_id in enumerate(album_ids, start=1)
        ],
        schema=grown,
    )
    replace_day(table, rows, day)
    replace_day(table, rows, day)  # a re-run: one file per market out, one per market in

    current = stored(tmp_path, names.NEW_RELEASES).current_snapshot()
    assert current is not None and current.summary is not None
    changed = current.summary.additional_properties
    assert (changed["deleted-data-files"], changed["added-data-files"]) == ("3", "3")
    back = store.read_day(names.NEW_RELEASES, day, grown)
    assert back is not None and back.schema == grown
    order = ["market", "position"]
    assert back.sort_by([(c, "ascending") for c in order]).equals(
        rows.sort_by([(c, "ascending") for c in order])
    )
    us = stored(tmp_path, names.NEW_RELEASES).scan(row_filter="market = 'US'").plan_files()
    assert [task.file.record_count for task in us] == [2]


def test_object_storage_needs_a_catalog_uri_and_says_which_variable() -> None:
    store = IcebergTables(UPath("s3://bucket/data"))
    with pytest.raises(ValueError, match=f"set {settings.ICEBERG_CATALOG_URI} to a SQLAlchemy URL"):
        _ = store.catalog
    assert warehouse(UPath("s3://bucket/data/")) == "s3://bucket/data/iceberg"


def test_the_settings_read_the_table_format_catalog_and_namespace() -> None:
    assert settings.Settings.from_environ({}).table_format == "parquet"
    chosen = settings.Settings.from_environ({settings.TABLE_FORMAT: " Iceberg "})
    assert (chosen.table_format, chosen.iceberg_catalog_uri_set, chosen.iceberg_namespace) == (
        "iceberg",
        False,
        "spotify",
    )
    with pytest.raises(
        ValueError,
        match=r"SPOTIFY_ASSETS_TABLE_FORMAT='delta' is not a table format: use parquet or "
        r"iceberg \(unset: parquet\)",
    ):
        settings.Settings.from_environ({settings.TABLE_FORMAT: "delta"})
    uri = "postgresql+psycopg2://user:secret@db:5432/iceberg"
    given = settings.Settings.from_environ(
        {
            settings.TABLE_FORMAT: "iceberg",
            settings.DATA_DIR: "s3://bucket/prefix",
            settings.ICEBERG_CATALOG_URI: uri,
            settings.ICEBERG_NAMESPACE: "catalog_data",
        }
    )
    assert (given.iceberg_catalog_uri_set, given.iceberg_namespace) == (True, "catalog_data")
    assert uri not in repr(given)
    assert settings.Settings.from_environ({settings.DATA_DIR: "s3://b/p"}).table_format == "parquet"
    assert settings.is_local("file:///srv/data") and not settings.is_local("s3://b/p")


def test_s3fs_storage_options_become_pyiceberg_file_io_properties() -> None:
    options = {
        "key": "K",
        "secret": "S",
        "token": "T",
        "client_kwargs": {"region_name": "eu-north-1", "endpoint_url": "http://127.0.0.1:9000"},
        "config_kwargs": {"s3": {"addressing_style": "path"}},
        "anon": False,
    }
    assert file_io_properties(options) == {
        "s3.access-key-id": "K",
        "s3.secret-access-key": "S",
        "s3.session-token": "T",
        "s3.endpoint": "http://127.0.0.1:9000",
        "s3.region": "eu-north-1",
        "s3.anonymous": "false",
        "s3.force-virtual-addressing": "false",
    }
    assert file_io_properties({"endpoint_url": "http://e"}) == {"s3.endpoint": "http://e"}


def test_object_storage_is_reached_through_fsspec_like_the_parquet_files(tmp_path: Path) -> None:
    on_s3 = file_io(UPath("s3://bucket/data", endpoint_url="http://127.0.0.1:9000"))
    assert on_s3 == {"s3.endpoint": "http://127.0.0.1:9000", "py-io-impl": FSSPEC_FILE_IO}
    assert file_io(UPath(tmp_path)) == {}
