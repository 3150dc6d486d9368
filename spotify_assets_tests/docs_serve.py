"""`python -m spotify_assets_tests.docs_serve COMMAND...`: check a serving command of the docs.

A command that serves until stopped (`dg dev`, `make dev`'s recipe, the emulator) cannot simply
be run to its end by test_docs.py. This starts it on a free port (in place of the one the docs
wrote), waits until it answers HTTP there, then stops it by its process id (SIGINT, as Ctrl-C,
then whatever is left of its session is killed). Exit code 0 when it answered, 1 with the tail
of its log when it ended or never answered.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import requests

from spotify_assets_tests.e2e import processes
from spotify_assets_tests.e2e.dagster_dev import HOST, free_port

ANSWER_TIMEOUT_S = 180.0
"""Start to first HTTP answer: a few seconds for the emulator, ~10 s for the Dagster UI here."""
GRACEFUL_STOP_S = 30.0
POLL_S = 0.25
LOG_TAIL_CHARS = 3000
PORT_FLAGS = ("--port", "-p")


def on_port(command: Sequence[str], port: int) -> list[str]:
    """`command` listening on `port`: the value of its port flag replaced, or `--port` added."""
    argv = list(command)
    for flag in PORT_FLAGS:
        if flag in argv[:-1]:
            argv[argv.index(flag) + 1] = str(port)
            return argv
    return [*argv, "--port", str(port)]


def answers(port: int) -> bool:
    """Whether anything answers HTTP on the port (any status: the server is serving)."""
    try:
        requests.get(f"http://{HOST}:{port}/", timeout=2)
    except requests.RequestException:
        return False
    return True


def serve(command: Sequence[str]) -> int:
    """Start, wait for an answer, stop; 0 when it answered."""
    port = free_port()
    argv = on_port(command, port)
    log_path = Path(tempfile.mkstemp(prefix="docs_serve_", suffix=".log")[1])
    process = processes.start(argv, log_path=log_path, env=dict(os.environ))
    try:
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while not answers(port):
            ended = process.poll() is not None
            if ended or time.monotonic() > deadline:
                why = f"ended with {process.returncode}" if ended else "did not answer in time"
                print(f"{' '.join(argv)} {why}:\n{processes.log_tail(log_path, LOG_TAIL_CHARS)}")
                return 1
            time.sleep(POLL_S)
        print(f"{' '.join(argv)} answered on port {port}; stopping it")
        return 0
    finally:
        processes.stop(process, signal.SIGINT, GRACEFUL_STOP_S)
        log_path.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:]))
