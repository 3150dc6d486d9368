"""The figures of a bench run: one contender on one workload over its runs, and a workload's.

Each workload's figures keep when, where and at which commit they were measured, so a bench run
of some workloads can keep the others' figures (read back with `from_json`) and judge them again.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.runs import Run
from bench.workloads import Workload

RUNS_NOTE = re.compile(r" \(\d+ of \d+ runs\)$")
"""What `Summary.errors` appends to an error: how many runs had it."""
BUSY_SHARE = 0.1  # other processes using more of the CPU than this skew the timings


@dataclass(frozen=True)
class Summary:
    """One contender on one workload over its repetitions (the first one is the cold run)."""

    runs: tuple[Run, ...]

    @property
    def wall_s(self) -> float | None:
        """Median wall seconds of the runs that measured one."""
        walls = [run.wall_s for run in self.runs if run.wall_s is not None]
        return statistics.median(walls) if walls else None

    @property
    def requests(self) -> int:
        """Median API requests (a value one run actually sent)."""
        return statistics.median_low(run.requests for run in self.runs)

    @property
    def accepted(self) -> int:
        """Median requests the emulator accepted (sent minus 429s)."""
        return statistics.median_low(run.accepted for run in self.runs)

    @property
    def http_429(self) -> int:
        """Median 429s received."""
        return statistics.median_low(run.http_429 for run in self.runs)

    @property
    def peak_rss_mb(self) -> float | None:
        """The highest peak RSS of any run."""
        peaks = [run.peak_rss_mb for run in self.runs if run.peak_rss_mb is not None]
        return max(peaks) if peaks else None

    @property
    def complete(self) -> bool:
        """Whether every run extracted exactly the emulator's catalog."""
        return all(run.complete for run in self.runs)

    @property
    def cold(self) -> Summary:
        """The first run alone: the one that started with an empty app memory."""
        return Summary(self.runs[:1])

    @property
    def warm(self) -> Summary | None:
        """The later runs, each started with what the run before it remembered; None if none."""
        return Summary(self.runs[1:]) if len(self.runs) > 1 else None

    @property
    def errors(self) -> list[str]:
        """The distinct errors of the runs, each with how many runs had it."""
        found = [run.error for run in self.runs if run.error is not None]
        return [
            f"{error} ({found.count(error)} of {len(self.runs)} runs)"
            for error in dict.fromkeys(found)
        ]

    def to_json(self) -> dict[str, Any]:
        """The issue's figures, then every run's figures and the errors."""
        return {
            "wall_s": rounded(self.wall_s, 3),
            "requests": self.requests,
            "http_429": self.http_429,
            "peak_rss_mb": rounded(self.peak_rss_mb, 1),
            "complete": self.complete,
            "wall_s_runs": [rounded(run.wall_s, 3) for run in self.runs],
            "requests_runs": [run.requests for run in self.runs],
            "http_429_runs": [run.http_429 for run in self.runs],
            "peak_rss_mb_runs": [rounded(run.peak_rss_mb, 1) for run in self.runs],
            "complete_runs": [run.complete for run in self.runs],
            "errors_runs": [run.error for run in self.runs],
            "errors": self.errors,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        """The runs `to_json` wrote; a file without `errors_runs` (older benches) gives each
        incomplete run its contender's first error."""
        count = len(data["requests_runs"])
        first_error = RUNS_NOTE.sub("", data["errors"][0]) if data["errors"] else "incomplete"
        errors = data.get("errors_runs") or [
            None if complete else first_error for complete in data["complete_runs"]
        ]
        return cls(
            tuple(
                Run(
                    wall_s=data["wall_s_runs"][index],
                    requests=data["requests_runs"][index],
                    http_429=data["http_429_runs"][index],
                    peak_rss_mb=data["peak_rss_mb_runs"][index],
                    complete=data["complete_runs"][index],
                    error=errors[index],
                )
                for index in range(count)
            )
        )


@dataclass(frozen=True)
class Measured:
    """When, where, at which commit and with how many repetitions figures were measured."""

    date: str
    commit: str
    machine: str
    repeat: int

    def describe(self) -> str:
        """`measured 2026-11-28T10:15:20+00:00 at commit 5d44f67, 3 repetitions`."""
        return f"measured {self.date} at commit {self.commit}, {self.repeat} repetition(s)"

    def to_json(self) -> dict[str, Any]:
        """The four fields as JSON data."""
        return {
            "date": self.date,
            "commit": self.commit,
            "machine": self.machine,
            "repetitions": self.repeat,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Measured:
        """The fields `to_json` wrote."""
        return cls(data["date"], data["commit"], data["machine"], int(data["repetitions"]))


@dataclass(frozen=True)
class WorkloadResult:
    """Every contender on one workload, with the fewest requests that workload allows."""

    workload: Workload
    min_requests: int
    contenders: Mapping[str, Summary]
    other_load: float | None
    """Share of the machine's CPU other processes used meanwhile (see machine.OtherLoad)."""
    measured: Measured
    arms: Mapping[str, Summary] = field(default_factory=dict)
    """More spotify_assets runs by name, beside its runs in `contenders` (W9: the next run on
    the memory a faulted run left, and the same workload without the fault)."""

    def describe(self) -> str:
        """The workload's line above its table: settings, min_requests, other load."""
        line = f"{self.workload.describe()}, min_requests {self.min_requests:,}"
        if self.other_load is not None:
            line += f", other processes used {self.other_load:.0%} of the CPU"
            if self.other_load > BUSY_SHARE:
                line += " (timings skewed)"
        return line

    def bound_s(self, summary: Summary) -> float | None:
        """The rolling window's bound on the median run of `summary`; None without a limit."""
        return self.workload.bound_s(summary.accepted)

    def to_json(self) -> dict[str, Any]:
        """When it was measured, settings, min_requests, other load and each contender's
        figures (bounds added), then the extra arms'."""
        data: dict[str, Any] = {
            "measured": self.measured.to_json(),
            "min_requests": self.min_requests,
            "emulator": self.workload.settings(),
            "other_load": rounded(self.other_load, 3),
        }
        for name, summary in self.contenders.items():
            data[name] = self._figures(summary)
        if self.arms:
            data["arms"] = {name: self._figures(summary) for name, summary in self.arms.items()}
        return data

    def _figures(self, summary: Summary) -> dict[str, Any]:
        """One summary's JSON, with the rolling window's bound of each run where there is one."""
        figures = summary.to_json()
        if self.workload.rate_limit is not None:
            figures["accepted_runs"] = [run.accepted for run in summary.runs]
            figures["bound_s_runs"] = [self.workload.bound_s(run.accepted) for run in summary.runs]
        return figures

    @classmethod
    def from_json(
        cls,
        workload: Workload,
        data: Mapping[str, Any],
        contenders: Sequence[str],
        fallback: Measured,
    ) -> WorkloadResult:
        """The figures `to_json` wrote, for `workload` as it is defined now; `fallback` says when
        they were measured where the file predates per-workload dates (the file's own date)."""
        measured = Measured.from_json(data["measured"]) if "measured" in data else fallback
        return cls(
            workload=workload,
            min_requests=int(data["min_requests"]),
            contenders={name: Summary.from_json(data[name]) for name in contenders if name in data},
            other_load=data["other_load"],
            measured=measured,
            arms={name: Summary.from_json(arm) for name, arm in data.get("arms", {}).items()},
        )


def rounded(value: float | None, digits: int) -> float | None:
    """`value` rounded for the JSON, None kept."""
    return None if value is None else round(value, digits)
