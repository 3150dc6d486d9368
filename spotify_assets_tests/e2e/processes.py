"""Finding the processes a test started, and making sure none of them outlives it."""

from __future__ import annotations

import contextlib
import os

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
