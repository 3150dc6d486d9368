"""`make run` and `make dev`: run today's partition headless, or start the Dagster UI.

Both read `.env`, and without Spotify credentials start the bundled emulator (loudly) and point
the run at it; the emulator is stopped when the command ends.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from dagster import DagsterInstance
from dotenv import dotenv_values, load_dotenv

from spotify_assets import settings
from spotify_assets.definitions import build_defs
from spotify_assets.io_manager import data_root
from spotify_assets.jobs import DAILY_JOB_NAME
from spotify_assets.partitions import today
from spotify_assets.run_summary import summarize

EMULATOR_CLIENT_ID = "emulator-client-id"
EMULATOR_CLIENT_SECRET = "emulator-client-secret"
INSTANCE_YAML = """\
# Written by spotify_assets for `make run` / `make dev` into a new DAGSTER_HOME; edit freely.
concurrency:
  pools:
    # One run in the spotify_api pool at a time; the others wait in the queue: Spotify's rate
    # limit is per app, so parallel runs would only slow each other down with 429s.
    default_limit: 1
    granularity: run
python_logs:
  managed_python_loggers:
    - spotify_assets
  python_log_level: INFO
run_monitoring:
  # Enforces the spotify_daily job's dagster/max_runtime tag.
  enabled: true
telemetry:
  enabled: false
# The "Join the Dagster community" dialog would open over the first page of every fresh home.
nux:
  enabled: false
"""


@dataclass(frozen=True)
class Backend:
    """Where a run's requests go, for the banner and the summary."""

    description: str
    emulated: bool


EMULATED_DATA_DIR = Path("data") / "emulator"
EMULATED_DAGSTER_HOME = Path(".dagster_home-emulator")
"""Where runs against the emulator keep their data and run history: never with real data."""
ENV_FILE = Path(".env")
EMULATOR_START_TIMEOUT_S = 30.0


