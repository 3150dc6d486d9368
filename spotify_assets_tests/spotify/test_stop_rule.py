"""The stop rule: after a day-long 429 or a spent quota no worker sends another request, no
fallback is tried, and the error says what Spotify said and when a run can succeed."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from spotify_assets.emulator import Fault
from spotify_assets.spotify import SpotifyAppForbiddenError, SpotifyRunStoppedError
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.spotify.conftest import WORKERS, ClientFactory, after_first_429


def run_until_stopped(client: Any) -> SpotifyRunStoppedError:
    """Read the feed and every album's tracks until the client stops; the error it stopped with."""
    with pytest.raises(SpotifyRunStoppedError) as stopped:
        client.album_tracks(a["id"] for a in client.new_releases().albums)
    return stopped.value


def test_a_spent_quota_stops_all_16_workers_at_once(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=150, mode="development", latency_ms=5, quota=60)
    client = client_for(emu, max_workers=WORKERS)
    started = time.monotonic()
    error = run_until_stopped(client)
    assert time.monotonic() - started < 5
    assert len(after_first_429(emu)) <= WORKERS - 1
    assert emu.stats()["quota_exceeded"] <= WORKERS
    message = str(error)
    assert "86400 s (Retry-After)" in message and "QUOTA_EXCEEDED" in message
    when = re.search(r"run again after (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", message)
    assert when is not None
    expected = datetime.now(UTC) + timedelta(days=1)
    parsed = datetime.strptime(when.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert abs(parsed - expected) < timedelta(minutes=2)
    assert (error.reason, error.retry_after_s) == ("QUOTA_EXCEEDED", 86400)


def test_a_day_long_retry_after_from_the_third_request_stops_the_run(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=150, mode="development", latency_ms=5)
    emu.add_fault(
        Fault(endpoint="*", action="rate_limit", nth=3, times=10_000, retry_after_s=86400)
    )
    error = run_until_stopped(client_for(emu, max_workers=WORKERS))
    assert len(after_first_429(emu)) <= WORKERS - 1
    assert "Spotify asked to wait 86400 s (Retry-After)" in str(error)


def test_a_day_long_429_on_the_browse_probe_tries_no_fallback(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=20, mode="development")
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=86400))
    with pytest.raises(SpotifyRunStoppedError):
        client_for(emu).new_releases()
    assert emu.stats()["api_requests"] == 1


def test_a_day_long_429_on_the_batch_probe_tries_no_per_album_listing(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=30, mode="extended")
    emu.add_fault(Fault(endpoint="albums", action="rate_limit", retry_after_s=86400))
    with pytest.raises(SpotifyRunStoppedError):
        client_for(emu).album_tracks(a.id for a in emu.catalog.albums)
    assert emu.stats()["api_requests"] == 1


@pytest.mark.parametrize(
    ("refusal", "words"),
    [
        ("premium", "Active premium subscription required for the owner of the app."),
        ("country", "Spotify is unavailable in this country"),
    ],
)
def test_a_whole_app_403_fails_on_the_first_refused_request(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, refusal: str, words: str
) -> None:
    emu = emulator_factory(albums=20, mode="development", app_forbidden=refusal)
    with pytest.raises(SpotifyAppForbiddenError) as refused:
        client_for(emu).new_releases()
    assert words in str(refused.value) and "developer dashboard" in str(refused.value)
    assert emu.stats()["api_requests"] == 1
