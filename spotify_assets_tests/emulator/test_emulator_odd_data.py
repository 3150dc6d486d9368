"""Knobs for the odd data users see in live responses (2026): albums listed but unknown on every
request, null entries, pages whose `items` is null, and an album listed twice the same way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from spotify_assets.emulator import EmulatorServer
from spotify_assets_tests.conftest import EmulatorFactory

from .helpers import Api
from .test_emulator_openapi import Conformance

NEW_RELEASES = "/browse/new-releases"
SEARCH = {"q": "tag:new", "type": "album"}


@pytest.fixture(scope="module")
def strict(openapi_spec: dict[str, Any]) -> Conformance:
    """The official schemas as published."""
    return Conformance(openapi_spec["components"])


@pytest.fixture
def small(emulator_factory: EmulatorFactory) -> Iterator[Api]:
    """A raw client of a 30-album extended-mode emulator."""
    client = Api(emulator_factory(albums=30))
    yield client
    client.close()


def pages(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every `albums` paging object of a feed listing, following `next`."""
    found = [api.json(path, **params)["albums"]]
    while found[-1]["next"]:
        found.append(api.json(found[-1]["next"])["albums"])
    return found


def test_unknown_albums_are_listed_but_unknown_on_every_request(
    small: Api, strict: Conformance
) -> None:
    albums = small.emulator.catalog.albums
    gone, kept = albums[3], albums[4]
    small.emulator.configure(unknown_albums={gone.id})
    feed = [a["id"] for page in pages(small, NEW_RELEASES, limit=50) for a in page["items"]]
    assert feed == [album.id for album in albums]
    for _ in range(3):
        for path in (f"/albums/{gone.id}/tracks", f"/albums/{gone.id}"):
            response = small.get(path)
            assert response.status_code == 404
            strict.check("schemas/ErrorObject", response.json()["error"])
        batch = small.json("/albums", ids=f"{gone.id},{kept.id}")["albums"]
        assert batch[0] is None and batch[1]["id"] == kept.id
    assert small.get(f"/albums/{kept.id}/tracks").status_code == 200
    small.emulator.configure(unknown_albums=set())
    assert small.get(f"/albums/{gone.id}/tracks").status_code == 200


def test_null_entries_keep_their_places_and_the_total(small: Api) -> None:
    small.emulator.configure(null_albums={0, 12})
    browse = pages(small, NEW_RELEASES, limit=10)
    search = pages(small, "/search", limit=10, **SEARCH)
    for listing in (browse, search):
        items = [item for page in listing for item in page["items"]]
        assert len(items) == 30 and items[0] is None and items[12] is None
        assert {page["total"] for page in listing} == {30}
        ids = [item["id"] for item in items if item is not None]
        assert ids == [
            a.id for i, a in enumerate(small.emulator.catalog.albums) if i not in (0, 12)
        ]


def test_a_null_page_keeps_its_links_and_total(small: Api, strict: Conformance) -> None:
    small.emulator.configure(null_pages={10})
    search = pages(small, "/search", limit=10, **SEARCH)
    assert [page["offset"] for page in search] == [0, 10, 20]
    assert search[1]["items"] is None and search[1]["total"] == 30
    assert search[1]["next"] is not None
    for page in (search[0], search[2]):
        strict.check("schemas/PagingSimplifiedAlbumObject", page)
    # Spotify itself sends `items: null` (spotcast#604/#616, 2026); its own schema says no.
    assert strict.errors("schemas/PagingSimplifiedAlbumObject", search[1])
    browse = pages(small, NEW_RELEASES, limit=10)
    assert browse[1]["items"] is None
    assert [a["id"] for a in browse[2]["items"]] == [
        a.id for a in small.emulator.catalog.albums[20:]
    ]


def test_a_duplicate_is_listed_at_fixed_places_on_every_read(
    small: Api, strict: Conformance
) -> None:
    albums = small.emulator.catalog.albums
    small.emulator.configure(feed_duplicate=(5, 17))
    expected = [a.id for a in albums]
    expected.insert(17, albums[5].id)
    for path, params in ((NEW_RELEASES, {}), ("/search", SEARCH)):
        reads = [pages(small, path, limit=10, **params) for _ in range(2)]
        assert reads[0] == reads[1]
        assert [a["id"] for page in reads[0] for a in page["items"]] == expected
        assert {page["total"] for page in reads[0]} == {31}
        for page in reads[0]:
            strict.check("schemas/PagingSimplifiedAlbumObject", page)


def test_the_odd_data_knobs_are_validated(emulator: EmulatorServer) -> None:
    for bad in (
        {"unknown_albums": "not-a-list"},
        {"null_albums": [-1]},
        {"null_pages": ["ten"]},
        {"feed_duplicate": [1]},
        {"feed_duplicate": [3, 3]},
        {"feed_duplicate": [100, 1]},
    ):
        with pytest.raises(ValueError):
            emulator.configure(**bad)
    config = emulator.configure(null_pages=[10], feed_duplicate=[1, 2])
    assert config.null_pages == frozenset({10}) and config.feed_duplicate == (1, 2)
    assert emulator.config.to_json()["feed_duplicate"] == [1, 2]
