"""`make bench`: every contender on every workload against the emulator, side by side in one run.

Prints the table and the issue's targets, and writes them to bench/results/latest.json and
bench/results/latest.md (the markdown to paste into the README).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import machine, report, targets, week, week_report
from bench.contenders import CONTENDERS
from bench.runs import Run, run
from bench.summary import Summary, WorkloadResult
from bench.workloads import WORKLOADS, Workload, min_requests
from spotify_assets.emulator import EmulatorServer

RESULTS = Path(__file__).resolve().parent / "results"
REPEAT = 3


def run_workload(workload: Workload, repeat: int) -> WorkloadResult:
    """One emulator for the workload; each repetition runs every contender once, in turn.

    The repetitions stand for consecutive daily runs: spotify_assets keeps one app memory
    for the workload's runs (the first run is cold), fresh for each workload.
    """
    runs: dict[str, list[Run]] = {contender: [] for contender in CONTENDERS}
    other_load = machine.OtherLoad()
    with (
        EmulatorServer(workload.config()) as emu,
        tempfile.TemporaryDirectory(prefix="bench-cache-") as cache_dir,
    ):
        fewest = min_requests(workload, emu.catalog)
        for repetition in range(1, repeat + 1):
            for contender in CONTENDERS:
                result = run(emu, contender, Path(cache_dir))
                runs[contender].append(result)
                _progress(workload, repetition, repeat, contender, result)
    summaries = {contender: Summary(tuple(done)) for contender, done in runs.items()}
    return WorkloadResult(workload, fewest, summaries, other_load.share())


def _progress(workload: Workload, repetition: int, repeat: int, contender: str, done: Run) -> None:
    """One line on stderr per run, so a long bench shows where it is."""
    wall = "-" if done.wall_s is None else f"{done.wall_s:.2f} s"
    status = "complete" if done.complete else f"INCOMPLETE: {done.error}"
    print(
        f"  {workload.name:<6} run {repetition}/{repeat}  {contender:<14} {wall:>9}  "
        f"{done.requests:>5} requests  {done.http_429:>3} x 429  {status}",
        file=sys.stderr,
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chosen workloads (all by default), print the report and write the results."""
    names = [workload.name for workload in WORKLOADS] + [week.W7.name]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--workloads",
        default=",".join(names),
        help=f"comma-separated subset of {', '.join(names)} (default: all)",
    )
    parser.add_argument(
        "--repeat", type=int, default=REPEAT, help=f"runs per contender (default {REPEAT})"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    chosen = args.workloads.split(",")
    unknown = sorted(set(chosen) - set(names))
    if unknown or args.repeat < 1:
        parser.error(f"unknown workloads {unknown}" if unknown else "--repeat must be >= 1")
    described = machine.describe()
    date = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"bench on {described}", file=sys.stderr)
    results = {
        workload.name: run_workload(workload, args.repeat)
        for workload in WORKLOADS
        if workload.name in chosen
    }
    days = week.run_week() if week.W7.name in chosen else []
    bench = report.Bench(
        machine=described,
        date=date,
        repeat=args.repeat,
        results=results,
        checks=targets.checks(results) + (week_report.checks(days) if days else []),
        week=days,
    )
    print(report.text_table(bench))
    report.write_atomically(
        args.results / "latest.json", json.dumps(report.to_json(bench), indent=2) + "\n"
    )
    report.write_atomically(args.results / "latest.md", report.markdown(bench))
    print(f"\nwrote {args.results / 'latest.json'} and {args.results / 'latest.md'}")


if __name__ == "__main__":
    main()
