"""The client fetches the whole catalog, every track, with the fewest requests each mode allows."""

from __future__ import annotations

import math

import pytest

from spotify_assets.emulator import EmulatorServer
from spotify_assets.spotify import ClientConfig, SpotifyConfigError, SpotifyForbiddenError
from spotify_assets.spotify.stats import Progress
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.spotify.conftest import ClientFactory, extra_track_pages, fewest_requests

THREE = ("US", "SE", "DE")


def assert_matches_catalog(emu: EmulatorServer, albums: list[dict[str, object]]) -> None:
    """The feed equals the emulator's catalog, in order, names and all."""
    assert [a["id"] for a in albums] == [a.id for a in emu.catalog.albums]
    assert [a["name"] for a in albums] == [a.name for a in emu.catalog.albums]


def assert_tracks_match_catalog(
    emu: EmulatorServer, tracks: dict[str, list[dict[str, object]]]
) -> None:
    """Every album's tracks equal the catalog's, in order, including discs and unicode names."""
    assert list(tracks) == [a.id for a in emu.catalog.albums]
    for album in emu.catalog.albums:
        got = tracks[album.id]
        assert [(t["id"], t["disc_number"], t["track_number"], t["name"]) for t in got] == [
            (t.id, t.disc_number, t.track_number, t.name) for t in album.tracks
        ], album.id


def test_extended_mode_uses_browse_and_the_20_ids_endpoint_with_the_fewest_requests(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=100, mode="extended")
    sizes = [len(a.tracks) for a in emu.catalog.albums]
    assert max(sizes) > 100 and 51 in sizes and 50 in sizes
    assert any(len({t.disc_number for t in a.tracks}) > 1 for a in emu.catalog.albums)
    client = client_for(emu)

    feed = client.new_releases()
    tracks = client.album_tracks([a["id"] for a in feed.albums])

    assert (feed.source, feed.total, feed.fallback_reason) == ("browse", 100, None)
    assert_matches_catalog(emu, feed.albums)
    assert tracks.endpoint == "albums" and tracks.missing == ()
    assert_tracks_match_catalog(emu, dict(tracks))
    stats = emu.stats()
    assert stats["by_endpoint"]["new_releases"] == 2
    assert stats["by_endpoint"]["albums"] == 5
    assert stats["by_endpoint"].get("album_tracks", 0) == extra_track_pages(emu)
    assert stats["api_requests"] == client.stats.api_requests == fewest_requests(emu, "extended")
    assert client.stats.token_requests == stats["token_requests"] == 1


def test_development_mode_falls_back_to_search_and_one_request_per_album(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=100, mode="development")
    client = client_for(emu)

    feed = client.new_releases()
    tracks = client.album_tracks([a["id"] for a in feed.albums])

    assert feed.source == "search"
    assert feed.fallback_reason is not None and "403" in feed.fallback_reason
    assert_matches_catalog(emu, feed.albums)
    assert tracks.endpoint == "album_tracks"
    assert tracks.fallback_reason is not None
    assert_tracks_match_catalog(emu, dict(tracks))
    stats = emu.stats()
    # The 403 that reveals the mode, asked twice (one 403 is not believed).
    assert stats["by_endpoint"]["new_releases"] == 2
    assert stats["by_endpoint"].get("albums", 0) == 0  # inferred from it, never probed
    assert client.stats.api_requests == fewest_requests(emu, "development") + 2


def test_search_source_in_development_mode_probes_the_batch_endpoint_once(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=45, mode="development", latency_ms=5)
    client = client_for(emu, max_workers=4, new_releases_source="search")

    feed = client.new_releases()
    tracks = client.album_tracks([a["id"] for a in feed.albums])
    again = client.album_tracks([a["id"] for a in feed.albums][:3])

    assert feed.fallback_reason is None
    assert_tracks_match_catalog(emu, dict(tracks))
    assert (tracks.endpoint, again.endpoint) == ("album_tracks", "album_tracks")
    assert emu.stats()["by_endpoint"]["albums"] == 2  # its 403 asked twice, then remembered
    again_pages = sum(math.ceil(len(a.tracks) / 50) for a in emu.catalog.albums[:3])
    assert client.stats.api_requests == fewest_requests(emu, "development") + 2 + again_pages


def test_browse_source_does_not_fall_back(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=10, mode="development")
    with pytest.raises(SpotifyForbiddenError, match=r"403.*browse/new-releases"):
        client_for(emu, new_releases_source="browse").new_releases()


