"""Reading Retry-After in every form Spotify (or a proxy) may send, and refusing bad settings."""

from __future__ import annotations

import json
import time
from email.utils import formatdate

import pytest
import requests

from spotify_assets.emulator import EmulatorServer, Fault
from spotify_assets.spotify import (
    ClientConfig,
    SpotifyClient,
    SpotifyConfigError,
    SpotifyRateLimitError,
    SpotifyUnavailableError,
)
from spotify_assets.spotify.transport import json_document, parse_retry_after
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.spotify.conftest import ClientFactory, catalog_ids


def test_retry_after_in_seconds_decimals_or_an_http_date() -> None:
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(formatdate(time.time() + 120, usegmt=True)) == pytest.approx(
        120, abs=2
    )
    assert parse_retry_after(formatdate(time.time() - 60, usegmt=True)) == 0.0
    server_now = time.time() + 7200  # a server whose clock is two hours ahead of this one
    assert parse_retry_after(
        formatdate(server_now + 3, usegmt=True), formatdate(server_now, usegmt=True)
    ) == pytest.approx(3, abs=1)
    assert parse_retry_after(formatdate(time.time() + 120, usegmt=True), "yesterday") == (
        pytest.approx(120, abs=2)
    )
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert [parse_retry_after(v) for v in ("inf", "-inf", "nan", "1e400")] == [None] * 4


def body(content: bytes, charset: str | None = None) -> requests.Response:
    """A response holding `content`, its charset named by its headers when given."""
    response = requests.Response()
    response._content = content
    response.encoding = charset
    return response


def test_a_json_body_may_open_with_a_byte_order_mark_or_name_another_charset() -> None:
    assert json_document(body(b'\xef\xbb\xbf{"albums": []}')) == {"albums": []}
    error = {"error": {"message": "Caf\u00e9 ferm\u00e9"}}
    latin = json.dumps(error, ensure_ascii=False).encode("latin-1")
    assert json_document(body(latin, "iso-8859-1")) == error
    with pytest.raises(ValueError):
        json_document(body(b'{"albums": [}'))


def test_urls_that_cannot_work_are_refused_up_front() -> None:
    with pytest.raises(SpotifyConfigError, match="api_base_url must be an http"):
        ClientConfig("id", "secret", api_base_url="api.spotify.com/v1")
    with pytest.raises(SpotifyConfigError, match="token_url must be an http"):
        ClientConfig("id", "secret", token_url="ftp://accounts.spotify.com/api/token")


def test_a_tls_failure_is_not_retried(emulator: EmulatorServer) -> None:
    https = emulator.base_url.replace("http://", "https://")
    client = SpotifyClient(
        ClientConfig(
            emulator.client_id, emulator.client_secret, f"{https}/v1", f"{https}/api/token"
        )
    )
    with pytest.raises(SpotifyUnavailableError, match=r"TLS connection to 127\.0\.0\.1"):
        client.new_releases()
    assert client.stats.requests == 1 and client.stats.retries == 0


def test_a_spent_retry_budget_says_so_on_a_429(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=5)
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=1))
    with pytest.raises(SpotifyRateLimitError, match="retry budget is spent"):
        client_for(emu, retry_budget=0, new_releases_source="browse").new_releases()


def test_a_404_that_may_not_be_asked_again_lists_the_album_as_unknown(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=3, mode="development")
    unknown = "0" * 22
    tracks = client_for(emu, max_retries=0).album_tracks([*catalog_ids(emu), unknown])
    assert tracks.missing == (unknown,) and len(tracks) == 3
    assert emu.stats()["by_status"].get("404") == 1
