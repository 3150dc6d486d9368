"""The catalog's data types (albums, tracks, artists, images) shared by generation and rendering."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Literal, NamedTuple

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ID_LENGTH = 22
MARKET_CODE = re.compile(r"[A-Z]{2}")  # ISO 3166-1 alpha-2, as Spotify's `market` takes it

AlbumType = Literal["album", "single", "compilation"]
DatePrecision = Literal["year", "month", "day"]


class Artist(NamedTuple):
    """An artist as albums and tracks reference it; unpacks as (id, name)."""

    id: str
    name: str


class Image(NamedTuple):
    """Cover art; height and width are null for some images, as Spotify sometimes leaves them."""

    url: str
    height: int | None
    width: int | None


class Copyright(NamedTuple):
    """A copyright line: type C (composition) or P (sound recording)."""

    text: str
    type: str


@dataclass(frozen=True)
class Track:
    """One track of an album; numbering restarts at 1 on each disc."""

    id: str
    name: str
    disc_number: int
    track_number: int
    duration_ms: int
    explicit: bool
    preview_url: str | None
    artists: tuple[Artist, ...]


@dataclass(frozen=True)
class Album:
    """One album of the feed with every track it holds."""

    id: str
    name: str
    album_type: AlbumType
    release_date: str
    release_date_precision: DatePrecision
    artists: tuple[Artist, ...]
    images: tuple[Image, ...]
    tracks: tuple[Track, ...]
    label: str
    popularity: int
    upc: str
    copyrights: tuple[Copyright, ...]
    available_markets: tuple[str, ...]

    @property
    def total_tracks(self) -> int:
        """How many tracks the album has (the truth, whatever a faulty listing shows)."""
        return len(self.tracks)

    def available_in(self, market: str | None) -> bool:
        """Whether search lists the album for `market` and its tracks play there; no market:
        available (the feed as a client without a market sees it)."""
        return market is None or market in self.available_markets


def is_base62_id(value: str) -> bool:
    """True when `value` looks like a Spotify id: 22 base62 characters."""
    return len(value) == ID_LENGTH and all(char in BASE62 for char in value)


def is_market_code(value: str) -> bool:
    """True when `value` is written like an ISO 3166-1 alpha-2 code (two capital letters)."""
    return MARKET_CODE.fullmatch(value) is not None
