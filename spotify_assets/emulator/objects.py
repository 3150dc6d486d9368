"""Rendering catalog data as Spotify Web API JSON: albums, tracks, artists, paging, errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from spotify_assets.emulator.config import Mode
from spotify_assets.emulator.records import Album, Artist, Image, Track

JSON = dict[str, Any]
OPEN_SPOTIFY = "https://open.spotify.com"
# What Spotify adds to an album or track not available in the market a request names.
MARKET_RESTRICTION: JSON = {"reason": "market"}


@dataclass(frozen=True)
class View:
    """How one request sees objects: where links point, which app mode, which market."""

    api_base: str
    mode: Mode = "extended"
    market: str | None = None

    @property
    def extended(self) -> bool:
        """Extended Quota Mode keeps the fields Development Mode lost in 2026."""
        return self.mode == "extended"


def artist_object(artist: Artist, view: View) -> JSON:
    """SimplifiedArtistObject."""
    return {
        "external_urls": {"spotify": f"{OPEN_SPOTIFY}/artist/{artist.id}"},
        "href": f"{view.api_base}/artists/{artist.id}",
        "id": artist.id,
        "name": artist.name,
        "type": "artist",
        "uri": f"spotify:artist:{artist.id}",
    }


def image_object(image: Image) -> JSON:
    """ImageObject (height and width may be null)."""
    return {"height": image.height, "url": image.url, "width": image.width}


def track_object(track: Track, album: Album, view: View) -> JSON:
    """SimplifiedTrackObject; with a market it carries is_playable (true where the album is
    sold) instead of available_markets, and restrictions when it does not play there."""
    body: JSON = {
        "artists": [artist_object(artist, view) for artist in track.artists],
        "disc_number": track.disc_number,
        "duration_ms": track.duration_ms,
        "explicit": track.explicit,
        "external_urls": {"spotify": f"{OPEN_SPOTIFY}/track/{track.id}"},
        "href": f"{view.api_base}/tracks/{track.id}",
        "id": track.id,
        "is_local": False,
        "name": track.name,
        "preview_url": track.preview_url,
        "track_number": track.track_number,
        "type": "track",
        "uri": f"spotify:track:{track.id}",
    }
    if view.market is not None:
        body["is_playable"] = album.available_in(view.market)
        if not body["is_playable"]:
            body["restrictions"] = dict(MARKET_RESTRICTION)
    elif view.extended:
        body["available_markets"] = list(album.available_markets)
    return body


def simplified_album(album: Album, view: View) -> JSON:
    """SimplifiedAlbumObject as the feed and search list it; restrictions when the market the
    request names is not one the album is sold in."""
    body: JSON = {
        "album_type": album.album_type,
        "artists": [artist_object(artist, view) for artist in album.artists],
        "external_urls": {"spotify": f"{OPEN_SPOTIFY}/album/{album.id}"},
        "href": f"{view.api_base}/albums/{album.id}",
        "id": album.id,
        "images": [image_object(image) for image in album.images],
        "name": album.name,
        "release_date": album.release_date,
        "release_date_precision": album.release_date_precision,
        "total_tracks": album.total_tracks,
        "type": "album",
        "uri": f"spotify:album:{album.id}",
    }
    if view.extended:
        body["available_markets"] = list(album.available_markets)
    if not album.available_in(view.market):
        body["restrictions"] = dict(MARKET_RESTRICTION)
    return body


def full_album(album: Album, view: View, tracks_page: JSON) -> JSON:
    """AlbumObject with its first page of tracks embedded."""
    body = simplified_album(album, view)
    body["copyrights"] = [{"text": c.text, "type": c.type} for c in album.copyrights]
    body["external_ids"] = {"upc": album.upc}
    body["genres"] = []
    body["tracks"] = tracks_page
    if view.extended:
        body["label"] = album.label
        body["popularity"] = album.popularity
    return body


def paging(
    url: str,
    items: list[JSON],
    *,
    offset: int,
    limit: int,
    total: int,
    has_next: bool,
    params: Sequence[tuple[str, str]] = (),
) -> JSON:
    """Paging object whose href/next/previous repeat `params` after offset and limit."""

    def link(at: int) -> str:
        return f"{url}?{urlencode([('offset', str(at)), ('limit', str(limit)), *params])}"

    return {
        "href": link(offset),
        "items": items,
        "limit": limit,
        "next": link(offset + limit) if has_next else None,
        "offset": offset,
        "previous": link(max(0, offset - limit)) if offset > 0 else None,
        "total": total,
    }


def error_body(status: int, message: str) -> JSON:
    """The Web API error shape: {"error": {"status", "message"}}."""
    return {"error": {"status": status, "message": message}}


def catalog_document(feed: Sequence[Album], api_base: str, market: str | None = None) -> JSON:
    """Ground truth: every album of a feed in order, simplified (available_markets included),
    with all its tracks as a request for `market` sees them."""
    view = View(api_base, market=market)
    albums = []
    for album in feed:
        body = simplified_album(album, view)
        body["tracks"] = [track_object(track, album, view) for track in album.tracks]
        albums.append(body)
    return {"albums": albums}
