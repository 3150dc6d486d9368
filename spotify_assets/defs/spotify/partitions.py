"""The daily snapshot partitions shared by both assets, and the daily times they keep."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dagster import AssetExecutionContext, DailyPartitionsDefinition

DAILY = DailyPartitionsDefinition(start_date="2026-11-01", timezone="UTC", end_offset=1)
"""One partition per UTC day; `end_offset=1` makes today's exist (the feed is live). Days on which
no run fetched the feed stay missing for good: Spotify keeps no history of it."""


SCHEDULE_HOUR_UTC = 6
DAILY_CRON = f"0 {SCHEDULE_HOUR_UTC} * * *"
"""When the daily schedule runs both assets for the day (UTC)."""
RUN_WINDOW = timedelta(hours=2)
"""How long a scheduled run may take: its dagster/max_runtime, and the freshness deadline after
the schedule's tick."""
FRESHNESS_DEADLINE_CRON = f"0 {SCHEDULE_HOUR_UTC + RUN_WINDOW.seconds // 3600} * * *"
"""By when each day's partition should be materialized: the schedule's tick plus RUN_WINDOW."""


def deadline_after(cron: str) -> str | None:
    """The cron RUN_WINDOW after a `cron` that ticks at one fixed time of day ('M H * * *', any
    days), by when that day's partition should be materialized; None for any other cron, or when
    the deadline would fall on the next day."""
    fields = cron.split()
    if len(fields) != 5 or not (fields[0].isdigit() and fields[1].isdigit()):
        return None
    minute, hour, *days = fields
    deadline = timedelta(hours=int(hour), minutes=int(minute)) + RUN_WINDOW
    if deadline >= timedelta(days=1):
        return None
    return " ".join([str(deadline.seconds // 60 % 60), str(deadline.seconds // 3600), *days])


def today() -> date:
    """Today's date in UTC, the only day whose new releases Spotify can still serve."""
    return datetime.now(UTC).date()


def partition_day(context: AssetExecutionContext) -> date:
    """The day of the partition being materialized."""
    return date.fromisoformat(context.partition_key)
