"""Spotify objects flattened into the rows of the data contract (pure functions, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from spotify_assets.contract import schemas
from spotify_assets.spotify import NewReleases

Row = dict[str, Any]


def largest_image_url(images: Sequence[Mapping[str, Any]] | None) -> str | None:
    """URL of the largest image; Spotify lists widest first, so the first wins when sizes are
    unknown (null height/width)."""
    if not images:
        return None
    best = max(images, key=lambda image: (image.get("width") or 0) * (image.get("height") or 0))
    return best.get("url")


def _artists(obj: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    artists = obj.get("artists") or []
    return [a.get("id") for a in artists], [a.get("name") for a in artists]


def album_row(album: Mapping[str, Any], position: int) -> Row:
    """One `new_releases` row (without the snapshot columns) from a simplified album object."""
    artist_ids, artist_names = _artists(album)
    return {
        "position": position,
        "album_id": album.get("id"),
        "album_name": album.get("name"),
        "album_type": album.get("album_type"),
        "release_date": album.get("release_date"),
        "release_date_precision": album.get("release_date_precision"),
        "total_tracks": album.get("total_tracks"),
        "artist_ids": artist_ids,
        "artist_names": artist_names,
        "image_url": largest_image_url(album.get("images")),
        "spotify_url": (album.get("external_urls") or {}).get("spotify"),
        "uri": album.get("uri"),
    }


def track_row(album_id: str, track: Mapping[str, Any]) -> Row:
    """One `album_tracks` row (without the snapshot columns) from a simplified track object."""
    artist_ids, artist_names = _artists(track)
    return {
        "album_id": album_id,
        "track_id": track.get("id"),
        "track_name": track.get("name"),
        "disc_number": track.get("disc_number"),
        "track_number": track.get("track_number"),
        "duration_ms": track.get("duration_ms"),
        "explicit": track.get("explicit"),
        "is_local": track.get("is_local"),
        "is_playable": track.get("is_playable"),
        "artist_ids": artist_ids,
        "artist_names": artist_names,
        "preview_url": track.get("preview_url"),
        "spotify_url": (track.get("external_urls") or {}).get("spotify"),
        "uri": track.get("uri"),
    }


def _frame(rows: Iterable[Row], schema: pa.Schema, **constants: object) -> pd.DataFrame:
    """Rows plus constant columns, typed by `schema` (which fails loudly on a wrong type)."""
    table = pa.Table.from_pylist([{**row, **constants} for row in rows], schema=schema)
    return schemas.to_frame(table)


def new_releases_frame(
    feeds: Iterable[NewReleases], day: date, fetched_at: datetime
) -> pd.DataFrame:
    """The `new_releases` partition for `day`: one row per album of each market's feed, the
    markets in the order given, each in its feed's order (position counted per market)."""
    rows = (
        {**album_row(album, position), "market": feed.market, "source": feed.source}
        for feed in feeds
        for position, album in enumerate(feed.albums, start=1)
    )
    return _frame(rows, schemas.NEW_RELEASES, snapshot_date=day, fetched_at=fetched_at)


def album_tracks_frame(
    tracks: Mapping[str, Sequence[Mapping[str, Any]]],
    day: date,
    fetched_at: datetime,
    market_of: Mapping[str, str | None] | None = None,
) -> pd.DataFrame:
    """The `album_tracks` partition for `day`: one row per track, albums in the given order,
    each marked with the market its tracks were fetched for (`market_of`; null when absent)."""
    markets = market_of or {}
    rows = (
        {**track_row(album_id, track), "market": markets.get(album_id)}
        for album_id, listing in tracks.items()
        for track in listing
    )
    return _frame(rows, schemas.ALBUM_TRACKS, snapshot_date=day, fetched_at=fetched_at)
