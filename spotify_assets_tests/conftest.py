"""Fixtures for the whole suite: running Spotify emulators and the official OpenAPI document."""

from __future__ import annotations

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
