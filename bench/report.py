"""A bench run as the terminal table, the markdown for the README and the JSON of the results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import week_report
from bench.summary import Summary, WorkloadResult
from bench.targets import PROJECT, Check, megabytes, seconds, with_runs
from bench.week import Day

BASELINE = "seed"
COLUMNS = ("contender", "wall s", "vs seed", "requests", "over min", "429s", "bound s", "peak MB")


@dataclass(frozen=True)
class Bench:
    """A whole bench run: where and when it ran, every workload's results and the targets."""

    machine: str
    date: str
    repeat: int
    results: Mapping[str, WorkloadResult]
    checks: Sequence[Check]
    week: Sequence[Day] = ()
    """W7's days, empty when W7 did not run."""

    def header(self) -> list[str]:
        """Machine, date, and what the figures are."""
        return [
            f"Machine: {self.machine}. Run of {self.date}.",
            f"Wall s, requests and 429s are medians of {self.repeat} run(s), noted when the runs "
            "differ (cold = the first run, with an empty app memory); peak MB is the highest "
            "run's peak RSS. Under a rate limit spotify_assets has a row for its cold run and "
            "one for its warm runs (each starting from the pace the run before it remembered); "
            "bound s = floor((R - 1) / Q) x W, the least time R requests take under Q per "
            "rolling W seconds, R = requests the emulator accepted (sent minus 429s).",
        ]


def rows(result: WorkloadResult) -> list[tuple[str, Summary]]:
    """The table's rows of a workload: each contender, spotify_assets cold and warm apart where
    a rate limit makes it learn a pace."""
    found: list[tuple[str, Summary]] = []
    for contender, summary in result.contenders.items():
        warm = summary.warm
        if contender == PROJECT and result.workload.rate_limit is not None and warm is not None:
            found += [(f"{contender} cold", summary.cold), (f"{contender} warm", warm)]
        else:
            found.append((contender, summary))
    return found


def text_table(bench: Bench) -> str:
    """The table and the targets as printed on the terminal."""
    lines = [*bench.header(), ""]
    for name, result in bench.results.items():
        lines.append(f"{name}: {result.describe()}")
        table = [list(COLUMNS), *(_row(result, label, s) for label, s in rows(result))]
        completes = ["complete", *(_complete(s) for _, s in rows(result))]
        widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
        for row, complete in zip(table, completes, strict=True):
            cells = [
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  " + "  ".join([*cells, complete]))
        lines.append("")
    if bench.week:
        lines += [
            f"W7: {week_report.describe(bench.week)}",
            *_aligned(week_report.rows(bench.week)),
            "",
        ]
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
        for index, (label, summary) in enumerate(rows(result)):
            workload = f"{name}: {result.describe()}" if index == 0 else ""
            cells = [workload, *_row(result, label, summary), _complete(summary)]
            lines.append("| " + " | ".join(cells) + " |")
    if bench.week:
        lines += ["", f"W7: {week_report.describe(bench.week)}.", ""]
        lines += _markdown_table(list(week_report.COLUMNS), week_report.rows(bench.week))
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
        "notes": bench.header()[1],
        "workloads": {name: result.to_json() for name, result in bench.results.items()},
        **({"W7": week_report.to_json(bench.week)} if bench.week else {}),
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


def _row(result: WorkloadResult, label: str, summary: Summary) -> list[str]:
    """The cells of one row, in COLUMNS order (complete apart)."""
    baseline = result.contenders.get(BASELINE)
    speedup = "-"
    if baseline is not None and baseline.complete and baseline.wall_s and summary.wall_s:
        speedup = f"{baseline.wall_s / summary.wall_s:.1f}x"
    over = summary.requests - result.min_requests
    bound = result.bound_s(summary)
    whole = label in result.contenders  # not a cold or warm part: a lone first run is cold
    return [
        label,
        seconds(summary.wall_s, unit=""),
        speedup,
        with_runs(summary.requests, [run.requests for run in summary.runs], cold=whole),
        f"{over:+,}" if over else "0",
        with_runs(summary.http_429, [run.http_429 for run in summary.runs], cold=False),
        "-" if bound is None else f"{bound:g}",
        megabytes(summary.peak_rss_mb),
    ]


def _complete(summary: Summary) -> str:
    """yes, or no with how many runs were exact."""
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


def _aligned(cells: Sequence[Sequence[str]]) -> list[str]:
    """W7's table for the terminal: the header, then the rows, columns aligned."""
    table = [list(week_report.COLUMNS), *cells]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in table]


def _markdown_table(header: list[str], cells: Sequence[Sequence[str]]) -> list[str]:
    """A markdown table of `cells` under `header`, numbers right-aligned."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in cells),
    ]
