"""What the client hands back: Spotify's objects as returned, plus how they were obtained."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from spotify_assets.spotify.errors import SpotifyError

SpotifyObject = dict[str, Any]
NewReleasesSource = Literal["browse", "search"]
TracksEndpoint = Literal["albums", "album_tracks"]


@dataclass(frozen=True)
class Duplicate:
    """An album Spotify listed more than once (the same way on every read, unless it is one of a
    feed's `repeated`): kept once (the first listing); `positions` are its places in Spotify's
    listing (1-based, as Spotify counted)."""

    album_id: str
    positions: tuple[int, ...]


@dataclass(frozen=True)
class NewReleases:
    """The new-releases feed: simplified album objects in feed order.

    `total` is what Spotify reported; `reachable` how many of those it lets a client page through
    (search stops at 1,000 while `tag:new` counts every album of two weeks), which is what a
    complete feed holds and a check compares with `len(albums)` (less the extra listings of
    `duplicates`, which Spotify's total counts). `unsent` counts the places Spotify answered
    null for: null entries in `items`, and every place of a page whose `items` was null
    (`null_pages`, their offsets). `fallback_reason` says why `auto` used search instead of
    browse, None when it did not. `market` is the country whose feed this is (search lists only
    albums available there), None for the feed without one. `repeated` are albums a search
    listing that never settled (duplicates that moved on every read) listed again: kept once;
    what belonged in the places they took, or came into the listing while it was read, is not
    in `albums`.
    """

    albums: list[SpotifyObject]
    total: int
    reachable: int
    source: NewReleasesSource
    fallback_reason: str | None = None
    duplicates: tuple[Duplicate, ...] = ()
    unsent: int = 0
    null_pages: tuple[int, ...] = ()
    market: str | None = None
    repeated: tuple[Duplicate, ...] = ()

    @property
    def extra_listings(self) -> int:
        """Listings of duplicated albums beyond their first: in Spotify's total, not in `albums`."""
        return sum(len(d.positions) - 1 for d in self.duplicates)

    @property
    def repeated_places(self) -> int:
        """Places that listed a `repeated` album again, in place of what belonged there."""
        return sum(len(d.positions) - 1 for d in self.repeated)

    @property
    def expected(self) -> int:
        """How many albums a complete feed holds: the reachable places, each album once."""
        return self.reachable - self.extra_listings

    @property
    def shortfall(self) -> int:
        """Albums search's listing lacked when it ran out before `reachable` (its last page empty
        or without `next`): search's total is an estimate, so this is what Spotify had (pages
        the client lost would have failed the read). Browse's total is exact: 0 there."""
        if self.source != "search":
            return 0
        return max(0, self.expected - self.unsent - self.repeated_places - len(self.albums))


UNKNOWN = "unknown to Spotify (404, or null in /albums?ids=, each time it was asked)"
NOT_ASKED = "not fetched: the run stopped before its turn"


@dataclass(frozen=True)
class AlbumTracks(Mapping[str, list[SpotifyObject]]):
    """Every track of every requested album Spotify gave, as `{album_id: [simplified track, ...]}`.

    `endpoint` is `albums` when several albums were fetched per request (`/albums?ids=`) and
    `album_tracks` when one album per request (`/albums/{id}/tracks`). `missing` lists the
    requested ids without tracks, in request order, and `reasons` says why for each: unknown to
    Spotify, unavailable (its retries ran out on an outage), or not fetched because the run
    stopped. `stopped` is the error that ended the fetch early (a ban, a refused app, a spent
    retry budget): what came before it is kept here, and SpotifyClient raises it unless asked to
    hand back the partial result.
    """

    tracks: dict[str, list[SpotifyObject]]
    endpoint: TracksEndpoint
    missing: tuple[str, ...] = ()
    fallback_reason: str | None = None
    reasons: Mapping[str, str] = field(default_factory=dict)
    stopped: SpotifyError | None = None

    def __getitem__(self, album_id: str) -> list[SpotifyObject]:
        return self.tracks[album_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tracks)

    def __len__(self) -> int:
        return len(self.tracks)

    @classmethod
    def merged(
        cls, parts: Sequence[AlbumTracks], unasked: Sequence[str] = ()
    ) -> AlbumTracks | None:
        """The results of several calls (one per market) as one, None for no call: all their
        tracks, missing ids and reasons, then `unasked` (albums of the markets no call was made
        for, after a stop) as NOT_ASKED; the endpoint of the last call (a refusal on the first
        call is remembered, so later calls use the endpoint it fell back to), the first fallback
        reason and the first stop."""
        if not parts:
            return None
        reasons = {
            **{album_id: why for part in parts for album_id, why in part.reasons.items()},
            **dict.fromkeys(unasked, NOT_ASKED),
        }
        return cls(
            {album_id: listing for part in parts for album_id, listing in part.items()},
            parts[-1].endpoint,
            (*(album_id for part in parts for album_id in part.missing), *unasked),
            next((part.fallback_reason for part in parts if part.fallback_reason), None),
            reasons,
            next((part.stopped for part in parts if part.stopped is not None), None),
        )
