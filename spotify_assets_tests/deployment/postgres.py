"""A throwaway PostgreSQL cluster: initdb in a temp folder, the server on a free loopback port.

The server runs in the foreground as a child of the test (not daemonized by pg_ctl), so it is
stopped by its process id like every other service. As root, initdb and the server run as the
`postgres` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from spotify_assets_tests.deployment import services
from spotify_assets_tests.e2e.dagster_dev import free_port

HOST = "127.0.0.1"
SUPERUSER = "dagster"
PASSWORD = "dagster-test-password"
DATABASE = "dagster"
START_TIMEOUT_S = 30.0
INITDB_TIMEOUT_S = 120.0
SERVER_USER = "postgres"
"""Who runs the server when the tests run as root (Debian's postgresql package creates it)."""
NO_SERVER = (
    "No PostgreSQL server binaries (initdb, postgres) found in /usr/lib/postgresql/*/bin or on "
    "PATH: install them (Debian: apt-get install postgresql; `make test` does it when run as root)."
)
FAST_AND_UNSAFE = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
"""Durability a throwaway cluster does without: it makes the server start and write faster."""


@dataclass(frozen=True)
class Postgres:
    """A running server with an empty database `database` owned by `user`."""

    host: str
    port: int
    user: str
    password: str
    database: str

    def dagster_env(self) -> dict[str, str]:
        """The variables spotify_assets/deploy/dagster.yaml reads its storage settings from."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.database,
        }

    def url(self, database: str | None = None) -> str:
        """A SQLAlchemy URL of `database` (the test database by default), psycopg2 driver."""
        name = database or self.database
        return f"postgresql+psycopg2://{self.user}:{self.password}@{self.host}:{self.port}/{name}"

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """The rows of one SQL statement, as dicts by column name."""
        engine = sqlalchemy.create_engine(self.url())
        try:
            with engine.connect() as connection:
                result = connection.execute(sqlalchemy.text(sql), params)
                return [dict(row) for row in result.mappings()]
        finally:
            engine.dispose()


def server_binaries() -> Path:
    """The bin folder of the newest PostgreSQL server installed; fails saying what to install."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(re.sub(r"\D", "", path.parents[1].name) or 0),
    )
    if candidates:
        return candidates[-1].parent
    on_path = shutil.which("initdb")
    if on_path is None:
        pytest.fail(NO_SERVER)
    return Path(on_path).parent


def server_user() -> str | None:
    """`postgres` when running as root (the server refuses root), else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.fail(
            f"Running as root, the PostgreSQL server needs the system user {SERVER_USER!r}, which "
            "does not exist: install Debian's postgresql package (it creates the user) or run "
            "the tests as a normal user."
        )
    return SERVER_USER


def _owned_by(path: Path, user: str | None) -> None:
    """Hand `path` to `user` (no-op for ourselves)."""
    if user is not None:
        shutil.chown(path, user=user, group=user)


def _initdb(binaries: Path, folder: Path, user: str | None) -> Path:
    """Create the cluster (password auth for TCP) in `folder`/data; return the data folder."""
    password_file = folder / "password"
    password_file.write_text(PASSWORD)
    _owned_by(password_file, user)
    data = folder / "data"
    command = [str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "--no-sync"]
    command += ["--pwfile", str(password_file), "--auth-host=scram-sha-256", "--auth-local=trust"]
    command += ["--encoding=UTF8", "--locale=C"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=INITDB_TIMEOUT_S,
        user=user,
        group=user,
        extra_groups=[] if user else None,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"initdb failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return data


def _accepts_connections(server: Postgres) -> bool:
    """Whether the server answers a login to its maintenance database."""
    engine = sqlalchemy.create_engine(server.url("postgres"))
    try:
        with engine.connect():
            return True
    except sqlalchemy.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _create_database(server: Postgres) -> None:
    """CREATE DATABASE, which cannot run inside a transaction."""
    engine = sqlalchemy.create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{server.database}"'))
    finally:
        engine.dispose()


@contextlib.contextmanager
def running_postgres(log_path: Path) -> Iterator[Postgres]:
    """A fresh cluster on a free port with database `dagster`; stopped and deleted at exit."""
    binaries = server_binaries()
    user = server_user()
    # Not under pytest's temp folder: as root that folder is closed to the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="spotify_assets_pg_"))
    try:
        _owned_by(folder, user)
        data = _initdb(binaries, folder, user)
        port = free_port()
        command = [str(binaries / "postgres"), "-D", str(data), "-p", str(port)]
        command += ["-c", f"listen_addresses={HOST}", "-c", f"unix_socket_directories={folder}"]
        for setting in FAST_AND_UNSAFE:
            command += ["-c", setting]
        server = Postgres(HOST, port, SUPERUSER, PASSWORD, DATABASE)
        env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}
        with services.running(
            f"postgres (as {user or getpass.getuser()})",
            command,
            env=env,
            log_path=log_path,
            user=user,
            stop_signal=signal.SIGINT,  # "fast" shutdown: SIGTERM would wait for every client
        ) as process:
            process.wait_until(
                lambda: _accepts_connections(server), "accepting connections", START_TIMEOUT_S
            )
            _create_database(server)
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)
