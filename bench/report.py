"""Results of a bench run: figures per contender, the issue's targets, and the table and JSON."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.runs import Run
from bench.workloads import Workload

PROJECT = "spotify_assets"
BASELINE = "seed"
SPEEDUP_OVER = {"seed": 10.0, "spotipy": 5.0}  # W1 and W2: at least this many times faster
EXACT_WORKLOADS = ("W1", "W2", "W4")  # spotify_assets sends exactly min_requests on these
PACE_SLACK = 1.3  # W3: wall time within 1.3 x requests / allowed rate
MAX_429_SHARE = 0.05  # W3: 429s under 5 % of requests
MAX_RSS_MB = 300.0  # W4: peak RSS
MAX_GROWTH = 12.0  # W4 time at most 12 x W4-100 time
BUSY_SHARE = 0.1  # other processes using more of the CPU than this skew the timings
COLUMNS = ("contender", "wall s", "vs seed", "requests", "over min", "429s", "peak RSS MB")


@dataclass(frozen=True)
class Summary:
    """One contender on one workload over its repetitions."""

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
            "wall_s": _rounded(self.wall_s, 3),
            "requests": self.requests,
            "http_429": self.http_429,
            "peak_rss_mb": _rounded(self.peak_rss_mb, 1),
            "complete": self.complete,
            "wall_s_runs": [_rounded(run.wall_s, 3) for run in self.runs],
            "requests_runs": [run.requests for run in self.runs],
            "http_429_runs": [run.http_429 for run in self.runs],
            "peak_rss_mb_runs": [_rounded(run.peak_rss_mb, 1) for run in self.runs],
            "complete_runs": [run.complete for run in self.runs],
            "errors": self.errors,
        }


@dataclass(frozen=True)
class WorkloadResult:
    """Every contender on one workload, with the fewest requests that workload allows."""

    workload: Workload
    min_requests: int
    contenders: Mapping[str, Summary]
    other_load: float | None
    """Share of the machine's CPU other processes used meanwhile (see machine.OtherLoad)."""

    def describe(self) -> str:
        """The workload's line above its table: settings, min_requests, other load."""
        line = f"{self.workload.describe()}, min_requests {self.min_requests:,}"
        if self.other_load is not None:
            line += f", other processes used {self.other_load:.0%} of the CPU"
            if self.other_load > BUSY_SHARE:
                line += " (timings skewed)"
        return line


@dataclass(frozen=True)
class Check:
    """One target of the issue, met or missed, with the figures that decide it."""

    target: str
    passed: bool
    detail: str

    def line(self) -> str:
        """`PASS target: detail`."""
        return f"{'PASS' if self.passed else 'MISS'}  {self.target}: {self.detail}"


@dataclass(frozen=True)
class Bench:
    """A whole bench run: where and when it ran, every workload's results and the targets."""

    machine: str
    date: str
    repeat: int
    results: Mapping[str, WorkloadResult]
    checks: Sequence[Check]

    def header(self) -> list[str]:
        """Machine, date, and what the figures are."""
        return [
            f"Machine: {self.machine}. Run of {self.date}.",
            f"Wall s, requests and 429s are medians of {self.repeat} run(s), noted when the runs "
            "differ (cold = the first run, with an empty capability cache); peak RSS is the "
            "highest run.",
        ]


def checks(results: Mapping[str, WorkloadResult]) -> list[Check]:
    """The issue's targets for spotify_assets, for the workloads that ran."""
    found: list[Check] = []
    if results:
        found.append(_complete_everywhere(results))
    for name in EXACT_WORKLOADS:
        if name in results:
            found.append(_exact_requests(results[name]))
    for name in ("W1", "W2"):
        if name in results:
            found += [
                _speedup(results[name], other, times) for other, times in SPEEDUP_OVER.items()
            ]
    if "W3" in results:
        found += _paced(results["W3"])
    if "W4" in results:
        found.append(_rss(results["W4"]))
        if "W4-100" in results:
            found.append(_growth(results["W4"], results["W4-100"]))
    return found


