"""Names users and tools see: assets, checks, metadata keys and preview columns, written once."""

from __future__ import annotations

from typing import Final

NEW_RELEASES: Final = "new_releases"
ALBUM_TRACKS: Final = "album_tracks"
ASSETS: Final = (NEW_RELEASES, ALBUM_TRACKS)

ROWS_MATCH_API_TOTAL: Final = "rows_match_api_total"
ALBUM_IDS_UNIQUE: Final = "album_ids_unique"
REQUIRED_FIELDS_PRESENT: Final = "required_fields_present"
TRACK_COUNTS_MATCH_TOTAL_TRACKS: Final = "track_counts_match_total_tracks"
EVERY_ALBUM_PRESENT: Final = "every_album_present"
NO_UNKNOWN_ALBUMS: Final = "no_tracks_of_unknown_albums"
TRACK_KEYS_UNIQUE: Final = "track_keys_unique"

PARTITION_ROW_COUNT: Final = "dagster/partition_row_count"
COLUMN_SCHEMA: Final = "dagster/column_schema"
PREVIEW: Final = "preview"
PATH: Final = "path"
TABLE_NAME: Final = "dagster/table_name"
"""Output metadata of the Iceberg format: `<namespace>.<table>`, as engines name the table."""
STORAGE_KIND: Final = "dagster/storage_kind"
URI: Final = "dagster/uri"
"""Output metadata of the Iceberg format: where the table's data and metadata files are."""
SNAPSHOT_ID: Final = "snapshot_id"
"""Output metadata of the Iceberg format: the snapshot that holds the materialized day."""
API_TOTAL: Final = "api_total"
REACHABLE: Final = "reachable"
SHORTFALL: Final = "shortfall"
EXPECTED: Final = "expected"
"""Albums a complete feed holds: its reachable places, each album once."""
EXTRA_LISTINGS: Final = "extra_listings"
"""Feed places that list an album again (in Spotify's total, kept once)."""
SOURCE: Final = "source"
FALLBACK_REASON: Final = "fallback_reason"
DUPLICATE_LISTINGS: Final = "duplicate_listings"
"""Albums Spotify listed more than once the same way on every read (kept once): id -> places."""
REPEATED_PLACES: Final = "repeated_places"
"""Feed places that listed an album again in another album's place, differently on each read
(a listing that did not settle): the album kept once, the one of the place not in the day."""
NULL_PLACES_SKIPPED: Final = "null_places_skipped"
"""Feed places Spotify answered null for (null entries, and the places of null pages)."""
NULL_PAGES: Final = "null_pages"
"""Offsets of the feed pages whose `items` was null."""
ALBUMS_REQUESTED: Final = "albums_requested"
ALBUMS_UNKNOWN: Final = "albums_unknown_to_spotify"
ALBUMS_MISSING: Final = "albums_missing"
"""Albums of the day the client got no tracks for, by why: {reason: [album ids]} (unknown to
Spotify, unavailable after its retries, not fetched because the run stopped)."""
STOPPED: Final = "stopped"
"""Why the fetch of album tracks ended early ("" when it did not): the run then fails."""
TRACKS_ENDPOINT: Final = "tracks_endpoint"
ALBUMS_FETCHED: Final = "albums_fetched"
ALBUMS_REUSED: Final = "albums_reused"
REQUESTS_SAVED: Final = "requests_saved"
"""What a full fetch of the day's albums would have cost minus the requests actually sent."""
REUSED_FROM: Final = "reused_from"
"""Albums reused per day of stored copy, e.g. {"2026-11-23": 880}."""
FETCH_REASONS: Final = "fetch_reasons"
"""Why the fetched albums were not reused: no_copy, stale_copy, track_count_differs, reuse_off."""
REUSE_MAX_AGE_DAYS: Final = "reuse_max_age_days"
MARKET: Final = "market"
"""The column of both assets naming the market of a row (null: no market configured)."""
MARKETS: Final = "markets"
"""Output metadata: the markets of the day, in the order their feeds were read."""
BY_MARKET: Final = "by_market"
"""Output and check metadata: the figures of each market, e.g. {"SE": {"rows": 812, ...}}."""
NO_MARKET: Final = "(no market)"
"""How metadata and messages name the one feed read without a market."""
PARQUET_MARKET: Final = b"spotify_assets.market"
"""Key-value metadata key of album_tracks files written before the market column: their market
("" = fetched without one). Track reuse still reads it from such files; new files have the
column instead."""
REQUESTS: Final = "requests"
TOKEN_REQUESTS: Final = "token_requests"
RETRIES: Final = "retries"
HTTP_429: Final = "http_429"
WAITED_S: Final = "waited_s"
TOKEN_REFRESHES: Final = "token_refreshes"
REQUEST_COUNTERS: Final = (REQUESTS, TOKEN_REQUESTS, RETRIES, HTTP_429, WAITED_S, TOKEN_REFRESHES)
"""What the client did for one materialization, one metadata entry each."""

PREVIEW_ROWS: Final = 10
PREVIEW_COLUMNS: Final = {
    NEW_RELEASES: (
        "market",
        "position",
        "album_id",
        "album_name",
        "album_type",
        "release_date",
        "total_tracks",
        "artist_names",
    ),
    ALBUM_TRACKS: (
        "market",
        "album_id",
        "disc_number",
        "track_number",
        "track_name",
        "duration_ms",
        "explicit",
        "artist_names",
    ),
}
"""The columns of each asset's preview in the UI."""
