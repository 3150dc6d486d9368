"""The production topology end to end: PostgreSQL, S3 (SeaweedFS), code server, daemon, webserver.

Two runs of spotify_daily for today are launched at once through the webserver's GraphQL API,
the way two clicks (or a click and the schedule) would; the spotify_api pool lets one run at a time.
A `dg launch` from an operator's shell records its run on the same instance, but executes it in
its own process, without the queue or the pool. Every test runs on a stack of each table format:
Parquet files in the bucket, and Iceberg tables (catalog in the instance's PostgreSQL, warehouse
in the bucket).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from dagster import EventLogEntry, deserialize_value
from upath import UPath

from spotify_assets import settings
from spotify_assets.contract import names
from spotify_assets.defs.iceberg.location import CATALOG_NAME
from spotify_assets.defs.iceberg.tables import IcebergTables
from spotify_assets.defs.spotify import checks
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.defs.spotify.schedules import DAILY_JOB_NAME
from spotify_assets_tests.conftest import SUPERSEDED, project_in
from spotify_assets_tests.deployment.conftest import ProductionStack
from spotify_assets_tests.deployment.dagster_services import CLI_TIMEOUT_S
from spotify_assets_tests.deployment.runs import (
    RunHistory,
    launch_daily_run,
    seen_together,
    watch,
)
from spotify_assets_tests.e2e.queries import expected_rows
from spotify_assets_tests.pipeline.iceberg_runs import OFFLINE_DUCKDB

ASSETS = (names.NEW_RELEASES, names.ALBUM_TRACKS)
CHECK_NAMES = {
    names.NEW_RELEASES: {spec.name for spec in checks.NEW_RELEASES_CHECKS},
    names.ALBUM_TRACKS: {spec.name for spec in checks.ALBUM_TRACKS_CHECKS},
}
BROWSE = "new_releases"
"""The emulator's name for GET /v1/browse/new-releases in its request counters."""
DG = Path(sys.executable).parent / "dg"
COMPUTE_LOGS_PREFIX = "dagster/compute-logs"
"""Where spotify_assets/deploy/dagster.yaml has the compute logs uploaded in the bucket."""


@pytest.fixture(scope="module", params=settings.TABLE_FORMATS)
def table_format(request: pytest.FixtureRequest) -> settings.TableFormat:
    """Each test on a stack of each table format (conftest's production_stack reads it)."""
    chosen: settings.TableFormat = request.param
    return chosen


@dataclass(frozen=True)
class ConcurrentRuns:
    """Two runs launched together, in the order they ran, and what the emulator served them."""

    partition: str
    first: RunHistory
    second: RunHistory
    emulator_stats: dict[str, Any]


@pytest.fixture(scope="module")
def concurrent_runs(production_stack: ProductionStack) -> ConcurrentRuns:
    """Launch two runs of today's partition back to back and watch both to their end."""
    partition = today().isoformat()
    launched = [launch_daily_run(production_stack.webserver, partition) for _ in range(2)]
    histories = watch(production_stack.webserver, launched)
    first, second = sorted(histories.values(), key=lambda h: h.start or float("inf"))
    return ConcurrentRuns(partition, first, second, production_stack.emulator.stats())


def test_the_pool_makes_the_second_run_wait_until_the_first_ended(
    concurrent_runs: ConcurrentRuns,
) -> None:
    first, second = concurrent_runs.first, concurrent_runs.second
    assert (first.status, second.status) == ("SUCCESS", "SUCCESS")
    assert first.start is not None and first.end is not None and second.start is not None
    assert second.start >= first.end, (
        f"the runs overlapped: the second started at {second.start}, the first ended at {first.end}"
    )
    assert seen_together({h.run_id: h for h in (first, second)}, first.run_id, second.run_id), (
        "the second run was never seen queued while the first was running"
    )


def test_the_data_lands_in_the_bucket_and_reads_back_with_pandas_or_pyiceberg_and_duckdb(
    production_stack: ProductionStack, concurrent_runs: ConcurrentRuns
) -> None:
    if production_stack.table_format == "iceberg":
        tables_read_back(production_stack, concurrent_runs)
    else:
        parquet_read_back(production_stack, concurrent_runs)


