"""The production Dagster topology as separate processes on one instance: code server, daemon,
webserver, each started the way docs/deploying.md tells (run workers are children of the code
server, through the default run launcher).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dagster._core.errors import DagsterUserCodeUnreachableError
from dagster._grpc.client import DagsterGrpcClient

from spotify_assets.defs.spotify.assets import POOL
from spotify_assets_tests.deployment import services
from spotify_assets_tests.e2e.dagster_dev import DagsterDev, free_port
from spotify_assets_tests.e2e.queries import LOCATION

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
DEPLOY = Path(__file__).resolve().parents[2] / "spotify_assets" / "deploy"
INSTANCE_YAML = DEPLOY / "dagster.yaml"
WORKSPACE_YAML = DEPLOY / "workspace.yaml"
CODE_MODULE = "spotify_assets.definitions"
CODE_SERVER_TIMEOUT_S = 90.0
"""Start to serving: importing Dagster and the code location, ~10 s on two busy cores."""
WEBSERVER_TIMEOUT_S = 90.0
CLI_TIMEOUT_S = 60.0
POOL_LIMIT = 1


@dataclass(frozen=True)
class DagsterServices:
    """The running processes and the webserver's GraphQL API (reusing the e2e helper's client)."""

    code_server: services.Service
    daemon: services.Service
    webserver: services.Service
    graphql: DagsterDev


def _code_server_serving(port: int) -> bool:
    """Whether the code server answers a ping over gRPC."""
    try:
        DagsterGrpcClient(port=port, host=HOST).ping("ready?")
    except DagsterUserCodeUnreachableError:
        return False
    return True


def set_pool_limit(env: dict[str, str], cwd: Path) -> None:
    """Record the spotify_api pool's limit in the instance, the deployment step docs/deploying.md
    prescribes: until a pool exists in storage, the daemon's first dequeue treats it as unlimited
    and launches every queued run at once (the default_limit is applied one pass too late)."""
    command = [str(BIN / "dagster"), "instance", "concurrency", "set", POOL, str(POOL_LIMIT)]
    done = subprocess.run(
        command,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}"


@contextlib.contextmanager
def running_dagster(env: dict[str, str], cwd: Path, logs: Path) -> Iterator[DagsterServices]:
    """Start the code server, then the daemon and the webserver on it; stop all at exit.

    `env` must hold DAGSTER_HOME (a folder with the production dagster.yaml) and whatever that
    configuration and the code location read; the code server's port is added here.
    """
    port = free_port()
    env = {**env, "DAGSTER_CODE_SERVER_HOST": HOST, "DAGSTER_CODE_SERVER_PORT": str(port)}
    code_command = [str(BIN / "dagster"), "api", "grpc", "--module-name", CODE_MODULE]
    code_command += ["--host", HOST, "--port", str(port)]
    daemon_command = [str(BIN / "dagster-daemon"), "run", "-w", str(WORKSPACE_YAML)]
    web_port = free_port()
    web_command = [str(BIN / "dagster-webserver"), "-w", str(WORKSPACE_YAML)]
    web_command += ["-h", HOST, "-p", str(web_port)]
    # First, as a deployment would: creates the schema, so no two services race to create it.
    set_pool_limit(env, cwd)
    with contextlib.ExitStack() as stack:
        code_server = stack.enter_context(
            services.running(
                "dagster code server",
                code_command,
                env=env,
                log_path=logs / "code_server.log",
                cwd=cwd,
            )
        )
        code_server.wait_until(
            lambda: _code_server_serving(port), "serving gRPC", CODE_SERVER_TIMEOUT_S
        )
        daemon = stack.enter_context(
            services.running(
                "dagster-daemon", daemon_command, env=env, log_path=logs / "daemon.log", cwd=cwd
            )
        )
        webserver = stack.enter_context(
            services.running(
                "dagster-webserver",
                web_command,
                env=env,
                log_path=logs / "webserver.log",
                cwd=cwd,
            )
        )
        graphql = DagsterDev(webserver.process, web_port, webserver.log_path)
        graphql.wait_until_loaded(LOCATION, WEBSERVER_TIMEOUT_S)
        yield DagsterServices(code_server, daemon, webserver, graphql)
