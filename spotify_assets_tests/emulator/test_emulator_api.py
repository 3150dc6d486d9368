"""Endpoints: paging links, Spotify's limits and 400s, trailing slashes and modes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from spotify_assets_tests.conftest import EmulatorFactory

from .helpers import Api

NEW_RELEASES = "/browse/new-releases"


def test_new_releases_paging_links_are_absolute(api: Api) -> None:
    base = api.emulator.api_base_url
    first = api.json(NEW_RELEASES)["albums"]
    assert (first["limit"], first["offset"], first["total"]) == (20, 0, 100)
    assert len(first["items"]) == 20
    assert first["href"] == f"{base}/browse/new-releases?offset=0&limit=20"
    assert first["next"] == f"{base}/browse/new-releases?offset=20&limit=20"
    assert first["previous"] is None
    last = api.json(NEW_RELEASES, offset=80)["albums"]
    assert last["next"] is None
    assert last["previous"] == f"{base}/browse/new-releases?offset=60&limit=20"
    beyond = api.json(NEW_RELEASES, offset=500)["albums"]
    assert beyond["items"] == []
    assert beyond["next"] is None
    album = first["items"][0]
    assert album["href"] == f"{base}/albums/{album['id']}"
    assert album["uri"] == f"spotify:album:{album['id']}"
    assert album["external_urls"]["spotify"] == f"https://open.spotify.com/album/{album['id']}"


def test_feed_order_matches_ground_truth(api: Api) -> None:
    items = api.collect(NEW_RELEASES, "albums", limit=50)
    catalog = api.emulator.catalog
    assert [item["id"] for item in items] == [album.id for album in catalog.albums]
    for item, album in zip(items, catalog.albums, strict=True):
        assert item["name"] == album.name
        assert item["total_tracks"] == album.total_tracks
        assert [(a["id"], a["name"]) for a in item["artists"]] == list(album.artists)
        assert item["release_date"] == album.release_date


def test_search_accepts_q_or_query_and_links_with_query(api: Api) -> None:
    by_q = api.json("/search", q="tag:new", type="album")["albums"]
    by_query = api.json("/search", query="tag:new", type="album")["albums"]
    assert by_q == by_query
    assert (by_q["limit"], by_q["total"]) == (5, 100)
    next_query = parse_qs(urlsplit(by_q["next"]).query)
    assert next_query == {
        "offset": ["5"],
        "limit": ["5"],
        "query": ["tag:new"],
        "type": ["album"],
    }
    items = api.collect("/search", "albums", q="tag:new", type="album", limit=10)
    assert [item["id"] for item in items] == [album.id for album in api.emulator.catalog.albums]
    other = api.json("/search", q="abba", type="album")["albums"]
    assert (other["items"], other["total"], other["next"]) == ([], 0, None)
    mixed = api.json("/search", q="tag:new", type="album,track")
    assert mixed["tracks"]["items"] == []
    assert len(mixed["albums"]["items"]) == 5


def test_album_tracks_pages_and_embedded_first_page(api: Api) -> None:
    album = next(a for a in api.emulator.catalog.albums if a.total_tracks > 100)
    base = api.emulator.api_base_url
    items = api.collect(f"/albums/{album.id}/tracks", limit=50)
    assert [t["id"] for t in items] == [t.id for t in album.tracks]
    assert [(t["disc_number"], t["track_number"]) for t in items] == [
        (t.disc_number, t.track_number) for t in album.tracks
    ]
    default = api.json(f"/albums/{album.id}/tracks")
    assert default["limit"] == 20
    full = api.json(f"/albums/{album.id}", market="DE")
    assert full["total_tracks"] == album.total_tracks
    assert len(full["tracks"]["items"]) == 50
    assert full["tracks"]["next"] == f"{base}/albums/{album.id}/tracks?offset=50&limit=50&market=DE"
    assert full["label"] and full["copyrights"] and full["external_ids"]["upc"]
    assert full["genres"] == []
    assert 0 <= full["popularity"] <= 100


@pytest.mark.parametrize("size", [50, 51])
def test_page_boundaries(api: Api, size: int) -> None:
    album = next(a for a in api.emulator.catalog.albums if a.total_tracks == size)
    page = api.json(f"/albums/{album.id}/tracks", limit=50)
    assert len(page["items"]) == 50
    assert (page["next"] is None) == (size == 50)
    embedded = api.json(f"/albums/{album.id}")["tracks"]
    assert (embedded["next"] is None) == (size == 50)


def test_several_albums_keep_order_and_nulls(api: Api) -> None:
    albums = api.emulator.catalog.albums
    unknown = "0" * 22
    ids = [albums[3].id, unknown, albums[0].id, albums[3].id]
    body = api.json("/albums/", ids=",".join(ids))
    assert [a and a["id"] for a in body["albums"]] == [
        albums[3].id,
        None,
        albums[0].id,
        albums[3].id,
    ]
    big = next(a for a in albums if a.total_tracks > 50)
    embedded = api.json("/albums", ids=big.id)["albums"][0]["tracks"]
    assert embedded["next"].endswith(f"/albums/{big.id}/tracks?offset=50&limit=50")


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        (NEW_RELEASES, {"limit": "0"}, "Invalid limit"),
        (NEW_RELEASES, {"limit": "51"}, "Invalid limit"),
        (NEW_RELEASES, {"limit": "ten"}, "Invalid limit"),
        (NEW_RELEASES, {"limit": "2.5"}, "Invalid limit"),
        (NEW_RELEASES, {"offset": "-1"}, "Invalid offset"),
        (NEW_RELEASES, {"offset": "x"}, "Invalid offset"),
        ("/search", {"q": "tag:new", "type": "album", "limit": "11"}, "Invalid limit"),
        ("/search", {"q": "tag:new", "type": "album", "offset": "1001"}, "Invalid offset"),
        ("/search", {"type": "album"}, "No search query"),
        ("/search", {"q": "tag:new"}, "Missing parameter type"),
        ("/search", {"q": "tag:new", "type": "albums"}, "Bad search type field albums"),
        ("/albums", {}, "Missing required parameter ids"),
        ("/albums", {"ids": ",".join(["0" * 22] * 21)}, "Too many ids requested"),
        ("/albums", {"ids": "short"}, "Invalid base62 id"),
        ("/albums/short", {}, "Invalid base62 id"),
        ("/albums/short/tracks", {}, "Invalid base62 id"),
        ("/albums/" + "A" * 22 + "/tracks", {"market": "usa"}, "Invalid market code"),
    ],
)
def test_validation_errors(api: Api, path: str, params: dict[str, str], message: str) -> None:
    response = api.get(path, params)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": {"status": 400, "message": message}}


def test_unknown_albums_and_routes_are_404(api: Api) -> None:
    for path in ("/albums/" + "0" * 22, "/albums/" + "0" * 22 + "/tracks", "/me/albums"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["status"] == 404
    outside = api.session.get(api.emulator.base_url + "/nowhere", timeout=5)
    assert outside.status_code == 404
    assert outside.json()["error"]["status"] == 404


def test_trailing_slashes_are_served_without_redirects(api: Api) -> None:
    album = api.emulator.catalog.albums[0]
    cases = [
        (NEW_RELEASES + "/", {}),
        ("/search/", {"q": "tag:new", "type": "album"}),
        ("/albums/", {"ids": album.id}),
        (f"/albums/{album.id}/", {}),
        (f"/albums/{album.id}/tracks/", {}),
    ]
    for path, params in cases:
        response = api.get(path, params)
        assert response.status_code == 200, (path, response.status_code)
    token = api.session.post(
        api.emulator.token_url + "/",
        data={"grant_type": "client_credentials"},
        auth=(api.emulator.client_id, api.emulator.client_secret),
        timeout=5,
        allow_redirects=False,
    )
    assert token.status_code == 200


def test_development_mode(emulator_factory: EmulatorFactory) -> None:
    api = Api(emulator_factory(mode="development"))
    album = api.emulator.catalog.albums[0]
    for path, params in ((NEW_RELEASES, {}), ("/albums", {"ids": album.id})):
        response = api.get(path, params)
        assert response.status_code == 403
        assert response.json()["error"]["status"] == 403
    found = api.json("/search", q="tag:new", type="album", limit=10)["albums"]["items"]
    assert all("available_markets" not in item for item in found)
    full = api.json(f"/albums/{album.id}")
    for removed in ("available_markets", "label", "popularity", "album_group", "linked_from"):
        assert removed not in full
    assert full["external_ids"]["upc"]
    tracks = api.json(f"/albums/{album.id}/tracks")["items"]
    assert all("available_markets" not in track for track in tracks)
    api.emulator.configure(mode="extended")
    assert api.get(NEW_RELEASES).status_code == 200
    api.close()


def test_unicode_survives_the_wire(api: Api) -> None:
    items = api.collect(NEW_RELEASES, "albums", limit=50)
    assert [item["name"] for item in items] == [a.name for a in api.emulator.catalog.albums]
    assert any(not item["name"].isascii() for item in items)
    album = api.emulator.catalog.albums[0]
    tracks = api.collect(f"/albums/{album.id}/tracks", limit=50)
    assert [t["name"] for t in tracks] == [t.name for t in album.tracks]
