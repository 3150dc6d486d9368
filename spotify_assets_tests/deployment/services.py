"""Servers a test starts as processes: one session each, output to a log, all of it stopped by pid.

Every service runs in a session of its own, so whatever it starts (Postgres backends, Dagster run
workers) is found and killed at the end even after its parent died, whatever the test did.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from spotify_assets_tests.e2e import processes

GRACEFUL_STOP_S = 15.0
"""How long a service may take to shut down when asked before it and its session are killed."""
POLL_S = 0.2
LOG_TAIL_CHARS = 4000


class Service:
    """One started server process, its log and how to wait for it to be ready."""

    def __init__(
        self,
        name: str,
        process: subprocess.Popen[bytes],
        log_path: Path,
        stop_signal: signal.Signals,
    ) -> None:
        """Wrap a process started by `running`; `stop_signal` asks it to shut down cleanly."""
        self.name = name
        self.process = process
        self.log_path = log_path
        self.stop_signal = stop_signal

    @property
    def pid(self) -> int:
        """The id of the service's main process (and of its session)."""
        return self.process.pid

    def log_tail(self) -> str:
        """The end of the service's output, for failure messages."""
        return processes.log_tail(self.log_path, LOG_TAIL_CHARS)

    def wait_until(self, ready: Callable[[], bool], what: str, timeout_s: float) -> None:
        """Poll `ready` until it holds; fail naming `what` if the process exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with code {self.process.returncode} before {what}:\n"
                    f"{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name}: not {what} within {timeout_s:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(POLL_S)

    def stop(self) -> None:
        """Signal the service to stop, then SIGKILL whatever is left of it and of its session."""
        processes.stop(self.process, self.stop_signal, GRACEFUL_STOP_S)


@contextlib.contextmanager
def running(
    name: str,
    command: Sequence[str],
    *,
    env: dict[str, str],
    log_path: Path,
    cwd: Path | None = None,
    user: str | None = None,
    stop_signal: signal.Signals = signal.SIGTERM,
) -> Iterator[Service]:
    """Start `command` (as `user` when given) in a new session; stop all of it at exit."""
    process = processes.start(
        command, log_path=log_path, env=env, cwd=cwd, stdin=subprocess.DEVNULL, user=user
    )
    service = Service(name, process, log_path, stop_signal)
    try:
        yield service
    finally:
        service.stop()
