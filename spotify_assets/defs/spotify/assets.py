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
from spotify_assets.defs.spotify import checks, markets, metadata
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
NEW_RELEASES_CODE_VERSION = "2"
ALBUM_TRACKS_CODE_VERSION = "2"
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
    """Spotify's new album releases of the day, one row per album of each market's feed, in
    feed order (without markets configured: one feed, market null).

    The feed is live: Spotify only serves today's, so only today's (UTC) partition can be fetched.
    Comes from /browse/new-releases, or from search (q=tag:new) where the app may not use browse;
    a market's feed from search with market=XX, which lists only the albums available there.
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
    feed_markets = spotify.feed_markets()
    client = spotify.get_client()
    before = client.stats
    with explained_failures():
        feeds = [client.new_releases(market) for market in feed_markets]
    frame = rows.new_releases_frame(feeds, day, datetime.now(UTC))
    for feed in feeds:
        of_market = f" for market {feed.market}" if feed.market else ""
        context.log.info(
            f"{len(feed.albums)} albums from {feed.source}{of_market} (Spotify reported "
            f"{feed.total})"
            + (
                f"; fell back to search because {feed.fallback_reason}"
                if feed.fallback_reason
                else ""
            )
        )
        if feed.duplicates:
            context.log.warning(
                f"Spotify listed {len(feed.duplicates)} albums more than once{of_market}, the "
                "same way on every read: each kept once (see duplicate_listings)"
            )
        if feed.repeated:
            context.log.warning(
                f"Spotify listed {len(feed.repeated)} albums again in other albums' places"
                f"{of_market}, differently on each read: each kept once; what belonged in those "
                f"{feed.repeated_places} places (or came into the feed while it was read) is not "
                "in the day (see repeated_places)"
            )
        if feed.unsent:
            context.log.warning(
                f"Spotify answered null for {feed.unsent} places of the feed{of_market} (null "
                f"entries, or pages whose items were null at offsets {list(feed.null_pages)}): "
                "skipped"
            )
    results = checks.check_new_releases(frame, feeds)
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
                **metadata.feeds(frame, feeds),
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

    Reads the stored new_releases partition, so any stored day can be backfilled. An album listed
    in several markets is there once, its tracks fetched for the first market that lists it (its
    `market` column). An album's tracks come from its most recent stored copy when that copy was
    fetched for the same market at most `track_reuse.max_age_days` days before (0: never) and
    has the album's total_tracks; the copies are read straight from the IO manager's storage
    (the same files, not a dependency of album_tracks on itself), never from a later day. The
    other albums are fetched, market by market: with /albums?ids= (20 albums a request) where
    the app may, /albums/{id}/tracks otherwise.

    Every album fetched is published. An album Spotify does not know, or whose retries ran out on
    an outage, is named with the reason in `albums_missing` and the non-blocking
    every_album_present check fails naming it. When Spotify stops the run (a day-long ban, a
    refused app, a spent retry budget), no further market is asked, what came before is
    published, the checks run, and the run then fails with the stop's message; a rerun of the
    day fetches only what is missing.
    """
    day = partition_day(context)
    client = spotify.get_client()
    before = client.stats
    market_of = markets.assigned_markets(new_releases)
    album_ids = list(market_of)
    reuse = track_reuse.plan(day, new_releases)
    for path, error in reuse.unreadable.items():
        context.log.warning(
            f"Stored copy {path} is unreadable ({error}): its albums are fetched instead. "
            "Re-materialize that day of album_tracks, or delete the file."
        )
    with explained_failures():
        tracks = markets.fetch_tracks(
            client, reuse.to_fetch, market_of, lambda done: context.log.info(str(done))
        )
    fetched = rows.album_tracks_frame(tracks or {}, day, datetime.now(UTC), market_of)
    frame = reuse.complete(fetched, album_ids)
    spent = client.stats.since(before)
    reasons = dict(tracks.reasons) if tracks is not None else {}
    context.log.info(
        f"{len(frame)} tracks of {len(album_ids)} albums: {reuse.albums_reused} reused "
        f"{reuse.reused_from}, {len(reuse.to_fetch)} fetched {reuse.fetch_reasons}"
        + (f" via {tracks.endpoint}" if tracks is not None else "")
        + (f"; {len(reasons)} albums without tracks (see albums_missing)" if reasons else "")
    )
    yield Output(
        frame,
        metadata={
            **metadata.table(names.ALBUM_TRACKS, frame),
            names.ALBUMS_REQUESTED: len(album_ids),
            **reuse.metadata(
                new_releases,
                tracks,
                spent.api_requests - spent.refused_probes,
                client.config.page_size,
            ),
            **metadata.tracks_missing(tracks),
            names.REUSE_MAX_AGE_DAYS: track_reuse.max_age_days,
            **metadata.track_markets(new_releases, frame, tracks or {}),
            **metadata.requests_made(spent),
        },
    )
    yield from checks.check_album_tracks(frame, new_releases, reasons)
    if tracks is not None and tracks.stopped is not None:
        # Published what came before the stop (the checks name the rest); the run still fails
        # with the stop's own words, and a rerun of the day reuses what is stored.
        with explained_failures():
            raise tracks.stopped


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
