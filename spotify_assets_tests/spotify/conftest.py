"""Helpers for client tests: a client pointed at an emulator, and the fewest requests possible."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from spotify_assets.emulator import EmulatorServer
from spotify_assets.spotify import ClientConfig, SpotifyClient

ClientFactory = Callable[..., SpotifyClient]
WORKERS = 16
"""The worker threads of the stop-rule tests: at most WORKERS - 1 requests may follow a 429."""


@pytest.fixture
def client_for() -> Iterator[ClientFactory]:
    """`client_for(emulator, **settings)`: a SpotifyClient on that emulator with fast backoff."""
    clients: list[SpotifyClient] = []

    def build(emu: EmulatorServer, **settings: Any) -> SpotifyClient:
        memory = {key: settings.pop(key) for key in ("memory",) if key in settings}
        options: dict[str, Any] = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, **settings}
        config = ClientConfig(
            emu.client_id, emu.client_secret, emu.api_base_url, emu.token_url, **options
        )
        client = SpotifyClient(config, **memory)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def extra_track_pages(emu: EmulatorServer) -> int:
    """Track pages beyond the first 50 tracks of each album."""
    return sum(math.ceil(len(album.tracks) / 50) - 1 for album in emu.catalog.albums)


def fewest_requests(emu: EmulatorServer, mode: str) -> int:
    """The fewest API requests the mode allows for the whole catalog (see bench/ too)."""
    albums = len(emu.catalog.albums)
    if mode == "extended":
        return math.ceil(albums / 50) + math.ceil(albums / 20) + extra_track_pages(emu)
    return math.ceil(albums / 10) + albums + extra_track_pages(emu)


def catalog_ids(emu: EmulatorServer) -> list[str]:
    """The album ids of the emulator's feed, in order."""
    return [album.id for album in emu.catalog.albums]


def after_first_429(emu: EmulatorServer) -> list[dict[str, Any]]:
    """The API requests the emulator received after the first 429 it answered."""
    log = [entry for entry in emu.stats()["log"] if entry["endpoint"] != "token"]
    first = next(i for i, entry in enumerate(log) if entry["status"] == 429)
    return log[first + 1 :]
