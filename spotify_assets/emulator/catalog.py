"""The catalog being served: one day of the feed, any drift album, and lookups by id."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from spotify_assets.emulator import objects
from spotify_assets.emulator.feed_history import FeedDay, FeedHistory
from spotify_assets.emulator.generation import first_feed, make_album, recent_release
from spotify_assets.emulator.records import Album, Artist


@dataclass(frozen=True)
class Catalog:
    """The feed of `day` (drift albums in front) and every album that is or was in a feed."""

    history: FeedHistory
    day: int = 0
    drifted: tuple[Album, ...] = ()
    albums: tuple[Album, ...] = field(init=False, compare=False)
    _today: FeedDay = field(init=False, repr=False, compare=False)
    _drifted_by_id: dict[str, Album] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Fix the day's feed once; the catalog never changes after construction."""
        today = self.history.day(self.day)
        object.__setattr__(self, "_today", today)
        object.__setattr__(self, "albums", (*self.drifted, *today.albums))
        object.__setattr__(self, "_drifted_by_id", {album.id: album for album in self.drifted})

    @property
    def seed(self) -> int:
        """The seed everything is generated from."""
        return self.history.seed

    @property
    def artists(self) -> tuple[Artist, ...]:
        """The artist pool albums draw from."""
        return self.history.artists

    def album(self, album_id: str) -> Album | None:
        """The album with this id as of the current day (in a feed so far, or drifted), or None."""
        return self._drifted_by_id.get(album_id) or self._today.known.get(album_id)

    @property
    def markets(self) -> tuple[str, ...] | None:
        """The markets albums are sold in; None: Spotify's whole list."""
        return self.history.markets

    def feed(self, day: int | None = None, market: str | None = None) -> tuple[Album, ...]:
        """Ground truth: the feed of `day` (default today, drift included), tracks as of then,
        as search lists it for `market` (only the albums sold there; None: every album)."""
        albums = self.albums if day is None else self.history.day(day).albums
        if market is None:
            return albums
        return tuple(album for album in albums if album.available_in(market))

    def on_day(self, day: int) -> Catalog:
        """The catalog as it stands on `day`; drift albums of the day left behind are dropped."""
        return Catalog(self.history, day)

    def to_json(
        self, api_base: str, day: int | None = None, market: str | None = None
    ) -> dict[str, Any]:
        """Ground truth as JSON: simplified albums in feed order (of `market` when given), each
        with its available_markets and all its tracks (is_playable when a market is given)."""
        return objects.catalog_document(self.feed(day, market), api_base, market)

    def with_new_release(self) -> Catalog:
        """A copy with a brand-new album at the front of the feed (what drift between pages is)."""
        rng = random.Random(f"spotify-emulator:{self.seed}:drift:{len(self.drifted)}")
        taken = self.history.taken_ids() | set(self._drifted_by_id)
        for album in self.drifted:
            taken.update(track.id for track in album.tracks)
        album = make_album(
            rng,
            taken,
            self.artists,
            size=rng.randint(5, 60),
            release=recent_release(rng, 0),
            markets=self.markets,
        )
        return Catalog(self.history, self.day, (album, *self.drifted))


def generate_catalog(
    albums: int,
    seed: int,
    turnover: float = 0.1,
    track_changes: int = 0,
    day: int = 0,
    *,
    markets: tuple[str, ...] | None = None,
) -> Catalog:
    """The catalog for (albums, seed) on `day`, albums sold in `markets` (None: Spotify's whole
    list); the same arguments always give the same catalog, and the ids do not depend on
    `markets`."""
    origin, artists = first_feed(albums, seed, markets)
    return Catalog(
        FeedHistory(seed, origin, artists, turnover, track_changes, markets=markets), day
    )
