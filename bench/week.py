"""W7 (issue 10): a week of daily runs of the Dagster assets on the emulator's rolling feed.

Every simulated day both assets are materialized twice, each arm into a data folder of its own:
with track reuse (album_tracks takes an album's tracks from a recent stored copy) and with reuse
off (every album fetched, what a full fetch of the day costs). The emulator counts each run's
requests; the two arms' album_tracks of a day must hold the same rows (apart from fetched_at).
The assets see the simulated day through `today`, patched where the assets module imported it.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow.parquet as pq
from dagster import DagsterEvent, DagsterInstance, materialize

from bench.workloads import Workload, min_requests
from spotify_assets.contract import names
from spotify_assets.defs.app_memory import DataFolderStore
from spotify_assets.defs.io_manager import IO_MANAGER, ParquetIOManager
from spotify_assets.defs.spotify import assets
from spotify_assets.defs.spotify.resources import SpotifyResource
from spotify_assets.defs.spotify.reuse import DEFAULT_MAX_AGE_DAYS, TRACK_REUSE, TrackReuse
from spotify_assets.defs.storage import DataStorage
from spotify_assets.emulator import EmulatorConfig, EmulatorServer
from spotify_assets.spotify import ClientConfig, SpotifyClient

DAYS = 7
TURNOVER = 0.1  # a tenth of the feed is new each day
TRACK_CHANGES = 1  # one album a day changes its track count
W7 = Workload("W7", albums=1000, mode="development", latency_ms=10)
REUSE, FULL = "reuse", "reuse off"
ARMS = {REUSE: DEFAULT_MAX_AGE_DAYS, FULL: 0}
"""Arm name -> TrackReuse.max_age_days (the default, and 0: off)."""
IGNORED_COLUMNS = ("fetched_at",)
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
"""Dagster's console log of each run only for errors, so the bench's own lines stay readable."""


@dataclass(frozen=True)
class DayRun:
    """One arm's run of one simulated day: requests the emulator counted, wall time, outcome."""

    requests: int
    wall_s: float
    error: str | None
    failed_checks: tuple[str, ...]


@dataclass(frozen=True)
class Day:
    """One simulated day: its feed, the fewest requests a full fetch needs, and both arms."""

    number: int
    date: date
    albums: int
    min_requests: int
    runs: dict[str, DayRun]
    difference: str | None
    """Why the arms' album_tracks differ (None when they hold the same rows)."""


def config() -> EmulatorConfig:
    """The week's emulator: W7's catalog and mode, 10 % new albums, one track change a day."""
    return EmulatorConfig(
        albums=W7.albums,
        mode=W7.mode,
        latency_ms=W7.latency_ms,
        feed_turnover=TURNOVER,
        feed_track_changes=TRACK_CHANGES,
    )


def run_week(days: int = DAYS) -> list[Day]:
    """The week, day by day, both arms each day; days end with the real today (valid partitions).

    Each arm's app memory is warmed before day 1 (the browse 403 of a Development Mode app is
    then known, as on every day but those of the memory's weekly re-probe), so day 1 measures
    the data, not the probe.
    """
    found: list[Day] = []
    for emu, number, day, folders, runs in days_of(config(), days):
        found.append(
            Day(
                number=number,
                date=day,
                albums=len(emu.catalog.albums),
                min_requests=min_requests(W7, emu.catalog),
                runs=runs,
                difference=difference(folders, day),
            )
        )
        progress(W7.name, found[-1])
    return found


WeekDay = tuple[EmulatorServer, int, date, dict[str, Path], dict[str, DayRun]]
"""One simulated day after both arms ran: the emulator (on that day's feed), the day's number
and date, each arm's folder and run."""


def days_of(
    emulator: EmulatorConfig, days: int, spotify_fields: Mapping[str, Any] | None = None
) -> Iterator[WeekDay]:
    """Run the week on an emulator of `emulator`: each day both arms, each into its own folder
    with its app memory warmed before day 1, then the day for the caller to judge."""
    first = first_day(days)
    with (
        EmulatorServer(emulator) as emu,
        tempfile.TemporaryDirectory(prefix="bench-week-") as tmp,
        DagsterInstance.ephemeral() as instance,
    ):
        folders = {arm: Path(tmp) / arm.replace(" ", "-") for arm in ARMS}
        for folder in folders.values():
            warm_memory(emu, DataStorage(data_dir=str(folder / "data")))
        for number in range(1, days + 1):
            day = first + timedelta(days=number - 1)
            emu.configure(feed_day=number - 1)
            runs = {
                arm: run_day(emu, instance, day, folder, ARMS[arm], spotify_fields=spotify_fields)
                for arm, folder in folders.items()
            }
            yield emu, number, day, folders, runs


