"""The rolling feed: feed_day moves the catalog to another day, deterministically from the seed."""

from __future__ import annotations

import itertools

from spotify_assets.emulator import EmulatorControl
from spotify_assets.emulator.catalog import generate_catalog
from spotify_assets_tests.conftest import EmulatorFactory

from .helpers import Api

NEW_RELEASES = "/browse/new-releases"


def test_day_zero_is_the_default_catalog() -> None:
    default = generate_catalog(100, 42)
    assert generate_catalog(100, 42, turnover=0.3, track_changes=5).albums == default.albums
    assert default.feed(0) == default.albums


def test_each_day_new_albums_enter_in_front_and_the_oldest_leave() -> None:
    catalog = generate_catalog(50, 42, turnover=0.1)
    days = [catalog.feed(day) for day in range(4)]
    for before, after in itertools.pairwise(days):
        assert len(after) == 50
        assert after[5:] == before[:45]  # 5 newest enter, the 5 oldest leave
        assert not {album.id for album in after[:5]} & {album.id for album in before}
    ids = [album.id for day in days for album in day]
    assert len(set(ids)) == 50 + 3 * 5
    assert days[3][0].release_date > days[2][0].release_date > days[0][0].release_date
    assert generate_catalog(50, 42, turnover=0.1).feed(3) == days[3]  # deterministic
    assert generate_catalog(50, 7, turnover=0.1).feed(3)[0].id != days[3][0].id


def test_albums_gain_one_track_a_day_and_keep_it() -> None:
    catalog = generate_catalog(40, 42, turnover=0.1, track_changes=3)
    for day in range(1, 4):
        before = {album.id: album for album in catalog.feed(day - 1)}
        grown = []
        for album in catalog.feed(day):
            old = before.get(album.id)
            if old is None:
                continue
            assert (album.id, album.name) == (old.id, old.name)
            assert album.tracks[: len(old.tracks)] == old.tracks
            if album.total_tracks != old.total_tracks:
                assert album.total_tracks == old.total_tracks + 1
                added, last = album.tracks[-1], old.tracks[-1]
                assert (added.disc_number, added.track_number) == (
                    last.disc_number,
                    last.track_number + 1,
                )
                grown.append(album.id)
        assert len(grown) == 3


def test_feed_day_over_http(emulator_factory: EmulatorFactory) -> None:
    emulator = emulator_factory(albums=30, feed_turnover=0.2, feed_track_changes=2)
    api = Api(emulator)
    day0 = emulator.catalog.feed(0)
    assert [a["id"] for a in api.collect(NEW_RELEASES, "albums", limit=50)] == [a.id for a in day0]
    emulator.configure(feed_day=2)
    day2 = emulator.catalog.feed(2)
    assert emulator.catalog.albums == day2
    for path, key, limit in ((NEW_RELEASES, "albums", 50), ("/search", "albums", 10)):
        extra = {"q": "tag:new", "type": "album"} if path == "/search" else {}
        listed = api.collect(path, key, limit=limit, **extra)
        assert [(a["id"], a["total_tracks"]) for a in listed] == [
            (a.id, a.total_tracks) for a in day2
        ]
    first_seen = {album.id: album for album in day0}
    grown = next(
        album
        for album in day2
        if album.id in first_seen and album.total_tracks > first_seen[album.id].total_tracks
    )
    tracks = api.collect(f"/albums/{grown.id}/tracks", limit=50)
    assert [t["id"] for t in tracks] == [t.id for t in grown.tracks]
    full = api.json(f"/albums/{grown.id}")
    assert full["total_tracks"] == full["tracks"]["total"] == grown.total_tracks
    left = day0[-1]  # left the feed on day 1, still answered as it was
    assert left.id not in {a.id for a in day2}
    assert api.json(f"/albums/{left.id}")["total_tracks"] == left.total_tracks
    assert api.json("/albums", ids=left.id)["albums"][0]["id"] == left.id
    future = emulator.catalog.feed(3)[0]  # not in any feed yet
    assert api.get(f"/albums/{future.id}").status_code == 404
    assert api.json("/albums", ids=future.id)["albums"] == [None]
    control = EmulatorControl(emulator.base_url)
    assert [a["id"] for a in control.catalog_json(day=3)["albums"]] == [
        a.id for a in emulator.catalog.feed(3)
    ]
    assert [a["id"] for a in control.catalog_json()["albums"]] == [a.id for a in day2]
    control.configure(feed_day=0)
    assert api.json(NEW_RELEASES, limit=1)["albums"]["items"][0]["id"] == day0[0].id
    api.close()
