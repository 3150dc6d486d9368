"""Where a local run's requests go: Spotify with the user's credentials, or the bundled emulator.

The answer is an explicit environment for the child processes (the run, or `dg dev`); this
process's own environment is never rewritten.
"""

from __future__ import annotations

import hashlib
import select
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from spotify_assets import settings
from spotify_assets.defs.iceberg.location import CATALOG_FILE
from spotify_assets.defs.storage import DataStorage
from spotify_assets.local.instance import prepare_dagster_home
from spotify_assets.spotify.config import defaults

EMULATOR_CLIENT_ID = "emulator-client-id"
EMULATOR_CLIENT_SECRET = "emulator-client-secret"
EMULATED_DATA_DIR = Path("data") / "emulator"
EMULATED_DAGSTER_HOME = Path(".dagster_home-emulator")
"""Where runs against the emulator keep their data and run history: never with real data."""
ENV_FILE = Path(".env")
EMULATOR_START_TIMEOUT_S = 30.0
EMULATOR_PORTS = range(20000, 30000)
"""Where `make run` and `make dev` start the emulator: on a port of the folder's own while it is
free (see emulator_port). The app memory is kept per API origin, so a new port each time would
make every run start cold (probe browse again)."""


@dataclass(frozen=True)
class Backend:
    """Where a run's requests go, and the environment its processes get."""

    description: str
    emulated: bool
    environ: dict[str, str]


