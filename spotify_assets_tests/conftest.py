"""Fixtures for the whole suite: running Spotify emulators and the official OpenAPI document."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from spotify_assets.emulator import EmulatorConfig, EmulatorServer
from spotify_assets.emulator.knobs import TUNABLE_KEYS
from spotify_assets.spotify.memory import CACHE_DIR_ENV

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""The clone: where pyproject.toml and the spotify_assets package are."""
# shared/ sits beside the project root (…/main and …/shared), wherever the clone lives.
OPENAPI_PATH = PROJECT_ROOT.parent / "shared" / "spotify-web-api" / "official-spotify-open-api.yml"

SUPERSEDED = "SupersessionWarning"
"""What a superseded dagster command prints ("... is superseded ... Use 'dg dev' instead.")."""

EmulatorFactory = Callable[..., EmulatorServer]
"""The `emulator_factory` fixture: `emulator_factory(clock=..., **config_overrides)`."""


def start_emulator(clock: Callable[[], float] = time.monotonic, **overrides: Any) -> EmulatorServer:
    """A started emulator: defaults (100 albums, seed 42, extended mode) plus `overrides`;
    `clock` drives its rate window and token expiry."""
    fixed = {key: value for key, value in overrides.items() if key not in TUNABLE_KEYS}
    tunable = {key: value for key, value in overrides.items() if key in TUNABLE_KEYS}
    server = EmulatorServer(EmulatorConfig(**fixed).updated(tunable), clock=clock)
    server.start()
    return server


def project_in(folder: Path) -> Path:
    """`folder` made a stand-in for the clone that `dg` accepts as the project (pyproject.toml,
    the package, the virtualenv), so commands run there keep their .env, data and instance in
    `folder`."""
    (folder / "pyproject.toml").write_text((PROJECT_ROOT / "pyproject.toml").read_text())
    for name in ("spotify_assets", ".venv"):
        (folder / name).symlink_to(PROJECT_ROOT / name, target_is_directory=True)
    return folder


def run_command(
    command: list[str | Path], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, capturing its output; the test judges the exit code."""
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def clean_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """This process's environment without any SPOTIFY_* setting, plus `variables` (and the
    test's own app memory, so no run touches the user's)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SPOTIFY_")}
    environ.update(
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        SPOTIFY_ASSETS_CACHE_DIR=str(tmp_path / "cache"),
        **variables,
    )
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    return environ


def emulator_environment(emu: EmulatorServer, tmp_path: Path) -> dict[str, str]:
    """Credentials and URLs pointing a process at `emu`, data under tmp_path."""
    return clean_environment(
        tmp_path,
        SPOTIFY_CLIENT_ID=emu.client_id,
        SPOTIFY_CLIENT_SECRET=emu.client_secret,
        SPOTIFY_API_BASE_URL=emu.api_base_url,
        SPOTIFY_TOKEN_URL=emu.token_url,
        SPOTIFY_ASSETS_DATA_DIR=str(tmp_path / "data"),
    )


@pytest.fixture(autouse=True)
def capability_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test keeps the app memory in a folder of its own, never in the user's cache."""
    folder = tmp_path_factory.mktemp("capabilities")
    monkeypatch.setenv(CACHE_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A running emulator with the default config, stopped after the test."""
    server = start_emulator()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emulator_factory() -> Iterator[EmulatorFactory]:
    """Start emulators with config overrides, e.g. `emulator_factory(mode="development")`, and
    optionally a fake `clock=`."""
    started: list[EmulatorServer] = []

    def factory(clock: Callable[[], float] = time.monotonic, **overrides: Any) -> EmulatorServer:
        server = start_emulator(clock, **overrides)
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture(scope="session")
def openapi_spec() -> dict[str, Any]:
    """Spotify's official OpenAPI document, parsed."""
    if not OPENAPI_PATH.exists():
        pytest.fail(
            f"{OPENAPI_PATH} is missing: the tests expect the project's shared/ folder (with "
            "spotify-web-api/) beside the repository, as CI provides it."
        )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with OPENAPI_PATH.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.load(handle, Loader=loader)
    return spec
