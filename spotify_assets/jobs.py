"""The daily job over both assets (and their checks) and the schedule that runs it."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from spotify_assets.assets import album_tracks, new_releases

DAILY_JOB_NAME = "spotify_daily"

spotify_daily = define_asset_job(
    DAILY_JOB_NAME,
    selection=AssetSelection.assets(new_releases, album_tracks),
    description="Today's new releases and every track of their albums, with their checks.",
)

spotify_daily_schedule = build_schedule_from_partitioned_job(
    spotify_daily,
    name="spotify_daily_schedule",
    hour_of_day=6,
    minute_of_hour=0,
    description="Every day at 06:00 UTC, today's partition of both assets.",
)
"""Runs today's partition: the partitions end one day ahead (end_offset=1), so the last one is
today's, and new_releases can only be fetched on its own day."""