def local_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with the variables of `.env` it does not set itself."""
    from_file = {k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None}
    return {**from_file, **environ}


@contextmanager
def emulator_process(albums: int, mode: str) -> Iterator[str]:
    """Run the emulator in a child process on the folder's port, or any free loopback port when
    that one is taken; yield its base URL."""
    process, base_url = _start_emulator(albums, mode, emulator_port(Path.cwd()), quiet=True)
    if base_url is None:
        process, base_url = _start_emulator(albums, mode, 0)
    if base_url is None:
        raise SystemExit(f"The emulator did not start (exit code {process.poll()})")
    try:
        yield base_url
    finally:
        _stop(process)


def emulator_port(folder: Path) -> int:
    """The folder's port among EMULATOR_PORTS, from its path: the same for every run in one
    clone, most likely another for another clone (or test) running at the same time."""
    digest = hashlib.sha256(str(folder.resolve()).encode()).digest()
    return EMULATOR_PORTS[int.from_bytes(digest[:4], "big") % len(EMULATOR_PORTS)]


def _start_emulator(
    albums: int, mode: str, port: int, *, quiet: bool = False
) -> tuple[subprocess.Popen[str], str | None]:
    """The emulator's process on `port` (0: any free one) and its base URL, None when it did not
    start listening (the process is then stopped, as when the start is interrupted); `quiet`
    keeps its errors (a port taken) off the terminal."""
    command = [sys.executable, "-m", "spotify_assets.emulator", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--albums", str(albums), "--mode", mode]
    errors = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], EMULATOR_START_TIMEOUT_S)
        line = process.stdout.readline() if ready else ""
    except BaseException:
        _stop(process)
        raise
    if "listening on " not in line:
        _stop(process)
        return process, None
    return process, line.split("listening on ", 1)[1].split()[0]


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop the emulator's process: SIGTERM, then SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def spotify_backend(
    environ: Mapping[str, str], emulator_albums: int, emulator_mode: str
) -> Iterator[Backend]:
    """Spotify itself when credentials are set, otherwise a freshly started emulator.

    The yielded environment sets DAGSTER_HOME and SPOTIFY_ASSETS_DATA_DIR (made absolute); runs
    against the emulator get folders of their own, so synthetic data never mixes with real data,
    and a configured Iceberg catalog is dropped for them: their tables go to the default SQLite
    catalog under the emulator's data folder, never into the real catalog.
    """
    environ = dict(environ)
    try:
        configured = settings.Settings.from_environ(environ)
    except ValueError as exc:  # a variable that cannot work: its message, not a traceback
        raise SystemExit(str(exc)) from exc
    if configured.has_credentials:
        home = prepare_dagster_home(Path(environ.get("DAGSTER_HOME") or ".dagster_home"))
        root = DataStorage(data_dir=configured.data_dir).root()
        environ.update(DAGSTER_HOME=str(home), **{settings.DATA_DIR: str(root)})
        url = configured.client.get("api_base_url", defaults()["api_base_url"])
        yield Backend(f"Spotify at {url}", emulated=False, environ=environ)
        return
    if configured.credentials_given:
        [given] = configured.credentials_given
        missing = settings.CLIENT_SECRET if given == settings.CLIENT_ID else settings.CLIENT_ID
        raise SystemExit(
            f"{missing} is not set but {given} is: set both (in the environment or .env) to "
            "fetch from Spotify, or neither to run against the bundled emulator."
        )
    home = prepare_dagster_home(EMULATED_DAGSTER_HOME)
    ignored_catalog = environ.pop(settings.ICEBERG_CATALOG_URI, None) is not None
    ignored_data_dir = environ.get(settings.DATA_DIR)
    with emulator_process(emulator_albums, emulator_mode) as base_url:
        data = EMULATED_DATA_DIR.resolve()
        environ.update(
            {
                "DAGSTER_HOME": str(home),
                settings.CLIENT_ID: EMULATOR_CLIENT_ID,
                settings.CLIENT_SECRET: EMULATOR_CLIENT_SECRET,
                settings.API_BASE_URL: f"{base_url}/v1",
                settings.TOKEN_URL: f"{base_url}/api/token",
                settings.DATA_DIR: str(data),
            }
        )
        description = (
            f"the bundled emulator at {base_url} ({emulator_mode} mode, {emulator_albums} albums)"
        )
        catalog = data / CATALOG_FILE if configured.table_format == "iceberg" else None
        print(
            banner(
                description,
                data,
                home,
                catalog=catalog,
                ignored_catalog=ignored_catalog,
                ignored_data_dir=ignored_data_dir,
            ),
            flush=True,
        )
        yield Backend(description, emulated=True, environ=environ)


def banner(
    description: str,
    data: Path,
    home: Path,
    *,
    catalog: Path | None = None,
    ignored_catalog: bool = False,
    ignored_data_dir: str | None = None,
) -> str:
    """The loud notice that a run uses synthetic data, and where it goes: `data`, the Iceberg
    `catalog` when the tables are Iceberg, and whether a configured catalog or data dir is
    ignored."""
    rule = "=" * 78
    tables = ""
    if catalog is not None:
        tables = f" Its Iceberg tables are in the SQLite catalog {catalog}"
        tables += (
            f", not in the catalog {settings.ICEBERG_CATALOG_URI} names (ignored for this run)."
            if ignored_catalog
            else "."
        )
    instead = f", not to {ignored_data_dir} ({settings.DATA_DIR}, ignored for this run)"
    text = textwrap.fill(
        f"NO SPOTIFY CREDENTIALS: {settings.CLIENT_ID} and {settings.CLIENT_SECRET} are not set "
        f"in the environment or .env, so this run talks to {description}. The data is "
        f"synthetic and goes to {data} (runs recorded in {home}), apart from real data"
        f"{instead if ignored_data_dir else ''}.{tables} "
        "Put your app's credentials in .env (see .env.example) to fetch from Spotify.",
        width=76,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return f"{rule}\n{textwrap.indent(text, '  ')}\n{rule}"


def conflicts_in_env_file() -> list[str]:
    """Variables `.env` sets that `dg dev` would force over the emulator's settings (it
    loads `.env` into its processes over the environment, blank values included)."""
    in_file = dotenv_values(ENV_FILE)
    ours = (
        settings.CLIENT_ID,
        settings.CLIENT_SECRET,
        settings.API_BASE_URL,
        settings.TOKEN_URL,
        settings.DATA_DIR,
        settings.ICEBERG_CATALOG_URI,
    )
    return [name for name in ours if name in in_file]
