"""Markets of a day: which market an album's tracks are fetched for, and the figures per market.

A day's new_releases holds one feed per market, in the order the markets were configured when
the feed was read. An album listed in several markets has its tracks fetched once, for the first
of them that lists it; album_tracks reads that order from the stored partition, so a backfill
assigns every album as the day's own run did, whatever the markets configured since. The
tracks are fetched market by market, and a market that comes back stopped (a ban, a refused app,
a spent retry budget) is the last one asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from spotify_assets.contract.names import (
    API_TOTAL,
    EXPECTED,
    EXTRA_LISTINGS,
    MARKET,
    NO_MARKET,
    NULL_PLACES_SKIPPED,
    REACHABLE,
    REPEATED_PLACES,
    SHORTFALL,
)
from spotify_assets.spotify import AlbumTracks, NewReleases, SpotifyClient
from spotify_assets.spotify.stats import Report


def label(market: str | None) -> str:
    """How metadata and messages name a market: its code, or NO_MARKET for none."""
    return market or NO_MARKET


def market_labels(frame: pd.DataFrame) -> pd.Series:
    """Each row's market as `label` names it (a partition stored before the market column
    reads back with null markets, so it is NO_MARKET throughout)."""
    labels: pd.Series = frame[MARKET].astype("string").fillna(NO_MARKET)
    return labels


def assigned_markets(releases: pd.DataFrame) -> dict[str, str | None]:
    """Each album of a `new_releases` frame -> the first market (in the frame's order, which
    is the feeds') that lists it; None for the feed without a market."""
    known = releases.dropna(subset=["album_id"]).drop_duplicates("album_id")
    return {
        str(album_id): None if pd.isna(market) else str(market)
        for album_id, market in zip(known["album_id"], known[MARKET], strict=True)
    }


def grouped(
    album_ids: Iterable[str], market_of: Mapping[str, str | None]
) -> dict[str | None, list[str]]:
    """`album_ids` per the market they are assigned, markets in order of first appearance."""
    groups: dict[str | None, list[str]] = {}
    for album_id in album_ids:
        groups.setdefault(market_of[album_id], []).append(album_id)
    return groups


def albums_by_market(albums: pd.Series, markets: pd.Series, most: int) -> dict[str, list[str]]:
    """The albums of `albums` per market of `markets` (aligned on the index), markets in order
    of appearance, sorted and at most `most` of each."""
    grouped_albums: dict[str, list[str]] = {}
    for market, album in zip(markets[albums.index], albums, strict=True):
        grouped_albums.setdefault(str(market), []).append(str(album))
    return {m: sorted(set(listed))[:most] for m, listed in grouped_albums.items()}


def feed_figures(releases: pd.DataFrame, feeds: Sequence[NewReleases]) -> dict[str, dict[str, int]]:
    """Per market (by `label`, in feed order): rows stored, the total Spotify reported, the
    part of it reachable, the albums a complete feed holds (reachable places, each album once),
    the shortfall of a listing that ran out early, the extra listings of albums it listed twice,
    the places it filled with an album listed elsewhere and the places it answered null for."""
    markets = market_labels(releases)
    return {
        label(feed.market): {
            "rows": int((markets == label(feed.market)).sum()),
            API_TOTAL: feed.total,
            REACHABLE: feed.reachable,
            EXPECTED: feed.expected,
            SHORTFALL: feed.shortfall,
            EXTRA_LISTINGS: feed.extra_listings,
            REPEATED_PLACES: feed.repeated_places,
            NULL_PLACES_SKIPPED: feed.unsent,
        }
        for feed in feeds
    }


def fetch_tracks(
    client: SpotifyClient,
    album_ids: Iterable[str],
    market_of: Mapping[str, str | None],
    progress: Report,
) -> AlbumTracks | None:
    """The tracks of `album_ids` as one result (None for no album), one call per market, each
    album for the market it is assigned. A call that comes back stopped is the last: Spotify
    stopped the run, so no later market is asked and its albums are named as not fetched."""
    groups = list(grouped(album_ids, market_of).items())
    parts: list[AlbumTracks] = []
    for index, (market, ids) in enumerate(groups):
        part = client.album_tracks(ids, market=market, progress=progress, keep_on_stop=True)
        parts.append(part)
        if part.stopped is not None:
            unasked = [album_id for _, rest in groups[index + 1 :] for album_id in rest]
            return AlbumTracks.merged(parts, unasked)
    return AlbumTracks.merged(parts)


def track_figures(
    releases: pd.DataFrame, tracks: pd.DataFrame, fetched: Iterable[str]
) -> dict[str, dict[str, int]]:
    """Per market of the day (by `label`): albums its feed listed, albums whose tracks are
    stored for it (each album counts for one market), of which fetched today, and their
    tracks."""
    feed_markets = market_labels(releases)
    assigned = pd.Series(
        {a: label(m) for a, m in assigned_markets(releases).items()}, dtype="string"
    )
    fetched_markets = assigned[assigned.index.isin(list(fetched))]
    track_markets = market_labels(tracks)
    return {
        market: {
            "listed": int(releases.loc[feed_markets == market, "album_id"].nunique()),
            "albums": int(tracks.loc[track_markets == market, "album_id"].nunique()),
            "fetched": int((fetched_markets == market).sum()),
            "tracks": int((track_markets == market).sum()),
        }
        for market in dict.fromkeys(feed_markets)
    }
