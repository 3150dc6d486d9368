"""The code location as users run it: `defs`, the schedule, `dg launch`, `make run`, `make dev`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import psutil
import pytest
import requests
from dagster import FreshnessPolicy, TableSchema, build_schedule_context
from pyiceberg.catalog.sql import SqlCatalog

from spotify_assets import settings
from spotify_assets.definitions import defs
from spotify_assets.defs.iceberg.location import CATALOG_NAME
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.defs.spotify.schedules import DAILY_JOB_NAME, DAILY_SCHEDULE_NAME
from spotify_assets.local import cli
from spotify_assets_tests.conftest import (
    SUPERSEDED,
    EmulatorFactory,
    clean_environment,
    emulator_environment,
    project_in,
    run_command,
)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
THREE = ("US", "SE", "DE")
MAKE_RUN: list[str | Path] = [sys.executable, "-m", "spotify_assets.local", "run"]


def test_defs_hold_the_graph_the_job_and_a_schedule_for_today() -> None:
    definitions = defs()
    job = definitions.resolve_job_def(DAILY_JOB_NAME)
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == {
        "new_releases",
        "album_tracks",
    }
    graph = definitions.resolve_asset_graph()
    assert graph.get(
        next(k for k in graph.get_all_asset_keys() if k.path == ["album_tracks"])
    ).parent_keys == {next(k for k in graph.get_all_asset_keys() if k.path == ["new_releases"])}
    tick = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    context = build_schedule_context(
        scheduled_execution_time=tick, repository_def=definitions.get_repository_def()
    )
    schedule = definitions.resolve_schedule_def(DAILY_SCHEDULE_NAME)
    [request] = schedule.evaluate_tick(context).run_requests or []
    assert request.partition_key == today().isoformat()
    assert schedule.cron_schedule == "0 6 * * *"
    late = build_schedule_context(
        scheduled_execution_time=tick - timedelta(days=2),
        repository_def=definitions.get_repository_def(),
    )
    skipped = schedule.evaluate_tick(late)
    assert not skipped.run_requests
    assert f"tick came on {today()}" in (skipped.skip_message or "")


def test_the_catalog_names_owners_tags_versions_freshness_and_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(settings.GIT_URL, "https://github.com/example-org/spotify_assets")
    specs = {spec.key.to_user_string(): spec for spec in defs().resolve_all_asset_specs()}
    assert set(specs) == {"new_releases", "album_tracks"}
    for name, spec in specs.items():
        assert spec.owners == ["team:data-engineering"]
        assert spec.tags == {
            "source": "spotify",
            "refresh": "daily",
            "dagster/kind/python": "",
            "dagster/kind/parquet": "",
        }
        assert spec.code_version == "2"
        assert spec.freshness_policy == FreshnessPolicy.cron(
            deadline_cron="0 8 * * *", lower_bound_delta=timedelta(hours=2)
        )
        assert isinstance(spec.metadata["dagster/column_schema"], TableSchema)
        repository = "https://github.com/example-org/spotify_assets/tree/main/spotify_assets"
        component, source = spec.metadata["dagster/code_references"].code_references
        assert component.url == f"{repository}/defs/spotify/defs.yaml#L3", name
        assert source.url.startswith(f"{repository}/defs/spotify/assets.py#L"), name
    monkeypatch.setenv(settings.GIT_BRANCH, "release")
    [on_branch, _] = [
        spec.metadata["dagster/code_references"].code_references[1]
        for spec in defs().resolve_all_asset_specs()
    ]
    assert "/tree/release/" in on_branch.url
    monkeypatch.delenv(settings.GIT_URL)
    [(component, local), _] = [
        spec.metadata["dagster/code_references"].code_references
        for spec in defs().resolve_all_asset_specs()
    ]
    assert component.file_path == str(ROOT / "spotify_assets" / "defs" / "spotify" / "defs.yaml")
    assert local.file_path == str(ROOT / "spotify_assets" / "defs" / "spotify" / "assets.py")


def test_configuration_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.API_BASE_URL, "http://proxy.internal/v1")
    monkeypatch.setenv(settings.NEW_RELEASES_SOURCE, "search")
    monkeypatch.setenv(settings.MARKETS, "US, SE,DE")
    monkeypatch.setenv(settings.DATA_DIR, "s3://bucket/prefix")
    resources = defs().resources or {}
    spotify = resources["spotify"]
    assert (spotify.api_base_url, spotify.new_releases_source, spotify.markets) == (
        "http://proxy.internal/v1",
        "search",
        ["US", "SE", "DE"],
    )
    assert resources["data_storage"].data["data_dir"] == "s3://bucket/prefix"
    monkeypatch.setenv(settings.NEW_RELEASES_SOURCE, "charts")
    with pytest.raises(Exception, match="spotify") as refused:
        defs()
    assert isinstance(refused.value.__cause__, ValueError)
    assert "SPOTIFY_NEW_RELEASES_SOURCE='charts': " in str(refused.value.__cause__)
    assert "'auto', 'browse' or 'search'" in str(refused.value.__cause__)


@pytest.mark.parametrize(
    ("environ", "markets"),
    [
        ({}, ()),
        ({"SPOTIFY_MARKET": "SE"}, ("SE",)),
        ({"SPOTIFY_MARKETS": "US,SE,DE"}, THREE),
        ({"SPOTIFY_MARKETS": " GB , XK "}, ("GB", "XK")),
        ({"SPOTIFY_MARKETS": " "}, ()),
    ],
)
def test_spotify_market_is_the_one_market_alias_of_spotify_markets(
    environ: dict[str, str], markets: tuple[str, ...]
) -> None:
    assert settings.Settings.from_environ(environ).markets == markets


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        ({"SPOTIFY_MARKETS": "US,se"}, r"SPOTIFY_MARKETS must list distinct ISO 3166-1 .*'se'"),
        ({"SPOTIFY_MARKETS": "US,,DE"}, r"SPOTIFY_MARKETS must .* not 'US,,DE'"),
        ({"SPOTIFY_MARKETS": "SE,SE"}, r"SPOTIFY_MARKETS must list distinct"),
        ({"SPOTIFY_MARKET": "SWE"}, r"SPOTIFY_MARKET must .*'SWE' is not such a code"),
        ({"SPOTIFY_MARKETS": "US,UK"}, r"'UK' is not such a code \(the United Kingdom is GB\)"),
        ({"SPOTIFY_MARKETS": "US,XX,EU"}, r"not 'US,XX,EU': 'XX', 'EU' is not such a code\. Fix"),
        ({"SPOTIFY_MARKET": "US,SE"}, r"SPOTIFY_MARKET names one market; list several in SPOT"),
        ({"SPOTIFY_MARKET": "SE", "SPOTIFY_MARKETS": "US"}, r"Both SPOTIFY_MARKETS and SPOTIFY_M"),
    ],
)
def test_a_market_list_that_cannot_work_fails_naming_the_variable(
    environ: dict[str, str], said: str
) -> None:
    with pytest.raises(ValueError, match=said):
        settings.Settings.from_environ(environ)


def dg_launch_today(tmp_path: Path) -> list[str | Path]:
    """`dg launch` of both assets for today, from a stand-in for the clone in tmp_path."""
    project_in(tmp_path)
    return [BIN / "dg", "launch", "--assets", "*", "--partition", str(today())]


def test_dg_launch_works_headless(emulator_factory: EmulatorFactory, tmp_path: Path) -> None:
    emu = emulator_factory(albums=20, mode="development")
    done = run_command(dg_launch_today(tmp_path), tmp_path, emulator_environment(emu, tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert SUPERSEDED not in done.stdout + done.stderr
    tracks = pd.read_parquet(tmp_path / "data" / "album_tracks" / f"{today()}.parquet")
    assert tracks["album_id"].nunique() == 20
    assert emu.stats()["by_endpoint"]["search"] == 2


def test_dg_launch_without_credentials_fails_at_once_naming_them(tmp_path: Path) -> None:
    done = run_command(dg_launch_today(tmp_path), tmp_path, clean_environment(tmp_path))
    assert done.returncode != 0
    for variable in (settings.CLIENT_ID, settings.CLIENT_SECRET):
        assert f'environment variable "{variable}" which is not set' in done.stderr
    assert not (tmp_path / "data").exists()


def processes_started_in(folder: Path) -> list[psutil.Process]:
    """Processes still running with `folder` as their working directory (what a command run
    there started and left behind)."""
    found = []
    for process in psutil.process_iter(["cwd"]):
        if process.info["cwd"] == str(folder) and process.pid != os.getpid():
            found.append(process)
    return found


def test_make_run_without_credentials_uses_the_emulator_and_stops_it(tmp_path: Path) -> None:
    done = run_command(
        [sys.executable, "-m", "spotify_assets.local", "--emulator-albums", "25", "run"],
        tmp_path,
        clean_environment(tmp_path),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert SUPERSEDED not in out + done.stderr
    assert "NO SPOTIFY CREDENTIALS" in out and "bundled emulator" in out
    assert "checks        7 passed, 0 failed" in out
    data = tmp_path / "data" / "emulator"
    assert f"{data / 'album_tracks' / today().isoformat()}.parquet" in out
    releases = pd.read_parquet(data / "new_releases")
    assert len(releases) == 25 and set(releases["source"]) == {"search"}
    home = tmp_path / ".dagster_home-emulator"
    assert (home / "dagster.yaml").read_text().count("default_limit: 1") == 1
    assert not list((tmp_path / "dagster_home").iterdir()), "the real instance was touched"
    assert processes_started_in(tmp_path) == []
    # The next make run finds what this one learned: browse's 403 is not asked again (the
    # emulator listens on the same port, and the app memory is kept per API origin).
    again = run_command(
        [sys.executable, "-m", "spotify_assets.local", "--emulator-albums", "25", "run"],
        tmp_path,
        clean_environment(tmp_path),
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    memory = json.loads((data / "_spotify_assets" / "app_memory.json").read_text())
    assert len(memory) == 1, memory
    assert "3 to the API" in again.stdout  # the feed's 3 search pages; every album reused


def test_make_run_on_the_emulator_never_writes_into_the_configured_iceberg_catalog(
    tmp_path: Path,
) -> None:
    real_catalog = tmp_path / "real-catalog.db"
    real_data = tmp_path / "real-data"
    (tmp_path / ".env").write_text(f"{settings.ICEBERG_CATALOG_URI}=sqlite:///{real_catalog}\n")
    environment = clean_environment(
        tmp_path, **{settings.TABLE_FORMAT: "iceberg", settings.DATA_DIR: str(real_data)}
    )
    done = run_command(
        [sys.executable, "-m", "spotify_assets.local", "--emulator-albums", "5", "run"],
        tmp_path,
        environment,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    emulated_catalog = tmp_path / "data" / "emulator" / "_spotify_assets" / "iceberg.db"
    assert (
        f"Its Iceberg tables are in the SQLite catalog {emulated_catalog}, not in the catalog "
        f"{settings.ICEBERG_CATALOG_URI} names (ignored for this run)."
    ) in " ".join(done.stdout.split())
    assert "spotify.new_releases (snapshot " in done.stdout
    assert not real_catalog.exists()
    assert f"not to {real_data} ({settings.DATA_DIR}, ignored for this run)" in " ".join(
        done.stdout.split()
    )
    assert not real_data.exists()
    catalog = SqlCatalog(CATALOG_NAME, uri=f"sqlite:///{emulated_catalog}")
    assert len(catalog.load_table("spotify.new_releases").scan().to_arrow()) == 5
    assert processes_started_in(tmp_path) == []


def test_make_run_with_half_the_credentials_names_the_missing_one(tmp_path: Path) -> None:
    environment = clean_environment(tmp_path, SPOTIFY_CLIENT_ID="my-app")
    done = run_command(MAKE_RUN, tmp_path, environment)
    assert done.returncode == 1
    assert "SPOTIFY_CLIENT_SECRET is not set but SPOTIFY_CLIENT_ID is" in done.stderr
    assert processes_started_in(tmp_path) == []


def test_make_run_with_a_wrong_market_list_says_so_without_a_traceback(tmp_path: Path) -> None:
    done = run_command(MAKE_RUN, tmp_path, clean_environment(tmp_path, SPOTIFY_MARKETS="US,uk"))
    assert done.returncode == 1
    assert done.stderr.startswith("SPOTIFY_MARKETS must list distinct ISO 3166-1 alpha-2")
    assert "'uk' is not such a code" in done.stderr and "Traceback" not in done.stderr
    assert processes_started_in(tmp_path) == []


def test_make_run_with_credentials_talks_to_the_configured_api(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(albums=12, mode="extended")
    done = run_command(
        [sys.executable, "-m", "spotify_assets.local", "run"],
        tmp_path,
        emulator_environment(emu, tmp_path),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "NO SPOTIFY CREDENTIALS" not in done.stdout
    assert f"Spotify at {emu.api_base_url}" in done.stdout
    assert emu.stats()["by_endpoint"]["albums"] == 1


def test_make_run_reports_a_failing_check_and_exits_non_zero(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(albums=12, mode="extended")
    emu.configure(total_offset=1)
    done = run_command(
        [sys.executable, "-m", "spotify_assets.local", "run"],
        tmp_path,
        emulator_environment(emu, tmp_path),
    )
    assert done.returncode == 1
    assert "FAIL new_releases.rows_match_api_total: 12 albums stored, but Spotify reported" in (
        done.stdout
    )
    assert "album_tracks  not materialized" in done.stdout


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_make_dev_serves_the_ui_on_the_emulator_and_stops_everything_on_sigterm(
    tmp_path: Path,
) -> None:
    project_in(tmp_path)
    port = free_port()
    command = [sys.executable, "-m", "spotify_assets.local", "--emulator-albums", "5"]
    # Started as a script's background job is: with SIGINT ignored, which its children inherit.
    ignoring_sigint = ["sh", "-c", 'trap "" INT; exec "$@"', "sh"]
    process = subprocess.Popen(
        [*ignoring_sigint, *command, "dev", "--port", str(port)],
        cwd=tmp_path,
        env=clean_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "make dev ended on its own"
            try:
                info = requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the Dagster UI never answered"
                time.sleep(0.5)
        assert info.json()["dagster_version"]
        # The pool holds one run from the start, before the daemon's first pass made its row.
        limits = requests.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ instance { concurrencyLimits { concurrencyKey slotCount } } }"},
            timeout=10,
        ).json()["data"]["instance"]["concurrencyLimits"]
        assert {"concurrencyKey": "spotify_api", "slotCount": 1} in limits
        started = processes_started_in(tmp_path)
        assert any("spotify_assets.emulator" in " ".join(p.cmdline()) for p in started)
        process.send_signal(signal.SIGTERM)
        # dg dev gives the webserver, then the daemon (which may still be starting), 60 s each
        # to stop before it kills them: on a loaded machine a clean stop can take over a minute.
        output, _ = process.communicate(timeout=150)
    finally:
        if process.poll() is None:  # a failed assertion above: stop all it started, too
            process.kill()
            for leftover in processes_started_in(tmp_path):
                leftover.kill()
    assert process.returncode == 0
    assert "NO SPOTIFY CREDENTIALS" in output
    assert SUPERSEDED not in output
    assert "virtual environment does not match" not in output
    psutil.wait_procs(started, timeout=30)
    assert processes_started_in(tmp_path) == []


def test_what_a_command_leaves_running_is_stopped_when_it_ends(tmp_path: Path) -> None:
    # As dg dev can leave a dagster code server behind: the command ends, its child runs on.
    # The child takes SIGTERM's default itself: this test process may ignore it (dagster maps
    # SIGTERM to SIGINT's handler, ignored when the suite runs as a background job).
    marker = tmp_path / "left.pid"
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text(
        "import os, pathlib, signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
        "pathlib.Path(sys.argv[1]).write_text(str(os.getpid()))\n"
        "time.sleep(300)\n"
    )
    leave = tmp_path / "leave.py"  # starts the sleeper and ends once it runs
    leave.write_text(
        "import pathlib, subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, sys.argv[1], sys.argv[2]])\n"
        "while not pathlib.Path(sys.argv[2]).exists():\n"
        "    time.sleep(0.01)\n"
    )
    started = time.monotonic()
    command = [sys.executable, str(leave), str(sleeper), str(marker)]
    assert cli._wait(cli._start(command, os.environ)) == 0
    left = int(marker.read_text())
    assert not psutil.pid_exists(left) or psutil.Process(left).wait(timeout=1) is None
    assert time.monotonic() - started < cli.STOP_GRACE_S


def test_make_dev_refuses_an_env_file_that_would_override_the_emulator(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "SPOTIFY_CLIENT_ID=\nSPOTIFY_CLIENT_SECRET=\nSPOTIFY_ASSETS_ICEBERG_CATALOG_URI=sqlite://\n"
    )
    command: list[str | Path] = [sys.executable, "-m", "spotify_assets.local", "dev"]
    done = run_command(command, tmp_path, clean_environment(tmp_path))
    assert done.returncode == 1
    assert (
        ".env sets SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, SPOTIFY_ASSETS_ICEBERG_CATALOG_URI, "
        "which dg dev"
    ) in done.stderr
    assert processes_started_in(tmp_path) == []
