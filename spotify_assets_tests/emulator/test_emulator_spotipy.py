"""spotipy, a real third-party client, works against the emulator with only its URLs changed."""

from __future__ import annotations

from typing import Any

import pytest
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials

from spotify_assets.emulator import EmulatorServer


@pytest.fixture
def spotify(emulator: EmulatorServer) -> Any:
    """A spotipy client pointed at the emulator: token URL and API prefix, nothing else."""
    auth = SpotifyClientCredentials(
        emulator.client_id,
        emulator.client_secret,
        requests_timeout=5,
        cache_handler=MemoryCacheHandler(),
    )
    auth.OAUTH_TOKEN_URL = emulator.token_url
    client = spotipy.Spotify(auth_manager=auth, requests_timeout=5)
    client.prefix = emulator.api_base_url + "/"
    return client


def test_new_releases_paged_with_next(spotify: Any, emulator: EmulatorServer) -> None:
    page = spotify.new_releases(limit=50)["albums"]
    ids = [album["id"] for album in page["items"]]
    while page["next"]:
        page = spotify.next(page)["albums"]
        ids += [album["id"] for album in page["items"]]
    assert ids == [album.id for album in emulator.catalog.albums]
    assert len(ids) == 100


def test_album_tracks_beyond_one_page(spotify: Any, emulator: EmulatorServer) -> None:
    album = next(a for a in emulator.catalog.albums if a.total_tracks > 50)
    page = spotify.album_tracks(album.id)
    ids = [track["id"] for track in page["items"]]
    while page["next"]:
        page = spotify.next(page)
        ids += [track["id"] for track in page["items"]]
    assert ids == [track.id for track in album.tracks]


def test_several_albums(spotify: Any, emulator: EmulatorServer) -> None:
    wanted = emulator.catalog.albums[:20]
    albums = spotify.albums([album.id for album in wanted])["albums"]
    assert [album["id"] for album in albums] == [album.id for album in wanted]
    assert [album["tracks"]["total"] for album in albums] == [a.total_tracks for a in wanted]


def test_search_tag_new_paged_with_next(spotify: Any, emulator: EmulatorServer) -> None:
    page = spotify.search(q="tag:new", type="album", limit=10)["albums"]
    ids = [album["id"] for album in page["items"]]
    while page["next"]:
        assert "query=tag%3Anew" in page["next"]
        page = spotify.next(page)["albums"]
        ids += [album["id"] for album in page["items"]]
    assert ids == [album.id for album in emulator.catalog.albums]
    assert emulator.stats()["tokens_issued"] == 1


def test_search_in_one_market_stays_in_it_across_pages(
    spotify: Any, emulator: EmulatorServer
) -> None:
    page = spotify.search(q="tag:new", type="album", limit=10, market="SE")["albums"]
    ids = [album["id"] for album in page["items"]]
    while page["next"]:
        page = spotify.next(page)["albums"]
        ids += [album["id"] for album in page["items"]]
    sold = [album.id for album in emulator.catalog.feed(market="SE")]
    assert ids == sold
    assert 0 < len(sold) < len(emulator.catalog.albums)
    tracks = spotify.album_tracks(sold[0], market="SE")["items"]
    assert all(track["is_playable"] for track in tracks)
