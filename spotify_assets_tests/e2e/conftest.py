"""The running stack (emulator + `dg dev`), one per module, and a headless Chromium page.

Screenshots and the `dg dev` log go to spotify_assets_tests/artifacts/, for CI to keep.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from spotify_assets import settings
from spotify_assets.emulator import EmulatorConfig, EmulatorServer, Mode
from spotify_assets.local.instance import INSTANCE_YAML
from spotify_assets.spotify.memory import CACHE_DIR_ENV
from spotify_assets_tests.e2e import processes
from spotify_assets_tests.e2e.dagster_dev import DagsterDev
from spotify_assets_tests.e2e.queries import LOCATION

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "spotify_assets_tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
UI_TIMEOUT_MS = 30_000
"""Longest wait for one element or navigation (a run's end has its own, longer timeout)."""
EMULATOR_ALBUMS = 12
EMULATOR_MODE: Mode = "development"
"""What `make dev` starts without credentials: a Development Mode app (search, per-album tracks)."""

REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@dataclass(frozen=True)
class Stack:
    """The emulator the code location talks to and the `dg dev` serving the UI."""

    emulator: EmulatorServer
    dagster: DagsterDev
    data_dir: Path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so the page fixture knows whether it failed."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """Where screenshots and logs go."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium driven by playwright; fails when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the end-to-end UI test drives Debian's chromium "
            "(apt-get install chromium, as .ci/run does); playwright must not download a browser"
        )
    expect.set_options(timeout=UI_TIMEOUT_MS)
    before = set(psutil.Process().children())
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        driver_and_browser = set(psutil.Process().children()) - before
        started = set().union(*(processes.tree(child.pid) for child in driver_and_browser))
        yield chromium
        chromium.close()
    processes.kill(started)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[Stack]:
    """The emulator in-process, `dg dev` on a free loopback port, a temp DAGSTER_HOME."""
    tmp = tmp_path_factory.mktemp("e2e")
    home = tmp / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    with EmulatorServer(EmulatorConfig(albums=EMULATOR_ALBUMS, mode=EMULATOR_MODE)) as emulator:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SPOTIFY_", "DAGSTER_"))
        }
        env.update(
            {
                "DAGSTER_HOME": str(home),
                settings.CLIENT_ID: emulator.client_id,
                settings.CLIENT_SECRET: emulator.client_secret,
                settings.API_BASE_URL: emulator.api_base_url,
                settings.TOKEN_URL: emulator.token_url,
                settings.DATA_DIR: str(tmp / "data"),
                CACHE_DIR_ENV: str(tmp / "cache"),
                # As `make dev` runs it: dg warns when the project's .venv is not the active one.
                "VIRTUAL_ENV": sys.prefix,
            }
        )
        log = artifacts / "dg_dev.log"
        with DagsterDev.running(ROOT, env, log, LOCATION) as dagster:
            yield Stack(emulator, dagster, tmp / "data")


@pytest.fixture
def page(
    browser: Browser, stack: Stack, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh page on the Dagster UI; screenshotted into the artifacts when the test fails."""
    failure_screenshot = artifacts / f"failure_{request.node.name}.png"
    failure_screenshot.unlink(missing_ok=True)
    with closing(browser.new_context(base_url=stack.dagster.url, viewport=VIEWPORT)) as context:
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.new_page()
        yield page
        call = request.node.stash.get(REPORTS, {}).get("call")
        if call is not None and call.failed:
            page.screenshot(path=failure_screenshot)
