"""How an asset and its materializations describe themselves in the UI: column schema, a
partition's row count and preview, request counters, and what Spotify did not send (duplicates,
null places, albums without tracks)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableSchema

from spotify_assets.contract import names, schemas
from spotify_assets.spotify import AlbumTracks, ClientStats, NewReleases
from spotify_assets.spotify.results import UNKNOWN


def column_schema(asset: str) -> TableSchema:
    """The asset's Arrow schema as Dagster column metadata (dagster/column_schema)."""
    schema: pa.Schema = schemas.SCHEMAS[asset]
    unique = schemas.UNIQUE_COLUMNS.get(asset, frozenset())
    return TableSchema(
        columns=[
            TableColumn(
                name=field.name,
                type=str(field.type),
                description=(field.metadata or {}).get(b"description", b"").decode(),
                constraints=TableColumnConstraints(
                    nullable=field.nullable, unique=field.name in unique
                ),
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


def feed_oddities(feed: NewReleases) -> dict[str, Any]:
    """What Spotify sent besides albums: duplicates kept once (id -> places), null places."""
    return {
        names.DUPLICATE_LISTINGS: MetadataValue.json(
            {d.album_id: list(d.positions) for d in feed.duplicates}
        ),
        names.NULL_PLACES_SKIPPED: feed.unsent,
        names.NULL_PAGES: MetadataValue.json(list(feed.null_pages)),
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
