"""What the webserver's GraphQL API says about runs, materializations, checks and the schedule."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from spotify_assets.contract import names
from spotify_assets.emulator import EmulatorServer
from spotify_assets_tests.e2e.dagster_dev import POLL_S, DagsterDev

LOCATION = "spotify_assets"
REPOSITORY = "__repository__"
TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}


def expected_rows(emulator: EmulatorServer) -> dict[str, int]:
    """Rows each asset must have: the emulator's albums, and all their tracks."""
    albums = emulator.catalog.albums
    return {
        names.NEW_RELEASES: len(albums),
        names.ALBUM_TRACKS: sum(len(album.tracks) for album in albums),
    }


RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status tags { key value } }
    ... on PythonError { message }
  }
}
"""

MATERIALIZATIONS_QUERY = """
query Materializations($assetKey: AssetKeyInput!, $partition: String!) {
  assetOrError(assetKey: $assetKey) {
    __typename
    ... on Asset {
      assetMaterializations(partitions: [$partition]) {
        runId
        metadataEntries { label ... on IntMetadataEntry { intValue } }
      }
    }
  }
}
"""

CHECKS_QUERY = """
query Checks($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode {
      assetChecksOrError {
        __typename
        ... on AssetChecks { checks { name blocking } }
      }
    }
  }
}
"""

CHECK_EXECUTIONS_QUERY = """
query CheckExecutions($assetKey: AssetKeyInput!, $checkName: String!) {
  assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, limit: 50) {
    runId
    status
    evaluation {
      success
      description
      metadataEntries { label ... on IntMetadataEntry { intValue } }
    }
  }
}
"""

SCHEDULE_QUERY = """
query Schedule($selector: ScheduleSelector!) {
  scheduleOrError(scheduleSelector: $selector) {
    __typename
    ... on Schedule { name cronSchedule pipelineName scheduleState { status } }
    ... on PythonError { message }
  }
}
"""


@dataclass(frozen=True)
class Run:
    """A run's status and tags."""

    status: str
    tags: dict[str, str]


@dataclass(frozen=True)
class Materialization:
    """The run of one materialization of an asset partition, and its integer metadata."""

    run_id: str
    metadata: dict[str, int]


@dataclass(frozen=True)
class CheckExecution:
    """What became of one check in one run: its status and, when it was evaluated, the result."""

    status: str
    passed: bool | None
    description: str | None
    metadata: dict[str, int]


@dataclass(frozen=True)
class Schedule:
    """A schedule's cron, target job and status (RUNNING or STOPPED)."""

    cron: str
    job: str
    status: str


def _asset_key(asset: str) -> dict[str, list[str]]:
    """The AssetKeyInput of a one-part asset key."""
    return {"path": [asset]}


def _int_metadata(entries: list[dict[str, Any]]) -> dict[str, int]:
    """The integer entries of a metadata list, by label."""
    return {e["label"]: e["intValue"] for e in entries if e.get("intValue") is not None}


def run(dagster: DagsterDev, run_id: str) -> Run:
    """The run with this id."""
    found = dagster.graphql(RUN_QUERY, runId=run_id)["runOrError"]
    assert found["__typename"] == "Run", f"no run {run_id}: {found}"
    tags = {tag["key"]: tag["value"] for tag in found["tags"]}
    return Run(found["status"], tags)


def finished_run(dagster: DagsterDev, run_id: str, timeout_s: float = 60.0) -> Run:
    """The run once it reached a terminal status (the UI may show it a poll earlier)."""
    deadline = time.monotonic() + timeout_s
    current = run(dagster, run_id)
    while current.status not in TERMINAL_RUN_STATUSES and time.monotonic() < deadline:
        time.sleep(POLL_S)
        current = run(dagster, run_id)
    assert current.status in TERMINAL_RUN_STATUSES, (
        f"run {run_id} still {current.status} after {timeout_s:.0f} s"
    )
    return current


def materializations(dagster: DagsterDev, asset: str, partition: str) -> list[Materialization]:
    """Every materialization of the asset's partition, newest first."""
    found = dagster.graphql(
        MATERIALIZATIONS_QUERY, assetKey=_asset_key(asset), partition=partition
    )["assetOrError"]
    assert found["__typename"] == "Asset", f"asset {asset} unknown to the webserver: {found}"
    return [
        Materialization(m["runId"], _int_metadata(m["metadataEntries"]))
        for m in found["assetMaterializations"]
    ]


def check_names(dagster: DagsterDev, asset: str) -> set[str]:
    """The names of the checks the webserver knows for the asset."""
    node = dagster.graphql(CHECKS_QUERY, assetKey=_asset_key(asset))["assetNodeOrError"]
    assert node["__typename"] == "AssetNode", f"asset {asset} unknown to the webserver: {node}"
    checks = node["assetChecksOrError"]
    assert checks["__typename"] == "AssetChecks", f"checks of {asset} unavailable: {checks}"
    return {check["name"] for check in checks["checks"]}


def check_executions(dagster: DagsterDev, asset: str, run_id: str) -> dict[str, CheckExecution]:
    """What became of each check of the asset in the run, by check name."""
    return {
        name: _check_execution(dagster, asset, name, run_id)
        for name in sorted(check_names(dagster, asset))
    }


def _check_execution(dagster: DagsterDev, asset: str, name: str, run_id: str) -> CheckExecution:
    """The execution of one check in the run, preferring the one that holds an evaluation."""
    # Dagster 1.13 records two executions of a check_spec of a partitioned asset in a run: one
    # planned for the partition, never evaluated, and one holding the (unpartitioned) evaluation.
    executions = dagster.graphql(
        CHECK_EXECUTIONS_QUERY, assetKey=_asset_key(asset), checkName=name
    )["assetCheckExecutions"]
    in_run = [e for e in executions if e["runId"] == run_id]
    assert in_run, f"check {asset}.{name} has no execution in run {run_id}"
    chosen = next((e for e in in_run if e["evaluation"]), in_run[0])
    evaluation = chosen["evaluation"] or {}
    return CheckExecution(
        status=chosen["status"],
        passed=evaluation.get("success"),
        description=evaluation.get("description"),
        metadata=_int_metadata(evaluation.get("metadataEntries", [])),
    )


def schedule(dagster: DagsterDev, name: str) -> Schedule:
    """The schedule of the code location with this name."""
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    found = dagster.graphql(SCHEDULE_QUERY, selector={**selector, "scheduleName": name})[
        "scheduleOrError"
    ]
    assert found["__typename"] == "Schedule", f"no schedule {name}: {found}"
    return Schedule(found["cronSchedule"], found["pipelineName"], found["scheduleState"]["status"])
