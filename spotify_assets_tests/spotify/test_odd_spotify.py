"""The client against the odd things Spotify does, over real HTTP: albums it listed but no longer
knows, outages that outlast one album's retries, stops mid-run, null entries and null pages, and
an album listed twice the same way on every read. What was fetched is never lost."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest
import requests

from spotify_assets.emulator import EmulatorServer, Fault
from spotify_assets.emulator.knobs import APP_FORBIDDEN_MESSAGES
from spotify_assets.spotify import (
    SpotifyAppForbiddenError,
    SpotifyForbiddenError,
    SpotifyPagingError,
    SpotifyRunStoppedError,
)
from spotify_assets.spotify.errors import SpotifyRetryBudgetError
from spotify_assets.spotify.results import NOT_ASKED, UNKNOWN, AlbumTracks, Duplicate
from spotify_assets.spotify.tracks import REFUSALS_IN_A_ROW
from spotify_assets.spotify.transport import NOT_FOUND_RETRIES
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.spotify.conftest import ClientFactory, catalog_ids

UNKNOWN_ALBUMS = 35
"""Of the 150 albums of issue 16's run: listed by the feed, 404 on every request."""


def album_requests(emu: EmulatorServer) -> Counter[str]:
    """Requests to `/albums/{id}/tracks` per album id."""
    return Counter(
        entry["path"].split("/")[3]
        for entry in emu.stats()["log"]
        if entry["endpoint"] == "album_tracks"
    )


@pytest.mark.parametrize("mode", ["development", "extended"])
def test_albums_spotify_no_longer_knows_spend_no_retry_budget(
    mode: str, emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=150, mode=mode)
    ids = catalog_ids(emu)
    gone = ids[::4][:UNKNOWN_ALBUMS]
    emu.configure(unknown_albums=set(gone))
    endpoint = "album_tracks" if mode == "development" else "albums"
    # Five 503s later, all on the last album (a known one), so no 404 shares their requests.
    emu.add_fault(Fault(endpoint, "status", status=503, album_id=ids[-1], times=5))
    # The five 503s need five retries: a budget of five is enough once 404s spend none of it.
    client = client_for(emu, retry_budget=5)

    tracks = client.album_tracks(ids)

    assert tracks.stopped is None
    assert list(tracks) == [a for a in ids if a not in gone]
    assert tracks.missing == tuple(gone)
    assert dict(tracks.reasons) == dict.fromkeys(gone, UNKNOWN)
    for album in emu.catalog.albums:
        if album.id not in gone:
            assert [t["id"] for t in tracks[album.id]] == [t.id for t in album.tracks]
    asked = album_requests(emu)
    assert {asked[a] for a in gone} == {1 + NOT_FOUND_RETRIES}
    assert client.stats.http_5xx == 5
    probe_asked_again = mode == "development"  # the batch probe's 403: not believed at once
    assert client.stats.retries == 5 + UNKNOWN_ALBUMS * NOT_FOUND_RETRIES + probe_asked_again
    known = [a for a in emu.catalog.albums if a.id not in gone]
    if mode == "development":  # the refused probe of /albums?ids= (twice), a listing per album
        fetching = 2 + sum(math.ceil(len(a.tracks) / 50) for a in known)
    else:  # 20 albums a request, then the pages beyond the 50 tracks embedded
        fetching = math.ceil(150 / 20) + sum(math.ceil(len(a.tracks) / 50) - 1 for a in known)
    asking_again = UNKNOWN_ALBUMS * (1 + NOT_FOUND_RETRIES)
    assert emu.stats()["api_requests"] == fetching + asking_again + 5


def test_an_album_whose_retries_run_out_is_named_and_the_others_kept(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=20, mode="development")
    ids = catalog_ids(emu)
    emu.add_fault(Fault("album_tracks", "status", status=502, album_id=ids[7], times=99))
    client = client_for(emu, max_retries=2)

    tracks = client.album_tracks(ids)

    assert tracks.stopped is None and tracks.missing == (ids[7],)
    assert tracks.reasons[ids[7]].startswith("unavailable: Spotify answered 502")
    assert list(tracks) == ids[:7] + ids[8:]
    assert album_requests(emu)[ids[7]] == 3