def _complete_everywhere(results: Mapping[str, WorkloadResult]) -> Check:
    """spotify_assets extracted exactly the catalog on every run of every workload."""
    missed = [
        f"{name}: {'; '.join(result.contenders[PROJECT].errors)}"
        for name, result in results.items()
        if not result.contenders[PROJECT].complete
    ]
    detail = "; ".join(missed) if missed else f"every run of {', '.join(results)} exact"
    return Check("spotify_assets complete and correct on every workload", not missed, detail)


def _exact_requests(result: WorkloadResult) -> Check:
    """spotify_assets sent exactly min_requests (median run)."""
    project = result.contenders[PROJECT]
    sent = _with_runs(project.requests, [run.requests for run in project.runs])
    return Check(
        f"{result.workload.name}: spotify_assets sends exactly min_requests",
        project.requests == result.min_requests,
        f"{sent} requests, min_requests {result.min_requests:,}",
    )


def _speedup(result: WorkloadResult, other: str, times: float) -> Check:
    """spotify_assets at least `times` faster than `other` (median wall times)."""
    mine, theirs = result.contenders[PROJECT].wall_s, result.contenders[other].wall_s
    target = f"{result.workload.name}: at least {times:g}x faster than {other}"
    if mine is None or theirs is None:
        return Check(target, False, "no wall time measured")
    ratio = theirs / mine
    detail = f"{other} {theirs:.2f} s / spotify_assets {mine:.2f} s = {ratio:.1f}x"
    return Check(target, ratio >= times, detail)


def _paced(result: WorkloadResult) -> list[Check]:
    """W3: wall time near requests / allowed rate, and few 429s."""
    project = result.contenders[PROJECT]
    rate = result.workload.allowed_rate
    assert rate is not None, "W3 is the rate-limited workload"
    bound = PACE_SLACK * project.requests / rate
    wall = project.wall_s
    pace = Check(
        f"{result.workload.name}: wall time within {PACE_SLACK:g}x of requests / allowed rate",
        wall is not None and wall <= bound,
        f"{_seconds(wall)} vs {PACE_SLACK:g} x {project.requests} / {rate:g} per s = {bound:.2f} s",
    )
    share = project.http_429 / project.requests if project.requests else 0.0
    waste = Check(
        f"{result.workload.name}: 429s under {MAX_429_SHARE:.0%} of requests",
        share < MAX_429_SHARE,
        f"{project.http_429} of {project.requests} requests = {share:.1%} "
        f"(runs: {'/'.join(str(run.http_429) for run in project.runs)})",
    )
    return [pace, waste]


def _rss(result: WorkloadResult) -> Check:
    """W4: peak RSS under the cap."""
    peak = result.contenders[PROJECT].peak_rss_mb
    return Check(
        f"{result.workload.name}: peak RSS under {MAX_RSS_MB:g} MB",
        peak is not None and peak < MAX_RSS_MB,
        f"{_megabytes(peak)} MB (highest of the runs)",
    )


def _growth(big: WorkloadResult, small: WorkloadResult) -> Check:
    """W4 time at most MAX_GROWTH x the W4-100 time: linear growth."""
    target = (
        f"{big.workload.name}: {big.workload.albums:,} albums in at most {MAX_GROWTH:g}x the time "
        f"of {small.workload.albums:,} ({small.workload.name})"
    )
    mine, base = big.contenders[PROJECT].wall_s, small.contenders[PROJECT].wall_s
    if mine is None or base is None:
        return Check(target, False, "no wall time measured")
    ratio = mine / base
    return Check(target, ratio <= MAX_GROWTH, f"{mine:.2f} s / {base:.2f} s = {ratio:.1f}x")