def first_day(days: int) -> date:
    """The first simulated day of a week of `days` that ends today (valid partitions)."""
    return datetime.now(UTC).date() - timedelta(days=days - 1)


def warm_memory(emu: EmulatorServer, storage: DataStorage) -> None:
    """Let a client learn what the app may not use, into the arm's memory (requests not counted)."""
    client_config = ClientConfig(emu.client_id, emu.client_secret, emu.api_base_url, emu.token_url)
    logging.disable(logging.WARNING)  # the client's warning that it falls back to search
    try:
        with SpotifyClient(client_config, memory=DataFolderStore(storage)) as client:
            client.new_releases()
    finally:
        logging.disable(logging.NOTSET)
    emu.reset()


def run_day(
    emu: EmulatorServer,
    instance: DagsterInstance,
    day: date,
    folder: Path,
    max_age_days: int,
    *,
    spotify_fields: Mapping[str, Any] | None = None,
) -> DayRun:
    """Materialize both assets for `day` into the arm's folder; what the emulator counted.

    `spotify_fields` are more fields of the Spotify resource (W10: its markets)."""
    emu.reset()
    data = DataStorage(data_dir=str(folder / "data"))
    spotify = SpotifyResource(
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        api_base_url=emu.api_base_url,
        token_url=emu.token_url,
        storage=data,
        **(spotify_fields or {}),
    )
    start = time.perf_counter()
    with _today(day):
        result = materialize(
            [assets.new_releases, assets.album_tracks],
            partition_key=day.isoformat(),
            resources={
                "spotify": spotify,
                IO_MANAGER: ParquetIOManager(storage=data),
                TRACK_REUSE: TrackReuse(storage=data, max_age_days=max_age_days),
            },
            instance=instance,
            run_config=QUIET,
            raise_on_error=False,
        )
    wall_s = time.perf_counter() - start
    error = None if result.success else _failure(result.all_events)
    failed = tuple(
        f"{check.asset_key.to_user_string()}.{check.check_name}"
        for check in result.get_asset_check_evaluations()
        if not check.passed
    )
    return DayRun(int(emu.stats()["api_requests"]), wall_s, error, failed)


@contextmanager
def _today(day: date) -> Iterator[None]:
    """The assets' `today` returns the simulated day."""
    with mock.patch.object(assets, "today", return_value=day):
        yield


def _failure(events: Sequence[DagsterEvent]) -> str:
    """The first failure a run's events report."""
    for event in events:
        if event.is_failure:
            return str(event.message or event.event_type_value)
    return "the run failed without a failure event"


def difference(folders: Mapping[str, Path], day: date) -> str | None:
    """Why the two arms' album_tracks of `day` differ (fetched_at aside), None when they do not."""
    name = f"data/{names.ALBUM_TRACKS}/{day.isoformat()}.parquet"
    paths = [folders[arm] / name for arm in ARMS]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        return f"no file {', '.join(missing)}"
    reused, fetched = (pq.read_table(path).drop_columns(list(IGNORED_COLUMNS)) for path in paths)
    if reused.equals(fetched):
        return None
    if reused.num_rows != fetched.num_rows:
        return f"{reused.num_rows:,} rows with reuse, {fetched.num_rows:,} in the full fetch"
    columns = [c for c in reused.column_names if not reused[c].equals(fetched[c])]
    return f"columns {', '.join(columns) or '(schema)'} differ from the full fetch"


def progress(name: str, day: Day) -> None:
    """One line on stderr per day, so the week shows where it is."""
    runs = "  ".join(
        f"{arm} {run.requests:>5} requests {run.wall_s:6.2f} s{' FAILED' if run.error else ''}"
        for arm, run in day.runs.items()
    )
    same = "same rows" if day.difference is None else f"DIFFERENT: {day.difference}"
    print(f"  {name:<6} day {day.number} {day.date}  {runs}  {same}", file=sys.stderr, flush=True)
