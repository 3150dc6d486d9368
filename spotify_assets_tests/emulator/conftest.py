"""Fixtures for the emulator tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spotify_assets.emulator import EmulatorServer

from .helpers import Api


@pytest.fixture
def api(emulator: EmulatorServer) -> Iterator[Api]:
    """A raw client of the default emulator."""
    client = Api(emulator)
    try:
        yield client
    finally:
        client.close()
