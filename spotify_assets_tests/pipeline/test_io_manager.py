"""The Parquet IO manager: atomic writes, any fsspec URL, the schema as the contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, build_input_context, build_output_context, materialize
from upath import UPath

from spotify_assets.contract import schemas
from spotify_assets.defs import io_manager
from spotify_assets.defs.io_manager import write_parquet_atomically
from spotify_assets.defs.spotify.assets import album_tracks, new_releases
from spotify_assets.defs.spotify.partitions import today
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.pipeline.conftest import resources


def small_table(value: str) -> pa.Table:
    return pa.table({"name": [value] * 1000})


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_debris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = UPath(tmp_path / "asset" / "2026-11-24.parquet")
    target.parent.mkdir(parents=True)
    write_parquet_atomically(small_table("old"), target)

    def crash_half_way(table: pa.Table, sink: Any, **kwargs: Any) -> None:
        sink.write(b"PAR1" + b"\0" * 4096)
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash_half_way)
    with pytest.raises(OSError, match="disk full"):
        write_parquet_atomically(small_table("new"), target)

    assert pq.read_table(target.path).column("name")[0].as_py() == "old"
    assert sorted(p.name for p in (tmp_path / "asset").iterdir()) == ["2026-11-24.parquet"]


def test_a_frame_that_breaks_the_contract_is_refused_before_writing(tmp_path: Path) -> None:
    manager = io_manager.ParquetUPathIOManager(UPath(tmp_path), schemas.SCHEMAS)
    context = build_output_context(asset_key="new_releases", partition_key=str(today()))
    wrong = pd.DataFrame({"album_id": ["x"]})
    with pytest.raises(KeyError, match="snapshot_date"):
        manager.dump_to_path(context, wrong, UPath(tmp_path / "x.parquet"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("asset", sorted(schemas.SCHEMAS))
def test_a_file_written_before_the_market_column_loads_with_null_markets(
    asset: str, tmp_path: Path
) -> None:
    schema = schemas.SCHEMAS[asset]
    old_schema = schema.remove(schema.get_field_index("market"))
    row = {
        "snapshot_date": today(),
        "position": 1,
        "album_id": "A",
        "source": "search",
        "fetched_at": pd.Timestamp("2026-11-24T06:00:00Z").to_pydatetime(),
    }
    path = UPath(tmp_path / asset / f"{today()}.parquet")
    path.parent.mkdir()
    pq.write_table(pa.Table.from_pylist([row], schema=old_schema), path.path)
    manager = io_manager.ParquetUPathIOManager(UPath(tmp_path), schemas.SCHEMAS)
    context = build_input_context(asset_key=AssetKey(asset), partition_key=str(today()))

    frame = manager.load_from_path(context, path)

    assert frame.columns.tolist() == schema.names
    assert frame["market"].isna().all() and str(frame["market"].dtype) == "string"
    assert frame["album_id"].tolist() == ["A"]


def test_object_storage_urls_work_like_folders(emulator_factory: EmulatorFactory) -> None:
    emu = emulator_factory(albums=6)
    result = materialize(
        [new_releases, album_tracks],
        partition_key=today().isoformat(),
        resources=resources(emu, "memory://lakehouse/spotify"),
    )
    assert result.success
    memory = fsspec.filesystem("memory")
    for asset, schema in (
        ("new_releases", schemas.NEW_RELEASES),
        ("album_tracks", schemas.ALBUM_TRACKS),
    ):
        stored = memory.ls(f"/lakehouse/spotify/{asset}", detail=False)
        assert stored == [f"/lakehouse/spotify/{asset}/{today()}.parquet"]
        with memory.open(stored[0], "rb") as handle:
            assert pq.read_schema(handle).names == schema.names
    memory.rm("/lakehouse", recursive=True)
