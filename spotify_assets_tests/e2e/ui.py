"""The steps a user takes in the Dagster 1.13 UI, by the names and roles the UI shows them under."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

RUN_TIMEOUT_MS = 120_000
"""Launch to finished run: queued, dequeued by the daemon, a new process, a second of work."""
EDGE_TOLERANCE = 10.0
"""How far (graph units) an edge may start or end from the side of the node it belongs to."""


def home(page: Page) -> None:
    """Open the UI's address, as a user types it; the UI sends them on to Overview."""
    page.goto("/")
    # Clicking a link before that client-side redirect lands would be undone by it.
    expect(page).to_have_url(re.compile(r"/overview"))


def nav_link(page: Page, label: str) -> Locator:
    """A link of the main navigation by its label (its name also holds its icon's name)."""
    return page.get_by_role("navigation").get_by_role("link", name=re.compile(rf"\b{label}$"))


def open_lineage(page: Page) -> Locator:
    """From the UI's address, go to Lineage; the graph once both assets are drawn."""
    home(page)
    nav_link(page, "Lineage").click()
    graph = page.locator("svg").filter(has=page.locator("foreignObject"))
    expect(graph_node(graph, "new_releases")).to_be_visible()
    expect(graph_node(graph, "album_tracks")).to_be_visible()
    return graph


def graph_node(graph: Locator, asset: str) -> Locator:
    """The asset's box in the lineage graph."""
    return graph.locator("foreignObject").filter(has_text=re.compile(rf"^{asset}"))


def expect_edge(graph: Locator, upstream: str, downstream: str) -> None:
    """The graph has one edge, from the right side of `upstream` to the left of `downstream`."""
    edges = graph.locator("path[marker-end]")
    expect(edges).to_have_count(1)
    start, end = _path_ends(edges.first.get_attribute("d") or "")
    upstream_right = _left(graph_node(graph, upstream)) + _width(graph_node(graph, upstream))
    downstream_left = _left(graph_node(graph, downstream))
    assert abs(start - upstream_right) <= EDGE_TOLERANCE, (
        f"the edge starts at x={start}, not at the right side of {upstream} (x={upstream_right})"
    )
    assert abs(end - downstream_left) <= EDGE_TOLERANCE, (
        f"the edge ends at x={end}, not at the left side of {downstream} (x={downstream_left})"
    )


def _path_ends(d: str) -> tuple[float, float]:
    """x of the first and of the last point of an SVG path."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    assert len(numbers) >= 4, f"not an edge path: {d!r}"
    return numbers[0], numbers[-2]


def _left(node: Locator) -> float:
    """x of a node in graph units (unaffected by zoom and pan)."""
    return float(node.get_attribute("x") or "nan")


def _width(node: Locator) -> float:
    """Width of a node in graph units."""
    return float(node.get_attribute("width") or "nan")


def materialize_all(page: Page, partition: str, assets: int) -> str:
    """From the lineage graph, launch one run of every asset for `partition`; open it, its id."""
    page.get_by_role("button", name=re.compile(r"\bMaterialize all")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(f"Launch runs to materialize {assets} assets")).to_be_visible()
    expect(dialog.get_by_text(re.compile(r"^Loading"))).to_have_count(0)
    partitions = dialog.get_by_placeholder("No matching partitions")
    partitions.fill(partition)
    partitions.press("Enter")
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Launch 1 run").click()
    toast = _notifications(page)
    expect(toast).to_contain_text("Launched run")
    view = toast.get_by_role("link", name="View", exact=True)
    run_path = view.get_attribute("href") or ""
    assert run_path.startswith("/runs/"), f"the toast links to {run_path!r}, not to a run"
    view.click()
    expect(page).to_have_url(re.compile(re.escape(run_path)))
    page.mouse.move(0, 0)  # off the toast, which stays while hovered
    return run_path.removeprefix("/runs/")


def screenshot(page: Page, path: Path) -> None:
    """Save the page as it is once no notification covers it."""
    expect(_notifications(page).get_by_role("listitem")).to_have_count(0)
    page.screenshot(path=path)


def _notifications(page: Page) -> Locator:
    """Where the UI shows its toasts."""
    return page.get_by_role("region", name=re.compile(r"^Notifications"))


def expect_run_finished(page: Page, status: str, partition: str) -> None:
    """On a run's page: the run for `partition` ended, with `status` (Success, Failure)."""
    ended = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$"))
    expect(ended).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(ended).to_have_text(status)
    expect(page.get_by_text(f"partition: {partition}", exact=True)).to_be_visible()


