"""The machine a run happened on (CPU, cores, RAM, OS, Python) and how busy others kept it."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import time
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
MEMINFO = Path("/proc/meminfo")
OS_RELEASE = Path("/etc/os-release")
PROC_STAT = Path("/proc/stat")
ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATHSPEC = ":(exclude)bench/results"


def describe() -> str:
    """CPU model, cores, RAM, distribution, kernel and Python, comma-separated."""
    parts = [_cpu_model(), f"{cores()} cores"]
    ram = _ram_gib()
    if ram is not None:
        parts.append(f"{ram:.1f} GiB RAM")
    parts += [_os(), f"Python {platform.python_version()}"]
    return ", ".join(parts)


def commit() -> str:
    """The checkout's commit (short), `+changes` when tracked files differ from it (the bench's
    own results aside), `unknown` outside a git checkout."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no", "--", ".", RESULTS_PATHSPEC)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if changed else "")


def _git(*args: str) -> str:
    """A git command's output in the project's checkout, stripped."""
    done = subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip()


def cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class OtherLoad:
    """How much of the machine's CPU other processes used while the bench ran a workload.

    The machine may be shared: its busy CPU time (/proc/stat) minus this process's and its
    finished children's is what others took, as a share of all cores over the elapsed time.
    """

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._busy = _busy_cpu_s()
        self._own = _own_cpu_s()

    def share(self) -> float | None:
        """The share (0..1) of all cores others used since creation; None without /proc/stat."""
        busy = _busy_cpu_s()
        elapsed = time.monotonic() - self._start
        if busy is None or self._busy is None or elapsed <= 0:
            return None
        others = (busy - self._busy) - (_own_cpu_s() - self._own)
        return max(0.0, others / (elapsed * (os.cpu_count() or 1)))  # /proc/stat sums all CPUs


def _busy_cpu_s() -> float | None:
    """Seconds all cores spent busy since boot (not idle, not waiting for I/O)."""
    try:
        first = PROC_STAT.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    ticks = [int(value) for value in first[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    """CPU seconds of this process (the emulator's thread included) and its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _field(path: Path, name: str, separator: str) -> str | None:
    """The value of the first `name<separator>value` line of a system file, if there is one."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, found, value = line.partition(separator)
        if found and key.strip() == name:
            return value.strip().strip('"')
    return None


def _cpu_model() -> str:
    """The CPU model name, from /proc/cpuinfo where there is one."""
    return _field(CPUINFO, "model name", ":") or platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    """Total RAM in GiB, from /proc/meminfo."""
    total = _field(MEMINFO, "MemTotal", ":")
    return int(total.split()[0]) / 1024**2 if total else None


def _os() -> str:
    """The distribution and kernel, e.g. `Debian GNU/Linux 12 (bookworm), Linux 6.1.0`."""
    distro = _field(OS_RELEASE, "PRETTY_NAME", "=")
    kernel = f"{platform.system()} {platform.release()}"
    return f"{distro}, {kernel}" if distro else kernel
