"""The feed day by day: albums enter at the front, the oldest leave, some albums gain a track."""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from spotify_assets.emulator.generation import (
    RELEASE_ANCHOR,
    album_size,
    make_album,
    make_track,
)
from spotify_assets.emulator.records import Album, Artist, DatePrecision


@dataclass(frozen=True)
class FeedDay:
    """One day: the feed in order (newest first) and every album known by then, as of that day."""

    albums: tuple[Album, ...]
    known: Mapping[str, Album]


class FeedHistory:
    """Every day's feed from one seed, computed on first use and cached (thread-safe)."""

    # Day d >= 1 follows from day d-1: `entering` new albums (released on anchor + d days) go in
    # front, as many of the oldest leave, and `track_changes` albums that stay gain one track at
    # the end. Each day draws from its own seeded generator, so day d is the same on every run.

    def __init__(
        self,
        seed: int,
        origin: tuple[Album, ...],
        artists: tuple[Artist, ...],
        turnover: float = 0.1,
        track_changes: int = 0,
        *,
        markets: tuple[str, ...] | None = None,
    ) -> None:
        """Start from day 0's feed `origin`; later days replace `turnover` of it each day, the
        albums that enter sold in some of `markets` (when given) as day 0's are."""
        self.seed = seed
        self.artists = artists
        self.turnover = turnover
        self.track_changes = track_changes
        self.markets = markets
        self.size = len(origin)
        self._lock = threading.Lock()
        self._days = [FeedDay(origin, {album.id: album for album in origin})]
        self._taken = {artist.id for artist in artists}
        for album in origin:
            self._taken.add(album.id)
            self._taken.update(track.id for track in album.tracks)

    @property
    def entering(self) -> int:
        """Albums that enter (and leave) the feed each day: at least one unless turnover is 0."""
        if self.turnover <= 0 or self.size == 0:
            return 0
        return min(self.size, max(1, round(self.turnover * self.size)))

    def day(self, day: int) -> FeedDay:
        """The feed and the known albums of `day` (>= 0)."""
        if day < 0:
            raise ValueError(f"feed day must be >= 0, got {day}")
        with self._lock:
            while len(self._days) <= day:
                self._days.append(self._next_day(len(self._days)))
            return self._days[day]

    def taken_ids(self) -> set[str]:
        """Every id handed out so far (artists, albums, tracks), for callers minting new ones."""
        with self._lock:
            return set(self._taken)

    def _key(self) -> tuple[Any, ...]:
        """What decides every day's feed."""
        return (
            self.seed,
            self.turnover,
            self.track_changes,
            self.markets,
            self._days[0].albums,
            self.artists,
        )

    def __eq__(self, other: object) -> bool:
        """Histories are equal when they would produce the same days."""
        return isinstance(other, FeedHistory) and self._key() == other._key()

    def __hash__(self) -> int:
        """Hash of what decides the days."""
        return hash(self._key())

    def _next_day(self, day: int) -> FeedDay:
        """Day `day` from the cached day before it (lock held)."""
        previous = self._days[day - 1]
        rng = random.Random(f"spotify-emulator:{self.seed}:day:{day}")
        release: tuple[str, DatePrecision] = (
            (RELEASE_ANCHOR + timedelta(days=day)).isoformat(),
            "day",
        )
        entering = tuple(
            make_album(
                rng,
                self._taken,
                self.artists,
                size=album_size(rng),
                release=release,
                markets=self.markets,
            )
            for _ in range(self.entering)
        )
        staying = list(previous.albums[: self.size - self.entering])
        for index in sorted(rng.sample(range(len(staying)), min(self.track_changes, len(staying)))):
            staying[index] = self._with_one_more_track(rng, staying[index])
        albums = (*entering, *staying)
        known = dict(previous.known)
        known.update((album.id, album) for album in albums)
        return FeedDay(albums, known)

    def _with_one_more_track(self, rng: random.Random, album: Album) -> Album:
        """`album` with a new track after its last one, on the same disc (lock held)."""
        last = album.tracks[-1]
        others = [artist for artist in self.artists if artist not in album.artists]
        track = make_track(
            rng,
            self._taken,
            album.artists,
            others,
            disc=last.disc_number,
            number=last.track_number + 1,
        )
        return dataclasses.replace(album, tracks=(*album.tracks, track))
