"""The daily snapshot partitions shared by both assets."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dagster import AssetExecutionContext, DailyPartitionsDefinition

DAILY = DailyPartitionsDefinition(start_date="2026-11-01", timezone="UTC", end_offset=1)
"""One partition per UTC day; `end_offset=1` makes today's exist (the feed is live). Days on which
no run fetched the feed stay missing for good: Spotify keeps no history of it."""


def today() -> date:
    """Today's date in UTC, the only day whose new releases Spotify can still serve."""
    return datetime.now(UTC).date()


def partition_day(context: AssetExecutionContext) -> date:
    """The day of the partition being materialized."""
    return date.fromisoformat(context.partition_key)