def test_a_stop_mid_run_hands_back_every_album_fetched_before_it(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=40, mode="development")
    ids = catalog_ids(emu)
    emu.add_fault(Fault("album_tracks", "rate_limit", retry_after_s=86400, nth=20))
    client = client_for(emu)

    tracks = client.album_tracks(ids, keep_on_stop=True)

    assert isinstance(tracks.stopped, SpotifyRunStoppedError)
    assert len(tracks) >= 10 and len(tracks) + len(tracks.missing) == 40
    assert set(tracks.reasons.values()) == {NOT_ASKED}
    by_id = {album.id: album for album in emu.catalog.albums}
    for album_id, listing in tracks.items():
        assert [t["id"] for t in listing] == [t.id for t in by_id[album_id].tracks]
    with pytest.raises(SpotifyRunStoppedError):
        client.album_tracks(tracks.missing)  # the stop holds, and is raised unless kept


def test_a_spent_retry_budget_ends_the_fetch_keeping_what_came(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=40, mode="development")
    ids = catalog_ids(emu)
    emu.add_fault(Fault("album_tracks", "status", status=500, nth=12, times=1000))
    client = client_for(emu, retry_budget=3, max_workers=4)

    tracks = client.album_tracks(ids, keep_on_stop=True)

    assert isinstance(tracks.stopped, SpotifyRetryBudgetError)
    assert "retry budget is spent" in str(tracks.stopped)
    assert len(tracks) >= 8 and len(tracks) + len(tracks.missing) == 40
    # After the budget is spent no album is started: at most one more request per worker.
    assert emu.stats()["by_endpoint"]["album_tracks"] <= 11 + 3 + 4


def test_a_whole_app_refusal_mid_run_hands_back_what_came(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=40, mode="development")
    premium = APP_FORBIDDEN_MESSAGES["premium"]
    emu.add_fault(Fault("album_tracks", "status", status=403, message=premium, nth=15))
    client = client_for(emu, max_workers=4)

    tracks = client.album_tracks(catalog_ids(emu), keep_on_stop=True)

    assert isinstance(tracks.stopped, SpotifyAppForbiddenError)
    assert len(tracks) >= 10 and len(tracks) + len(tracks.missing) == 40
    by_id = {album.id: album for album in emu.catalog.albums}
    for album_id, listing in tracks.items():
        assert [t["id"] for t in listing] == [t.id for t in by_id[album_id].tracks]
    sent = emu.stats()["api_requests"]
    with pytest.raises(SpotifyAppForbiddenError):
        client.album_tracks(tracks.missing)
    assert emu.stats()["api_requests"] == sent  # the refusal holds: nothing more is sent


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 403, "message": "Forbidden"},
        {"status": 400, "message": "Invalid base62 id"},
        {"status": 200, "body": {"items": [1, 2], "total": 2, "limit": 50, "offset": 0}},
    ],
    ids=["403", "400", "no-listing"],
)
def test_an_album_spotify_refuses_is_named_and_the_others_kept(
    fault: dict[str, Any], emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=30, mode="development")
    ids = catalog_ids(emu)
    emu.add_fault(Fault("album_tracks", "status", album_id=ids[7], times=99, **fault))
    client = client_for(emu, max_workers=4)

    tracks = client.album_tracks(ids)

    assert tracks.stopped is None and tracks.missing == (ids[7],)
    assert tracks.reasons[ids[7]].startswith("refused: ")
    assert list(tracks) == ids[:7] + ids[8:]
    # No retry but the batch probe's 403, asked again before it is believed.
    assert album_requests(emu)[ids[7]] == 1 and client.stats.retries == 1