def test_the_market_goes_with_each_tracks_call_and_spotify_reports_playability(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=12, mode="extended", markets=THREE)
    ids = [a.id for a in emu.catalog.albums]
    client = client_for(emu)
    in_sweden = client.album_tracks(ids, market="SE")
    without = client.album_tracks(ids)
    in_germany = client.album_tracks(ids[:3], market="DE")
    for album in emu.catalog.albums:
        sold = album.available_in("SE")
        assert {t["is_playable"] for t in in_sweden[album.id]} == {sold}, album.id
    assert {t["is_playable"] for t in in_germany[ids[0]]} == {
        emu.catalog.albums[0].available_in("DE")
    }
    assert not any("is_playable" in t for listing in without.values() for t in listing)
    queries = [
        e["query"] for e in emu.stats()["log"] if e["endpoint"] in ("albums", "album_tracks")
    ]
    batches = math.ceil(len(ids) / 20)
    assert sum("market=SE" in q for q in queries) >= batches
    assert sum("market=DE" in q for q in queries) >= 1
    assert sum("market=" not in q for q in queries) >= batches
    assert client.stats.token_requests == 1


@pytest.mark.parametrize("mode", ["extended", "development"])
def test_one_client_reads_the_feed_of_each_market_from_search(
    mode: str, emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=45, mode=mode, markets=THREE)
    client = client_for(emu)

    feeds = {market: client.new_releases(market) for market in THREE}

    expected_pages = 0
    for market, feed in feeds.items():
        want = [a.id for a in emu.catalog.feed(market=market)]
        assert [a["id"] for a in feed.albums] == want
        assert (feed.market, feed.source, feed.total, feed.reachable) == (
            market,
            "search",
            len(want),
            len(want),
        )
        assert feed.fallback_reason is None
        expected_pages += math.ceil(len(want) / 10)
    stats = emu.stats()
    assert stats["by_endpoint"].get("new_releases", 0) == 0, "browse takes no market"
    assert stats["by_endpoint"]["search"] == stats["api_requests"] == expected_pages
    assert client.stats.token_requests == 1
    searches = [e["query"] for e in stats["log"] if e["endpoint"] == "search"]
    assert all(any(f"market={m}" in q for m in THREE) for q in searches)
    plain = client.new_releases()
    assert plain.market is None and len(plain.albums) == 45


def test_a_market_is_refused_before_any_request_when_it_cannot_work(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=5)
    client = client_for(emu)
    with pytest.raises(SpotifyConfigError, match=r"ISO 3166-1 alpha-2 .* not 'se'"):
        client.new_releases("se")
    with pytest.raises(SpotifyConfigError, match="not 'SWE'"):
        client.album_tracks(["x"], market="SWE")
    browse = client_for(emu, new_releases_source="browse")
    with pytest.raises(SpotifyConfigError, match=r"browse.*market SE.*takes no market"):
        browse.new_releases("SE")
    assert emu.stats()["requests"] == 0


@pytest.mark.parametrize("mode", ["extended", "development"])
def test_unknown_albums_are_reported_missing_not_fatal(
    mode: str, emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=5, mode=mode)
    ids = [a.id for a in emu.catalog.albums]
    unknown = "0000000000000000000000"
    tracks = client_for(emu).album_tracks([ids[0], unknown, *ids[1:], ids[0]])
    assert list(tracks) == ids
    assert tracks.missing == (unknown,)


def test_settings_outside_spotifys_limits_are_refused_before_any_request() -> None:
    with pytest.raises(SpotifyConfigError, match=r"page_size must be 1\.\.50"):
        ClientConfig("id", "secret", page_size=51)
    with pytest.raises(SpotifyConfigError, match=r"search_page_size must be 1\.\.10"):
        ClientConfig("id", "secret", search_page_size=20)
    with pytest.raises(SpotifyConfigError, match="client_secret is empty"):
        ClientConfig("id", "")


def test_progress_is_reported_at_a_steady_interval_and_at_the_end(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=30, mode="development", latency_ms=40)
    reports: list[Progress] = []
    client = client_for(emu, max_workers=2, progress_interval_s=0.1)
    client.album_tracks((a.id for a in emu.catalog.albums), progress=reports.append)
    assert len(reports) >= 4
    assert [r.done for r in reports] == sorted(r.done for r in reports)
    last = reports[-1]
    assert (last.done, last.total, last.eta_s) == (30, 30, 0.0)
    assert last.stats.api_requests == client.stats.api_requests
    assert "30/30 albums" in str(last) and "about 0 s left" in str(last)
