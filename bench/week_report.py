"""W7's results: the table of requests per day with reuse and with reuse off, its targets, JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.targets import Check
from bench.week import DAYS, FULL, REUSE, TRACK_CHANGES, TURNOVER, W7, Day

MAX_SHARE = 0.25  # days 2 to 7: at most a quarter of what a full fetch of the day costs
COLUMNS = ("day", "date", "albums", "min_requests", FULL, REUSE, "share", "album_tracks")


def describe(days: Sequence[Day]) -> str:
    """W7's line above its table."""
    return (
        f"{W7.mode} mode, {W7.albums:,} albums, {W7.latency_ms:g} ms latency, {TURNOVER:.0%} new "
        f"albums and {TRACK_CHANGES} track change a day, {len(days)} days (of {DAYS}); the assets "
        "materialized each day with track reuse and with reuse off (a full fetch), each arm in "
        "its own data folder, its app memory warmed before day 1; requests counted by the emulator"
    )


def rows(days: Sequence[Day]) -> list[list[str]]:
    """One row of cells per day, in COLUMNS order."""
    return [
        [
            str(day.number),
            day.date.isoformat(),
            f"{day.albums:,}",
            f"{day.min_requests:,}",
            _requests(day, FULL),
            _requests(day, REUSE),
            f"{share(day):.0%}",
            "same rows" if day.difference is None else f"DIFFERS: {day.difference}",
        ]
        for day in days
    ]


def share(day: Day) -> float:
    """What reuse sent that day, as a share of what the full fetch sent."""
    full = day.runs[FULL].requests
    return day.runs[REUSE].requests / full if full else 0.0


def checks(days: Sequence[Day]) -> list[Check]:
    """Issue 10's targets: day 1 at min_requests, later days at most 25 %, rows equal, runs ok."""
    first, later = days[0], days[1:]
    sent = first.runs[REUSE].requests
    found = [
        Check(
            "W7: day 1 sends exactly min_requests",
            sent == first.min_requests,
            f"{sent:,} requests, min_requests {first.min_requests:,}",
        )
    ]
    shares = ", ".join(f"day {day.number} {share(day):.1%}" for day in later)
    found.append(
        Check(
            f"W7: days 2 to {len(days)} each send at most {MAX_SHARE:.0%} of a full fetch",
            bool(later) and all(share(day) <= MAX_SHARE for day in later),
            shares or "no day after day 1 ran",
        )
    )
    differing = [f"day {day.number}: {day.difference}" for day in days if day.difference]
    found.append(
        Check(
            "W7: every day's album_tracks equals a full fetch row by row (fetched_at aside)",
            not differing,
            "; ".join(differing) or f"all {len(days)} days",
        )
    )
    failed = [
        f"day {day.number} {arm}: {run.error or ', '.join(run.failed_checks)}"
        for day in days
        for arm, run in day.runs.items()
        if run.error or run.failed_checks
    ]
    found.append(
        Check(
            "W7: every run succeeded, every asset check passed",
            not failed,
            "; ".join(failed) or f"{len(days) * len(days[0].runs)} runs",
        )
    )
    return found


def to_json(days: Sequence[Day]) -> dict[str, Any]:
    """The week as plain JSON data: settings, then each day's figures per arm."""
    return {
        "emulator": {
            **W7.settings(),
            "feed_turnover": TURNOVER,
            "feed_track_changes": TRACK_CHANGES,
        },
        "days": [
            {
                "day": day.number,
                "date": day.date.isoformat(),
                "albums": day.albums,
                "min_requests": day.min_requests,
                **{
                    arm: {
                        "requests": run.requests,
                        "wall_s": round(run.wall_s, 3),
                        "error": run.error,
                        "failed_checks": list(run.failed_checks),
                    }
                    for arm, run in day.runs.items()
                },
                "share": round(share(day), 4),
                "same_rows": day.difference is None,
                "difference": day.difference,
            }
            for day in days
        ],
    }


def _requests(day: Day, arm: str) -> str:
    """An arm's requests that day, marked when its run failed."""
    run = day.runs[arm]
    return f"{run.requests:,}" + (" (failed)" if run.error else "")
