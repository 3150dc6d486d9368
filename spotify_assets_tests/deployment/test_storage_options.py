"""Storage options set once reach everything that stores: the IO manager, track reuse, app memory.

The code location's own job runs against SeaweedFS with the server's endpoint and keys given only
as run config of the `data_storage` resource: this process has no AWS_* variable, so a part that
ignored those options could reach neither the endpoint nor the bucket. With the Iceberg table
format the tables' warehouse is in the bucket too (the catalog in a SQLite file here).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dagster import DagsterInstance, ExecuteInProcessResult

from spotify_assets import settings
from spotify_assets.contract import names
from spotify_assets.definitions import defs
from spotify_assets.defs.app_memory import FOLDER
from spotify_assets.defs.iceberg.location import WAREHOUSE_FOLDER
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.defs.spotify.schedules import DAILY_JOB_NAME
from spotify_assets.defs.storage import DATA_STORAGE
from spotify_assets.emulator import EmulatorServer
from spotify_assets.spotify.memory import FILE_NAME
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.deployment.seaweedfs import S3Server

PREFIX = "storage-options"


def run_daily(s3: S3Server, instance: DagsterInstance) -> ExecuteInProcessResult:
    """Today's partition of the daily job, the storage options given once, in run config."""
    options = {DATA_STORAGE: {"config": {"storage_options": s3.storage_options()}}}
    return (
        defs()
        .resolve_job_def(DAILY_JOB_NAME)
        .execute_in_process(
            partition_key=today().isoformat(),
            run_config={"resources": options},
            instance=instance,
            raise_on_error=False,
        )
    )


def point_at(
    emu: EmulatorServer,
    data_url: str,
    monkeypatch: pytest.MonkeyPatch,
    **variables: str,
) -> None:
    """The code location's environment: the emulator, the bucket, `variables`, and no AWS_*
    variable."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv(settings.CLIENT_ID, emu.client_id)
    monkeypatch.setenv(settings.CLIENT_SECRET, emu.client_secret)
    monkeypatch.setenv(settings.API_BASE_URL, emu.api_base_url)
    monkeypatch.setenv(settings.TOKEN_URL, emu.token_url)
    monkeypatch.setenv(settings.DATA_DIR, data_url)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(params=settings.TABLE_FORMATS)
def table_format(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The variables of each table format (Iceberg: a SQLite catalog in a file of the test)."""
    chosen: settings.TableFormat = request.param
    if chosen == "parquet":
        return {settings.TABLE_FORMAT: chosen}
    catalog = f"sqlite:///{tmp_path / 'catalog.db'}"
    return {settings.TABLE_FORMAT: chosen, settings.ICEBERG_CATALOG_URI: catalog}


def test_storage_options_given_once_reach_the_io_manager_reuse_and_app_memory(
    table_format: dict[str, str],
    s3_server: S3Server,
    emulator_factory: EmulatorFactory,
    monkeypatch: pytest.MonkeyPatch,
    capability_cache: Path,
) -> None:
    emu = emulator_factory(albums=8, mode="development")
    iceberg = table_format[settings.TABLE_FORMAT] == "iceberg"
    root = f"{s3_server.bucket}/{PREFIX}-{table_format[settings.TABLE_FORMAT]}"
    point_at(emu, f"s3://{root}", monkeypatch, **table_format)
    bucket = s3_server.filesystem()

    with DagsterInstance.ephemeral() as instance:
        first = run_daily(s3_server, instance)
        assert first.success
        for asset in names.ASSETS:  # written by the IO manager
            if iceberg:
                assert bucket.find(f"{root}/{WAREHOUSE_FOLDER}/spotify/{asset}/data/")
            else:
                assert bucket.exists(f"{root}/{asset}/{today()}.parquet")
        memory = json.loads(bucket.cat_file(f"{root}/{FOLDER}/{FILE_NAME}"))
        [learned] = memory.values()  # kept by the app memory
        assert set(learned["forbidden"]) == {"browse", "albums"}
        assert list(capability_cache.iterdir()) == []
        emu.reset()

        second = run_daily(s3_server, instance)

    assert second.success
    served = emu.stats()["by_endpoint"]
    assert served["new_releases"] == 0, "the app memory in the bucket was not read"
    assert served["album_tracks"] == 0, "track reuse did not read the copies in the bucket"
    [tracks] = [
        event.step_materialization_data.materialization.metadata
        for event in second.get_asset_materialization_events()
        if event.asset_key is not None and event.asset_key.path == [names.ALBUM_TRACKS]
    ]
    assert tracks[names.ALBUMS_REUSED].value == 8
