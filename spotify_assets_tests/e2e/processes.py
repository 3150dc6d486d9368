"""Starting the processes a test needs, finding them, and making sure none of them outlives it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

import psutil

KILL_TIMEOUT_S = 10.0


def tree(pid: int) -> set[psutil.Process]:
    """The process and all its descendants, as far as they still exist."""
    try:
        root = psutil.Process(pid)
        return {root, *root.children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def session(session_id: int) -> set[psutil.Process]:
    """Every process of a session, orphans included."""
    members = set()
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getsid(process.pid) == session_id:
                members.add(process)
    return members


def still_running(processes: set[psutil.Process]) -> list[psutil.Process]:
    """Those still running (a zombie has exited, it only waits to be reaped)."""
    running = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
    return running


def kill(processes: set[psutil.Process]) -> None:
    """SIGKILL those still running and wait for them; fail naming any that survive."""
    leftovers = still_running(processes)
    for process in leftovers:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(leftovers, timeout=KILL_TIMEOUT_S)
    survivors = still_running(processes)
    assert not survivors, f"processes survived their test: {survivors}"


def start(
    command: Sequence[str],
    *,
    log_path: Path,
    env: dict[str, str],
    cwd: Path | None = None,
    stdin: int | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start `command` (as `user` when given) in a new session, its output going to `log_path`."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            group=user,
            extra_groups=[] if user else None,
        )


def stop(process: subprocess.Popen[bytes], sig: signal.Signals, grace_s: float) -> None:
    """Send `sig`, wait up to `grace_s`, then SIGKILL whatever is left of it and of its session."""
    started = tree(process.pid)
    if process.poll() is None:
        process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    kill(started | session(process.pid))
    process.wait(timeout=KILL_TIMEOUT_S)


def log_tail(path: Path, chars: int) -> str:
    """The last `chars` characters of a log, for failure messages."""
    return path.read_text(errors="replace")[-chars:]
