"""The project's client, `spotify_assets.spotify.SpotifyClient`, with its default settings."""

from __future__ import annotations

from bench.contenders import Extraction, Target
from spotify_assets.spotify import ClientConfig, SpotifyClient


def extract(target: Target) -> Extraction:
    """The feed (auto: browse, search on 403), then every album's tracks, as a daily run does."""
    config = ClientConfig(target.client_id, target.client_secret, target.api_base, target.token_url)
    with SpotifyClient(config) as client:
        releases = client.new_releases()
        tracks = client.album_tracks(album["id"] for album in releases.albums)
    return [
        (album["id"], [track["id"] for track in tracks.get(album["id"], [])])
        for album in releases.albums
    ]
