"""How an asset and its materializations describe themselves in the UI: column schema, a
partition's row count and preview, request counters, and what Spotify did not send (duplicates,
null places, albums without tracks)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableSchema

from spotify_assets.contract import names, schemas
from spotify_assets.defs.spotify.markets import feed_figures, label, track_figures
from spotify_assets.spotify import AlbumTracks, ClientStats, NewReleases
from spotify_assets.spotify.results import UNKNOWN


def column_schema(asset: str) -> TableSchema:
    """The asset's Arrow schema as Dagster column metadata (dagster/column_schema); no column
    is unique alone (album_id of new_releases is unique within a market)."""
    schema: pa.Schema = schemas.SCHEMAS[asset]
    return TableSchema(
        columns=[
            TableColumn(
                name=field.name,
                type=str(field.type),
                description=(field.metadata or {}).get(b"description", b"").decode(),
                constraints=TableColumnConstraints(nullable=field.nullable),
            )
            for field in schema
        ]
    )


def definition(asset: str) -> dict[str, Any]:
    """What the asset's definition says of every partition: its column schema."""
    return {names.COLUMN_SCHEMA: column_schema(asset)}


def table(asset: str, frame: pd.DataFrame) -> dict[str, Any]:
    """The partition's row count (a day's rows, not the whole table's: dagster/row_count would
    claim the latter) and a markdown preview of its first rows."""
    preview = frame[list(names.PREVIEW_COLUMNS[asset])].head(names.PREVIEW_ROWS)
    return {
        names.PARTITION_ROW_COUNT: len(frame),
        names.PREVIEW: MetadataValue.md(preview.to_markdown(index=False)),
    }


def feeds(releases: pd.DataFrame, read: Sequence[NewReleases]) -> dict[str, Any]:
    """The feeds of the day: the whole's total, reachable part, shortfall, source and fallback
    reason (summed over the markets), what Spotify sent besides albums (feed_oddities), the
    markets in order, and the figures of each market."""
    return {
        names.API_TOTAL: sum(feed.total for feed in read),
        names.REACHABLE: sum(feed.reachable for feed in read),
        names.SHORTFALL: sum(feed.shortfall for feed in read),
        names.SOURCE: ",".join(dict.fromkeys(feed.source for feed in read)),
        names.FALLBACK_REASON: next((f.fallback_reason for f in read if f.fallback_reason), ""),
        **feed_oddities(read),
        names.MARKETS: MetadataValue.json([label(feed.market) for feed in read]),
        names.BY_MARKET: MetadataValue.json(feed_figures(releases, read)),
    }


def track_markets(
    releases: pd.DataFrame, tracks: pd.DataFrame, fetched: Iterable[str]
) -> dict[str, Any]:
    """The markets of the day's albums, in order, and per market: albums listed, albums whose
    tracks are stored for it, of which fetched today, and their tracks."""
    figures = track_figures(releases, tracks, fetched)
    return {
        names.MARKETS: MetadataValue.json(list(figures)),
        names.BY_MARKET: MetadataValue.json(figures),
    }


def requests_made(stats: ClientStats) -> dict[str, Any]:
    """What the client did for this asset: requests, retries, 429s, waits, token refreshes."""
    return {
        names.REQUESTS: stats.api_requests,
        names.TOKEN_REQUESTS: stats.token_requests,
        names.RETRIES: stats.retries,
        names.HTTP_429: stats.http_429,
        names.WAITED_S: round(stats.waited_s, 3),
        names.TOKEN_REFRESHES: stats.token_refreshes,
    }


def feed_oddities(read: Sequence[NewReleases]) -> dict[str, Any]:
    """What Spotify sent besides albums, over the day's feeds: duplicates kept once (id ->
    places, in the first feed listing it twice), places that repeated an album in another's
    place and null places (summed), and the offsets of null pages; by_market counts each
    market's own."""
    duplicates: dict[str, list[int]] = {}
    for feed in read:
        for duplicate in feed.duplicates:
            duplicates.setdefault(duplicate.album_id, list(duplicate.positions))
    return {
        names.DUPLICATE_LISTINGS: MetadataValue.json(duplicates),
        names.REPEATED_PLACES: sum(feed.repeated_places for feed in read),
        names.NULL_PLACES_SKIPPED: sum(feed.unsent for feed in read),
        names.NULL_PAGES: MetadataValue.json(
            list(dict.fromkeys(offset for feed in read for offset in feed.null_pages))
        ),
    }


def tracks_missing(tracks: AlbumTracks | None) -> dict[str, Any]:
    """The albums the client could not get tracks for, grouped by why, and why it stopped
    early."""
    reasons = dict(tracks.reasons) if tracks is not None else {}
    by_reason: dict[str, list[str]] = {}
    for album_id, reason in reasons.items():
        by_reason.setdefault(reason, []).append(album_id)
    return {
        names.ALBUMS_MISSING: MetadataValue.json(by_reason),
        names.ALBUMS_UNKNOWN: MetadataValue.json([a for a, r in reasons.items() if r == UNKNOWN]),
        names.STOPPED: str(tracks.stopped) if tracks is not None and tracks.stopped else "",
    }
