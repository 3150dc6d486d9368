"""Running the asset graph against an emulator into a temporary data folder, and what it stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetsDefinition, DagsterInstance, ExecuteInProcessResult, materialize

from spotify_assets.defs.io_manager import IO_MANAGER, ParquetIOManager
from spotify_assets.defs.spotify.assets import album_tracks, new_releases
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.defs.spotify.resources import SpotifyResource
from spotify_assets.defs.spotify.reuse import TRACK_REUSE, TrackReuse
from spotify_assets.emulator import EmulatorServer

Materialize = Callable[..., ExecuteInProcessResult]


def partition_file(data_dir: Path, asset: str, day: date | None = None) -> Path:
    """Where the IO manager stores `asset`'s partition of `day` (today by default)."""
    return data_dir / asset / f"{(day or today())}.parquet"


def check_results(result: ExecuteInProcessResult) -> dict[str, bool]:
    """`{"asset.check": passed}` for every check evaluated in the run."""
    return {
        f"{e.asset_key.path[-1]}.{e.check_name}": e.passed
        for e in result.get_asset_check_evaluations()
    }


def spotify_resource(emu: EmulatorServer, **settings: Any) -> SpotifyResource:
    """The real resource, pointed at the emulator."""
    defaults = {
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "api_base_url": emu.api_base_url,
        "token_url": emu.token_url,
    }
    return SpotifyResource(**{**defaults, **settings})


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    """An ephemeral Dagster instance, so runs of one test can see each other."""
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Where the test's Parquet files go."""
    return tmp_path / "data"


@pytest.fixture
def run_assets(data_dir: Path, instance: DagsterInstance) -> Materialize:
    """`run_assets(emu, day=..., selection=..., reuse_max_age_days=7, base_path=None,
    **resource_settings)`: materialize into data_dir (or base_path, any fsspec URL), the track
    reuse reading where the IO manager writes."""

    def run(
        emu: EmulatorServer,
        *,
        day: date | None = None,
        selection: Sequence[AssetsDefinition] = (new_releases, album_tracks),
        reuse_max_age_days: int = 7,
        base_path: str | None = None,
        **settings: Any,
    ) -> ExecuteInProcessResult:
        storage = base_path or str(data_dir)
        return materialize(
            [new_releases, album_tracks],
            selection=list(selection),
            partition_key=(day or today()).isoformat(),
            resources={
                "spotify": spotify_resource(emu, **settings),
                IO_MANAGER: ParquetIOManager(base_path=storage),
                TRACK_REUSE: TrackReuse(base_path=storage, max_age_days=reuse_max_age_days),
            },
            instance=instance,
            raise_on_error=False,
        )

    return run
