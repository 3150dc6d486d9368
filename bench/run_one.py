"""Runs one contender once, in a fresh process, and writes what it extracted and what it cost.

A process of its own per run keeps each contender's imports, connections and peak RSS its own.
Only the extraction is timed: token, feed and every album's tracks.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.contenders import CONTENDERS, Extraction, Target

STATUS = Path("/proc/self/status")


def load(contender: str) -> Callable[[Target], Extraction]:
    """The contender's `extract`, imported only now so no other contender's code is loaded."""
    module = importlib.import_module(CONTENDERS[contender])
    extract: Callable[[Target], Extraction] = module.extract
    return extract


def measure(extract: Callable[[Target], Extraction], target: Target) -> dict[str, Any]:
    """Run the extraction once: wall seconds, peak RSS, what it returned, and its error if any."""
    albums: Extraction = []
    error = None
    start = time.perf_counter()
    try:
        albums = extract(target)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    wall_s = time.perf_counter() - start
    return {"wall_s": wall_s, "peak_rss_mb": peak_rss_mb(), "albums": albums, "error": error}


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB.

    Linux's VmHWM, not `ru_maxrss`: after fork and exec, `ru_maxrss` keeps the high-water mark of
    the parent's memory (the bench process, emulator and catalog included), so every child would
    report at least the parent's size.
    """
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024  # bytes there, KiB here


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, run the contender and write the result as JSON to --out."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contender", required=True, choices=sorted(CONTENDERS))
    parser.add_argument("--api-base", required=True)
    parser.add_argument("--token-url", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    target = Target(args.api_base, args.token_url, args.client_id, args.client_secret)
    result = measure(load(args.contender), target)
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
