"""Helpers of the track reuse tests: simulated days and what a run stored and spent."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, tzinfo
from math import ceil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from dagster import AssetKey, ExecuteInProcessResult

from spotify_assets.contract import names
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.emulator import EmulatorServer
from spotify_assets_tests.pipeline.conftest import partition_file

BASE = today() - timedelta(days=6)
"""Feed day 0 is this partition; feed day k is BASE + k days (all before or on today)."""


class SimulatedClock(datetime):
    """What `datetime.now` answers in the assets module while a simulated day runs."""

    moment = datetime(2026, 11, 1, tzinfo=UTC)

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> SimulatedClock:
        """The simulated moment (in UTC, which is what the assets ask for)."""
        return cls.fromtimestamp(cls.moment.timestamp(), tz)


def meta(result: ExecuteInProcessResult) -> dict[str, Any]:
    """Raw metadata values of album_tracks' materialization in the run."""
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == AssetKey(names.ALBUM_TRACKS)
    ]
    entries = event.step_materialization_data.materialization.metadata
    return {key: getattr(value, "value", value) for key, value in entries.items()}


def all_checks_pass(result: ExecuteInProcessResult, checks: int = 7) -> bool:
    """The run succeeded and evaluated `checks` checks (7: both assets', 4: album_tracks'),
    every one passing."""
    evaluations = result.get_asset_check_evaluations()
    return result.success and len(evaluations) == checks and all(e.passed for e in evaluations)


def tracks_listed(emu: EmulatorServer) -> Counter[str]:
    """`/albums/{id}/tracks` requests the emulator served since its last reset, by album."""
    return Counter(
        entry["path"].split("/")[-2]
        for entry in emu.stats()["log"]
        if entry["endpoint"] == "album_tracks"
    )


def pages(total_tracks: int) -> int:
    """Requests one album costs through /albums/{id}/tracks (50 tracks a page)."""
    return max(1, ceil(total_tracks / 50))


def stored_path(data_dir: Path, feed_day: int) -> Path:
    """The file of the stored album_tracks partition of feed day `feed_day`."""
    return partition_file(data_dir, names.ALBUM_TRACKS, BASE + timedelta(days=feed_day))


def stored(data_dir: Path, feed_day: int) -> pd.DataFrame:
    """The stored album_tracks partition of feed day `feed_day`."""
    return pd.read_parquet(stored_path(data_dir, feed_day), dtype_backend="pyarrow")


def as_before_the_market_column(path: Path, market: bytes | None) -> None:
    """Rewrite a stored album_tracks file as it was written before the market column: without
    the column, its market in the key-value metadata (older still: `market` None, no metadata)."""
    table = pq.read_table(path).drop_columns([names.MARKET])
    pq.write_table(
        table.replace_schema_metadata(None if market is None else {names.PARQUET_MARKET: market}),
        path,
    )


def fetched_at(frame: pd.DataFrame) -> dict[str, datetime]:
    """When each album's stored tracks were fetched."""
    return {str(a): t for a, t in frame.groupby("album_id")["fetched_at"].max().items()}
