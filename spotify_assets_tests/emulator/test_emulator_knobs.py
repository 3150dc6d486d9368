"""Behaviour knobs: random 5xx, wrong totals, missing tracks, drift, validation."""

from __future__ import annotations

import pytest

from spotify_assets.emulator import EmulatorConfig, EmulatorServer
from spotify_assets_tests.conftest import EmulatorFactory

from .helpers import Api

NEW_RELEASES = "/browse/new-releases"


def _statuses(api: Api, count: int) -> list[int]:
    """Statuses of `count` album requests."""
    album_id = api.emulator.catalog.albums[0].id
    return [api.get(f"/albums/{album_id}").status_code for _ in range(count)]


def test_error_rate_is_seeded(emulator_factory: EmulatorFactory) -> None:
    first = Api(emulator_factory(error_rate=0.3))
    statuses = _statuses(first, 60)
    assert set(statuses) <= {200, 500, 502, 503}
    assert 5 <= sum(status != 200 for status in statuses) <= 35
    assert len(set(statuses) - {200}) >= 2
    first.emulator.reset()  # reseeds, and forgets the token
    again = Api(first.emulator)
    assert _statuses(again, 60) == statuses
    second = Api(emulator_factory(error_rate=0.3))
    assert _statuses(second, 60) == statuses
    other_seed = Api(emulator_factory(error_rate=0.3, seed=7))
    assert _statuses(other_seed, 60) != statuses
    first.emulator.configure(error_rate=0.0)
    assert set(_statuses(again, 10)) == {200}


def test_total_offset_reports_a_wrong_total(api: Api) -> None:
    api.emulator.configure(total_offset=1)
    items = api.collect(NEW_RELEASES, "albums", limit=50)
    assert len(items) == 100
    assert api.json(NEW_RELEASES)["albums"]["total"] == 101
    assert api.json("/search", q="tag:new", type="album")["albums"]["total"] == 101


def test_drop_tracks_hides_the_last_track(api: Api) -> None:
    album = next(a for a in api.emulator.catalog.albums if a.total_tracks == 51)
    api.emulator.configure(drop_tracks={album.id})
    listed = api.collect(f"/albums/{album.id}/tracks", limit=50)
    assert [t["id"] for t in listed] == [t.id for t in album.tracks[:-1]]
    first_page = api.json(f"/albums/{album.id}/tracks", limit=50)
    assert first_page["total"] == 50
    assert first_page["next"] is None
    for body in (api.json(f"/albums/{album.id}"), api.json("/albums", ids=album.id)["albums"][0]):
        assert body["total_tracks"] == 51
        assert body["tracks"]["total"] == 50
    feed = api.collect(NEW_RELEASES, "albums", limit=50)
    assert next(a for a in feed if a["id"] == album.id)["total_tracks"] == 51
    api.emulator.configure(drop_tracks=set())
    assert api.json(f"/albums/{album.id}/tracks")["total"] == 51


def test_drift_inserts_a_new_album_after_k_pages(api: Api) -> None:
    before = api.emulator.catalog.albums
    api.emulator.configure(drift_after_pages=2)
    first = api.json(NEW_RELEASES, limit=20)["albums"]
    second = api.json(first["next"])["albums"]
    assert second["total"] == 100
    third = api.json(second["next"])["albums"]
    assert third["total"] == 101
    assert third["items"][0]["id"] == second["items"][-1]["id"]  # the repeat a client must notice
    after = api.emulator.catalog.albums
    assert len(after) == 101
    assert after[1:] == before
    assert api.json(NEW_RELEASES, limit=1)["albums"]["items"][0]["id"] == after[0].id
    new_tracks = api.collect(f"/albums/{after[0].id}/tracks", limit=50)
    assert len(new_tracks) == after[0].total_tracks > 0
    assert api.emulator.config.drift_after_pages is None  # one-shot
    api.collect(NEW_RELEASES, "albums", limit=50)
    assert len(api.emulator.catalog.albums) == 101


def test_drift_counts_search_pages_too(
    emulator_factory: EmulatorFactory,
) -> None:
    api = Api(emulator_factory(mode="development", drift_after_pages=1))
    page = api.json("/search", q="tag:new", type="album", limit=10)["albums"]
    following = api.json(page["next"])["albums"]
    assert following["total"] == 101
    assert following["items"][0]["id"] == page["items"][-1]["id"]
    api.close()


def test_configure_validates(emulator: EmulatorServer) -> None:
    for bad in (
        {"mode": "sandbox"},
        {"rate_limit": (0, 1.0)},
        {"error_rate": 1.5},
        {"latency_ms": -1},
        {"albums": 5},
        {"drop_tracks": "not-a-list"},
        {"rate_limit": (5, 0.05)},
        {"rate_limit": (5, 61)},
        {"quota": -1},
        {"feed_day": -1},
        {"feed_turnover": 0.5},
        {"app_forbidden": "banned"},
        {"auth_errors": "2027"},
        {"search_total": "many"},
        {"rate_limit_retry_after": "later"},
        {"lone_429_at": [0]},
        {"lone_429_at": "third"},
    ):
        with pytest.raises(ValueError):
            emulator.configure(**bad)
    config = emulator.configure(latency_ms=5, rate_limit="10/2", token_ttl_s=2)
    assert config == EmulatorConfig(latency_ms=5.0, rate_limit=(10, 2.0), token_ttl_s=2.0)