def parquet_read_back(production_stack: ProductionStack, concurrent_runs: ConcurrentRuns) -> None:
    """Each asset is one file of the day, read by pandas and by DuckDB from the bucket."""
    s3 = production_stack.s3
    fs = s3.filesystem()
    rows = expected_rows(production_stack.emulator)
    root = production_stack.data_url
    for asset in ASSETS:
        stored = fs.find(f"{root}/{asset}/")
        assert stored == [
            f"{root.removeprefix('s3://')}/{asset}/{concurrent_runs.partition}.parquet"
        ]
        frame = pd.read_parquet(f"{root}/{asset}/", storage_options=s3.storage_options())
        assert len(frame) == rows[asset]
        assert set(frame["snapshot_date"].astype(str)) == {concurrent_runs.partition}

    # DuckDB's httpfs extension would be downloaded at first use, which fails offline: DuckDB
    # reads s3:// through the same fsspec filesystem instead.
    with duckdb.connect() as connection:
        connection.register_filesystem(fs)
        for asset in ASSETS:
            found = connection.execute(
                f"SELECT count(*), count(DISTINCT album_id) FROM '{root}/{asset}/*.parquet'"
            ).fetchone()
            assert found == (rows[asset], rows[names.NEW_RELEASES])


def snapshot_ids(production_stack: ProductionStack, run_id: str) -> dict[str, str]:
    """The snapshot id each asset's materialization in the run recorded (from PostgreSQL)."""
    events = production_stack.postgres.query(
        "SELECT event FROM event_logs "
        "WHERE dagster_event_type = 'ASSET_MATERIALIZATION' AND run_id = :run",
        run=run_id,
    )
    recorded = {}
    for row in events:
        materialization = deserialize_value(row["event"], EventLogEntry).asset_materialization
        assert materialization is not None
        recorded[materialization.asset_key.path[-1]] = materialization.metadata
    return {asset: str(metadata[names.SNAPSHOT_ID].value) for asset, metadata in recorded.items()}


def tables_read_back(production_stack: ProductionStack, concurrent_runs: ConcurrentRuns) -> None:
    """Each asset is a table of the catalog in PostgreSQL whose files are in the bucket; the
    second run replaced the first run's day in one snapshot; pyiceberg and DuckDB (over the
    Arrow tables pyiceberg gives) read the day back whole, from another catalog connection."""
    s3, postgres = production_stack.s3, production_stack.postgres
    root = production_stack.data_url
    reader = IcebergTables(UPath(root, **s3.storage_options()), postgres.url())
    rows = expected_rows(production_stack.emulator)
    first = snapshot_ids(production_stack, concurrent_runs.first.run_id)
    second = snapshot_ids(production_stack, concurrent_runs.second.run_id)
    counts = {}
    with duckdb.connect(config=OFFLINE_DUCKDB) as connection:
        for asset in ASSETS:
            table = reader.catalog.load_table(f"spotify.{asset}")
            assert table.location() == f"{root}/iceberg/spotify/{asset}"
            history = [str(s.snapshot_id) for s in table.snapshots()]
            assert history == [first[asset], second[asset]]
            current = table.current_snapshot()
            assert current is not None and current.summary is not None
            assert current.summary.operation.value == "overwrite"
            assert current.summary.additional_properties["deleted-records"] == str(rows[asset])
            day = table.scan(row_filter=f"snapshot_date = '{concurrent_runs.partition}'")
            stored: pa.Table = day.to_arrow()
            assert len(stored) == len(table.scan().to_arrow()) == rows[asset]
            connection.register(asset, stored)
            [counts[asset]] = connection.execute(
                f"SELECT count(*), count(DISTINCT album_id) FROM {asset}"
            ).fetchall()
        joined = connection.execute(
            f"SELECT count(*) FROM {names.NEW_RELEASES} JOIN {names.ALBUM_TRACKS} "
            "USING (snapshot_date, album_id)"
        ).fetchall()
    assert counts == {asset: (rows[asset], rows[names.NEW_RELEASES]) for asset in ASSETS}
    assert joined == [(rows[names.ALBUM_TRACKS],)]
    in_bucket = s3.filesystem().find(f"{root}/")
    assert any(f"/iceberg/spotify/{names.ALBUM_TRACKS}/data/" in key for key in in_bucket)
    assert not [key for key in in_bucket if f"/{names.ALBUM_TRACKS}/20" in key], (
        "Parquet files beside the tables"
    )
    catalog_rows = postgres.query(
        "SELECT table_namespace, table_name FROM iceberg_tables WHERE catalog_name = :name",
        name=CATALOG_NAME,
    )
    assert sorted((r["table_namespace"], r["table_name"]) for r in catalog_rows) == [
        ("spotify", names.ALBUM_TRACKS),
        ("spotify", names.NEW_RELEASES),
    ]


