"""The app's capabilities are remembered across runs, for a week, and never break a run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from spotify_assets.emulator import EmulatorServer, Fault
from spotify_assets.spotify import SpotifyRateLimitError
from spotify_assets.spotify.capabilities import DEFAULT_TTL_S, Capabilities
from spotify_assets_tests.spotify.conftest import ClientFactory, fewest_requests

EmulatorFactory = Callable[..., EmulatorServer]


def test_a_403_is_remembered_so_the_next_run_goes_straight_to_search(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=30, mode="development")
    first = client_for(emu)
    first.album_tracks(a["id"] for a in first.new_releases().albums)
    emu.reset()

    second = client_for(emu)
    feed = second.new_releases()
    tracks = second.album_tracks(a["id"] for a in feed.albums)

    assert feed.source == "search" and len(tracks) == 30
    assert feed.fallback_reason is not None and feed.fallback_reason.startswith("remembered from")
    assert emu.stats()["by_endpoint"]["new_releases"] == 0
    assert second.stats.api_requests == fewest_requests(emu, "development")
    [stored] = json.loads((capability_cache / "capabilities.json").read_text()).values()
    assert set(stored) == {"browse", "albums"}
    assert emu.client_secret not in (capability_cache / "capabilities.json").read_text()


def test_an_extended_app_is_never_sent_to_search(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=10, mode="extended")
    assert client_for(emu).new_releases().source == "browse"
    assert client_for(emu).new_releases().source == "browse"
    assert not (capability_cache / "capabilities.json").exists()


def test_memories_expire_so_an_upgraded_app_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "capabilities.json"
    now = [1_000_000.0]
    Capabilities(path, "app", clock=lambda: now[0]).forbid("browse", "403")
    assert Capabilities(path, "app", clock=lambda: now[0]).reason("browse") is not None
    assert Capabilities(path, "other-app", clock=lambda: now[0]).reason("browse") is None
    now[0] += DEFAULT_TTL_S + 1
    assert Capabilities(path, "app", clock=lambda: now[0]).reason("browse") is None
    Capabilities(path, "app", clock=lambda: now[0]).forbid("albums", "403")
    assert set(json.loads(path.read_text())["app"]) == {"albums"}


def test_an_unusable_cache_costs_a_probe_but_never_the_run(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    emu = emulator_factory(albums=10, mode="development")
    client = client_for(emu, capabilities_file=blocker / "capabilities.json")
    assert len(client.new_releases().albums) == 10
    (tmp_path / "garbage.json").write_text("{not json")
    assert Capabilities(tmp_path / "garbage.json", "app").reason("browse") is None
    (tmp_path / "odd.json").write_text('{"app": {"browse": {"at": "yesterday"}}, "x": [1]}')
    odd = Capabilities(tmp_path / "odd.json", "app")
    assert odd.reason("browse") is None
    odd.forbid("albums", "403")
    assert json.loads((tmp_path / "odd.json").read_text())["app"]["albums"]["reason"] == "403"


def test_a_429_on_the_browse_probe_falls_back_to_search_without_waiting(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=20, mode="extended")
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=86400))
    feed = client_for(emu).new_releases()
    assert feed.source == "search" and len(feed.albums) == 20
    assert feed.fallback_reason is not None and "86400 s" in feed.fallback_reason
    assert not (capability_cache / "capabilities.json").exists()
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=86400))
    with pytest.raises(SpotifyRateLimitError):
        client_for(emu, new_releases_source="browse").new_releases()


def test_a_429_on_the_batch_probe_falls_back_to_one_listing_per_album(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=25, mode="extended")
    emu.add_fault(Fault(endpoint="albums", action="rate_limit", retry_after_s=86400))
    tracks = client_for(emu).album_tracks(a.id for a in emu.catalog.albums)
    assert tracks.endpoint == "album_tracks" and len(tracks) == 25
    assert tracks.fallback_reason is not None and "86400 s" in tracks.fallback_reason
    assert emu.stats()["by_endpoint"]["albums"] == 1
    assert not (capability_cache / "capabilities.json").exists()


def test_after_a_429_on_browse_the_batch_endpoint_is_not_probed_either(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=25, mode="extended")
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=86400))
    client = client_for(emu)
    tracks = client.album_tracks(a["id"] for a in client.new_releases().albums)
    assert tracks.endpoint == "album_tracks" and len(tracks) == 25
    assert emu.stats()["by_endpoint"]["albums"] == 0
