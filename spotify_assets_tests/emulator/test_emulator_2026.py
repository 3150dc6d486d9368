"""Spotify as users report it in 2026: odd 429s and 401s, whole-app 403s, flaky token endpoint,
search that claims more than it pages, one-off 404s on valid albums."""

from __future__ import annotations

import pytest
import requests

from spotify_assets.emulator import Fault
from spotify_assets_tests.conftest import EmulatorFactory

from .helpers import TIMEOUT_S, Api

NEW_RELEASES = "/browse/new-releases"
TAG_NEW = {"q": "tag:new", "type": "album"}


@pytest.mark.parametrize(
    ("fault", "content_type", "body", "retry_after"),
    [
        (
            Fault("*", "rate_limit", retry_after_s=7),
            "application/json",
            '{"error":{"status":429,"message":"API rate limit exceeded"}}',
            "7",
        ),
        (
            Fault("*", "rate_limit", body_format="text", retry_after_s=0),
            "text/plain",
            "Too many requests",
            "0",
        ),
        (Fault("*", "rate_limit", body_format="empty", retry_after_s=None), None, "", None),
        (
            Fault("*", "rate_limit", message="Rate limit exceeded", retry_after_s=None),
            "application/json",
            '{"error":{"status":429,"message":"Rate limit exceeded"}}',
            None,
        ),
    ],
)  # fmt: skip
def test_429_bodies_and_retry_after(
    api: Api, fault: Fault, content_type: str | None, body: str, retry_after: str | None
) -> None:
    api.emulator.add_fault(fault)
    response = api.get(NEW_RELEASES)
    assert response.status_code == 429
    assert response.text == body
    assert response.headers.get("Retry-After") == retry_after
    if content_type is None:
        assert "content-type" not in response.headers
    else:
        assert response.headers["content-type"].startswith(content_type)
    assert api.get(NEW_RELEASES).status_code == 200


def test_2026_unauthorized_wording_for_every_cause(
    emulator_factory: EmulatorFactory,
) -> None:
    api = Api(emulator_factory(auth_errors="2026"))
    api.emulator.add_fault(Fault("album", "expire_token"))
    album_id = api.emulator.catalog.albums[0].id
    responses = [
        api.get(NEW_RELEASES, auth=False),
        api.get(NEW_RELEASES, token="forged"),
        api.get(f"/albums/{album_id}"),  # expires the token, then answers 401
    ]
    for response in responses:
        assert response.status_code == 401
        assert response.json() == {
            "error": {"status": 401, "message": "Missing/invalid/expired access token"}
        }
        assert (
            response.headers["WWW-Authenticate"] == 'Bearer realm="spotify", error="invalid_token"'
        )
    api.emulator.configure(auth_errors="legacy")
    expired = api.get(NEW_RELEASES)
    assert expired.json()["error"]["message"] == "The access token expired"
    assert (
        api.get(NEW_RELEASES, token="forged").json()["error"]["message"] == "Invalid access token"
    )
    api.close()


@pytest.mark.parametrize(
    ("knob", "message"),
    [
        ("premium", "Active premium subscription required for the owner of the app."),
        ("country", "Spotify is unavailable in this country"),
    ],
)
def test_whole_app_403_on_every_api_endpoint(api: Api, knob: str, message: str) -> None:
    album_id = api.emulator.catalog.albums[0].id
    api.emulator.configure(app_forbidden=knob)
    for path, params in (
        (NEW_RELEASES, {}),
        ("/search", TAG_NEW),
        (f"/albums/{album_id}", {}),
        (f"/albums/{album_id}/tracks", {}),
        ("/albums", {"ids": album_id}),
    ):
        response = api.get(path, params)
        assert response.status_code == 403, path
        assert response.json() == {"error": {"status": 403, "message": message}}
    assert api.new_token()  # tokens are still issued
    assert api.emulator.stats()["by_reason"] == {"app_forbidden": 5}
    api.emulator.configure(app_forbidden=None)
    assert api.get(NEW_RELEASES).status_code == 200


def test_token_endpoint_failures(api: Api) -> None:
    bad_gateway = {"error": {"status": 502, "message": "Bad gateway."}}
    api.emulator.add_fault(Fault("token", "html", status=500))
    api.emulator.add_fault(Fault("token", "status", nth=2, status=503, body_format="empty"))
    api.emulator.add_fault(Fault("token", "status", nth=3, status=502, body=bad_gateway))
    grant = {"grant_type": "client_credentials"}
    html, empty, json_502 = (api.request_token(**grant) for _ in range(3))
    assert (html.status_code, html.headers["content-type"]) == (500, "text/html; charset=utf-8")
    assert "<h1>500 Internal Server Error</h1>" in html.text
    assert (empty.status_code, empty.content) == (503, b"")
    assert (json_502.status_code, json_502.json()) == (502, bad_gateway)
    assert api.new_token()


def test_token_endpoint_stalls_past_the_read_timeout_then_answers_504(api: Api) -> None:
    api.emulator.add_fault(Fault("token", "status", status=504, delay_s=0.3, times=2))
    with pytest.raises(requests.ReadTimeout):
        api.session.post(api.emulator.token_url, data={"grant_type": "x"}, timeout=0.1)
    patient = api.session.post(api.emulator.token_url, data={"grant_type": "x"}, timeout=TIMEOUT_S)
    assert patient.status_code == 504
    assert patient.json() == {"error": "server_error", "error_description": "Gateway Timeout"}
    assert patient.elapsed.total_seconds() >= 0.3
    assert api.new_token()


