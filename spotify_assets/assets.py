"""The two daily assets: the new-releases feed, and every track of its albums."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    Failure,
    FreshnessPolicy,
    MetadataValue,
    Output,
    PythonObjectDagsterType,
    asset,
)

from spotify_assets import checks, records, schemas
from spotify_assets.partitions import DAILY, partition_day, today
from spotify_assets.resources import SpotifyResource
from spotify_assets.spotify import ClientStats

GROUP = "spotify"
POOL = "spotify_api"
"""Concurrency pool of every step that calls Spotify, so runs don't stack up on its rate limit."""
IO_MANAGER = "parquet_io_manager"
KINDS = {"python", "parquet"}
FRESHNESS = FreshnessPolicy.time_window(
    fail_window=timedelta(hours=30), warn_window=timedelta(hours=26)
)
"""Refreshed daily by the schedule: warn after 26 h without a materialization, fail after 30 h."""
FRAME = PythonObjectDagsterType(pd.DataFrame, name="PandasDataFrame")
"""The type of both outputs, a pandas frame with the dtypes of schemas.to_frame."""
NEW_RELEASES_COLUMNS = schemas.table_schema(schemas.NEW_RELEASES, "new_releases")
ALBUM_TRACKS_COLUMNS = schemas.table_schema(schemas.ALBUM_TRACKS, "album_tracks")
PREVIEW_ROWS = 10
NEW_RELEASES_PREVIEW = [
    "position",
    "album_id",
    "album_name",
    "album_type",
    "release_date",
    "total_tracks",
    "artist_names",
]
ALBUM_TRACKS_PREVIEW = [
    "album_id",
    "disc_number",
    "track_number",
    "track_name",
    "duration_ms",
    "explicit",
    "artist_names",
]


def _preview(frame: pd.DataFrame, columns: list[str]) -> MetadataValue[Any]:
    """The first rows as a markdown table for the UI."""
    return MetadataValue.md(frame[columns].head(PREVIEW_ROWS).to_markdown(index=False))


def _request_metadata(stats: ClientStats) -> dict[str, Any]:
    """What the client did for this asset, as metadata."""
    return {
        "requests": stats.api_requests,
        "token_requests": stats.token_requests,
        "retries": stats.retries,
        "http_429": stats.http_429,
        "waited_s": round(stats.waited_s, 3),
        "token_refreshes": stats.token_refreshes,
    }


@asset(
    partitions_def=DAILY,
    io_manager_key=IO_MANAGER,
    group_name=GROUP,
    kinds=KINDS,
    pool=POOL,
    freshness_policy=FRESHNESS,
    check_specs=checks.NEW_RELEASES_CHECKS,
    dagster_type=FRAME,
    output_required=False,
    metadata={"dagster/column_schema": NEW_RELEASES_COLUMNS},
)
def new_releases(
    context: AssetExecutionContext, spotify: SpotifyResource
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """Spotify's new album releases of the day, one row per album in feed order.

    The feed is live: Spotify only serves today's, so only today's (UTC) partition can be fetched.
    Comes from /browse/new-releases, or from search (q=tag:new) where the app may not use browse.
    The checks run before anything is stored: a day that fails a blocking check is not published
    (a file stored earlier for that day stays as it was), and album_tracks does not run.
    """
    day = partition_day(context)
    if day != today():
        raise Failure(
            description=(
                f"new_releases can only fetch today's partition ({today()} UTC), not {day}: "
                "Spotify serves the new-releases feed as it is now and keeps no history. "
                "Materialize today's partition; album_tracks can be backfilled for any day "
                "whose new_releases is stored."
            ),
            allow_retries=False,
        )
    client = spotify.get_client()
    before = client.stats
    feed = client.new_releases(source=spotify.new_releases_source)
    frame = records.new_releases_frame(feed, day, datetime.now(UTC))
    context.log.info(
        f"{len(frame)} albums from {feed.source} (Spotify reported {feed.total})"
        + (f"; fell back to search because {feed.fallback_reason}" if feed.fallback_reason else "")
    )
    results = checks.check_new_releases(frame, feed.total, feed.reachable)
    failed = checks.failed_blocking(results)
    if failed:
        context.log.error(
            f"Not publishing new_releases for {day}: blocking checks failed ({', '.join(failed)})"
        )
    else:
        yield Output(
            frame,
            metadata={
                "dagster/row_count": len(frame),
                "dagster/column_schema": NEW_RELEASES_COLUMNS,
                "preview": _preview(frame, NEW_RELEASES_PREVIEW),
                "api_total": feed.total,
                "reachable": feed.reachable,
                "source": feed.source,
                "fallback_reason": feed.fallback_reason or "",
                **_request_metadata(client.stats.since(before)),
            },
        )
    yield from results


@asset(
    partitions_def=DAILY,
    io_manager_key=IO_MANAGER,
    group_name=GROUP,
    kinds=KINDS,
    pool=POOL,
    freshness_policy=FRESHNESS,
    check_specs=checks.ALBUM_TRACKS_CHECKS,
    dagster_type=FRAME,
    metadata={"dagster/column_schema": ALBUM_TRACKS_COLUMNS},
)
def album_tracks(
    context: AssetExecutionContext, spotify: SpotifyResource, new_releases: pd.DataFrame
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """Every track of every album in the same day's new_releases, one row per track.

    Reads the stored new_releases partition, so any stored day can be backfilled. Uses
    /albums?ids= (20 albums a request) where the app may, /albums/{id}/tracks otherwise.
    """
    client = spotify.get_client()
    before = client.stats
    album_ids = new_releases["album_id"].dropna().tolist()
    tracks = client.album_tracks(album_ids)
    frame = records.album_tracks_frame(tracks, partition_day(context), datetime.now(UTC))
    context.log.info(
        f"{len(frame)} tracks of {len(tracks)} albums via {tracks.endpoint}"
        + (f"; Spotify does not know {len(tracks.missing)} albums" if tracks.missing else "")
    )
    yield Output(
        frame,
        metadata={
            "dagster/row_count": len(frame),
            "dagster/column_schema": ALBUM_TRACKS_COLUMNS,
            "preview": _preview(frame, ALBUM_TRACKS_PREVIEW),
            "albums_requested": len(album_ids),
            "albums_unknown_to_spotify": MetadataValue.json(list(tracks.missing)),
            "tracks_endpoint": tracks.endpoint,
            **_request_metadata(client.stats.since(before)),
        },
    )
    yield from checks.check_album_tracks(frame, new_releases)
