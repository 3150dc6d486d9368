"""Spotify as users report it in 2024-2026, through the client: every transient oddity ends with
complete data, at the cost the test counts."""

from __future__ import annotations

from typing import Any

import pytest

from spotify_assets.emulator import Fault
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.spotify.conftest import ClientFactory, catalog_ids

BAD_GATEWAY = {"error": {"status": 502, "message": "Bad gateway."}}


@pytest.mark.parametrize(
    "fault",
    [
        Fault("search", "rate_limit", retry_after_s=1, times=2),
        Fault("search", "rate_limit", body_format="text", retry_after_s=0, times=2),
        Fault("search", "rate_limit", body_format="empty", retry_after_s=None, times=2),
        Fault("*", "rate_limit", message="Too many requests", retry_after_s=None, times=3),
    ],
    ids=["json-1s", "text-0", "empty-absent", "json-absent"],
)
def test_every_shape_of_429_is_waited_out(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, fault: Fault
) -> None:
    emu = emulator_factory(albums=30, mode="development")
    emu.add_fault(fault)
    client = client_for(emu, new_releases_source="search")
    feed = client.new_releases()
    assert [a["id"] for a in feed.albums] == catalog_ids(emu)
    assert client.stats.http_429 == fault.times
    assert client.stats.api_requests == 3 + fault.times


def test_the_2026_401_body_renews_the_token(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=30, mode="development", auth_errors="2026")
    emu.add_fault(Fault("search", "expire_token", nth=2))
    client = client_for(emu, new_releases_source="search")
    assert [a["id"] for a in client.new_releases().albums] == catalog_ids(emu)
    assert emu.stats()["tokens_issued"] == 2 and client.stats.token_refreshes == 1


@pytest.mark.parametrize(
    "fault",
    [
        Fault("token", "html", status=500),
        Fault("token", "status", status=503, body_format="empty"),
        Fault("token", "status", status=502, body=BAD_GATEWAY),
        Fault("token", "status", status=504, delay_s=0.4),
    ],
    ids=["html-500", "empty-503", "json-502", "stall-then-504"],
)
def test_a_failing_token_endpoint_is_retried(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, fault: Fault
) -> None:
    emu = emulator_factory(albums=10, mode="development")
    emu.add_fault(fault)
    client = client_for(emu, new_releases_source="search", read_timeout_s=0.2)
    assert [a["id"] for a in client.new_releases().albums] == catalog_ids(emu)
    assert client.stats.token_requests == 2 and client.stats.retries == 1


def test_a_search_total_far_above_what_may_be_paged_keeps_what_came(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=45, mode="development", search_total=34_567)
    client = client_for(emu, new_releases_source="search")
    feed = client.new_releases()
    assert [a["id"] for a in feed.albums] == catalog_ids(emu)
    assert (feed.total, feed.reachable, feed.shortfall) == (34_567, 1000, 955)
    assert client.stats.api_requests <= 5 + 4


def test_pages_that_run_out_before_the_total_keep_what_came(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=60, mode="development", feed_shortfall=25)
    client = client_for(emu, new_releases_source="search")
    feed = client.new_releases()
    assert [a["id"] for a in feed.albums] == catalog_ids(emu)[:35]
    assert (feed.total, feed.shortfall) == (60, 25)
    searched = [e for e in emu.stats()["log"] if e["endpoint"] == "search"]
    assert len(searched) <= 4 + 4


def test_no_search_request_goes_past_offset_plus_limit_1000(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=1010, mode="development", search_total=50_000)
    feed = client_for(emu, new_releases_source="search").new_releases()
    assert len(feed.albums) == 1000 and feed.shortfall == 0
    queries = [_query(e) for e in emu.stats()["log"] if e["endpoint"] == "search"]
    assert max(int(q.get("offset", 0)) + int(q["limit"]) for q in queries) == 1000
    assert all(e["status"] == 200 for e in emu.stats()["log"] if e["endpoint"] == "search")


def test_a_next_link_to_the_same_page_is_read_again_without_duplicates(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=50, mode="development")
    emu.add_fault(Fault("search", "same_next"))
    client = client_for(emu, new_releases_source="search")
    assert [a["id"] for a in client.new_releases().albums] == catalog_ids(emu)
    assert client.stats.drift_restarts == 1


def test_a_one_off_404_on_a_listed_album_is_asked_again(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=12, mode="development")
    album = emu.catalog.albums[5]
    emu.add_fault(Fault("album_tracks", "missing_album", album_id=album.id))
    tracks = client_for(emu).album_tracks(catalog_ids(emu))
    assert tracks.missing == () and [t["id"] for t in tracks[album.id]] == [
        t.id for t in album.tracks
    ]
    assert emu.stats()["by_status"].get("404") == 1


def test_an_album_a_batch_answers_null_for_is_listed_on_its_own(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=30, mode="extended")
    album = emu.catalog.albums[7]
    emu.add_fault(Fault("albums", "missing_album", album_id=album.id))
    tracks = client_for(emu).album_tracks(catalog_ids(emu))
    assert tracks.endpoint == "albums" and tracks.missing == () and len(tracks) == 30
    assert [t["id"] for t in tracks[album.id]] == [t.id for t in album.tracks]
    listed = [e for e in emu.stats()["log"] if album.id in e["path"] and "offset" not in e["query"]]
    assert [e["endpoint"] for e in listed] == ["album_tracks"]


def test_an_album_spotify_really_does_not_know_costs_four_requests(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=3, mode="development")
    tracks = client_for(emu).album_tracks([*catalog_ids(emu), "0" * 22])
    assert tracks.missing == ("0" * 22,) and len(tracks) == 3
    assert emu.stats()["by_status"].get("404") == 4


def _query(entry: dict[str, Any]) -> dict[str, str]:
    """The query string of a logged request as a dict."""
    return dict(part.split("=", 1) for part in entry["query"].split("&") if part)
