"""`make run` and `make dev`: run today's partition headless, or start the Dagster UI.

Both read `.env`, and without Spotify credentials start the bundled emulator (loudly) and point
the run at it; the emulator is stopped when the command ends. Each happens in a child process
given an explicit environment: `make run` executes the daily job in that process (the instance's
run queue and the spotify_api pool are not involved), `make dev` is `dg dev` in this folder, which
must be the project's (its pyproject.toml says where the code location is).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from spotify_assets.defs.spotify.assets import POOL
from spotify_assets.local.backend import (
    ENV_FILE,
    Backend,
    conflicts_in_env_file,
    local_environ,
    spotify_backend,
)
from spotify_assets.local.instance import limit_pool

PROJECT_FILE = Path("pyproject.toml")
"""The dg project file `dg dev` reads in the current folder."""
STOP_GRACE_S = 10.0
"""How long what a command started may take to stop once the command has ended, before it is
killed: `dg dev` can leave a dagster code server behind, running until its heartbeat times out."""


def run(backend: Backend) -> int:
    """Materialize today's partition of both assets with their checks, in process, and print a
    summary."""
    command = [sys.executable, "-m", "spotify_assets.local.today", backend.description]
    return _wait(_start(command, backend.environ))


def dev(backend: Backend, host: str, port: int) -> int:
    """Start `dg dev` (webserver and daemon, runs queued for the spotify_api pool) until
    interrupted."""
    conflicts = conflicts_in_env_file() if backend.emulated else []
    if conflicts:
        raise SystemExit(
            f"{ENV_FILE} sets {', '.join(conflicts)}, which dg dev would force over the "
            "emulator's settings: comment those lines out to use the emulator, or set both "
            "credentials to use Spotify."
        )
    if not PROJECT_FILE.exists():
        raise SystemExit(
            f"No {PROJECT_FILE} here: run make dev in the project's folder (the clone), where "
            "dg finds the code location."
        )
    limit_pool(Path(backend.environ["DAGSTER_HOME"]), POOL)
    command = [str(Path(sys.executable).parent / "dg"), "dev", "--host", host, "--port", str(port)]
    # As if the virtualenv were activated: dg warns when the project's .venv is not the active one.
    environ = {**backend.environ, "VIRTUAL_ENV": sys.prefix}
    print(f"Dagster UI on http://{host}:{port} (Ctrl-C stops it)", flush=True)
    return _wait(_start(command, environ))


def _start(command: Sequence[str], environ: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start `command` in a process group of its own, which everything it starts joins."""
    return subprocess.Popen(command, env=environ, start_new_session=True)


def _wait(process: subprocess.Popen[bytes]) -> int:
    """The child's exit code. Ctrl-C (or SIGTERM) is passed on to its whole process group as a
    normal way to stop, as a terminal passes Ctrl-C; whatever the group leaves running is then
    stopped, so nothing outlives the command."""
    try:
        try:
            return process.wait()
        except KeyboardInterrupt:
            _signal_group(process.pid, signal.SIGINT)
            process.wait()
            return 0
    finally:
        _stop_group(process.pid)


def _signal_group(group: int, signum: int) -> bool:
    """Send `signum` to a process group; False when none of it is left."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    return True


def _stop_group(group: int) -> None:
    """Stop what is left of a process group: SIGTERM, then SIGKILL after STOP_GRACE_S."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + STOP_GRACE_S
        if not _signal_group(group, signum):
            return
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if not _signal_group(group, 0):
                return


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (kill, timeout, an IDE's stop button) ends the command like Ctrl-C: cleanly."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run `run` or `dev`."""
    parser = argparse.ArgumentParser(prog="python -m spotify_assets.local", description=__doc__)
    parser.add_argument("--emulator-albums", type=int, default=100, help="albums (emulator)")
    parser.add_argument(
        "--emulator-mode",
        choices=["development", "extended"],
        default="development",
        help="which kind of Spotify app the emulator plays (default: development)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="materialize today's partition headless")
    dev_parser = commands.add_parser("dev", help="start the Dagster UI and daemon")
    dev_parser.add_argument("--host", default="127.0.0.1")
    dev_parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    # A command started in the background of a script inherits SIGINT ignored, and so would the
    # children it starts: dagster then ignores SIGTERM too (it maps it to SIGINT's handler) and
    # passing Ctrl-C on stops nothing. Handling SIGINT here gives the children its default.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    environ = local_environ(os.environ)
    with spotify_backend(environ, args.emulator_albums, args.emulator_mode) as backend:
        return run(backend) if args.command == "run" else dev(backend, args.host, args.port)
