"""Running the asset graph against an emulator into a temporary data folder, and what it stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetsDefinition, DagsterInstance, ExecuteInProcessResult, materialize

from spotify_assets import settings
from spotify_assets.defs.spotify.assets import album_tracks, new_releases
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.defs.spotify.resources import (
    SPOTIFY,
    SpotifyResource,
    TableFormatConfig,
    storing,
)
from spotify_assets.defs.storage import DATA_STORAGE, DataStorage
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


def resources(
    emu: EmulatorServer,
    data_dir: str | Path,
    *,
    storage_options: dict[str, Any] | None = None,
    reuse_max_age_days: int = 7,
    table_format: settings.TableFormat = "parquet",
    **client: Any,
) -> dict[str, Any]:
    """The code location's resources on the emulator, wired as the code location wires them:
    one data storage (`data_dir`, any fsspec URL, and its options) that the IO manager of
    `table_format`, track reuse and the Spotify resource's app memory all take, open to run
    config (Iceberg: the default SQLite catalog under a local `data_dir`)."""
    storage = DataStorage.configure_at_launch(
        data_dir=str(data_dir), storage_options=storage_options or {}
    )
    emulated = {
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "api_base_url": emu.api_base_url,
        "token_url": emu.token_url,
    }
    return {
        DATA_STORAGE: storage,
        **storing(storage, TableFormatConfig(table_format), reuse_max_age_days),
        SPOTIFY: SpotifyResource(storage=storage, **{**emulated, **client}),
    }


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
    run_config=None, table_format="parquet", **resource_settings)`: materialize into data_dir
    (or base_path, any fsspec URL), the track reuse and the app memory using the same storage as
    the IO manager."""

    def run(
        emu: EmulatorServer,
        *,
        day: date | None = None,
        selection: Sequence[AssetsDefinition] = (new_releases, album_tracks),
        reuse_max_age_days: int = 7,
        base_path: str | None = None,
        run_config: dict[str, Any] | None = None,
        table_format: settings.TableFormat = "parquet",
        **client: Any,
    ) -> ExecuteInProcessResult:
        return materialize(
            [new_releases, album_tracks],
            selection=list(selection),
            partition_key=(day or today()).isoformat(),
            resources=resources(
                emu,
                base_path or data_dir,
                reuse_max_age_days=reuse_max_age_days,
                table_format=table_format,
                **client,
            ),
            run_config=run_config,
            instance=instance,
            raise_on_error=False,
        )

    return run
