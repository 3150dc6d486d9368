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


def today() -> date:
    """Today's date in UTC, the only day whose new releases Spotify can still serve."""
    return datetime.now(UTC).date()


def partition_day(context: AssetExecutionContext) -> date:
    """The day of the partition being materialized."""
    return date.fromisoformat(context.partition_key)
