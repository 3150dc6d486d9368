"""`make bench`: every contender on every workload against the emulator, side by side in one run.

Prints the table and the issues' targets, and writes them to bench/results/latest.json and
bench/results/latest.md (the markdown to paste into the README). A run of some workloads
(`--workloads W8,W9`) replaces only their figures: the others' stored figures are kept with the
date and commit they were measured at, shown as carried over, and their targets judged again.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import machine, market_week, report, stored, targets, week, week_report
from bench.contenders import CONTENDERS
from bench.report import Section
from bench.runs import Run, run
from bench.summary import Measured, Summary, WorkloadResult
from bench.targets import CLEAN, CLEAN_NEXT, LONE_ARMS, NEXT, PROJECT, Check
from bench.workloads import WORKLOADS, Workload, min_requests
from spotify_assets.emulator import EmulatorServer, Fault

RESULTS = Path(__file__).resolve().parent / "results"
REPEAT = 3
NAMES = [workload.name for workload in WORKLOADS] + [week.W7.name, market_week.W10.name]

Step = tuple[str, str, Path, tuple[Fault, ...]]
"""One run of a repetition: its row's label, the contender, its app memory, the faults armed."""


def run_workload(workload: Workload, repeat: int, measured: Measured) -> WorkloadResult:
    """One emulator for the workload; each repetition runs every contender once, in turn.

    The repetitions stand for consecutive daily runs: spotify_assets keeps one app memory
    for the workload's runs (the first run is cold), fresh for each workload. A workload with a
    lone 429 runs its extra arms too (see `_steps`).
    """
    runs: dict[str, list[Run]] = {}
    other_load = machine.OtherLoad()
    with (
        EmulatorServer(workload.config()) as emu,
        tempfile.TemporaryDirectory(prefix="bench-cache-") as cache_dir,
    ):
        fewest = min_requests(workload, emu.catalog)
        for repetition in range(1, repeat + 1):
            for label, contender, memory, faults in _steps(workload, Path(cache_dir), repetition):
                result = run(emu, contender, memory, faults)
                runs.setdefault(label, []).append(result)
                _progress(workload, repetition, repeat, label, result)
    contenders = {contender: Summary(tuple(runs[contender])) for contender in CONTENDERS}
    arms = {arm: Summary(tuple(runs[arm])) for arm in LONE_ARMS if arm in runs}
    return WorkloadResult(workload, fewest, contenders, other_load.share(), measured, arms)


def _steps(workload: Workload, cache_dir: Path, repetition: int) -> Iterator[Step]:
    """The runs of one repetition, in order.

    Without a lone 429: every contender once, spotify_assets on the workload's one memory. With
    one (W9): every contender meets it, spotify_assets from a fresh memory (its cold run); a
    fresh-memory run without the fault (clean) goes just before, so both see the same load; then
    the run after each on that run's memory, without the fault (clean next, next).
    """
    faults = workload.faults()
    if workload.lone_429_at is None:
        for contender in CONTENDERS:
            yield contender, contender, cache_dir, faults
        return
    faulted, clean = cache_dir / f"{repetition}-faulted", cache_dir / f"{repetition}-clean"
    for contender in CONTENDERS:
        if contender == PROJECT:
            yield CLEAN, PROJECT, clean, ()
        yield contender, contender, faulted, faults
    yield CLEAN_NEXT, PROJECT, clean, ()
    yield NEXT, PROJECT, faulted, ()


def _progress(workload: Workload, repetition: int, repeat: int, label: str, done: Run) -> None:
    """One line on stderr per run, so a long bench shows where it is."""
    wall = "-" if done.wall_s is None else f"{done.wall_s:.2f} s"
    status = "complete" if done.complete else f"INCOMPLETE: {done.error}"
    print(
        f"  {workload.name:<6} run {repetition}/{repeat}  {label:<26} {wall:>9}  "
        f"{done.requests:>5} requests  {done.http_429:>3} x 429  {status}",
        file=sys.stderr,
        flush=True,
    )


def missing(name: str) -> str | None:
    """Why this code cannot run workload `name` (a knob or field it waits for), None if it can."""
    if name == market_week.W10.name:
        return market_week.missing()
    for workload in WORKLOADS:
        if workload.name == name:
            return workload.missing_knob()
    return None


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chosen workloads (all by default), print the report and write the results."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--workloads",
        help=f"comma-separated subset of {', '.join(NAMES)} (default: all this code can run)",
    )
    parser.add_argument(
        "--repeat", type=int, default=REPEAT, help=f"runs per contender (default {REPEAT})"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="do not carry over the stored figures of the workloads this run does not measure",
    )
    args = parser.parse_args(argv)
    chosen = NAMES if args.workloads is None else args.workloads.split(",")
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown or args.repeat < 1:
        parser.error(f"unknown workloads {unknown}" if unknown else "--repeat must be >= 1")
    waiting = {name: why for name in chosen if (why := missing(name)) is not None}
    if waiting and args.workloads is not None:
        parser.error("; ".join(f"{name} cannot run: {why}" for name, why in waiting.items()))
    for name, why in waiting.items():
        print(f"  {name:<6} not run: {why}", file=sys.stderr, flush=True)
    run_now = [name for name in chosen if name not in waiting]
    described = machine.describe()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    measured = Measured(now, machine.commit(), described, args.repeat)
    print(f"bench on {described}, commit {measured.commit}", file=sys.stderr)
    kept = stored.Stored() if args.fresh else stored.load(args.results / "latest.json")
    fresh = {
        workload.name: run_workload(workload, args.repeat, measured)
        for workload in WORKLOADS
        if workload.name in run_now
    }
    sections = _sections(run_now, measured, kept.sections)
    results = {
        name: fresh.get(name) or kept.results[name]
        for name in NAMES
        if name in fresh or name in kept.results
    }
    bench = report.Bench(
        measured=measured,
        results=results,
        checks=_checks(results, sections, waiting),
        sections=sections,
    )
    print(report.text_table(bench))
    report.write_atomically(
        args.results / "latest.json", json.dumps(report.to_json(bench), indent=2) + "\n"
    )
    report.write_atomically(args.results / "latest.md", report.markdown(bench))
    print(f"\nwrote {args.results / 'latest.json'} and {args.results / 'latest.md'}")


def _sections(
    run_now: Sequence[str], measured: Measured, kept: dict[str, Section]
) -> list[Section]:
    """W7 and W10: measured now when chosen, else as stored (when they are)."""
    found: list[Section] = []
    if week.W7.name in run_now:
        found.append(week_report.Week(tuple(week.run_week()), measured))
    elif week.W7.name in kept:
        found.append(kept[week.W7.name])
    if market_week.W10.name in run_now:
        found.append(market_week.MarketWeek(tuple(market_week.run_week()), measured))
    elif market_week.W10.name in kept:
        found.append(kept[market_week.W10.name])
    return found


def _checks(
    results: dict[str, WorkloadResult], sections: Sequence[Section], waiting: dict[str, str]
) -> list[Check]:
    """Every target on the figures at hand, and a MISS for each workload that could not run and
    has no stored figures."""
    found = targets.checks(results)
    for section in sections:
        if isinstance(section, week_report.Week):
            found += week_report.checks(section.days)
        elif isinstance(section, market_week.MarketWeek):
            found += section.checks()
    have = {*results, *(section.name for section in sections)}
    found += [
        Check(f"{name}: measured", False, f"not run: {why}", (name,))
        for name, why in waiting.items()
        if name not in have
    ]
    return found


if __name__ == "__main__":
    main()
