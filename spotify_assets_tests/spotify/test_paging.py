"""Reading listings ahead by offset: predicted links, overstated totals, search's offset cap."""

from __future__ import annotations

import pytest

from spotify_assets.spotify.errors import SpotifyProtocolError
from spotify_assets.spotify.listing import collect
from spotify_assets.spotify.paging import Page, offset_links, same_link
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.spotify.conftest import ClientFactory


def page(next_link: str | None, total: int = 95, limit: int = 10) -> Page:
    return Page(items=[], total=total, offset=0, limit=limit, next=next_link)


def test_links_ahead_advance_the_offset_of_the_first_next_link() -> None:
    first = page("http://api/v1/search?query=tag%3Anew&type=album&offset=10&limit=10")
    links = offset_links(first)
    assert links is not None and len(links) == 9
    assert same_link(links[-1], "http://api/v1/search?limit=10&offset=90&type=album&query=tag:new")
    assert offset_links(first, max_items=50) == links[:4]
    assert offset_links(page(None)) == []
    assert offset_links(page("http://api/v1/things?cursor=abc")) is None


def test_a_total_that_overstates_the_feed_costs_at_most_a_window(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=30, mode="development")
    emu.configure(total_offset=15)
    feed = client_for(emu, new_releases_source="search").new_releases()
    assert [a["id"] for a in feed.albums] == [a.id for a in emu.catalog.albums]
    assert feed.total == 45
    assert emu.stats()["by_endpoint"]["search"] <= 3 + 4


def test_search_stops_where_spotify_stops_paging(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=1015, mode="development")
    feed = client_for(emu, new_releases_source="search").new_releases()
    assert (feed.total, feed.reachable) == (1015, 1000)
    assert [a["id"] for a in feed.albums] == [a.id for a in emu.catalog.albums[:1000]]
    offsets = [e["query"] for e in emu.stats()["log"] if e["endpoint"] == "search"]
    assert len(offsets) == 100 and not any("offset=1000" in query for query in offsets)


def test_items_without_id_are_kept_and_never_taken_for_drift() -> None:
    local = {"type": "track", "id": None, "name": "a local file"}
    pages = [
        Page(items=[{"id": "a"}, local], total=4, offset=0, limit=2, next="n"),
        Page(items=[local, {"id": "b"}], total=4, offset=2, limit=2, next=None),
    ]
    listing = collect(pages)
    assert (len(listing.items), listing.total, listing.duplicates) == (4, 4, {})


@pytest.mark.parametrize("paging", [None, "albums", [], 7])
def test_a_paging_object_that_is_not_an_object_is_a_protocol_error(paging: object) -> None:
    # {"albums": null} once surfaced as a bare AttributeError from inside the parser.
    with pytest.raises(SpotifyProtocolError, match="did not return a paging object"):
        Page.parse(paging, "GET /v1/search")
