"""The UI path as a user walks it: lineage, materialize today, checks and row counts, the schedule.

Each step seen in the browser is confirmed through the webserver's GraphQL API. The tests share
one `dg dev`; each asserts on its own run, so their order does not matter, but the passing
scenario runs first and the failing one second, so the UI's latest results end up the failure's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from spotify_assets.contract import names
from spotify_assets.defs.app_memory import FOLDER
from spotify_assets.defs.spotify import checks
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.defs.spotify.schedules import DAILY_JOB_NAME, DAILY_SCHEDULE_NAME
from spotify_assets.spotify.memory import FILE_NAME
from spotify_assets_tests.e2e import queries, ui
from spotify_assets_tests.e2e.conftest import EMULATOR_MODE, Stack

pytestmark = pytest.mark.e2e

NEW_RELEASES = "new_releases"
ALBUM_TRACKS = "album_tracks"
CHECKS = {
    NEW_RELEASES: sorted(spec.name for spec in checks.NEW_RELEASES_CHECKS),
    ALBUM_TRACKS: sorted(spec.name for spec in checks.ALBUM_TRACKS_CHECKS),
}
PARTITION_TAG = "dagster/partition"


def test_materialize_all_for_today_from_the_ui_passes_every_check(
    page: Page, stack: Stack, artifacts: Path
) -> None:
    partition = today().isoformat()
    rows = queries.expected_rows(stack.emulator)

    graph = ui.open_lineage(page)
    ui.expect_edge(graph, NEW_RELEASES, ALBUM_TRACKS)
    run_id = ui.materialize_all(page, partition, assets=2)
    ui.expect_run_finished(page, "Success", partition)

    for asset in (NEW_RELEASES, ALBUM_TRACKS):
        ui.open_asset(page, asset, "Overview")
        ui.expect_latest_metadata(page, names.PARTITION_ROW_COUNT, rows[asset])
        ui.open_asset(page, asset, "Checks")
        for name in CHECKS[asset]:
            expect(ui.check_in_list(page, name)).to_contain_text("Succeeded")
    ui.open_asset(page, ALBUM_TRACKS, "Overview")
    ui.expect_upstream(page, NEW_RELEASES)

    ui.open_asset(page, NEW_RELEASES, "Checks")
    ui.open_check(page, names.ROWS_MATCH_API_TOTAL, "Passed")
    ui.expect_metadata(page, "rows", rows[NEW_RELEASES])
    ui.expect_metadata(page, "api_total", rows[NEW_RELEASES])
    ui.screenshot(page, artifacts / "checks.png")

    graph = ui.open_lineage(page)
    for asset, check_names in CHECKS.items():
        passed = f"{len(check_names)} / {len(check_names)} Passed"
        expect(ui.graph_node(graph, asset)).to_contain_text(passed)
    ui.screenshot(page, artifacts / "lineage.png")

    run = queries.finished_run(stack.dagster, run_id)
    assert (run.status, run.tags.get(PARTITION_TAG)) == ("SUCCESS", partition)
    executions = {asset: queries.check_executions(stack.dagster, asset, run_id) for asset in CHECKS}
    for asset, check_names in CHECKS.items():
        stored = queries.materializations(stack.dagster, asset, partition)
        in_run = [m.metadata.get(names.PARTITION_ROW_COUNT) for m in stored if m.run_id == run_id]
        assert in_run == [rows[asset]], (
            f"{asset}: expected one materialization of {rows[asset]} rows in run {run_id}"
        )
        assert {name: (e.status, e.passed) for name, e in executions[asset].items()} == {
            name: ("SUCCEEDED", True) for name in check_names
        }
    assert executions[NEW_RELEASES][names.ROWS_MATCH_API_TOTAL].metadata == {
        "rows": rows[NEW_RELEASES],
        "api_total": rows[NEW_RELEASES],
        "reachable": rows[NEW_RELEASES],
        "expected": rows[NEW_RELEASES],
        "difference": 0,
        "shortfall": 0,
        "extra_listings": 0,
        "repeated_places": 0,
        "null_places_skipped": 0,
    }


def test_a_wrong_api_total_fails_the_blocking_check_and_blocks_album_tracks(
    page: Page, stack: Stack, artifacts: Path
) -> None:
    partition = today().isoformat()
    albums = queries.expected_rows(stack.emulator)[NEW_RELEASES]
    failing = names.ROWS_MATCH_API_TOTAL
    reported = f"{albums} albums stored, but Spotify reported a total of {albums + 1}"

    # Browse's total is exact (search's is an estimate, where a short listing only warns): an
    # app in Extended Quota Mode, with nothing remembered about the development-mode one. A run
    # stores app memory only when it learned something (a refused endpoint, a confirmed pace):
    # when this test runs alone, there is none yet.
    stack.emulator.configure(total_offset=1, mode="extended")
    (stack.data_dir / FOLDER / FILE_NAME).unlink(missing_ok=True)
    try:
        ui.open_lineage(page)
        run_id = ui.materialize_all(page, partition, assets=2)
        ui.expect_run_finished(page, "Failure", partition)
    finally:
        stack.emulator.configure(total_offset=0, mode=EMULATOR_MODE)
    ui.expect_run_log(
        page, ALBUM_TRACKS, "Dependencies for step album_tracks failed: ['new_releases']."
    )

    ui.open_asset(page, NEW_RELEASES, "Checks")
    for name in CHECKS[NEW_RELEASES]:
        status = "Failed" if name == failing else "Succeeded"
        expect(ui.check_in_list(page, name)).to_contain_text(status)
    ui.open_check(page, failing, "Failed")
    expect(page.get_by_text(reported, exact=True)).to_be_visible()
    ui.expect_metadata(page, "rows", albums)
    ui.expect_metadata(page, "api_total", albums + 1)
    ui.screenshot(page, artifacts / "checks_failed.png")
    ui.open_asset(page, ALBUM_TRACKS, "Checks")
    for name in CHECKS[ALBUM_TRACKS]:
        expect(ui.check_in_list(page, name)).to_contain_text("Failed")
    ui.open_check(page, CHECKS[ALBUM_TRACKS][0], "Execution failed")

    run = queries.finished_run(stack.dagster, run_id)
    assert (run.status, run.tags.get(PARTITION_TAG)) == ("FAILURE", partition)
    for asset in (NEW_RELEASES, ALBUM_TRACKS):
        stored = queries.materializations(stack.dagster, asset, partition)
        assert [m for m in stored if m.run_id == run_id] == [], (
            f"{asset} was published although new_releases' blocking check failed"
        )
    executions = queries.check_executions(stack.dagster, NEW_RELEASES, run_id)
    assert {name: (e.status, e.passed) for name, e in executions.items()} == {
        name: ("FAILED", False) if name == failing else ("SUCCEEDED", True)
        for name in CHECKS[NEW_RELEASES]
    }
    assert executions[failing].metadata == {
        "rows": albums,
        "api_total": albums + 1,
        "reachable": albums + 1,
        "expected": albums + 1,
        "difference": -1,
        "shortfall": 0,
        "extra_listings": 0,
        "repeated_places": 0,
        "null_places_skipped": 0,
    }
    assert executions[failing].description == reported
    executions = queries.check_executions(stack.dagster, ALBUM_TRACKS, run_id)
    assert {name: (e.status, e.passed) for name, e in executions.items()} == {
        name: ("EXECUTION_FAILED", None) for name in CHECKS[ALBUM_TRACKS]
    }, "album_tracks' checks must not be evaluated when new_releases' blocking check fails"


def test_the_daily_schedule_is_seen_and_turned_on_in_the_ui(page: Page, stack: Stack) -> None:
    name = DAILY_SCHEDULE_NAME
    before = queries.schedule(stack.dagster, name)
    assert before == queries.Schedule("0 6 * * *", DAILY_JOB_NAME, "STOPPED")

    ui.home(page)
    entry = ui.schedule_in_automation(page, name)
    expect(entry).to_contain_text("At 06:00 AM UTC")
    entry.click()
    details = ui.turn_on_schedule(page)
    expect(details).to_contain_text(DAILY_JOB_NAME)
    expect(details).to_contain_text("(0 6 * * *)")

    after = queries.schedule(stack.dagster, name)
    assert after == queries.Schedule("0 6 * * *", DAILY_JOB_NAME, "RUNNING")
