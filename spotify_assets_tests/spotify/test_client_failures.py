"""One test per failure mode the client claims to handle, each injected by the emulator."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import requests

from spotify_assets.emulator import EmulatorServer, Fault
from spotify_assets.spotify import (
    ClientConfig,
    SpotifyAuthError,
    SpotifyClient,
    SpotifyCredentialsError,
    SpotifyPagingError,
    SpotifyRateLimitError,
    SpotifyRequestError,
    SpotifyUnavailableError,
)
from spotify_assets.spotify.auth import ClientCredentialsAuth
from spotify_assets.spotify.pacing import Pacer
from spotify_assets.spotify.stats import Progress, StatsRecorder
from spotify_assets.spotify.transport import Transport
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.spotify.conftest import ClientFactory, catalog_ids


@pytest.fixture
def emu(emulator_factory: EmulatorFactory) -> EmulatorServer:
    """A small extended-mode catalog: 3 browse pages of 10, albums over 50 tracks."""
    return emulator_factory(albums=30, mode="extended")


# Tokens


def test_token_expired_mid_run_is_renewed_once_and_the_request_replayed(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(Fault(endpoint="albums", action="expire_token", nth=2))
    client = client_for(emu)
    tracks = client.album_tracks(catalog_ids(emu))
    assert len(tracks) == 30
    assert client.stats.token_refreshes == 1
    assert emu.stats()["tokens_issued"] == 2
    assert emu.stats()["by_status"]["401"] == 1


def test_revoked_token_is_replaced(emu: EmulatorServer, client_for: ClientFactory) -> None:
    emu.add_fault(Fault(endpoint="new_releases", action="revoke_token", nth=2))
    client = client_for(emu, page_size=10)
    feed = client.new_releases()
    assert len(feed.albums) == 30
    assert client.stats.token_refreshes == 1


def test_a_401_on_a_token_just_renewed_is_asked_once_more_with_another(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(Fault(endpoint="albums", action="expire_token", nth=2))
    emu.add_fault(Fault(endpoint="albums", action="status", status=401, nth=3))
    client = client_for(emu)
    tracks = client.album_tracks(catalog_ids(emu))
    assert tracks.stopped is None and list(tracks) == catalog_ids(emu)
    assert emu.stats()["tokens_issued"] == 3 and client.stats.token_refreshes == 2
    assert emu.stats()["by_endpoint"]["albums"] == 2 + 2


def test_a_401_that_survives_two_fresh_tokens_fails_with_advice(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(Fault(endpoint="new_releases", action="status", status=401, times=3))
    with pytest.raises(SpotifyAuthError, match=r"401 .* even with 2 fresh tokens"):
        client_for(emu).new_releases()
    assert emu.stats()["tokens_issued"] == 3
    assert emu.stats()["by_endpoint"]["new_releases"] == 3


@pytest.mark.parametrize("told", ["zero", "null", "absent"])
def test_a_token_answer_without_a_believable_lifetime_is_used_for_the_hour(
    told: str, emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.configure(expires_in_told=told)
    client = client_for(emu, max_workers=4)
    assert len(client.album_tracks(catalog_ids(emu))) == 30
    assert emu.stats()["tokens_issued"] == 1 and client.stats.token_refreshes == 0


def test_tokens_are_renewed_before_they_expire_and_shared_by_threads(
    emu: EmulatorServer,
) -> None:
    now = [0.0]
    stats = StatsRecorder()
    config = ClientConfig(
        emu.client_id, emu.client_secret, emu.api_base_url, emu.token_url, token_refresh_margin_s=60
    )
    transport = Transport(requests.Session(), config, stats=stats, pacer=Pacer())
    emu.configure(token_ttl_s=600)
    auth = ClientCredentialsAuth(config, transport=transport, stats=stats, clock=lambda: now[0])
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(auth.token())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(tokens)) == 1 and stats.snapshot().token_requests == 1
    now[0] = 600 - 61
    assert auth.token() == tokens[0]
    now[0] = 600 - 59
    assert auth.token() != tokens[0]
    assert stats.snapshot().token_refreshes == 1


def test_invalid_client_fails_at_once_naming_the_variables(
    emu: EmulatorServer,
) -> None:
    client = SpotifyClient(
        ClientConfig(emu.client_id, "wrong-secret", emu.api_base_url, emu.token_url)
    )
    with pytest.raises(SpotifyCredentialsError) as caught:
        client.new_releases()
    message = str(caught.value)
    assert "Invalid client secret" in message
    assert "SPOTIFY_CLIENT_ID" in message and "SPOTIFY_CLIENT_SECRET" in message
    assert "wrong-secret" not in message
    assert emu.stats()["requests"] == 1


def test_token_endpoint_outage_is_retried(emu: EmulatorServer, client_for: ClientFactory) -> None:
    emu.add_fault(Fault(endpoint="token", action="status", status=503, times=2))
    client = client_for(emu)
    assert len(client.new_releases().albums) == 30
    assert client.stats.token_requests == 3


# Rate limits


def test_short_retry_after_is_waited_out_by_every_worker(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=30, mode="development", latency_ms=20)
    emu.add_fault(Fault(endpoint="album_tracks", action="rate_limit", retry_after_s=1, nth=10))
    client = client_for(emu, max_workers=8)
    tracks = client.album_tracks(catalog_ids(emu))
    assert len(tracks) == 30
    assert client.stats.http_429 == 1
    # The pause, then the pace the pacer learned from that 429 (a quota per 1 s window).
    assert client.stats.waited_s >= 0.95
    log = emu.stats()["log"]
    rate_limited_at = next(entry["time"] for entry in log if entry["status"] == 429)
    # Requests already in flight may still land; none may be sent during the pause.
    in_pause = [e for e in log if rate_limited_at + 0.5 < e["time"] < rate_limited_at + 0.95]
    assert in_pause == []


def test_retry_after_above_the_maximum_fails_in_under_a_second(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(
        Fault(
            endpoint="new_releases",
            action="rate_limit",
            retry_after_s=86400,
            body={"error": {"status": 429, "message": "Quota", "reason": "QUOTA_EXCEEDED"}},
        )
    )
    started = time.monotonic()
    with pytest.raises(SpotifyRateLimitError) as caught:
        client_for(emu, new_releases_source="browse").new_releases()
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after_s == 86400
    message = str(caught.value)
    assert "wait 86400 s (Retry-After)" in message
    assert "max_retry_after_s is 60" in message
    assert "QUOTA_EXCEEDED" in message


def test_a_retry_after_past_any_date_stops_the_run_with_its_message(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    """10^12 s parses as a wait, but now + 10^12 s is past the year 9999: the stop error says so
    instead of failing to make the "run again after" date."""
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=10**12))
    with pytest.raises(SpotifyRateLimitError) as caught:
        client_for(emu, new_releases_source="browse").new_releases()
    assert caught.value.retry_after_s == 10**12
    assert "wait 1000000000000 s (Retry-After)" in str(caught.value)
    assert "no date can be given for a wait that long" in str(caught.value)
    assert emu.stats()["by_endpoint"]["new_releases"] == 1


def test_an_endless_429_is_not_retried_forever(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=1, times=50))
    with pytest.raises(SpotifyRateLimitError, match="kept answering 429"):
        client_for(emu, max_rate_limit_retries=1, new_releases_source="browse").new_releases()
    assert emu.stats()["http_429"] == 2


def test_a_rolling_window_rate_limit_is_paced_and_the_data_complete(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    # The latency keeps every worker's request in flight, as over the internet: with none, on a
    # loaded machine, a request overtaken by those sent after it can make the full window read
    # as a hiccup (the requests around the 429s accepted), and the run learns nothing to save.
    # 50 albums: the run lasts over three windows, so the pace it learns is tested (a probe over
    # it refused) before it is saved; unless its first pause took a 429 from every worker, and
    # the next run's probe tests it.
    emu = emulator_factory(albums=50, mode="development", rate_limit=(15, 1.0), latency_ms=40)
    client = client_for(emu)
    tracks = client.album_tracks(catalog_ids(emu))
    assert len(tracks) == 50
    stats = emu.stats()
    assert stats["http_429"] == client.stats.http_429 >= 1
    assert client.stats.waited_s >= 1.0
    [memory] = json.loads((capability_cache / "app_memory.json").read_text()).values()
    tested = memory["pace"]["confirmed"]
    # The next run starts at the pace this one saved: it waits for the window instead of meeting
    # 429s (but for the probe that tests an untested pace), and its waiting is counted and
    # reported like a Retry-After pause.
    emu.reset()
    reports: list[Progress] = []
    warm = client_for(emu, progress_interval_s=0.5)
    assert len(warm.album_tracks(catalog_ids(emu), progress=reports.append)) == 50
    assert emu.stats()["http_429"] == warm.stats.http_429 <= (0 if tested else 1)
    windows_rolled = (emu.stats()["api_requests"] - 1) // 15
    assert windows_rolled >= 1
    assert warm.stats.waited_s >= 0.8 * windows_rolled
    assert reports[-1].stats.waited_s == pytest.approx(warm.stats.waited_s, abs=0.01)
    assert f"waited {warm.stats.waited_s:.1f} s" in str(reports[-1])


# Server errors, timeouts, connections


@pytest.mark.parametrize("status", [500, 502, 503])
def test_bursts_of_server_errors_are_retried_with_backoff(
    status: int, emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(Fault(endpoint="albums", action="status", status=status, nth=1, times=3))
    client = client_for(emu)
    assert len(client.album_tracks(catalog_ids(emu))) == 30
    assert client.stats.http_5xx == 3 and client.stats.retries == 3


def test_html_error_pages_are_retried_and_reported_readably(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(Fault(endpoint="new_releases", action="html", status=502, times=10))
    with pytest.raises(SpotifyUnavailableError) as caught:
        client_for(emu, max_retries=2).new_releases()
    assert "502 (502 Bad Gateway)" in str(caught.value)
    assert "after 3 attempts" in str(caught.value)


@pytest.mark.parametrize(
    "fault",
    [
        Fault("albums", "status", status=200, body_format="empty", nth=2),
        Fault("albums", "html", status=200, nth=2),
        Fault(
            "albums", "status", status=200, body_format="text", message='{"albums": [{"id"', nth=2
        ),
        Fault(
            "albums",
            "status",
            status=200,
            body_format="text",
            message='{"albums": [{"id": "x", "tracks": {}}',
            nth=2,
        ),
        Fault(
            "albums",
            "status",
            status=200,
            body={"error": {"status": 502, "message": "Bad gateway"}},
            nth=2,
        ),
        Fault("albums", "status", status=200, body_format="text", message="[]", nth=2),
    ],
    ids=["empty", "html", "cut-short-json", "cut-after-a-brace", "error-object", "array"],
)
def test_a_200_that_holds_no_answer_is_asked_again(
    fault: Fault, emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(fault)
    client = client_for(emu)
    tracks = client.album_tracks(catalog_ids(emu))
    assert tracks.stopped is None and list(tracks) == catalog_ids(emu)
    assert client.stats.bad_bodies == 1 and client.stats.retries == 1
    assert emu.stats()["by_endpoint"]["albums"] == 2 + 1  # two batches, one asked again


def test_a_token_answer_cut_short_is_asked_again(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(
        Fault(
            "token",
            "status",
            status=200,
            body_format="text",
            message='{"access_token": "a", "x": {}',
        )
    )
    client = client_for(emu)
    tracks = client.album_tracks(catalog_ids(emu))
    assert tracks.stopped is None and list(tracks) == catalog_ids(emu)
    assert client.stats.bad_bodies == 1 and client.stats.token_requests == 2


def test_server_errors_beyond_the_retry_budget_fail_fast(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(Fault(endpoint="*", action="status", status=500, times=1000))
    with pytest.raises(SpotifyUnavailableError, match="retry budget is spent"):
        client_for(emu, retry_budget=4).album_tracks(catalog_ids(emu))
    assert emu.stats()["api_requests"] <= 4 + 8


def test_timeouts_are_retried(emu: EmulatorServer, client_for: ClientFactory) -> None:
    emu.add_fault(Fault(endpoint="new_releases", action="delay", delay_s=1.0))
    client = client_for(emu, read_timeout_s=0.2)
    assert len(client.new_releases().albums) == 30
    assert client.stats.timeouts == 1 and client.stats.retries == 1


def test_an_answer_trickled_past_the_read_timeout_is_a_timeout_and_retried(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(Fault(endpoint="albums", action="trickle", pause_s=0.05, nth=2))
    client = client_for(emu, read_timeout_s=0.5)  # each piece comes well within it
    started = time.monotonic()
    assert list(client.album_tracks(catalog_ids(emu))) == catalog_ids(emu)
    assert client.stats.timeouts == 1 and client.stats.retries == 1
    assert emu.stats()["by_endpoint"]["albums"] == 2 + 1
    assert time.monotonic() - started < 5  # the whole trickle would take minutes


@pytest.mark.parametrize("action", ["drop", "truncate"])
def test_dropped_connections_are_retried(
    action: str, emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.add_fault(Fault(endpoint="albums", action=action, nth=2))
    client = client_for(emu)
    assert len(client.album_tracks(catalog_ids(emu))) == 30
    assert client.stats.connection_errors == 1 and client.stats.retries == 1


# Paging


def test_a_next_link_to_a_foreign_host_is_never_followed(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=30, mode="extended")
    trap = emulator_factory(albums=1)
    emu.add_fault(
        Fault(endpoint="new_releases", action="foreign_next", next_base_url=trap.base_url)
    )
    with pytest.raises(SpotifyPagingError, match="not on the configured API host"):
        client_for(emu, page_size=10).new_releases()
    assert trap.stats()["requests"] == 0


@pytest.mark.parametrize("endpoint", ["new_releases", "search"])
def test_a_relative_next_link_is_followed_on_the_api_host(
    endpoint: str, emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # A proxy's rewrite: the first page's next link is "/v1/...?offset=10..." (Spotify's are
    # absolute). It was refused as "not on the configured API host", failing the feed.
    emu = emulator_factory(albums=30, mode="extended")
    emu.add_fault(Fault(endpoint=endpoint, action="foreign_next", next_base_url="/"))
    source = "browse" if endpoint == "new_releases" else "search"
    feed = client_for(emu, page_size=10, new_releases_source=source).new_releases()
    assert [a["id"] for a in feed.albums] == catalog_ids(emu)
    assert emu.stats()["by_endpoint"][endpoint] == 3


def test_drift_between_pages_restarts_the_listing_without_duplicates(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.configure(drift_after_pages=1)
    client = client_for(emu, page_size=10)
    feed = client.new_releases()
    ids = [a["id"] for a in feed.albums]
    assert len(ids) == len(set(ids)) == feed.total == 31
    assert ids == catalog_ids(emu)
    assert client.stats.drift_restarts == 1


def test_drift_that_does_not_settle_fails_clearly(
    emu: EmulatorServer, client_for: ClientFactory
) -> None:
    emu.configure(drift_after_pages=1)
    with pytest.raises(SpotifyPagingError, match="kept changing"):
        client_for(emu, page_size=10, max_drift_restarts=0).new_releases()


def test_a_400_is_not_retried_and_says_why(emu: EmulatorServer, client_for: ClientFactory) -> None:
    emu.add_fault(Fault(endpoint="new_releases", action="status", status=400))
    client = client_for(emu)
    with pytest.raises(SpotifyRequestError, match="refused GET /v1/browse/new-releases with 400"):
        client.new_releases()
    assert client.stats.retries == 0
