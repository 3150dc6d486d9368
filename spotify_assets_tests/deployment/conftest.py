"""Fixtures that start real servers: PostgreSQL, SeaweedFS (S3), and the production Dagster stack.

`postgres_server` and `s3_server` are module-scoped and independent of Dagster, for any test that
needs a database or a bucket; `production_stack` puts the emulator, the code server, the daemon
and the webserver on both, configured by spotify_assets/deploy/, storing in the `table_format`
(Parquet unless a module overrides that fixture; Iceberg keeps its catalog in the same
PostgreSQL). Server logs go to spotify_assets_tests/artifacts/deployment/, for CI to keep.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from spotify_assets import settings
from spotify_assets.emulator import EmulatorConfig, EmulatorServer, Mode
from spotify_assets.spotify.memory import CACHE_DIR_ENV
from spotify_assets_tests.deployment.dagster_services import (
    INSTANCE_YAML,
    DagsterServices,
    running_dagster,
)
from spotify_assets_tests.deployment.postgres import Postgres, running_postgres
from spotify_assets_tests.deployment.seaweedfs import S3Server, running_seaweedfs
from spotify_assets_tests.e2e.dagster_dev import DagsterDev

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "deployment"
BUCKET = "spotify-assets"
DATA_PREFIX = "data"
EMULATOR_ALBUMS = 12
EMULATOR_MODE: Mode = "development"
"""A Development Mode app: its first run's browse probe gets a 403, which the client remembers."""
INHERITED_PREFIXES = ("SPOTIFY_", "DAGSTER_", "AWS_")
"""The test's own environment never leaks configuration into the stack."""


@dataclass(frozen=True)
class ProductionStack:
    """Everything a production deployment has, running on 127.0.0.1, and where it keeps things."""

    postgres: Postgres
    s3: S3Server
    emulator: EmulatorServer
    dagster: DagsterServices
    dagster_home: Path
    cache_dir: Path
    """SPOTIFY_ASSETS_CACHE_DIR of the code server and its run workers."""
    data_url: str
    """SPOTIFY_ASSETS_DATA_DIR: s3://bucket/prefix on the SeaweedFS server."""
    table_format: settings.TableFormat
    env: dict[str, str]
    """The environment every process of the deployment gets."""

    @property
    def webserver(self) -> DagsterDev:
        """The webserver's GraphQL API (works with spotify_assets_tests.e2e.queries)."""
        return self.dagster.graphql


@pytest.fixture(scope="module")
def deployment_logs() -> Path:
    """Where the servers' logs go."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def postgres_server(deployment_logs: Path) -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on a free loopback port, database `dagster`, password auth."""
    with running_postgres(deployment_logs / "postgres.log") as server:
        yield server


@pytest.fixture(scope="module")
def s3_server(
    tmp_path_factory: pytest.TempPathFactory, deployment_logs: Path
) -> Iterator[S3Server]:
    """SeaweedFS serving S3 on free loopback ports, with an empty bucket `spotify-assets`."""
    folder = tmp_path_factory.mktemp("seaweedfs")
    with running_seaweedfs(folder, BUCKET, deployment_logs / "seaweedfs.log") as server:
        yield server


@pytest.fixture(scope="module")
def table_format() -> settings.TableFormat:
    """The table format of the production stack."""
    return settings.DEFAULT_TABLE_FORMAT


def stack_env(
    postgres: Postgres,
    s3: S3Server,
    emulator: EmulatorServer,
    home: Path,
    cache: Path,
    *,
    table_format: settings.TableFormat,
) -> dict[str, str]:
    """The environment every process of the deployment gets (docs/deploying.md lists it); each
    table format its own data prefix, so stacks of one module share nothing stored."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(INHERITED_PREFIXES)
    }
    env |= postgres.dagster_env() | s3.client_env()
    env |= {
        "DAGSTER_HOME": str(home),
        "DAGSTER_COMPUTE_LOGS_BUCKET": s3.bucket,
        settings.CLIENT_ID: emulator.client_id,
        settings.CLIENT_SECRET: emulator.client_secret,
        settings.API_BASE_URL: emulator.api_base_url,
        settings.TOKEN_URL: emulator.token_url,
        settings.DATA_DIR: f"s3://{s3.bucket}/{DATA_PREFIX}-{table_format}",
        settings.TABLE_FORMAT: table_format,
        CACHE_DIR_ENV: str(cache),
    }
    if table_format == "iceberg":
        env[settings.ICEBERG_CATALOG_URI] = postgres.url()
    return env


@pytest.fixture(scope="module")
def production_stack(
    tmp_path_factory: pytest.TempPathFactory,
    deployment_logs: Path,
    postgres_server: Postgres,
    s3_server: S3Server,
    table_format: settings.TableFormat,
) -> Iterator[ProductionStack]:
    """Emulator (development mode), code server, daemon and webserver on Postgres and S3."""
    tmp = tmp_path_factory.mktemp("deployment")
    home = tmp / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE_YAML, home / "dagster.yaml")
    cache = tmp / "capability_cache"
    with EmulatorServer(EmulatorConfig(albums=EMULATOR_ALBUMS, mode=EMULATOR_MODE)) as emulator:
        env = stack_env(
            postgres_server, s3_server, emulator, home, cache, table_format=table_format
        )
        with running_dagster(env, cwd=tmp, logs=deployment_logs) as dagster:
            yield ProductionStack(
                postgres=postgres_server,
                s3=s3_server,
                emulator=emulator,
                dagster=dagster,
                dagster_home=home,
                cache_dir=cache,
                data_url=env[settings.DATA_DIR],
                table_format=table_format,
                env=env,
            )
