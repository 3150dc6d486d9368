"""Every snippet of README.md and docs/*.md runs against the emulator, so none can rot.

One test per page runs its fenced blocks in the order a reader meets them, in a sandbox of its
own: a copy of the project (its `.venv` linked) whose `data/` already holds today's partition of
both assets, the virtualenv activated, an emulator's URLs and credentials in the environment and
a temporary DAGSTER_HOME and app-memory folder. docs/deploying.md also gets a throwaway
PostgreSQL and SeaweedFS, as its walk-through asks.

How each kind of block is checked:
- ```python: a complete program, run by a fresh interpreter in the sandbox; it must exit 0.
- ```sh / ```bash: run by `bash -e -o pipefail` in the sandbox; it must exit 0. What cannot run
  inside the suite is checked for real another way, by the shell functions of PRELUDE:
  `make test` (it would run the suite inside itself) and `make bench` (31 minutes) run as
  `make -n`, proving the target exists; a serving command (`dg dev`, `make dev`, the emulator) is
  started on a free port, waited for until it answers HTTP, and stopped by its process id
  (spotify_assets_tests/docs_serve.py); `make dev` so is the recipe `make -n dev` shows;
  `pip install` runs with `--dry-run`.
- ```yaml: parsed. ```text and ```mermaid: not run (output, layouts, diagrams).
A block of any other language, or none, fails the test: nothing untested slips in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from dagster import materialize

from spotify_assets.defs.spotify.assets import album_tracks, new_releases
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.emulator import EmulatorServer
from spotify_assets.spotify.memory import CACHE_DIR_ENV
from spotify_assets_tests.conftest import start_emulator
from spotify_assets_tests.deployment.postgres import running_postgres
from spotify_assets_tests.deployment.seaweedfs import running_seaweedfs
from spotify_assets_tests.pipeline.conftest import resources

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PRODUCTION_PAGES = {"docs/deploying.md"}
"""Pages whose blocks need the production instance: PostgreSQL and an S3 bucket."""
RUN = {"python", "sh", "bash"}
PARSED = {"yaml"}
NOT_RUN = {"text", "mermaid"}
README_MAX_LINES = 250
EMULATOR_ALBUMS = 20
EMULATOR_MODE = "development"
BUCKET = "docs"
BLOCK_TIMEOUT_S = 300
PAGE_TIMEOUT_S = 900
"""A page runs several commands (README: `make run`, `make dev`, three `dg` calls): README took
85 to 137 s with 5 to 7 busy processes on 2 cores; the suite's 300 s per test is too tight."""
OUTPUT_TAIL_CHARS = 4000
FENCE = re.compile(r"^```(\S*)\s*$")
LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)")
HEADING = re.compile(r"^#+ (.+)$", re.MULTILINE)
COPY_IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".env",
    "data",
    ".dagster_home*",
    ".tmp_dagster_home_*",
    "__pycache__",
    "*.egg-info",
    "build",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "artifacts",
)
PRELUDE = """\
set -e -o pipefail
serve() { command python -m spotify_assets_tests.docs_serve "$@"; }
make() {
  case "${1:-}" in
    test|bench) command make -n "$@" ;;
    dev) recipe=$(command make -n dev | tail -n 1); serve $recipe ;;
    *) command make "$@" ;;
  esac
}
dg() { if [ "${1:-}" = dev ]; then serve dg "$@"; else command dg "$@"; fi; }
python() {
  if [ "${1:-} ${2:-}" = "-m spotify_assets.emulator" ]; then serve python "$@"
  else command python "$@"; fi
}
pip() {
  if [ "${1:-}" = install ]; then command pip install --dry-run "${@:2}"
  else command pip "$@"; fi
}
"""
"""Shell functions standing in for the commands that cannot run to their end in the suite."""


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: where it starts, its language, its text."""

    page: str
    line: int
    language: str
    code: str

    def where(self) -> str:
        """`README.md:42 (sh)`, for failure messages."""
        return f"{self.page}:{self.line} ({self.language or 'no language'})"


def relative(page: Path) -> str:
    """The page's path from the project root, as the docs link it."""
    return page.relative_to(ROOT).as_posix()


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page, in order (fences start a line, as the pages write them)."""
    found: list[Block] = []
    opened: tuple[int, str] | None = None
    lines: list[str] = []
    for number, line in enumerate(page.read_text().splitlines(), start=1):
        fence = FENCE.match(line)
        if opened is None and fence:
            opened, lines = (number, fence.group(1)), []
        elif opened is not None and line.strip() == "```":
            found.append(Block(relative(page), opened[0], opened[1], "\n".join(lines) + "\n"))
            opened = None
        elif opened is not None:
            lines.append(line)
    if opened is not None:
        raise AssertionError(f"{relative(page)}:{opened[0]}: a block is never closed")
    return found


def base_environment(tmp_path: Path) -> dict[str, str]:
    """This process's environment without any project, Dagster or make setting (under `make
    test`, an inherited MAKELEVEL makes `make -n` print "make[1]: ..." lines a reader never
    sees), the virtualenv activated, DAGSTER_HOME and the app memory in tmp_path."""
    inherited = ("SPOTIFY_", "DAGSTER_", "AWS_", "VIRTUAL_ENV", "MAKE", "MFLAGS")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    venv = Path(sys.prefix)
    environ.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{environ.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        **{CACHE_DIR_ENV: str(tmp_path / "cache")},
    )
    (tmp_path / "dagster_home").mkdir()
    return environ


def emulator_environment(emulator: EmulatorServer) -> dict[str, str]:
    """What points the project at the emulator."""
    return {
        "SPOTIFY_CLIENT_ID": emulator.client_id,
        "SPOTIFY_CLIENT_SECRET": emulator.client_secret,
        "SPOTIFY_API_BASE_URL": emulator.api_base_url,
        "SPOTIFY_TOKEN_URL": emulator.token_url,
    }


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """One emulator for every page: the blocks only read from it."""
    server = start_emulator(albums=EMULATOR_ALBUMS, mode=EMULATOR_MODE)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def seeded_data(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding today's partition of both assets, copied into each sandbox."""
    data = tmp_path_factory.mktemp("seeded") / "data"
    result = materialize(
        [new_releases, album_tracks],
        partition_key=today().isoformat(),
        resources=resources(emulator, data),
    )
    assert result.success
    return data


def sandbox(tmp_path: Path) -> Path:
    """A copy of the project, without its data, caches, .env or history, its .venv linked."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORED)
    (copy / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    up_to_date = subprocess.run(["make", "-q", "setup"], cwd=copy, check=False)
    assert up_to_date.returncode == 0, (
        f"{sys.prefix} is older than pyproject.toml: run `make setup` first (the snippets would "
        "otherwise reinstall the shared virtualenv)."
    )
    return copy


def run_block(block: Block, cwd: Path, environ: dict[str, str], scripts: Path) -> None:
    """Run one block as its language says (see the module docstring); fail naming it."""
    if block.language in NOT_RUN:
        return
    if block.language in PARSED:
        yaml.safe_load(block.code)
        return
    assert block.language in RUN, (
        f"{block.where()}: unknown block language; use python, sh or bash (run by "
        f"{Path(__file__).name}), yaml, or text/mermaid for what is not run"
    )
    script = scripts / f"{Path(block.page).stem}_{block.line}"
    if block.language == "python":
        script.with_suffix(".py").write_text(block.code)
        command = [sys.executable, str(script.with_suffix(".py"))]
    else:
        script.with_suffix(".sh").write_text(PRELUDE + block.code)
        command = ["bash", str(script.with_suffix(".sh"))]
    done = subprocess.run(
        command,
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, (
        f"{block.where()} exited with {done.returncode}:\n{block.code}\n--- stdout\n"
        f"{done.stdout[-OUTPUT_TAIL_CHARS:]}\n--- stderr\n{done.stderr[-OUTPUT_TAIL_CHARS:]}"
    )


@pytest.mark.timeout(PAGE_TIMEOUT_S)
@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_every_snippet_of_the_page_runs(
    page: Path, emulator: EmulatorServer, seeded_data: Path, tmp_path: Path
) -> None:
    found = blocks(page)
    assert found, f"{relative(page)} has no fenced block: drop it from the test or add one"
    project = sandbox(tmp_path)
    environ = base_environment(tmp_path) | emulator_environment(emulator)
    scripts = tmp_path / "snippets"
    scripts.mkdir()
    with ExitStack() as stack:
        if relative(page) in PRODUCTION_PAGES:
            logs, store = tmp_path / "logs", tmp_path / "s3"
            logs.mkdir()
            store.mkdir()
            postgres = stack.enter_context(running_postgres(logs / "postgres.log"))
            s3 = stack.enter_context(running_seaweedfs(store, BUCKET, logs / "s3.log"))
            environ |= postgres.dagster_env() | s3.client_env()
            environ |= {
                "DAGSTER_COMPUTE_LOGS_BUCKET": BUCKET,
                "SPOTIFY_ASSETS_DATA_DIR": f"s3://{BUCKET}/data",
            }
        else:
            shutil.copytree(seeded_data, project / "data")
            environ["SPOTIFY_ASSETS_DATA_DIR"] = str(project / "data")
        for block in found:
            run_block(block, project, environ, scripts)


def test_readme_stays_short() -> None:
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines (at most {README_MAX_LINES}): move details to docs/"
    )


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as -."""
    return {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in HEADING.findall(page.read_text())
    }


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_every_relative_link_of_the_page_exists(page: Path) -> None:
    broken = []
    for target, anchor in LINK.findall(page.read_text()):
        if "://" in target:
            continue
        linked = page.parent / target if target else page
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        ):
            broken.append(f"{target}#{anchor}" if anchor else target)
    assert not broken, f"{relative(page)} links to missing files or headings: {broken}"
