"""Markets: albums sold in some markets only, search by `market`, is_playable per market."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from spotify_assets.emulator import EmulatorControl, EmulatorServer
from spotify_assets.emulator.__main__ import parse_args
from spotify_assets.emulator.catalog import generate_catalog
from spotify_assets.emulator.generation import MARKETS
from spotify_assets.emulator.knobs import EmulatorConfig
from spotify_assets.emulator.records import Album
from spotify_assets_tests.conftest import EmulatorFactory

from .helpers import Api

THREE = ("US", "SE", "DE")
SEARCH_NEW = {"q": "tag:new", "type": "album", "limit": "10"}


def _ids(albums: tuple[Album, ...] | list[dict[str, Any]]) -> list[str]:
    """Album ids in order, from catalog albums or API items alike."""
    return [album.id if isinstance(album, Album) else album["id"] for album in albums]


def _search_pages(api: Api, **params: str) -> list[dict[str, Any]]:
    """Every `albums` paging object of search tag:new, following `next`."""
    pages = [api.json("/search", **{**SEARCH_NEW, **params})["albums"]]
    while pages[-1]["next"] is not None:
        pages.append(api.json(pages[-1]["next"])["albums"])
    return pages


def _sold_in_one_not_other(emulator: EmulatorServer) -> tuple[Album, str, str]:
    """An album with tracks beyond one page, sold in one of THREE and not in another."""
    for album in emulator.catalog.albums:
        sold = [market for market in THREE if album.available_in(market)]
        unsold = [market for market in THREE if not album.available_in(market)]
        if sold and unsold and album.total_tracks > 50:
            return album, sold[0], unsold[0]
    raise AssertionError("the catalog holds no album sold in some markets only")


@pytest.mark.parametrize("markets", [None, THREE])
def test_the_catalog_keeps_the_ids_it_had_before_markets(markets: tuple[str, ...] | None) -> None:
    catalog = generate_catalog(100, 42, markets=markets)
    # Ids the default catalog (100 albums, seed 42) served before albums had a market list.
    assert [catalog.feed(0)[0].id, catalog.feed(0)[-1].id] == [
        "BsjZq0xAS8i9mlxjr8gbeY",
        "b0Q778cXBKRuxrlKOOtvuF",
    ]
    assert [catalog.feed(2)[0].id, catalog.feed(2)[-1].id] == [
        "LYOWV9WHB49lfDxEEN1wSw",
        "aTEuaJe16TVRCgsmFX9JhA",
    ]
    assert catalog.with_new_release().albums[0].id == "5viepsDDJyvJwOWB194nVM"


def test_ids_order_and_tracks_do_not_depend_on_the_market_list() -> None:
    plain = generate_catalog(60, 42, turnover=0.2, track_changes=2)
    sold = generate_catalog(60, 42, turnover=0.2, track_changes=2, markets=THREE)

    def shape(albums: tuple[Album, ...]) -> list[tuple[str, str, tuple[str, ...]]]:
        return [(a.id, a.name, tuple(t.id for t in a.tracks)) for a in albums]

    for day in range(4):
        assert shape(sold.feed(day)) == shape(plain.feed(day))
    drifted = sold.with_new_release().albums[0]
    assert drifted.id == plain.with_new_release().albums[0].id
    assert set(drifted.available_markets) <= set(THREE)
    assert sold == generate_catalog(60, 42, turnover=0.2, track_changes=2, markets=THREE)
    # Without a market list albums are sold as before: most in all of Spotify's markets.
    worldwide = sum(album.available_markets == MARKETS for album in plain.albums)
    assert 0.75 * 60 < worldwide < 60
    assert plain.markets is None and sold.markets == THREE


@pytest.mark.parametrize(("albums", "seed"), [(100, 42), (1000, 7)])
def test_most_albums_are_sold_in_several_markets_some_in_one_a_few_in_none(
    albums: int, seed: int
) -> None:
    markets = ("US", "GB", "SE", "DE")
    catalog = generate_catalog(albums, seed, markets=markets)
    reach = Counter(len(album.available_markets) for album in catalog.albums)
    assert reach[2] + reach[3] + reach[4] > 0.7 * albums
    assert reach[4] > 0.5 * albums
    assert 0.05 * albums < reach[1] < 0.25 * albums
    assert 0 < reach[0] < 0.15 * albums
    for album in catalog.albums:  # a subset of the list, in the list's order
        assert list(album.available_markets) == [m for m in markets if m in album.available_markets]
    feeds = {market: catalog.feed(market=market) for market in markets}
    assert len({tuple(_ids(feed)) for feed in feeds.values()}) == len(markets)
    for market, feed in feeds.items():
        assert _ids(feed) == [a.id for a in catalog.albums if market in a.available_markets]


@pytest.mark.parametrize("seed", range(5))
def test_small_catalogs_hold_an_album_sold_nowhere_and_one_only_in_the_last_market(
    seed: int,
) -> None:
    catalog = generate_catalog(10, seed, markets=THREE)
    assert () in [album.available_markets for album in catalog.albums]
    assert ("DE",) in [album.available_markets for album in catalog.albums]
    single = generate_catalog(10, seed, markets=("JP",))
    assert {album.available_markets for album in single.albums} == {(), ("JP",)}


def test_search_lists_only_the_albums_sold_in_the_market(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = emulator_factory(albums=45, markets=THREE)
    api = Api(emulator)
    base = emulator.api_base_url
    listed: dict[str, list[str]] = {}
    expected_pages = 0
    for market in THREE:
        want = emulator.catalog.feed(market=market)
        pages = _search_pages(api, market=market)
        expected_pages += math.ceil(len(want) / 10)
        assert len(pages) == math.ceil(len(want) / 10)
        assert {page["total"] for page in pages} == {len(want)}
        listed[market] = [item["id"] for page in pages for item in page["items"]]
        assert listed[market] == _ids(want)
        first, last = pages[0], pages[-1]
        assert parse_qs(urlsplit(first["next"]).query) == {
            "offset": ["10"],
            "limit": ["10"],
            "query": ["tag:new"],
            "type": ["album"],
            "market": [market],
        }
        assert (
            last["previous"].startswith(f"{base}/search?")
            and f"market={market}" in last["previous"]
        )
        assert first["href"].endswith(f"market={market}")
        assert last["next"] is None
    everything = _ids(emulator.catalog.albums)
    assert len(set(map(tuple, listed.values()))) == 3  # three different feeds
    union = {album_id for ids in listed.values() for album_id in ids}
    assert 0 < len(everything) - len(union) < 0.2 * len(everything)  # some albums sold nowhere
    assert sum(len(ids) for ids in listed.values()) > 2 * len(union)  # most listed in several
    stats = emulator.stats()
    assert stats["by_endpoint"]["search"] == expected_pages
    # No market: every album, as before; a market no album is sold in: nothing.
    assert [item["id"] for page in _search_pages(api) for item in page["items"]] == everything
    nowhere = api.json("/search", **SEARCH_NEW, market="FR")["albums"]
    assert (nowhere["items"], nowhere["total"], nowhere["next"]) == ([], 0, None)
    api.close()


def test_search_knobs_apply_to_the_feed_of_the_market(emulator_factory: EmulatorFactory) -> None:
    emulator = emulator_factory(albums=30, markets=THREE, feed_shortfall=2, total_offset=3)
    api = Api(emulator)
    want = emulator.catalog.feed(market="SE")
    pages = _search_pages(api, market="SE")
    assert {page["total"] for page in pages} == {len(want) + 3}
    assert [item["id"] for page in pages for item in page["items"]] == _ids(want)[:-2]
    api.close()


@pytest.mark.parametrize("mode", ["extended", "development"])
def test_is_playable_follows_the_market_on_every_track_endpoint(
    emulator_factory: EmulatorFactory, mode: str
) -> None:
    emulator = emulator_factory(albums=30, markets=THREE)
    album, sold, unsold = _sold_in_one_not_other(emulator)
    api = Api(emulator)

    def listings(**market: str) -> list[tuple[dict[str, Any] | None, list[dict[str, Any]]]]:
        """(album object or None, its tracks) from each endpoint that lists tracks."""
        tracks = api.collect(f"/albums/{album.id}/tracks", limit=50, **market)
        full = api.json(f"/albums/{album.id}", **market)
        out = [(None, tracks), (full, full["tracks"]["items"])]
        if mode == "extended":
            several = api.json("/albums", ids=album.id, **market)["albums"][0]
            out.append((several, several["tracks"]["items"]))
        return out

    emulator.configure(mode=mode)
    for body, tracks in listings(market=sold):
        assert len(tracks) >= 50
        assert all(track["is_playable"] is True for track in tracks)
        assert not any("restrictions" in track or "available_markets" in track for track in tracks)
        assert body is None or "restrictions" not in body
    for body, tracks in listings(market=unsold):
        assert all(track["is_playable"] is False for track in tracks)
        assert all(track["restrictions"] == {"reason": "market"} for track in tracks)
        assert body is None or body["restrictions"] == {"reason": "market"}
    for body, tracks in listings():
        assert not any("is_playable" in track or "restrictions" in track for track in tracks)
        assert all(("available_markets" in track) == (mode == "extended") for track in tracks)
        assert body is None or "restrictions" not in body
        if body is not None:
            assert body.get("available_markets") == (
                list(album.available_markets) if mode == "extended" else None
            )
    page = api.json(f"/albums/{album.id}/tracks", limit=20, market=unsold)
    assert page["next"].endswith(f"market={unsold}")
    api.close()


@pytest.mark.parametrize("market", ["se", "SWE", "S1", "", "U S"])
def test_an_invalid_market_code_is_400_on_every_endpoint_that_takes_one(
    api: Api, market: str
) -> None:
    album_id = api.emulator.catalog.albums[0].id
    for path, params in (
        ("/search", SEARCH_NEW),
        (f"/albums/{album_id}/tracks", {}),
        (f"/albums/{album_id}", {}),
        ("/albums", {"ids": album_id}),
    ):
        response = api.get(path, {**params, "market": market})
        assert response.status_code == 400, (path, response.text)
        assert response.json() == {"error": {"status": 400, "message": "Invalid market code"}}


def test_rolling_feed_per_market(emulator_factory: EmulatorFactory) -> None:
    emulator = emulator_factory(albums=30, feed_turnover=0.2, markets=THREE)
    api = Api(emulator)
    control = EmulatorControl(emulator.base_url)
    day0 = {album.id: album for album in emulator.catalog.feed(0)}
    control.configure(feed_day=2)
    catalog = emulator.catalog
    entered = [album for album in catalog.albums if album.id not in day0]
    assert len(entered) == 12
    assert all(set(album.available_markets) <= set(THREE) for album in catalog.albums)
    assert len({album.available_markets for album in entered}) > 1
    for market in THREE:
        pages = _search_pages(api, market=market)
        assert [item["id"] for page in pages for item in page["items"]] == _ids(
            catalog.feed(2, market)
        )
        assert (
            control.catalog_json(day=1, market=market)["albums"]
            == emulator.catalog_json(day=1, market=market)["albums"]
        )
        assert _ids(control.catalog_json(day=1, market=market)["albums"]) == _ids(
            catalog.feed(1, market)
        )
    for album in catalog.albums:  # an album keeps its markets from day to day
        if album.id in day0:
            assert album.available_markets == day0[album.id].available_markets
    api.close()


def test_ground_truth_per_market_and_the_union(emulator_factory: EmulatorFactory) -> None:
    emulator = emulator_factory(albums=25, markets=THREE)
    control = EmulatorControl(emulator.base_url)
    assert control.config()["markets"] == list(THREE)
    everything = control.catalog_json()["albums"]
    assert _ids(everything) == _ids(emulator.catalog.albums)
    union = [a["id"] for a in everything if set(a["available_markets"]) & set(THREE)]
    per_market = {market: control.catalog_json(market=market)["albums"] for market in THREE}
    assert sorted({a["id"] for albums in per_market.values() for a in albums}) == sorted(union)
    for market, albums in per_market.items():
        assert _ids(albums) == [a["id"] for a in everything if market in a["available_markets"]]
        for album in albums:
            assert len(album["tracks"]) == album["total_tracks"]
            assert all(track["is_playable"] is True for track in album["tracks"])
    with pytest.raises(ValueError, match="market must be an ISO 3166-1 alpha-2 code"):
        control.catalog_json(market="swe")


def test_market_list_knob_on_the_command_line_and_in_config() -> None:
    config, _, _ = parse_args(["--markets", "US,SE, DE"])
    assert config.markets == THREE
    assert parse_args([])[0].markets is None
    for bad in ("US,se", "US,US", "", "USA"):
        with pytest.raises(SystemExit):
            parse_args(["--markets", bad])
    assert EmulatorConfig(markets=["JP"]).markets == ("JP",)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="each market once"):
        EmulatorConfig(markets=("SE", "SE"))


def test_feed_duplicate_places_are_those_of_each_markets_feed(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = emulator_factory(albums=30, markets=THREE)
    api = Api(emulator)
    feeds = {market: _ids(emulator.catalog.feed(market=market)) for market in THREE}
    by_length = sorted(THREE, key=lambda market: len(feeds[market]))
    shortest, longest = by_length[0], by_length[-1]
    place = len(feeds[shortest])  # beyond the shortest market's feed, within the longest's
    assert place < len(feeds[longest]) < 29
    emulator.configure(feed_duplicate=(place, 29))

    listed = {
        market: [item["id"] for page in _search_pages(api, market=market) for item in page["items"]]
        for market in THREE
    }
    plain = [item["id"] for page in _search_pages(api) for item in page["items"]]

    assert listed[shortest] == feeds[shortest], "a feed without the first place lists none twice"
    assert listed[longest] == [*feeds[longest], feeds[longest][place]], "the second listing last"
    everything = _ids(emulator.catalog.albums)
    assert plain == [*everything[:29], everything[place], *everything[29:]]
    api.close()
