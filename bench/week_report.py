"""W7's results: the table of requests per day with reuse and with reuse off, its targets, JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bench.summary import Measured
from bench.targets import Check
from bench.week import DAYS, FULL, REUSE, TRACK_CHANGES, TURNOVER, W7, Day, DayRun

MAX_SHARE = 0.25  # days 2 to 7: at most a quarter of what a full fetch of the day costs
COLUMNS = ("day", "date", "albums", "min_requests", FULL, REUSE, "share", "album_tracks")


@dataclass(frozen=True)
class Week:
    """W7's days and when they were measured: a section of the report (report.Section)."""

    days: tuple[Day, ...]
    measured: Measured

    @property
    def name(self) -> str:
        """W7."""
        return W7.name

    def describe(self) -> str:
        """W7's line above its table."""
        return describe(self.days)

    def columns(self) -> Sequence[str]:
        """The table's header."""
        return COLUMNS

    def rows(self) -> list[list[str]]:
        """A row per day."""
        return rows(self.days)

    def to_json(self) -> dict[str, Any]:
        """The week as JSON data."""
        return to_json(self)


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
    first = days[0]
    sent = first.runs[REUSE].requests
    found = [
        Check(
            "W7: day 1 sends exactly min_requests",
            sent == first.min_requests,
            f"{sent:,} requests, min_requests {first.min_requests:,}",
            (W7.name,),
        )
    ]
    found.append(later_share_check(W7.name, days))
    differing = [f"day {day.number}: {day.difference}" for day in days if day.difference]
    found.append(
        Check(
            "W7: every day's album_tracks equals a full fetch row by row (fetched_at aside)",
            not differing,
            "; ".join(differing) or f"all {len(days)} days",
            (W7.name,),
        )
    )
    found.append(runs_check(W7.name, days))
    return found


def later_share_check(name: str, days: Sequence[Day]) -> Check:
    """Days 2 to 7 each send at most MAX_SHARE of what the full fetch of the day sent."""
    later = days[1:]
    shares = ", ".join(f"day {day.number} {share(day):.1%}" for day in later)
    return Check(
        f"{name}: days 2 to {len(days)} each send at most {MAX_SHARE:.0%} of a full fetch",
        bool(later) and all(share(day) <= MAX_SHARE for day in later),
        shares or "no day after day 1 ran",
        (name,),
    )


def runs_check(name: str, days: Sequence[Day]) -> Check:
    """Every arm's run of every day succeeded and passed every asset check."""
    failed = [
        f"day {day.number} {arm}: {run.error or ', '.join(run.failed_checks)}"
        for day in days
        for arm, run in day.runs.items()
        if run.error or run.failed_checks
    ]
    return Check(
        f"{name}: every run succeeded, every asset check passed",
        not failed,
        "; ".join(failed) or f"{sum(len(day.runs) for day in days)} runs",
        (name,),
    )


def to_json(week: Week) -> dict[str, Any]:
    """The week as plain JSON data: when measured, settings, then each day's figures per arm."""
    return {
        "measured": week.measured.to_json(),
        "emulator": settings(),
        "days": [day_json(day) for day in week.days],
    }


def settings() -> dict[str, Any]:
    """W7's emulator settings, for the JSON report."""
    return {**W7.settings(), "feed_turnover": TURNOVER, "feed_track_changes": TRACK_CHANGES}


def day_json(day: Day) -> dict[str, Any]:
    """One day's figures per arm, as JSON data (what `day_from_json` reads back)."""
    return {
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


def from_json(data: Mapping[str, Any], fallback: Measured) -> Week:
    """The week `to_json` wrote; `fallback` dates a file that predates per-workload dates."""
    measured = Measured.from_json(data["measured"]) if "measured" in data else fallback
    return Week(tuple(day_from_json(day) for day in data["days"]), measured)


def day_from_json(data: Mapping[str, Any]) -> Day:
    """One day `day_json` wrote."""
    return Day(
        number=int(data["day"]),
        date=date.fromisoformat(data["date"]),
        albums=int(data["albums"]),
        min_requests=int(data["min_requests"]),
        runs={
            arm: DayRun(
                requests=int(data[arm]["requests"]),
                wall_s=float(data[arm]["wall_s"]),
                error=data[arm]["error"],
                failed_checks=tuple(data[arm]["failed_checks"]),
            )
            for arm in (FULL, REUSE)
        },
        difference=data["difference"],
    )


def _requests(day: Day, arm: str) -> str:
    """An arm's requests that day, marked when its run failed."""
    run = day.runs[arm]
    return f"{run.requests:,}" + (" (failed)" if run.error else "")
