"""The two daily assets: the new-releases feed, and every track of its albums.

`spotify_assets` builds them (the component does, with the group, pool, freshness and table
format its YAML sets); `new_releases` and `album_tracks` are the two at their defaults, which
tests, the benchmark and the docs materialize directly.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    FreshnessPolicy,
    Output,
    PythonObjectDagsterType,
    asset,
)

from spotify_assets import settings
from spotify_assets.contract import names, rows
from spotify_assets.defs.io_manager import IO_MANAGER
from spotify_assets.defs.spotify import checks, metadata
from spotify_assets.defs.spotify.partitions import (
    DAILY,
    FRESHNESS_DEADLINE_CRON,
    RUN_WINDOW,
    partition_day,
    today,
)
from spotify_assets.defs.spotify.resources import SpotifyResource, explained_failures
from spotify_assets.defs.spotify.reuse import TrackReuse

GROUP = "spotify"
POOL = "spotify_api"
"""Concurrency pool of every step that calls Spotify, so runs don't stack up on its rate limit."""
KINDS = {"python"}
"""The kinds of both assets, besides their table format (parquet or iceberg)."""
OWNERS = ["team:data-engineering"]
TAGS = {"source": "spotify", "refresh": "daily"}
NEW_RELEASES_CODE_VERSION = "1"
ALBUM_TRACKS_CODE_VERSION = "1"
"""Bump an asset's version when a change to its code changes the rows it stores."""
FRAME = PythonObjectDagsterType(pd.DataFrame, name="PandasDataFrame")
"""The type of both outputs, a pandas frame with the dtypes of contract.schemas.to_frame."""


def freshness_policy(deadline_cron: str) -> FreshnessPolicy:
    """Each day materialized in the RUN_WINDOW before `deadline_cron` (UTC), the schedule's tick
    plus the time a run may take."""
    return FreshnessPolicy.cron(deadline_cron=deadline_cron, lower_bound_delta=RUN_WINDOW)


FRESHNESS = freshness_policy(FRESHNESS_DEADLINE_CRON)
"""The default schedule runs at 06:00 UTC: each day is expected materialized by 08:00."""


def fetch_new_releases(
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
    with explained_failures():
        feed = client.new_releases()
    frame = rows.new_releases_frame(feed, day, datetime.now(UTC))
    context.log.info(
        f"{len(frame)} albums from {feed.source} (Spotify reported {feed.total})"
        + (f"; fell back to search because {feed.fallback_reason}" if feed.fallback_reason else "")
    )
    results = checks.check_new_releases(frame, feed.total, feed.reachable, feed.shortfall)
    failed = checks.failed_blocking(results)
    if failed:
        context.log.error(
            f"Not publishing new_releases for {day}: blocking checks failed ({', '.join(failed)})"
        )
    else:
        yield Output(
            frame,
            metadata={
                **metadata.table(names.NEW_RELEASES, frame),
                names.API_TOTAL: feed.total,
                names.REACHABLE: feed.reachable,
                names.SHORTFALL: feed.shortfall,
                names.SOURCE: feed.source,
                names.FALLBACK_REASON: feed.fallback_reason or "",
                **metadata.requests_made(client.stats.since(before)),
            },
        )
    yield from results


def build_album_tracks(
    context: AssetExecutionContext,
    spotify: SpotifyResource,
    track_reuse: TrackReuse,
    new_releases: pd.DataFrame,
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """Every track of every album in the same day's new_releases, one row per track.

    Reads the stored new_releases partition, so any stored day can be backfilled. An album's
    tracks come from its most recent stored copy when that copy was fetched for the same market
    at most `track_reuse.max_age_days` days before (0: never) and has the album's total_tracks;
    the copies are read straight from the IO manager's storage (the same files, not a dependency
    of album_tracks on itself), never from a later day. The other albums are fetched: with
    /albums?ids= (20 albums a request) where the app may, /albums/{id}/tracks otherwise.
    """
    day = partition_day(context)
    client = spotify.get_client()
    before = client.stats
    album_ids = new_releases["album_id"].dropna().tolist()
    reuse = track_reuse.plan(day, new_releases, client.config.market)
    for path, error in reuse.unreadable.items():
        context.log.warning(
            f"Stored copy {path} is unreadable ({error}): its albums are fetched instead. "
            "Re-materialize that day of album_tracks, or delete the file."
        )
    tracks = None
    if reuse.to_fetch:
        with explained_failures():
            tracks = client.album_tracks(
                reuse.to_fetch, progress=lambda done: context.log.info(str(done))
            )
    fetched = rows.album_tracks_frame(tracks or {}, day, datetime.now(UTC))
    frame = reuse.complete(fetched, album_ids)
    spent = client.stats.since(before)
    context.log.info(
        f"{len(frame)} tracks of {len(album_ids)} albums: {reuse.albums_reused} reused "
        f"{reuse.reused_from}, {len(reuse.to_fetch)} fetched {reuse.fetch_reasons}"
        + (f" via {tracks.endpoint}" if tracks is not None else "")
        + (
            f"; Spotify does not know {len(tracks.missing)} albums"
            if tracks is not None and tracks.missing
            else ""
        )
    )
    yield Output(
        frame,
        metadata={
            **metadata.table(names.ALBUM_TRACKS, frame),
            names.ALBUMS_REQUESTED: len(album_ids),
            **reuse.metadata(new_releases, tracks, spent.api_requests, client.config.page_size),
            names.REUSE_MAX_AGE_DAYS: track_reuse.max_age_days,
            names.MARKET: client.config.market or "",
            **metadata.requests_made(spent),
        },
    )
    yield from checks.check_album_tracks(frame, new_releases)


def spotify_assets(
    group_name: str = GROUP,
    pool: str = POOL,
    freshness: FreshnessPolicy = FRESHNESS,
    table_format: settings.TableFormat = settings.DEFAULT_TABLE_FORMAT,
) -> list[AssetsDefinition]:
    """new_releases and album_tracks with their checks, in asset group `group_name`, their steps
    in concurrency pool `pool`, expected fresh as `freshness` says, tagged with the kind of
    `table_format` they are stored as (the UI shows it on each asset)."""
    daily = partial(
        asset,
        partitions_def=DAILY,
        io_manager_key=IO_MANAGER,
        group_name=group_name,
        kinds={*KINDS, table_format},
        owners=OWNERS,
        tags=TAGS,
        pool=pool,
        freshness_policy=freshness,
        dagster_type=FRAME,
    )
    return [
        daily(
            name=names.NEW_RELEASES,
            code_version=NEW_RELEASES_CODE_VERSION,
            metadata=metadata.definition(names.NEW_RELEASES),
            check_specs=checks.NEW_RELEASES_CHECKS,
            output_required=False,
        )(fetch_new_releases),
        daily(
            name=names.ALBUM_TRACKS,
            code_version=ALBUM_TRACKS_CODE_VERSION,
            metadata=metadata.definition(names.ALBUM_TRACKS),
            check_specs=checks.ALBUM_TRACKS_CHECKS,
        )(build_album_tracks),
    ]


new_releases, album_tracks = spotify_assets()
"""Both assets with the default group, pool and freshness."""
