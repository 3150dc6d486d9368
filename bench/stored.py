"""The results file of earlier bench runs, read back so a run of some workloads keeps the others'.

Each workload's stored figures come back with the date and commit they were measured at (a file
written before workloads kept their own gets the file's date and commit `unknown`), so the report
marks them as carried over and the targets are judged again on them. Figures measured with other
emulator settings than the workload has now are dropped, with a line saying so: they would be
judged against targets they were not measured for.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import market_week, week, week_report
from bench.contenders import CONTENDERS
from bench.report import Section
from bench.summary import Measured, WorkloadResult
from bench.workloads import WORKLOADS

UNKNOWN_COMMIT = "unknown"


@dataclass(frozen=True)
class Stored:
    """The workloads of a results file: contender tables and day-by-day sections, by name."""

    results: dict[str, WorkloadResult] = field(default_factory=dict)
    sections: dict[str, Section] = field(default_factory=dict)


def load(path: Path) -> Stored:
    """The workloads stored in `path`; nothing when there is no file or it cannot be read."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return Stored()
    except (OSError, ValueError) as exc:
        _note(f"{path} not read ({exc}): no earlier figures are carried over")
        return Stored()
    return parse(data)


def parse(data: Mapping[str, Any]) -> Stored:
    """The workloads of a results file's JSON data whose settings match their definition now."""
    fallback = Measured(
        date=str(data.get("date", "")),
        commit=str(data.get("commit", UNKNOWN_COMMIT)),
        machine=str(data.get("machine", "")),
        repeat=int(data.get("repetitions", 0)),
    )
    stored = Stored()
    definitions = {workload.name: workload for workload in WORKLOADS}
    for name, figures in data.get("workloads", {}).items():
        workload = definitions.get(name)
        if workload is None:
            _note(f"{name}: stored figures of a workload the bench no longer has, dropped")
        elif figures.get("emulator") != workload.settings():
            _note(f"{name}: stored figures were measured with other emulator settings, dropped")
        else:
            stored.results[name] = WorkloadResult.from_json(
                workload, figures, tuple(CONTENDERS), fallback
            )
    if _same_settings(data, week.W7.name, week_report.settings()):
        stored.sections[week.W7.name] = week_report.from_json(data[week.W7.name], fallback)
    if _same_settings(data, market_week.W10.name, market_week.settings()):
        w10 = data[market_week.W10.name]
        if all("floor" in day for day in w10["days"]):
            stored.sections[market_week.W10.name] = market_week.MarketWeek.from_json(w10)
        else:
            _note(f"{market_week.W10.name}: stored figures predate its floor, dropped")
    return stored


def _same_settings(data: Mapping[str, Any], name: str, settings: dict[str, Any]) -> bool:
    """Whether the file holds the week `name`, measured with the settings it has now."""
    if name not in data:
        return False
    if data[name].get("emulator") != settings:
        _note(f"{name}: stored figures were measured with other emulator settings, dropped")
        return False
    return True


def _note(line: str) -> None:
    """A line on stderr about the stored results."""
    print(f"  stored results: {line}", file=sys.stderr, flush=True)
