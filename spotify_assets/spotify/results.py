"""What the client hands back: Spotify's objects as returned, plus how they were obtained."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

SpotifyObject = dict[str, Any]
NewReleasesSource = Literal["browse", "search"]
TracksEndpoint = Literal["albums", "album_tracks"]


@dataclass(frozen=True)
class NewReleases:
    """The new-releases feed: simplified album objects in feed order.

    `total` is what Spotify reported; `reachable` how many of those it lets a client page through
    (search stops at 1,000 while `tag:new` counts every album of two weeks), which is what a
    complete feed holds and a check compares with `len(albums)`. `fallback_reason` says why
    `auto` used search instead of browse, None when it did not. `market` is the country whose
    feed this is (search lists only albums available there), None for the feed without one.
    """

    albums: list[SpotifyObject]
    total: int
    reachable: int
    source: NewReleasesSource
    fallback_reason: str | None = None
    market: str | None = None

    @property
    def shortfall(self) -> int:
        """Albums search's listing lacked when it ran out before `reachable` (its last page empty
        or without `next`): search's total is an estimate, so this is what Spotify had (pages
        the client lost would have failed the read). Browse's total is exact: 0 there."""
        return max(0, self.reachable - len(self.albums)) if self.source == "search" else 0


@dataclass(frozen=True)
class AlbumTracks(Mapping[str, list[SpotifyObject]]):
    """Every track of every requested album, as `{album_id: [simplified track, ...]}`.

    `endpoint` is `albums` when several albums were fetched per request (`/albums?ids=`) and
    `album_tracks` when one album per request (`/albums/{id}/tracks`); `missing` lists requested
    ids Spotify does not know (404, or null in a batch answer), which a check reports.
    """

    tracks: dict[str, list[SpotifyObject]]
    endpoint: TracksEndpoint
    missing: tuple[str, ...] = ()
    fallback_reason: str | None = None

    def __getitem__(self, album_id: str) -> list[SpotifyObject]:
        return self.tracks[album_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tracks)

    def __len__(self) -> int:
        return len(self.tracks)

    @classmethod
    def merged(cls, parts: Sequence[AlbumTracks]) -> AlbumTracks | None:
        """The results of several calls (one per market) as one, None for no call: all their
        tracks and missing ids, the endpoint of the last call (a refusal on the first call is
        remembered, so later calls use the endpoint it fell back to), the first fallback reason."""
        if not parts:
            return None
        return cls(
            {album_id: listing for part in parts for album_id, listing in part.items()},
            parts[-1].endpoint,
            tuple(album_id for part in parts for album_id in part.missing),
            next((part.fallback_reason for part in parts if part.fallback_reason), None),
        )
