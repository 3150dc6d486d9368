"""Scripted faults: each action, and the n-th / times counting."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

import pytest
import requests

from spotify_assets.emulator import Fault

from .helpers import Api

NEW_RELEASES = "/browse/new-releases"


def test_status_fault_answers_web_api_json_then_recovers(api: Api) -> None:
    album_id = api.emulator.catalog.albums[0].id
    api.emulator.add_fault(Fault("album_tracks", "status", status=503))
    failed = api.get(f"/albums/{album_id}/tracks")
    assert failed.status_code == 503
    assert failed.json() == {"error": {"status": 503, "message": "Service Unavailable"}}
    assert api.get(f"/albums/{album_id}/tracks").status_code == 200


def test_status_fault_on_token_speaks_oauth(api: Api) -> None:
    api.emulator.add_fault(Fault("token", "status", status=500))
    failed = api.request_token(grant_type="client_credentials")
    assert failed.status_code == 500
    assert failed.json() == {"error": "server_error", "error_description": "Internal Server Error"}
    assert api.new_token()


def test_nth_and_times(api: Api) -> None:
    api.emulator.add_fault(Fault("search", "status", nth=2, times=2, status=502))
    api.get(NEW_RELEASES)  # other endpoints do not count
    statuses = [api.get("/search", q="tag:new", type="album").status_code for _ in range(5)]
    assert statuses == [200, 502, 502, 200, 200]
    assert api.emulator.stats()["faults_fired"] == 2


def test_any_route_fault_skips_the_token_endpoint(api: Api) -> None:
    api.emulator.add_fault(Fault("*", "status", status=500, times=2))
    assert api.token
    album_id = api.emulator.catalog.albums[0].id
    assert api.get(f"/albums/{album_id}").status_code == 500
    assert api.get(NEW_RELEASES).status_code == 500
    assert api.get(NEW_RELEASES).status_code == 200


def test_html_fault(api: Api) -> None:
    api.emulator.add_fault(Fault("new_releases", "html", status=502))
    response = api.get(NEW_RELEASES)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in response.text
    with pytest.raises(requests.JSONDecodeError):
        response.json()


@pytest.mark.parametrize("endpoint", ["new_releases", "token"])
def test_drop_fault_closes_without_a_byte(api: Api, endpoint: str) -> None:
    assert api.token
    api.emulator.add_fault(Fault(endpoint, "drop"))
    with pytest.raises(requests.ConnectionError) as caught:
        if endpoint == "token":
            api.new_token()
        else:
            api.get(NEW_RELEASES)
    assert "without response" in str(caught.value)
    assert api.get(NEW_RELEASES).status_code == 200  # the session reconnects
    log = api.emulator.stats()["log"]
    assert [entry["status"] for entry in log if entry["fault"] == "drop"] == [0]


def test_truncate_fault_sends_full_length_but_half_the_body(api: Api) -> None:
    api.emulator.add_fault(Fault("new_releases", "truncate"))
    url = urlsplit(api.emulator.api_base_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=5)
    connection.request(
        "GET", "/v1/browse/new-releases", headers={"Authorization": f"Bearer {api.token}"}
    )
    response = connection.getresponse()
    assert response.status == 200
    declared = int(response.headers["Content-Length"])
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert 0 < len(caught.value.partial) < declared
    connection.close()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.emulator.add_fault(Fault("new_releases", "truncate"))
        api.get(NEW_RELEASES)
    assert api.get(NEW_RELEASES).status_code == 200


def test_trickle_fault_sends_the_whole_body_a_few_bytes_at_a_time(api: Api) -> None:
    api.emulator.add_fault(Fault("token", "trickle", pause_s=0.02))
    started = time.monotonic()
    response = requests.post(
        api.emulator.token_url,
        data={"grant_type": "client_credentials"},
        auth=(api.emulator.client_id, api.emulator.client_secret),
        timeout=0.2,  # each wait for bytes is short, the whole answer is not
    )
    assert response.status_code == 200 and response.json()["token_type"] == "Bearer"
    pieces = -(-len(response.content) // 8)
    assert time.monotonic() - started >= pieces * 0.02 > 0.2
    assert int(response.headers["Content-Length"]) == len(response.content)


def test_delay_fault_lets_short_timeouts_expire(api: Api) -> None:
    assert api.token
    api.emulator.add_fault(Fault("new_releases", "delay", delay_s=0.3, times=2))
    with pytest.raises(requests.ReadTimeout):
        api.session.get(
            api.emulator.api_base_url + NEW_RELEASES,
            headers={"Authorization": f"Bearer {api.token}"},
            timeout=0.1,
        )
    started = time.monotonic()
    assert api.get(NEW_RELEASES).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_rate_limit_fault_with_huge_retry_after_and_quota_body(api: Api) -> None:
    quota = {"error": {"status": 429, "message": "Quota exceeded", "reason": "QUOTA_EXCEEDED"}}
    api.emulator.add_fault(Fault("album", "rate_limit", retry_after_s=86400))
    api.emulator.add_fault(Fault("album", "rate_limit", nth=2, retry_after_s=80000, body=quota))
    album_id = api.emulator.catalog.albums[0].id
    plain = api.get(f"/albums/{album_id}")
    assert plain.status_code == 429
    assert plain.headers["Retry-After"] == "86400"
    assert plain.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    custom = api.get(f"/albums/{album_id}")
    assert (custom.status_code, custom.headers["Retry-After"]) == (429, "80000")
    assert custom.json() == quota
    assert api.get(f"/albums/{album_id}").status_code == 200
    assert api.emulator.stats()["http_429"] == 2


def test_a_day_long_ban_on_the_token_endpoint(api: Api) -> None:
    ban = {"error": {"status": 429, "message": "Quota exceeded", "reason": "QUOTA_EXCEEDED"}}
    api.emulator.add_fault(Fault("token", "rate_limit", retry_after_s=86400, body=ban, times=99))
    for _ in range(2):
        refused = api.request_token(
            grant_type="client_credentials",
            client_id=api.emulator.client_id,
            client_secret=api.emulator.client_secret,
        )
        assert (refused.status_code, refused.headers["Retry-After"]) == (429, "86400")
        assert refused.json() == ban
    stats = api.emulator.stats()
    assert (stats["token_requests"], stats["tokens_issued"], stats["api_requests"]) == (2, 0, 0)


def test_foreign_next_rewrites_every_next_link(api: Api) -> None:
    foreign = "http://evil.example:9"
    big = next(a for a in api.emulator.catalog.albums if a.total_tracks > 50)
    for endpoint in ("new_releases", "search", "album_tracks", "album", "albums"):
        api.emulator.add_fault(Fault(endpoint, "foreign_next", next_base_url=foreign))
    links = [
        api.json(NEW_RELEASES)["albums"]["next"],
        api.json("/search", q="tag:new", type="album")["albums"]["next"],
        api.json(f"/albums/{big.id}/tracks")["next"],
        api.json(f"/albums/{big.id}")["tracks"]["next"],
        api.json("/albums", ids=big.id)["albums"][0]["tracks"]["next"],
    ]
    assert links[0] == f"{foreign}/v1/browse/new-releases?offset=20&limit=20"
    assert links[2] == f"{foreign}/v1/albums/{big.id}/tracks?offset=20&limit=20"
    assert all(link.startswith(f"{foreign}/v1/") for link in links)
    normal = api.json(NEW_RELEASES)["albums"]
    assert normal["next"].startswith(api.emulator.api_base_url)
    assert normal["href"].startswith(api.emulator.api_base_url)


def test_repeat_album_lists_an_album_again_at_a_place_that_moves_with_each_turn(api: Api) -> None:
    def ids() -> list[str]:
        return [a["id"] for a in api.json("/search", q="tag:new", type="album")["albums"]["items"]]

    clean = ids()
    api.emulator.add_fault(Fault("search", "repeat_album", times=3))
    turns = [ids() for _ in range(3)]
    assert turns == [[*clean[:place], clean[place - 1], *clean[place + 1 :]] for place in (1, 2, 3)]
    assert ids() == clean


def test_invalid_client_fault(api: Api) -> None:
    api.emulator.add_fault(Fault("token", "invalid_client"))
    with pytest.raises(requests.HTTPError):
        api.new_token()
    assert api.new_token()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"endpoint": "nowhere", "action": "status"},
        {"endpoint": "album", "action": "explode"},
        {"endpoint": "token", "action": "revoke_token"},
        {"endpoint": "album", "action": "invalid_client"},
        {"endpoint": "album", "action": "status", "nth": 0},
        {"endpoint": "album", "action": "status", "status": 200},
        {"endpoint": "album", "action": "rate_limit", "status": 200, "body_format": "empty"},
        {"endpoint": "album", "action": "foreign_next"},
    ],
)
def test_impossible_faults_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Fault.from_json(kwargs)


def test_fault_json_round_trip() -> None:
    fault = Fault("albums", "rate_limit", nth=3, retry_after_s=7, body={"error": {"status": 429}})
    assert Fault.from_json(fault.to_json()) == fault
    assert "turn" not in fault.to_json()  # set when a fault fires, not scripted
    with pytest.raises(ValueError):
        Fault.from_json({**fault.to_json(), "when": "now"})
