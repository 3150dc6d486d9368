"""The daily job over both assets (and their checks) and the schedule that runs it."""

from dagster import (
    AssetSelection,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from spotify_assets.assets import album_tracks, new_releases

DAILY_JOB_NAME = "spotify_daily"

spotify_daily = define_asset_job(
    DAILY_JOB_NAME,
    selection=AssetSelection.assets(new_releases, album_tracks),
    description="Today's new releases and every track of their albums, with their checks.",
)


@schedule(
    job=spotify_daily,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    description="Every day at 06:00 UTC, that day's partition of both assets.",
)
def spotify_daily_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """The partition of the tick's own UTC day: new_releases can only be fetched on its day."""
    day = context.scheduled_execution_time.date().isoformat()
    return RunRequest(run_key=day, partition_key=day)