def expect_run_log(page: Page, query: str, line: str) -> None:
    """On a run's page: filtering the event log by `query` shows `line`."""
    page.get_by_placeholder("Filter…").fill(query)
    expect(page.get_by_text(line)).to_be_visible()


def open_asset(page: Page, asset: str, tab: str) -> None:
    """Go to Catalog from the navigation, open the asset and its tab (Overview, Checks, ...)."""
    nav_link(page, "Catalog").click()
    page.get_by_role("link", name=re.compile(rf"^{asset}\b")).click()
    page.get_by_role("tab", name=tab, exact=True).click()
    expect(page.get_by_role("tab", name=tab, exact=True, selected=True)).to_be_visible()


def expect_latest_metadata(page: Page, label: str, value: int) -> None:
    """On an asset's overview: its Metadata section shows `label | value` from the latest
    materialization."""
    # A "/" must be escaped too: playwright sends the pattern on as a /.../ literal.
    key = re.escape(label).replace("/", r"\/")
    shown = rf"^{key} materialization .* ({value}|{value:,})$"
    expect(page.get_by_role("row", name=re.compile(shown))).to_be_visible()


def expect_upstream(page: Page, upstream: str) -> None:
    """On an asset's overview: the lineage section lists `upstream` among its upstream assets."""
    section = page.get_by_text("Upstream assets", exact=True).locator("xpath=..")
    expect(section.get_by_role("link", name=upstream)).to_be_visible()


def check_in_list(page: Page, check: str) -> Locator:
    """On an asset's Checks tab: the check's entry in the list, with its latest status."""
    return page.get_by_title(check, exact=True).locator("xpath=..")


def open_check(page: Page, check: str, result: str) -> None:
    """On an asset's Checks tab: select the check; its latest evaluation shows `result`."""
    check_in_list(page, check).click()
    expect(page).to_have_url(re.compile(rf"checkDetail={check}\b"))
    evaluation = page.get_by_text("Evaluation result", exact=True).locator("xpath=..")
    expect(evaluation).to_have_text(re.compile(rf"^Evaluation result\s*{result}$"))


def expect_metadata(page: Page, label: str, value: int) -> None:
    """A metadata table on the page has the row `label | value`."""
    expect(page.get_by_role("row", name=f"{label} {value}", exact=True)).to_be_visible()


def schedule_in_automation(page: Page, schedule: str) -> Locator:
    """Go to Automation from the navigation; the schedule's entry (a link to its page)."""
    nav_link(page, "Automation").click()
    return page.get_by_role("link", name=re.compile(rf"\b{schedule}\b"))


def turn_on_schedule(page: Page) -> Locator:
    """On a schedule's page: switch it on; its details table once the next tick shows."""
    running = page.get_by_role("row", name=re.compile(r"^Running"))
    switch = running.get_by_role("checkbox")
    expect(switch).not_to_be_checked()
    # The switch is drawn by its label; the checkbox itself is invisible and cannot be clicked.
    running.locator("label", has=page.get_by_role("checkbox")).click()
    expect(switch).to_be_checked()
    expect(page.get_by_role("row", name=re.compile(r"^Next tick"))).to_be_visible()
    return page.get_by_role("table")