def test_runs_materializations_and_check_results_are_in_postgres(
    production_stack: ProductionStack, concurrent_runs: ConcurrentRuns
) -> None:
    db = production_stack.postgres
    run_ids = {concurrent_runs.first.run_id, concurrent_runs.second.run_id}
    runs = db.query(
        "SELECT run_id, status, partition FROM runs WHERE pipeline_name = :job", job=DAILY_JOB_NAME
    )
    assert {(r["run_id"], r["status"], r["partition"]) for r in runs} >= {
        (run_id, "SUCCESS", concurrent_runs.partition) for run_id in run_ids
    }
    materialized = db.query(
        "SELECT run_id, asset_key, partition FROM event_logs "
        "WHERE dagster_event_type = 'ASSET_MATERIALIZATION' AND run_id IN :runs",
        runs=tuple(run_ids),
    )
    assert sorted(
        (r["run_id"], json.loads(r["asset_key"]), r["partition"]) for r in materialized
    ) == sorted(
        (run_id, [asset], concurrent_runs.partition) for run_id in run_ids for asset in ASSETS
    )
    executions = db.query(
        "SELECT run_id, asset_key, check_name, execution_status FROM asset_check_executions "
        "WHERE run_id IN :runs AND execution_status != 'PLANNED'",
        runs=tuple(run_ids),
    )
    assert sorted(
        (r["run_id"], json.loads(r["asset_key"]), r["check_name"], r["execution_status"])
        for r in executions
    ) == sorted(
        (run_id, [asset], name, "SUCCEEDED")
        for run_id in run_ids
        for asset in ASSETS
        for name in CHECK_NAMES[asset]
    )


def test_step_logs_are_uploaded_to_the_bucket(
    production_stack: ProductionStack, concurrent_runs: ConcurrentRuns
) -> None:
    uploaded = production_stack.s3.filesystem().find(
        f"{production_stack.s3.bucket}/{COMPUTE_LOGS_PREFIX}/"
    )
    for run in (concurrent_runs.first, concurrent_runs.second):
        assert any(f"/{run.run_id}/" in key for key in uploaded), (
            f"no compute log of run {run.run_id} in the bucket: {uploaded}"
        )


def test_only_the_first_run_probes_browse_when_the_cache_stays(
    concurrent_runs: ConcurrentRuns,
) -> None:
    stats = concurrent_runs.emulator_stats
    browse = [entry for entry in stats["log"] if entry["endpoint"] == BROWSE]
    assert [entry["status"] for entry in browse] == [403, 403], (
        "the first run should probe browse (a Development Mode app gets 403, asked twice before "
        f"it is believed) and the second remember it; the emulator served: {browse}"
    )
    assert stats["by_endpoint"]["search"] > 0


def test_a_run_on_a_fresh_machine_does_not_probe_browse_again(
    production_stack: ProductionStack, concurrent_runs: ConcurrentRuns
) -> None:
    # concurrent_runs learned that browse is forbidden; a fresh pod starts without local files.
    shutil.rmtree(production_stack.cache_dir, ignore_errors=True)
    production_stack.emulator.reset()
    run_id = launch_daily_run(production_stack.webserver, concurrent_runs.partition)
    run = watch(production_stack.webserver, [run_id])[run_id]
    assert run.status == "SUCCESS"
    served = production_stack.emulator.stats()
    assert served["by_endpoint"][BROWSE] == 0, (
        f"the run probed browse again: {[e for e in served['log'] if e['endpoint'] == BROWSE]}"
    )


def test_dg_launch_backfills_on_the_same_instance_in_process_bypassing_the_queue(
    production_stack: ProductionStack, concurrent_runs: ConcurrentRuns, tmp_path: Path
) -> None:
    production_stack.emulator.reset()
    known = {row["run_id"] for row in production_stack.postgres.query("SELECT run_id FROM runs")}
    command = [str(DG), "launch", "--assets", names.ALBUM_TRACKS]
    command += ["--partition", concurrent_runs.partition]
    done = subprocess.run(
        command,
        cwd=project_in(tmp_path),
        env=production_stack.env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert SUPERSEDED not in done.stdout + done.stderr
    [run] = [
        row
        for row in production_stack.postgres.query("SELECT run_id, status, partition FROM runs")
        if row["run_id"] not in known
    ]
    assert (run["status"], run["partition"]) == ("SUCCESS", concurrent_runs.partition)
    events = production_stack.postgres.query(
        "SELECT DISTINCT dagster_event_type FROM event_logs WHERE run_id = :run",
        run=run["run_id"],
    )
    assert "PIPELINE_ENQUEUED" not in {e["dagster_event_type"] for e in events}, (
        "dg launch went through the run queue"
    )
    # Its new_releases came from the bucket (the table) and every album's tracks were reused
    # from there.
    served = production_stack.emulator.stats()["by_endpoint"]
    assert (served["search"], served["album_tracks"]) == (0, 0)
