"""A team's own `dg` project, made here from nothing, takes the component as docs/component.md
says: `dg scaffold defs`, an edited defs.yaml, `dg check defs`, `dg list defs`, and `dg launch`
of today's partition against the emulator, which lands both assets where the YAML says; then,
with `table_format: iceberg` and the catalog URI given as `{{ env.NAME }}`, one more launch lands
both as Iceberg tables, read back with pyiceberg.

The project gets no virtualenv of its own: `dg` runs from this one, where spotify_assets is
installed (its entry point is what lets `dg` find the component), and loads the project from its
folder. The environment points at the emulator and sets SPOTIFY_ASSETS_DATA_DIR, which the YAML's
data_dir overrides.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pyiceberg.catalog.sql import SqlCatalog

from spotify_assets.contract import names
from spotify_assets.defs.iceberg.location import CATALOG_NAME
from spotify_assets.defs.spotify.partitions import today
from spotify_assets.defs.spotify.schedules import DAILY_JOB_NAME, DAILY_SCHEDULE_NAME
from spotify_assets.emulator.records import Album
from spotify_assets_tests.conftest import EmulatorFactory, emulator_environment, run_command

DG = Path(sys.executable).parent / "dg"
COMPONENT = "spotify_assets.defs.spotify.component.SpotifyAssetsComponent"
PACKAGE = "team_project"
ALBUMS = 12
TRACKS_PAGE = 50
SEARCH_PAGE = 10
NAMESPACE = "music"
CATALOG_VARIABLE = "TEAM_ICEBERG_CATALOG_URI"
TEST_TIMEOUT_S = 900
"""Six `dg` commands, 82 s for the first five on a quiet machine; the suite's 300 s per test is
too tight when other processes share the 2 cores."""
DEFINITIONS_PY = """\
from pathlib import Path

from dagster import definitions, load_from_defs_folder


@definitions
def defs():
    return load_from_defs_folder(path_within_project=Path(__file__).parent)
"""
"""What `create-dagster project` writes as the project's definitions.py."""


def new_dg_project(root: Path) -> Path:
    """A minimal `dg` project in `root`, as `create-dagster project` lays one out: pyproject.toml
    with [tool.dg], a package with definitions.py and an empty defs folder."""
    package = root / PACKAGE
    (package / "defs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "{PACKAGE}"
            version = "0.1.0"
            requires-python = ">=3.11"
            dependencies = ["spotify_assets"]

            [tool.dg]
            directory_type = "project"

            [tool.dg.project]
            root_module = "{PACKAGE}"
            """
        )
    )
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (package / "definitions.py").write_text(DEFINITIONS_PY)
    return root


def dg(project: Path, environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `dg` in `project` to completion; fail with its output if it fails."""
    done = run_command([DG, *args], project, environ)
    assert done.returncode == 0, f"dg {' '.join(args)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done


@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_a_fresh_dg_project_scaffolds_checks_and_launches_the_component(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(albums=ALBUMS, mode="development")
    project = new_dg_project(tmp_path / "team")
    environ = emulator_environment(emu, tmp_path)

    listed = json.loads(dg(project, environ, "list", "components", "--json").stdout)
    assert COMPONENT in {item["key"] for item in listed["items"]}

    dg(project, environ, "scaffold", "defs", COMPONENT, "spotify")
    defs_yaml = project / PACKAGE / "defs" / "spotify" / "defs.yaml"
    assert "Credentials never go here" in defs_yaml.read_text()
    edited = yaml.safe_load(defs_yaml.read_text())
    lake = tmp_path / "lake"
    edited["attributes"] |= {"group_name": "music", "storage": {"data_dir": str(lake)}}
    defs_yaml.write_text(yaml.safe_dump(edited))

    checked = dg(project, environ, "check", "defs")
    assert "All definitions loaded successfully." in checked.stdout + checked.stderr

    listed = json.loads(dg(project, environ, "list", "defs", "--json").stdout)
    assert {(a["asset_key"], a["group_name"]) for a in listed["assets"]} == {
        (names.NEW_RELEASES, "music"),
        (names.ALBUM_TRACKS, "music"),
    }
    assert len(listed["asset_checks"]) == 7
    assert [j["name"] for j in listed["jobs"]] == [DAILY_JOB_NAME]
    assert [s["name"] for s in listed["schedules"]] == [DAILY_SCHEDULE_NAME]

    day = today().isoformat()
    dg(project, environ, "launch", "--job", DAILY_JOB_NAME, "--partition", day)

    releases = pd.read_parquet(lake / names.NEW_RELEASES / f"{day}.parquet")
    tracks = pd.read_parquet(lake / names.ALBUM_TRACKS / f"{day}.parquet")
    albums = emu.catalog.albums
    assert releases["album_id"].tolist() == [album.id for album in albums]
    assert len(tracks) == sum(len(album.tracks) for album in albums)
    assert set(tracks["album_id"]) == {album.id for album in albums}
    assert not (tmp_path / "data").exists(), "the environment's data dir won over the YAML's"
    assert_fetched_once(emu.stats()["by_endpoint"], albums)

    catalog_uri = f"sqlite:///{tmp_path / 'catalog.db'}"
    environ[CATALOG_VARIABLE] = catalog_uri
    lakehouse = tmp_path / "lakehouse"
    edited["attributes"]["storage"] = {
        "data_dir": str(lakehouse),
        "table_format": "iceberg",
        "iceberg": {"catalog_uri": f"{{{{ env.{CATALOG_VARIABLE} }}}}", "namespace": NAMESPACE},
    }
    defs_yaml.write_text(yaml.safe_dump(edited))
    emu.reset()
    dg(project, environ, "launch", "--job", DAILY_JOB_NAME, "--partition", day)

    catalog = SqlCatalog(CATALOG_NAME, uri=catalog_uri)
    assert sorted(catalog.list_tables(NAMESPACE)) == [
        (NAMESPACE, names.ALBUM_TRACKS),
        (NAMESPACE, names.NEW_RELEASES),
    ]
    releases = read_day(catalog, names.NEW_RELEASES, day).sort_values("position")
    tracks = read_day(catalog, names.ALBUM_TRACKS, day)
    assert releases["album_id"].tolist() == [album.id for album in albums]
    assert len(tracks) == sum(len(album.tracks) for album in albums)
    assert set(tracks["album_id"]) == {album.id for album in albums}
    assert (lakehouse / "iceberg").is_dir() and not (lakehouse / names.NEW_RELEASES).exists()
    assert catalog_uri not in defs_yaml.read_text()
    assert_fetched_once(emu.stats()["by_endpoint"], albums)


def read_day(catalog: SqlCatalog, asset: str, day: str) -> pd.DataFrame:
    """The rows of `asset`'s Iceberg table stored for `day`."""
    table = catalog.load_table(f"{NAMESPACE}.{asset}")
    return table.scan(row_filter=f"snapshot_date = '{day}'").to_pandas()


def assert_fetched_once(served: dict[str, int], albums: Sequence[Album]) -> None:
    """The emulator served the feed and every album's tracks once: no more, no fewer pages."""
    assert served["search"] == math.ceil(ALBUMS / SEARCH_PAGE)
    assert served["album_tracks"] == sum(
        math.ceil(len(album.tracks) / TRACKS_PAGE) for album in albums
    )
