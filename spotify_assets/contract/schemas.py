"""The data contract: explicit Arrow schemas of the two assets, and how pandas holds them.

Every Parquet file is written with exactly these schemas, so each day's file has the same columns
and types and a folder of them reads back as one table. Columns filled from Spotify are nullable
(the checks, not the writer, report a missing required field); the ones the pipeline sets are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from spotify_assets.contract import names

STRINGS = pa.list_(pa.string())
TIMESTAMP = pa.timestamp("us", tz="UTC")


def _field(name: str, type_: pa.DataType, description: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


MARKET_OF_FEED = "ISO country whose feed listed the album (SPOTIFY_MARKETS); null: no market"
MARKET_OF_TRACKS = (
    "ISO country the tracks were fetched for: the first market whose feed listed the album "
    "that day; null: no market"
)

NEW_RELEASES = pa.schema(
    [
        _field(
            "snapshot_date", pa.date32(), "UTC day of the snapshot (the partition)", nullable=False
        ),
        _field("market", pa.string(), MARKET_OF_FEED),
        _field(
            "position",
            pa.int32(),
            "1-based position of the album in its market's feed",
            nullable=False,
        ),
        _field("album_id", pa.string(), "Spotify album id; unique within a market's snapshot"),
        _field("album_name", pa.string(), "Album name (empty for a taken-down album)"),
        _field("album_type", pa.string(), "album, single or compilation"),
        _field("release_date", pa.string(), "As Spotify gives it: YYYY, YYYY-MM or YYYY-MM-DD"),
        _field("release_date_precision", pa.string(), "year, month or day"),
        _field("total_tracks", pa.int32(), "Number of tracks Spotify says the album has"),
        _field("artist_ids", STRINGS, "Ids of the album's artists, in Spotify's order"),
        _field("artist_names", STRINGS, "Names of the album's artists, in Spotify's order"),
        _field("image_url", pa.string(), "URL of the largest cover image; null without images"),
        _field("spotify_url", pa.string(), "open.spotify.com URL of the album"),
        _field("uri", pa.string(), "Spotify URI of the album"),
        _field("source", pa.string(), "Where the feed came from: browse or search", nullable=False),
        _field("fetched_at", TIMESTAMP, "When the feed was fetched (UTC)", nullable=False),
    ]
)

ALBUM_TRACKS = pa.schema(
    [
        _field(
            "snapshot_date", pa.date32(), "UTC day of the snapshot (the partition)", nullable=False
        ),
        _field("market", pa.string(), MARKET_OF_TRACKS),
        _field("album_id", pa.string(), "Album the track belongs to", nullable=False),
        _field("track_id", pa.string(), "Spotify track id"),
        _field("track_name", pa.string(), "Track name"),
        _field("disc_number", pa.int32(), "Disc of the track (1 unless multi-disc)"),
        _field("track_number", pa.int32(), "Number of the track on its disc"),
        _field("duration_ms", pa.int64(), "Track length in milliseconds"),
        _field("explicit", pa.bool_(), "Whether the track has explicit lyrics"),
        _field("is_local", pa.bool_(), "Whether the track is a local file"),
        _field("is_playable", pa.bool_(), "Playable in the row's market; null without a market"),
        _field("artist_ids", STRINGS, "Ids of the track's artists"),
        _field("artist_names", STRINGS, "Names of the track's artists"),
        _field("preview_url", pa.string(), "30 s preview URL; null for most tracks since 2024"),
        _field("spotify_url", pa.string(), "open.spotify.com URL of the track"),
        _field("uri", pa.string(), "Spotify URI of the track"),
        _field("fetched_at", TIMESTAMP, "When the tracks were fetched (UTC)", nullable=False),
    ]
)

SCHEMAS: Mapping[str, pa.Schema] = {
    names.NEW_RELEASES: NEW_RELEASES,
    names.ALBUM_TRACKS: ALBUM_TRACKS,
}
"""Each asset's schema, by asset name."""


def pandas_dtype(type_: pa.DataType) -> Any:
    """The pandas dtype for an Arrow type: pandas string dtype, nullable ints and bools, Arrow
    lists and dates (so lists stay lists and nulls stay null); None keeps pyarrow's default."""
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return pd.StringDtype("pyarrow")
    if pa.types.is_int32(type_):
        return pd.Int32Dtype()
    if pa.types.is_int64(type_):
        return pd.Int64Dtype()
    if pa.types.is_boolean(type_):
        return pd.BooleanDtype()
    if pa.types.is_list(type_) or pa.types.is_date(type_):
        return pd.ArrowDtype(type_)
    return None


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as a pandas frame with the dtypes of `pandas_dtype`."""
    frame: pd.DataFrame = table.to_pandas(types_mapper=pandas_dtype)
    return frame
