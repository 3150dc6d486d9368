"""A bench run as the terminal table, the markdown for the README and the JSON of the results.

A run of some workloads shows the others' stored figures beside its own: every workload's title
and every target whose figures are not from this run say so, with the date and commit they are
from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.summary import Measured, Summary, WorkloadResult
from bench.targets import PROJECT, Check, megabytes, seconds, with_runs

BASELINE = "seed"
COLUMNS = ("contender", "wall s", "vs seed", "requests", "over min", "429s", "bound s", "peak MB")


class Section(Protocol):
    """A workload reported as a table of its own days (W7, W10) rather than contender rows."""

    @property
    def name(self) -> str:
        """The workload's name."""

    @property
    def measured(self) -> Measured:
        """When its figures were measured."""

    def describe(self) -> str:
        """Its line above the table."""

    def columns(self) -> Sequence[str]:
        """The table's header."""

    def rows(self) -> list[list[str]]:
        """The table's cells, a row per day."""

    def to_json(self) -> dict[str, Any]:
        """Its figures as JSON data."""


@dataclass(frozen=True)
class Bench:
    """A whole bench run: where, when and at which commit it ran, every workload's results (this
    run's and those carried over from earlier runs) and the targets judged on all of them."""

    measured: Measured
    results: Mapping[str, WorkloadResult]
    checks: Sequence[Check]
    sections: Sequence[Section] = ()
    """W7 and W10, where they have figures."""

    def carried_over(self) -> list[str]:
        """The workloads whose figures come from an earlier run, in report order."""
        measured = {name: result.measured for name, result in self.results.items()}
        measured.update({section.name: section.measured for section in self.sections})
        return [name for name, when in measured.items() if when != self.measured]

    def measured_now(self) -> list[str]:
        """The workloads this run measured, in report order."""
        carried = self.carried_over()
        names = [*self.results, *(section.name for section in self.sections)]
        return [name for name in names if name not in carried]

    def header(self) -> list[str]:
        """Machine, date and commit, which workloads this run measured, and what the figures are."""
        carried = self.carried_over()
        lines = [
            f"Machine: {self.measured.machine}. Run of {self.measured.date} at commit "
            f"{self.measured.commit}, {self.measured.repeat} repetition(s)."
        ]
        if carried:
            lines.append(
                f"This run measured {', '.join(self.measured_now()) or 'no workload'}; the figures "
                f"of {', '.join(carried)} are carried over from earlier runs (each says when and "
                "at which commit) and their targets judged again on those figures."
            )
        lines.append(
            "Wall s, requests and 429s are medians of a workload's runs, noted when the runs "
            "differ (cold = the first run, with an empty app memory); peak MB is the highest "
            "run's peak RSS. Under a rate limit spotify_assets has a row for its cold run and "
            "one for its warm runs (each starting from the pace the run before it remembered); "
            "bound s = floor((R - 1) / Q) x W, the least time R requests take under Q per "
            "rolling W seconds, R = requests the emulator accepted (sent minus 429s). W9's "
            "spotify_assets rows: cold = a run from a fresh memory that meets the lone 429, next = "
            "the run after it on its memory without the fault, clean = both without the fault."
        )
        return lines

    def title(self, name: str, described: str, measured: Measured) -> str:
        """A workload's line above its table, marked when its figures are carried over."""
        line = f"{name}: {described}"
        if measured != self.measured:
            line += f" [carried over: {measured.describe()}]"
        return line

    def check_line(self, check: Check) -> str:
        """`PASS target: detail`, naming the workloads whose figures are carried over."""
        carried = [name for name in check.workloads if name in self.carried_over()]
        return check.line() + (
            f" [figures of {', '.join(carried)} carried over]" if carried else ""
        )


def rows(result: WorkloadResult) -> list[tuple[str, Summary]]:
    """The table's rows of a workload: each contender, spotify_assets cold and warm apart where
    a rate limit makes it learn a pace."""
    found: list[tuple[str, Summary]] = []
    for contender, summary in result.contenders.items():
        warm = summary.warm
        if contender == PROJECT and result.arms:
            found += [(f"{contender} cold", summary), *result.arms.items()]
        elif contender == PROJECT and result.workload.rate_limit is not None and warm is not None:
            found += [(f"{contender} cold", summary.cold), (f"{contender} warm", warm)]
        else:
            found.append((contender, summary))
    return found


def text_table(bench: Bench) -> str:
    """The table and the targets as printed on the terminal."""
    lines = [*bench.header(), ""]
    for name, result in bench.results.items():
        lines.append(bench.title(name, result.describe(), result.measured))
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
    for section in bench.sections:
        lines += [
            bench.title(section.name, section.describe(), section.measured),
            *_aligned(section.columns(), section.rows()),
            "",
        ]
    notes = _errors(bench.results)
    if notes:
        lines += ["errors:", *(f"  {note}" for note in notes), ""]
    lines += ["targets:", *(f"  {bench.check_line(check)}" for check in bench.checks)]
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
            workload = bench.title(name, result.describe(), result.measured) if index == 0 else ""
            cells = [workload, *_row(result, label, summary), _complete(summary)]
            lines.append("| " + " | ".join(cells) + " |")
    for section in bench.sections:
        lines += ["", bench.title(section.name, section.describe(), section.measured) + ".", ""]
        lines += _markdown_table(list(section.columns()), section.rows())
    notes = _errors(bench.results)
    if notes:
        lines += ["", "Errors:", "", *(f"- {note}" for note in notes)]
    lines += ["", "Targets:", "", *(f"- {bench.check_line(check)}" for check in bench.checks)]
    return "\n".join(lines) + "\n"


def to_json(bench: Bench) -> dict[str, Any]:
    """The issue's JSON shape, with the emulator settings, per-run figures and targets added:
    this run's date and commit, which workloads it measured and which it carried over (each
    workload keeps its own `measured`), and for each target the workloads that decide it."""
    carried = bench.carried_over()
    return {
        "machine": bench.measured.machine,
        "date": bench.measured.date,
        "commit": bench.measured.commit,
        "repetitions": bench.measured.repeat,
        "measured_now": bench.measured_now(),
        "carried_over": carried,
        "notes": bench.header()[-1],
        "workloads": {name: result.to_json() for name, result in bench.results.items()},
        **{section.name: section.to_json() for section in bench.sections},
        "targets": [
            {
                "target": check.target,
                "passed": check.passed,
                "detail": check.detail,
                "workloads": list(check.workloads),
                "carried_over": [name for name in check.workloads if name in carried],
            }
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


def _aligned(header: Sequence[str], cells: Sequence[Sequence[str]]) -> list[str]:
    """A section's table for the terminal: the header, then the rows, columns aligned."""
    table = [list(header), *cells]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in table]


def _markdown_table(header: list[str], cells: Sequence[Sequence[str]]) -> list[str]:
    """A markdown table of `cells` under `header`, numbers right-aligned."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in cells),
    ]
