"""The daily job over both assets (and their checks) and the schedule that runs it."""

from dagster import (
    AssetSelection,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    in_process_executor,
    schedule,
)

from spotify_assets.contract import names
from spotify_assets.defs.spotify.partitions import DAILY_CRON, RUN_WINDOW, today

DAILY_JOB_NAME = "spotify_daily"
DAILY_SCHEDULE_NAME = "spotify_daily_schedule"


def todays_partition(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    """The partition of the tick's own UTC day, which new_releases can only fetch on that day; a
    tick evaluated late (the daemon catching up after downtime) is skipped for that reason."""
    day = context.scheduled_execution_time.date()
    if day != today():
        return SkipReason(f"The {day} tick came on {today()}: that day's feed is gone")
    return RunRequest(
        run_key=context.scheduled_execution_time.isoformat(), partition_key=day.isoformat()
    )


def spotify_daily(cron: str = DAILY_CRON) -> ScheduleDefinition:
    """The schedule that runs the job over both assets at `cron` (UTC) for the day; the code
    location gets the job through it."""
    job = define_asset_job(
        DAILY_JOB_NAME,
        # By key, not by the asset objects: the job selects whatever assets the code location
        # builds under these keys (in any group).
        selection=AssetSelection.assets(*names.ASSETS),
        description="Today's new releases and every track of their albums, with their checks.",
        # Both steps share the run's Spotify client (what it learned about the app's access and
        # the rate limit), and the client parallelizes requests itself.
        executor_def=in_process_executor,
        # A run stuck behind a long Retry-After or a dripping connection must not hold the
        # spotify_api pool forever (enforced by the daemon's run monitoring: see dagster.yaml).
        tags={"dagster/max_runtime": int(RUN_WINDOW.total_seconds())},
    )
    return schedule(
        name=DAILY_SCHEDULE_NAME,
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        description=f"At cron {cron!r} (UTC), that day's partition of both assets.",
    )(todays_partition)