def test_an_endpoint_that_refuses_every_album_ends_the_fetch_after_a_few(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=60, mode="development")
    emu.add_fault(Fault("album_tracks", "status", status=403, nth=11, times=999))
    client = client_for(emu, max_workers=4)

    tracks = client.album_tracks(catalog_ids(emu), keep_on_stop=True)

    assert isinstance(tracks.stopped, SpotifyForbiddenError)
    by_id = {album.id: album for album in emu.catalog.albums}
    for album_id, listing in tracks.items():
        assert [t["id"] for t in listing] == [t.id for t in by_id[album_id].tracks]
    refused = [a for a, why in tracks.reasons.items() if why.startswith("refused: ")]
    # Five refusals in a row, and one request per other worker then in flight.
    assert REFUSALS_IN_A_ROW <= len(refused) <= REFUSALS_IN_A_ROW + 3
    assert len(tracks) + len(refused) + list(tracks.reasons.values()).count(NOT_ASKED) == 60
    assert len(tracks) >= 5
    asked = emu.stats()["by_endpoint"]["album_tracks"]
    kept_pages = sum(math.ceil(len(by_id[a].tracks) / 50) for a in tracks)
    # A refused album cost one request, or two when its first page came before the refusals.
    assert kept_pages + len(refused) <= asked <= kept_pages + 2 * len(refused)