def prepare_dagster_home(home: Path) -> Path:
    """DAGSTER_HOME as an absolute path; a new or empty one gets the dagster.yaml above (an
    existing instance keeps its own configuration)."""
    home = home.resolve()
    if not home.exists() or not any(home.iterdir()):
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(INSTANCE_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@contextmanager
def emulator_process(albums: int, mode: str) -> Iterator[str]:
    """Run the emulator in a child process on a free loopback port; yield its base URL."""
    command = [sys.executable, "-m", "spotify_assets.emulator", "--host", "127.0.0.1"]
    command += ["--port", "0", "--albums", str(albums), "--mode", mode]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], EMULATOR_START_TIMEOUT_S)
        line = process.stdout.readline() if ready else ""
        if "listening on " not in line:
            raise SystemExit(f"The emulator did not start (exit code {process.poll()}): {line}")
        yield line.split("listening on ", 1)[1].split()[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def spotify_backend(args: argparse.Namespace) -> Iterator[Backend]:
    """Spotify itself when credentials are set, otherwise a freshly started emulator.

    Sets DAGSTER_HOME and SPOTIFY_ASSETS_DATA_DIR (made absolute) for what it starts; runs
    against the emulator get folders of their own, so synthetic data never mixes with real data.
    """
    if settings.has_credentials():
        prepare_dagster_home(Path(os.environ.get("DAGSTER_HOME") or ".dagster_home"))
        os.environ[settings.DATA_DIR] = str(data_root(settings.value(settings.DATA_DIR)))
        yield Backend(f"Spotify at {settings.value(settings.API_BASE_URL)}", emulated=False)
        return
    given = [name for name in (settings.CLIENT_ID, settings.CLIENT_SECRET) if settings.env(name)]
    if given:
        missing = settings.CLIENT_SECRET if given == [settings.CLIENT_ID] else settings.CLIENT_ID
        raise SystemExit(
            f"{missing} is not set but {given[0]} is: set both (in the environment or .env) to "
            "fetch from Spotify, or neither to run against the bundled emulator."
        )
    home = prepare_dagster_home(EMULATED_DAGSTER_HOME)
    with emulator_process(args.emulator_albums, args.emulator_mode) as base_url:
        data = EMULATED_DATA_DIR.resolve()
        os.environ.update(
            {
                settings.CLIENT_ID: EMULATOR_CLIENT_ID,
                settings.CLIENT_SECRET: EMULATOR_CLIENT_SECRET,
                settings.API_BASE_URL: f"{base_url}/v1",
                settings.TOKEN_URL: f"{base_url}/api/token",
                settings.DATA_DIR: str(data),
            }
        )
        description = (
            f"the bundled emulator at {base_url} "
            f"({args.emulator_mode} mode, {args.emulator_albums} albums)"
        )
        print(banner(description, data, home), flush=True)
        yield Backend(description, emulated=True)


def banner(description: str, data: Path, home: Path) -> str:
    """The loud notice that a run uses synthetic data, and where it goes."""
    rule = "=" * 78
    text = textwrap.fill(
        f"NO SPOTIFY CREDENTIALS: {settings.CLIENT_ID} and {settings.CLIENT_SECRET} are not set "
        f"in the environment or .env, so this run talks to {description}. The data is "
        f"synthetic and goes to {data} (runs recorded in {home}), apart from real data. Put "
        "your app's credentials in .env (see .env.example) to fetch from Spotify.",
        width=76,
    )
    return f"{rule}\n{textwrap.indent(text, '  ')}\n{rule}"


def conflicts_in_env_file() -> list[str]:
    """Variables `.env` sets that `dagster dev` would force over the emulator's settings (it
    loads `.env` into its processes over the environment, blank values included)."""
    if not ENV_FILE.exists():
        return []
    ours = (
        settings.CLIENT_ID,
        settings.CLIENT_SECRET,
        settings.API_BASE_URL,
        settings.TOKEN_URL,
        settings.DATA_DIR,
    )
    return [name for name in ours if name in dotenv_values(ENV_FILE)]


def run(args: argparse.Namespace) -> int:
    """Materialize today's partition of both assets with their checks and print a summary."""
    with spotify_backend(args) as backend:
        defs = build_defs()  # after spotify_backend: it may point the environment at the emulator
        partition = today().isoformat()
        print(f"Materializing new_releases and album_tracks for {partition} ...", flush=True)
        with DagsterInstance.get() as instance:
            result = defs.resolve_job_def(DAILY_JOB_NAME).execute_in_process(
                partition_key=partition, instance=instance, raise_on_error=False
            )
        summary = summarize(result, backend.description)
        root = settings.value(settings.DATA_DIR)
        print(summary.text)
        print(
            f"\nRead every day at once: pandas.read_parquet('{root}/album_tracks'), "
            f"or in DuckDB: SELECT * FROM '{root}/album_tracks/*.parquet'"
        )
        return 0 if summary.ok else 1


def dev(args: argparse.Namespace) -> int:
    """Start `dagster dev` (webserver and daemon) until interrupted."""
    with spotify_backend(args) as backend:
        conflicts = conflicts_in_env_file() if backend.emulated else []
        if conflicts:
            raise SystemExit(
                f"{ENV_FILE} sets {', '.join(conflicts)}, which dagster dev would force over the "
                "emulator's settings: comment those lines out to use the emulator, or set both "
                "credentials to use Spotify."
            )
        command = ["dev", "-w", "workspace.yaml", "-h", args.host, "-p", str(args.port)]
        print(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
        process = subprocess.Popen([str(Path(sys.executable).parent / "dagster"), *command])
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGINT)
            process.wait()
            return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (kill, timeout, an IDE's stop button) ends the command like Ctrl-C: cleanly."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run `run` or `dev`."""
    parser = argparse.ArgumentParser(prog="python -m spotify_assets.cli", description=__doc__)
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
    load_dotenv(ENV_FILE, override=False)
    signal.signal(signal.SIGTERM, _interrupt)
    return run(args) if args.command == "run" else dev(args)


if __name__ == "__main__":
    sys.exit(main())