def test_search_total_far_above_what_may_be_paged(
    emulator_factory: EmulatorFactory,
) -> None:
    api = Api(emulator_factory(albums=1010, search_total=34_567))
    page = api.json("/search", limit=10, offset=980, **TAG_NEW)["albums"]
    assert page["total"] == 34_567
    assert page["next"] is not None
    last = api.json(page["next"])["albums"]
    assert (last["offset"], last["next"], len(last["items"])) == (990, None, 10)
    assert api.json(NEW_RELEASES)["albums"]["total"] == 1010  # browse is not search
    for offset, limit in (("995", "10"), ("1000", "1")):
        refused = api.get("/search", {**TAG_NEW, "offset": offset, "limit": limit})
        assert refused.status_code == 400
        assert refused.json() == {"error": {"status": 400, "message": "Bad request."}}
    api.close()


def test_next_link_pointing_at_the_same_page(api: Api) -> None:
    api.emulator.add_fault(Fault("search", "same_next", times=2))
    first = api.json("/search", limit=10, **TAG_NEW)["albums"]
    assert first["next"] == first["href"]
    again = api.json(first["next"])["albums"]
    assert again["items"] == first["items"]
    assert again["next"] == again["href"]
    assert api.json(again["next"])["albums"]["next"].endswith(
        "offset=10&limit=10&query=tag%3Anew&type=album"
    )


def test_a_null_offset_fault_nulls_the_offset_of_one_page(api: Api) -> None:
    api.emulator.add_fault(Fault("search", "null_offset", nth=2))
    first = api.json("/search", limit=10, **TAG_NEW)["albums"]
    assert first["offset"] == 0
    second = api.json(first["next"])["albums"]
    assert second["offset"] is None and second["next"] is not None
    assert api.json(second["next"])["albums"]["offset"] == 20


def test_a_total_plus_one_fault_raises_the_total_of_one_page(api: Api) -> None:
    api.emulator.add_fault(Fault("search", "total_plus_one", nth=2))
    first = api.json("/search", limit=10, **TAG_NEW)["albums"]
    second = api.json(first["next"])["albums"]
    assert second["total"] == first["total"] + 1
    assert api.json(second["next"])["albums"]["total"] == first["total"]


def test_a_stale_next_fault_links_the_last_page_past_the_total(api: Api) -> None:
    api.emulator.add_fault(Fault("new_releases", "stale_next", times=2))
    first = api.json("/browse/new-releases", limit=50)["albums"]
    assert first["next"] is not None and "offset=50" in first["next"]
    last = api.json("/browse/new-releases", limit=50, offset=first["total"] - 1)["albums"]
    assert f"offset={first['total'] - 1 + 50}" in last["next"]
    assert api.json(last["next"])["albums"]["items"] == []


def test_pages_run_out_before_total(api: Api) -> None:
    api.emulator.configure(feed_shortfall=7)
    for path, params, limit in ((NEW_RELEASES, {}, 50), ("/search", TAG_NEW, 10)):
        pages = [api.json(path, limit=limit, **params)["albums"]]
        while pages[-1]["next"]:
            pages.append(api.json(pages[-1]["next"])["albums"])
        assert {page["total"] for page in pages} == {100}
        items = [item["id"] for page in pages for item in page["items"]]
        assert items == [album.id for album in api.emulator.catalog.albums[:93]]
    empty = api.json("/search", limit=5, offset=93, **TAG_NEW)["albums"]
    assert empty["items"] == []
    assert empty["next"] is not None


def test_one_off_404_and_null_for_a_valid_album(api: Api) -> None:
    target, other = api.emulator.catalog.albums[:2]
    api.emulator.add_fault(Fault("album_tracks", "missing_album", album_id=target.id))
    api.emulator.add_fault(Fault("albums", "missing_album", album_id=target.id))
    assert api.get(f"/albums/{other.id}/tracks").status_code == 200  # other albums do not count
    missing = api.get(f"/albums/{target.id}/tracks")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"status": 404, "message": "Non existing id"}}
    assert api.get(f"/albums/{target.id}/tracks").status_code == 200
    batch = api.json("/albums", ids=f"{other.id},{target.id}")["albums"]
    assert batch[0]["id"] == other.id
    assert batch[1] is None
    assert [a["id"] for a in api.json("/albums", ids=f"{other.id},{target.id}")["albums"]] == [
        other.id,
        target.id,
    ]
    api.emulator.add_fault(Fault("albums", "status", status=404, album_id=target.id))
    assert api.get("/albums", ids=other.id).status_code == 200
    assert api.get("/albums", ids=target.id).status_code == 404


def test_album_faults_need_an_album_endpoint_and_id() -> None:
    with pytest.raises(ValueError, match="album_id"):
        Fault("album_tracks", "missing_album")
    with pytest.raises(ValueError, match="album_id"):
        Fault("search", "status", album_id="A" * 22)
    with pytest.raises(ValueError, match="body_format"):
        Fault("*", "rate_limit", body_format="xml")