def test_album_listings_refused_in_extended_mode_stop_the_fetch_and_keep_the_batches(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # Batches allowed, then every long album's own listing refused: the listings are what is
    # refused, not the batch endpoint (once, all 300 albums were then asked again one by one).
    emu = emulator_factory(albums=300, mode="extended")
    emu.add_fault(Fault("album_tracks", "status", status=403, times=999))
    client = client_for(emu, max_workers=1)

    tracks = client.album_tracks(catalog_ids(emu), keep_on_stop=True)

    assert isinstance(tracks.stopped, SpotifyForbiddenError)
    assert tracks.endpoint == "albums"
    long = [a.id for a in emu.catalog.albums if len(a.tracks) > 50]
    assert len(long) >= REFUSALS_IN_A_ROW
    refused = [a for a, why in tracks.reasons.items() if why.startswith("refused: ")]
    assert len(refused) == REFUSALS_IN_A_ROW and set(refused) <= set(long)
    assert emu.stats()["by_endpoint"]["album_tracks"] == REFUSALS_IN_A_ROW
    assert emu.stats()["by_endpoint"]["albums"] == 15
    assert set(tracks) == {a.id for a in emu.catalog.albums if len(a.tracks) <= 50}


def test_a_refused_batch_is_asked_album_by_album_and_the_endpoint_kept(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=60, mode="extended")
    emu.add_fault(Fault("albums", "status", status=403, nth=2))
    client = client_for(emu, max_workers=1)

    tracks = client.album_tracks(catalog_ids(emu))

    assert tracks.stopped is None and list(tracks) == catalog_ids(emu)
    assert tracks.endpoint == "albums"
    assert emu.stats()["by_endpoint"]["albums"] == 3
    refused = catalog_ids(emu)[20:40]
    pages = {album.id: math.ceil(len(album.tracks) / 50) for album in emu.catalog.albums}
    # The refused batch's albums listed alone; the others only for their pages past 50 tracks.
    listed = Counter({a: n if a in refused else n - 1 for a, n in pages.items()})
    assert album_requests(emu) == +listed


@pytest.mark.parametrize(
    "fault",
    [
        Fault("albums", "status", status=400),
        Fault("albums", "status", status=200, body={"albums": 7}),
    ],
)
def test_a_first_batch_refused_or_malformed_is_asked_album_by_album(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, fault: Fault
) -> None:
    # The first batch also tells whether batches work: a 400 or a body of the wrong shape there
    # once ended the fetch with no album at all.
    emu = emulator_factory(albums=60, mode="extended")
    emu.add_fault(fault)
    client = client_for(emu, max_workers=1)

    tracks = client.album_tracks(catalog_ids(emu))

    assert tracks.stopped is None and list(tracks) == catalog_ids(emu)
    assert tracks.endpoint == "albums"
    assert emu.stats()["by_endpoint"]["albums"] == 3
    first = catalog_ids(emu)[:20]
    assert all(album_requests(emu)[a] >= 1 for a in first)


def albums_answer(emu: EmulatorServer, ids: list[str]) -> dict[str, Any]:
    """What the emulator's `/albums?ids=` answers for `ids`, asked outside any client."""
    token = requests.post(
        emu.token_url,
        data={"grant_type": "client_credentials"},
        auth=(emu.client_id, emu.client_secret),
        timeout=5,
    ).json()["access_token"]
    answer = requests.get(
        f"{emu.api_base_url}/albums",
        params={"ids": ",".join(ids)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize("entries", ["reversed", "not objects"])
def test_a_batch_answer_is_matched_to_its_albums_by_id(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, entries: str
) -> None:
    # Spotify keeps the order of the ids asked; an answer that does not (a proxy's, a cache's)
    # once gave 19 of 20 albums another album's tracks, and entries that are not objects
    # ended the fetch with an AttributeError.
    emu = emulator_factory(albums=60, mode="extended")
    second = catalog_ids(emu)[20:40]
    albums = albums_answer(emu, second)["albums"]
    body = {"albums": albums[::-1] if entries == "reversed" else ["album"] * len(second)}
    emu.reset()
    emu.add_fault(Fault("albums", "status", status=200, body=body, nth=2))
    client = client_for(emu, max_workers=1)

    tracks = client.album_tracks(catalog_ids(emu))

    assert tracks.stopped is None and list(tracks) == catalog_ids(emu)
    for album in emu.catalog.albums:
        assert [t["id"] for t in tracks[album.id]] == [t.id for t in album.tracks]
    sizes = {album.id: len(album.tracks) for album in emu.catalog.albums}
    short = [a for a in second if sizes[a] <= 50]
    asked_alone = [a for a in short if album_requests(emu)[a]]
    assert asked_alone == ([] if entries == "reversed" else short)


def test_a_stop_in_a_later_batch_keeps_the_whole_albums_of_the_batches_before(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=60, mode="extended")
    emu.add_fault(Fault("albums", "rate_limit", retry_after_s=86400, nth=3))
    client = client_for(emu, max_workers=1)

    tracks = client.album_tracks(catalog_ids(emu), keep_on_stop=True)

    assert isinstance(tracks.stopped, SpotifyRunStoppedError)
    whole = [a.id for a in emu.catalog.albums[:40] if len(a.tracks) <= 50]
    assert whole and list(tracks) == whole
    assert set(tracks.reasons.values()) == {NOT_ASKED}


def test_null_entries_and_a_null_page_are_skipped_counted_and_paged_past(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=50, mode="development", null_albums={3, 41}, null_pages={20})
    feed = client_for(emu, new_releases_source="search").new_releases()
    ids = catalog_ids(emu)
    assert [a["id"] for a in feed.albums] == [
        a for i, a in enumerate(ids) if i not in (3, 41) and not 20 <= i < 30
    ]
    assert (feed.total, feed.unsent, feed.null_pages, feed.shortfall) == (50, 12, (20,), 0)
    assert feed.expected - feed.unsent == len(feed.albums)
    assert emu.stats()["by_endpoint"]["search"] == 5


def test_a_null_last_page_does_not_end_the_listing_early(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=50, mode="extended", null_pages={10, 40})
    feed = client_for(emu, page_size=10).new_releases()
    ids = catalog_ids(emu)
    assert [a["id"] for a in feed.albums] == ids[:10] + ids[20:40]
    assert (feed.unsent, feed.null_pages) == (20, (10, 40))
    assert emu.stats()["by_endpoint"]["new_releases"] == 5


@pytest.mark.parametrize(("source", "endpoint"), [("browse", "new_releases"), ("search", "search")])
def test_a_stable_duplicate_is_kept_once_rereading_only_its_pages(
    source: str, endpoint: str, emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=30, mode="extended", feed_duplicate=(5, 17))
    client = client_for(emu, page_size=10, new_releases_source=source)

    feed = client.new_releases()

    ids = catalog_ids(emu)
    assert [a["id"] for a in feed.albums] == ids
    assert feed.duplicates == (Duplicate(ids[5], (6, 18)),)
    assert (feed.total, feed.expected, feed.shortfall) == (31, 30, 0)
    assert client.stats.drift_restarts == 0
    # 4 pages of 10 for 31 places, then the two pages holding places 6 and 18 again: 6
    # requests, where three full re-reads as drift took 16 and then failed.
    assert emu.stats()["by_endpoint"][endpoint] == 4 + 2


def test_a_duplicate_that_moves_between_reads_restarts_the_listing(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # The total stays put (search_total), so only the re-read of the duplicate's pages shows
    # that an album came in at the front and shifted the listing.
    emu = emulator_factory(albums=30, mode="development", search_total=31, drift_after_pages=1)
    client = client_for(emu, new_releases_source="search")

    feed = client.new_releases()

    assert [a["id"] for a in feed.albums] == catalog_ids(emu)
    assert len(feed.albums) == 31 and feed.duplicates == ()
    assert client.stats.drift_restarts == 1


def test_a_search_page_that_repeats_an_album_once_is_read_again_whole(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # The lie told once: one page lists an album in the next one's place. Its second read
    # answers otherwise, so the listing restarts and the next read is whole.
    emu = emulator_factory(albums=30, mode="development")
    emu.add_fault(Fault("search", "repeat_album", nth=2))
    client = client_for(emu, new_releases_source="search")
    feed = client.new_releases()
    assert [a["id"] for a in feed.albums] == catalog_ids(emu)
    assert (feed.repeated, feed.duplicates, client.stats.drift_restarts) == ((), (), 1)
    assert emu.stats()["by_endpoint"]["search"] == 3 + 1 + 3


def test_a_search_listing_that_never_settles_keeps_the_read_with_fewest_repeats(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # Each read is 3 pages and one page read again (it answers otherwise, so the listing
    # restarts): the first and the last read repeat an album on every page, the second on one.
    emu = emulator_factory(albums=30, mode="development")
    emu.add_fault(Fault("search", "repeat_album", nth=1, times=4))
    emu.add_fault(Fault("search", "repeat_album", nth=5))
    emu.add_fault(Fault("search", "repeat_album", nth=9, times=4))
    client = client_for(emu, new_releases_source="search")
    feed = client.new_releases()
    ids = [a["id"] for a in feed.albums]
    assert len(ids) == len(set(ids)) == 29 and ids == [a for a in catalog_ids(emu) if a in ids]
    assert (feed.repeated_places, feed.shortfall, feed.extra_listings) == (1, 0, 0)
    assert client.stats.drift_restarts == 2
    assert emu.stats()["by_endpoint"]["search"] == 3 * (3 + 1)


def test_a_browse_feed_whose_duplicates_move_on_every_read_still_fails(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # Browse's total is exact: a listing that never settles there is not kept.
    emu = emulator_factory(albums=30, mode="extended")
    emu.add_fault(Fault("new_releases", "repeat_album", times=1000))
    client = client_for(emu, page_size=10, new_releases_source="browse")
    with pytest.raises(SpotifyPagingError, match="kept changing"):
        client.new_releases()
    assert client.stats.drift_restarts == 2
    assert emu.stats()["by_endpoint"]["new_releases"] == 3 * (3 + 1)


def test_a_stable_duplicate_is_kept_once_when_search_total_moves_on_its_second_read(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # Search's total is an estimate: the re-read of the first page holding the duplicate says
    # 32 of 31 places, its items the same. That is no drift, so nothing is read again.
    emu = emulator_factory(albums=30, mode="development", feed_duplicate=(5, 17))
    emu.add_fault(Fault("search", "total_plus_one", nth=5))
    client = client_for(emu, new_releases_source="search")
    feed = client.new_releases()
    ids = catalog_ids(emu)
    assert [a["id"] for a in feed.albums] == ids
    assert (feed.duplicates, feed.repeated) == ((Duplicate(ids[5], (6, 18)),), ())
    assert client.stats.drift_restarts == 0
    assert emu.stats()["by_endpoint"]["search"] == 4 + 2


def test_the_results_of_several_markets_merge_with_their_reasons_and_stop() -> None:
    budget = SpotifyRetryBudgetError("the client's retry budget is spent", url="https://x/v1")
    us = AlbumTracks(
        {"A": [{"id": "a1"}]}, "album_tracks", ("B",), "browse refused", {"B": UNKNOWN}
    )
    se = AlbumTracks({"C": []}, "album_tracks", ("D",), None, {"D": NOT_ASKED}, stopped=budget)

    merged = AlbumTracks.merged([us, se], unasked=["E", "F"])

    assert merged is not None
    assert (dict(merged), merged.endpoint) == ({"A": [{"id": "a1"}], "C": []}, "album_tracks")
    assert merged.missing == ("B", "D", "E", "F")
    assert merged.reasons == {"B": UNKNOWN, "D": NOT_ASKED, "E": NOT_ASKED, "F": NOT_ASKED}
    assert (merged.fallback_reason, merged.stopped) == ("browse refused", budget)
    assert AlbumTracks.merged([]) is None
    assert AlbumTracks.merged([us]) == us


@pytest.mark.parametrize(("source", "endpoint"), [("browse", "new_releases"), ("search", "search")])
def test_a_page_with_a_null_offset_is_placed_where_it_was_asked_for(
    source: str, endpoint: str, emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # The 3rd page (offset 20) answers `offset: null`: read as 0, it overlapped the first page
    # and the feed restarted until it failed.
    emu = emulator_factory(albums=30, mode="extended")
    emu.add_fault(Fault(endpoint, "null_offset", nth=3))
    client = client_for(emu, page_size=10, new_releases_source=source)

    feed = client.new_releases()

    assert [a["id"] for a in feed.albums] == catalog_ids(emu)
    assert (feed.total, feed.shortfall, feed.duplicates) == (30, 0, ())
    assert client.stats.drift_restarts == 0
    assert emu.stats()["by_endpoint"][endpoint] == 3


def test_a_stale_next_on_the_last_browse_page_is_read_once_and_ends_the_listing(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # The 3rd and last page (offset 20, total 30) still links to offset=30: that link was a
    # ListingChanged ("more pages than the total allows") on every read until the feed failed.
    emu = emulator_factory(albums=30, mode="extended")
    emu.add_fault(Fault("new_releases", "stale_next", times=100))
    client = client_for(emu, page_size=10)

    feed = client.new_releases()

    assert [a["id"] for a in feed.albums] == catalog_ids(emu)
    assert (feed.total, feed.shortfall, feed.duplicates) == (30, 0, ())
    assert client.stats.drift_restarts == 0
    # 3 pages, then the stale link once (an empty page at offset 30).
    assert emu.stats()["by_endpoint"]["new_releases"] == 3 + 1


def test_a_search_total_one_page_moves_is_an_estimate_not_drift(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # One search page says 31 of a listing of 30: that restarted the feed until it failed.
    emu = emulator_factory(albums=30, mode="development")
    emu.add_fault(Fault("search", "total_plus_one", nth=2))
    client = client_for(emu, new_releases_source="search")

    feed = client.new_releases()

    assert [a["id"] for a in feed.albums] == catalog_ids(emu)
    assert (feed.total, feed.shortfall, feed.duplicates) == (30, 0, ())
    assert client.stats.drift_restarts == 0
    assert emu.stats()["by_endpoint"]["search"] == 3


@pytest.mark.parametrize("later_pages", ["say 31", "say 30 too"])
def test_search_pages_past_the_total_of_the_first_page_are_read(
    later_pages: str, emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # 31 albums; the first page says 30 (search's total is an estimate). Its pages were read
    # up to 30, the 31st album's page was taken for a change of the listing, and after two
    # restarts the feed failed, saying the listing "kept changing".
    emu = emulator_factory(albums=31, mode="development", search_total=30)
    if later_pages == "say 31":
        emu.add_fault(Fault("search", "total_plus_one", nth=2, times=10))
    client = client_for(emu, new_releases_source="search")

    feed = client.new_releases()

    assert [a["id"] for a in feed.albums] == catalog_ids(emu)
    assert feed.shortfall == 0 and client.stats.drift_restarts == 0
    assert emu.stats()["by_endpoint"]["search"] == 4


def test_a_browse_total_that_moves_is_drift_and_the_listing_read_again(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    # Browse's total is exact: one that moves says the listing moved, so it is read again.
    emu = emulator_factory(albums=30, mode="extended")
    emu.add_fault(Fault("new_releases", "total_plus_one", nth=2))
    client = client_for(emu, page_size=10)

    feed = client.new_releases()

    assert [a["id"] for a in feed.albums] == catalog_ids(emu)
    assert (feed.total, client.stats.drift_restarts) == (30, 1)
    assert emu.stats()["by_endpoint"]["new_releases"] == 3 + 3
