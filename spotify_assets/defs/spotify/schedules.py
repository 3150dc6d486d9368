"""The daily job over both assets (and their checks) and the schedule that runs it."""

from dagster import (
    AssetSelection,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from spotify_assets.contract import names
from spotify_assets.defs.spotify.partitions import DAILY_CRON, RUN_WINDOW, today

DAILY_JOB_NAME = "spotify_daily"

spotify_daily = define_asset_job(
    DAILY_JOB_NAME,
    # By key, not by the asset objects: importing those here would make the defs folder hold
    # each asset twice, once per module.
    selection=AssetSelection.assets(*names.ASSETS),
    description="Today's new releases and every track of their albums, with their checks.",
    # A run stuck behind a long Retry-After or a dripping connection must not hold the
    # spotify_api pool forever (enforced by the daemon's run monitoring: see dagster.yaml).
    tags={"dagster/max_runtime": int(RUN_WINDOW.total_seconds())},
)


@schedule(
    job=spotify_daily,
    cron_schedule=DAILY_CRON,
    execution_timezone="UTC",
    description="Every day at 06:00 UTC, that day's partition of both assets.",
)
def spotify_daily_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    """The partition of the tick's own UTC day, which new_releases can only fetch on that day; a
    tick evaluated late (the daemon catching up after downtime) is skipped for that reason."""
    day = context.scheduled_execution_time.date()
    if day != today():
        return SkipReason(f"The {day} tick came on {today()}: that day's feed is gone")
    return RunRequest(run_key=day.isoformat(), partition_key=day.isoformat())
