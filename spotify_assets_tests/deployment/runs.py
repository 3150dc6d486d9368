"""Launching runs of the daily job through the webserver's GraphQL API and watching them finish."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from spotify_assets.defs.spotify.schedules import DAILY_JOB_NAME
from spotify_assets_tests.e2e.dagster_dev import DagsterDev
from spotify_assets_tests.e2e.queries import LOCATION, REPOSITORY, TERMINAL_RUN_STATUSES

RUN_TIMEOUT_S = 120.0
"""Launch to end of a run of 12 emulated albums: queue, dequeue (every 5 s), a new process."""
WATCH_POLL_S = 0.1

LAUNCH_MUTATION = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on Error { message }
  }
}
"""

RUN_TIMES_QUERY = """
query RunTimes($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status startTime endTime }
  }
}
"""


@dataclass
class RunHistory:
    """What polling saw of one run: its statuses in order, and its start and end (epoch s)."""

    run_id: str
    statuses: list[str] = field(default_factory=list)
    start: float | None = None
    end: float | None = None

    @property
    def status(self) -> str:
        """The last status seen."""
        return self.statuses[-1] if self.statuses else "UNKNOWN"


def launch_daily_run(webserver: DagsterDev, partition: str) -> str:
    """Launch spotify_daily for `partition` as the UI's launch button does; the run id."""
    params = {
        "selector": {
            "repositoryLocationName": LOCATION,
            "repositoryName": REPOSITORY,
            "jobName": DAILY_JOB_NAME,
        },
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
    }
    launched = webserver.graphql(LAUNCH_MUTATION, executionParams=params)["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", f"launch refused: {launched}"
    run_id: str = launched["run"]["runId"]
    return run_id


def watch(
    webserver: DagsterDev, run_ids: Sequence[str], timeout_s: float = RUN_TIMEOUT_S
) -> dict[str, RunHistory]:
    """Poll the runs until all finished, recording their status at each poll (all runs are polled
    together, so the n-th status of one run and the n-th of another were seen at the same time)."""
    histories = {run_id: RunHistory(run_id) for run_id in run_ids}
    deadline = time.monotonic() + timeout_s
    while True:
        for history in histories.values():
            run = webserver.graphql(RUN_TIMES_QUERY, runId=history.run_id)["runOrError"]
            assert run["__typename"] == "Run", f"no run {history.run_id}: {run}"
            history.statuses.append(run["status"])
            history.start, history.end = run["startTime"], run["endTime"]
        if all(h.status in TERMINAL_RUN_STATUSES for h in histories.values()):
            return histories
        if time.monotonic() > deadline:
            raise AssertionError(
                f"runs not finished within {timeout_s:.0f} s: "
                + ", ".join(f"{h.run_id} {h.status}" for h in histories.values())
            )
        time.sleep(WATCH_POLL_S)


def seen_together(histories: dict[str, RunHistory], first: str, second: str) -> list[str]:
    """The polls at which run `first` was running while run `second` was still queued."""
    a, b = histories[first].statuses, histories[second].statuses
    return [f"{x}/{y}" for x, y in zip(a, b, strict=True) if x == "STARTED" and y == "QUEUED"]