def text_table(bench: Bench) -> str:
    """The table and the targets as printed on the terminal."""
    lines = [*bench.header(), ""]
    for name, result in bench.results.items():
        lines.append(f"{name}: {result.describe()}")
        rows = [list(COLUMNS), *(_row(result, c) for c in result.contenders)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
        for row in rows:
            cells = [
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            complete = "complete" if row is rows[0] else _complete(result, row[0])
            lines.append("  " + "  ".join([*cells, complete]))
        lines.append("")
    notes = _errors(bench.results)
    if notes:
        lines += ["errors:", *(f"  {note}" for note in notes), ""]
    lines += ["targets:", *(f"  {check.line()}" for check in bench.checks)]
    return "\n".join(lines)


def markdown(bench: Bench) -> str:
    """The same as a markdown section, to paste into the README."""
    header = ["workload", *COLUMNS, "complete"]
    lines = [
        "  \n".join(bench.header()),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---", "---", *["---:"] * (len(COLUMNS) - 1), "---"]) + "|",
    ]
    for name, result in bench.results.items():
        for index, contender in enumerate(result.contenders):
            label = f"{name}: {result.describe()}" if index == 0 else ""
            cells = [label, *_row(result, contender), _complete(result, contender)]
            lines.append("| " + " | ".join(cells) + " |")
    notes = _errors(bench.results)
    if notes:
        lines += ["", "Errors:", "", *(f"- {note}" for note in notes)]
    lines += ["", "Targets:", "", *(f"- {check.line()}" for check in bench.checks)]
    return "\n".join(lines) + "\n"


def to_json(bench: Bench) -> dict[str, Any]:
    """The issue's JSON shape, with the emulator settings, per-run figures and targets added."""
    return {
        "machine": bench.machine,
        "date": bench.date,
        "repetitions": bench.repeat,
        "workloads": {
            name: {
                "min_requests": result.min_requests,
                "emulator": result.workload.settings(),
                "other_load": _rounded(result.other_load, 3),
                **{c: summary.to_json() for c, summary in result.contenders.items()},
            }
            for name, result in bench.results.items()
        },
        "targets": [
            {"target": check.target, "passed": check.passed, "detail": check.detail}
            for check in bench.checks
        ],
    }


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file, so no reader sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def _row(result: WorkloadResult, contender: str) -> list[str]:
    """The cells of one contender's row, in COLUMNS order (complete apart)."""
    summary = result.contenders[contender]
    baseline = result.contenders.get(BASELINE)
    speedup = "-"
    if baseline is not None and baseline.complete and baseline.wall_s and summary.wall_s:
        speedup = f"{baseline.wall_s / summary.wall_s:.1f}x"
    over = summary.requests - result.min_requests
    return [
        contender,
        _seconds(summary.wall_s, unit=""),
        speedup,
        _with_runs(summary.requests, [run.requests for run in summary.runs]),
        f"{over:+,}" if over else "0",
        _with_runs(summary.http_429, [run.http_429 for run in summary.runs], cold=False),
        _megabytes(summary.peak_rss_mb),
    ]


def _complete(result: WorkloadResult, contender: str) -> str:
    """yes, or no with how many runs were exact."""
    summary = result.contenders[contender]
    if summary.complete:
        return "yes"
    exact = sum(run.complete for run in summary.runs)
    return f"NO ({exact} of {len(summary.runs)} runs exact)"


def _errors(results: Mapping[str, WorkloadResult]) -> list[str]:
    """One note per contender and workload that had errors."""
    return [
        f"{name} {contender}: {error}"
        for name, result in results.items()
        for contender, summary in result.contenders.items()
        for error in summary.errors
    ]


def _with_runs(median: int, runs: Sequence[int], *, cold: bool = True) -> str:
    """The median, noting the runs when they differ: `110 (cold 111)` or `110 (111/110/112)`.

    `cold` names a lone different first run so; false for figures no cache can explain.
    """
    if len(set(runs)) <= 1:
        return f"{median:,}"
    if cold and len(set(runs[1:])) == 1:
        return f"{median:,} (cold {runs[0]:,})"
    return f"{median:,} ({'/'.join(f'{value:,}' for value in runs)})"


def _seconds(value: float | None, unit: str = " s") -> str:
    """Seconds with two decimals, `-` when not measured."""
    return "-" if value is None else f"{value:.2f}{unit}"


def _megabytes(value: float | None) -> str:
    """Megabytes with one decimal, `-` when not measured."""
    return "-" if value is None else f"{value:.1f}"


def _rounded(value: float | None, digits: int) -> float | None:
    """`value` rounded for the JSON, None kept."""
    return None if value is None else round(value, digits)
