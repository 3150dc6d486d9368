"""`dg dev` in a subprocess: on a free port, ready once the location loads, stopped whole.

It runs in its own session so the webserver, the daemon, the code server and the run workers can
all be found (and killed) at the end, whatever happened in between.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from spotify_assets_tests.e2e import processes

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
LOAD_TIMEOUT_S = 120.0
"""Start to code location loaded: ~5 s here; generous for a slow CI machine."""
GRACEFUL_STOP_S = 30.0
"""How long `dg dev` may take to shut its services down after Ctrl-C."""
POLL_S = 0.25
REQUEST_TIMEOUT_S = 30.0
LOG_TAIL_CHARS = 6000

WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message errorChain { error { message } } }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""


def free_port() -> int:
    """A TCP port nobody listens on right now on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class DagsterDev:
    """A running `dg dev` in the project's folder, its URL, its GraphQL API and its log (also
    the GraphQL client of any webserver, see spotify_assets_tests.deployment)."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        """Wrap a started `dg dev` process listening (soon) on `port`."""
        self.process = process
        self.url = f"http://{HOST}:{port}"
        self.log_path = log_path
        self._session = requests.Session()

    @classmethod
    @contextlib.contextmanager
    def running(
        cls, cwd: Path, env: dict[str, str], log_path: Path, location: str
    ) -> Iterator[DagsterDev]:
        """Start it, wait until `location` is loaded, and stop every process it started at exit."""
        port = free_port()
        command = [str(BIN / "dg"), "dev", "--host", HOST, "--port", str(port)]
        with _sigint_not_ignored():
            process = processes.start(command, log_path=log_path, env=env, cwd=cwd)
        dagster = cls(process, port, log_path)
        try:
            dagster.wait_until_loaded(location)
            yield dagster
        finally:
            dagster.stop()

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """The `data` of a GraphQL request; fails on any GraphQL error."""
        response = self._session.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            timeout=REQUEST_TIMEOUT_S,
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        assert not body.get("errors"), f"GraphQL errors: {body['errors']}"
        data: dict[str, Any] = body["data"]
        return data

    def wait_until_loaded(self, location: str, timeout_s: float = LOAD_TIMEOUT_S) -> None:
        """Poll /server_info, then the workspace, until `location` is LOADED without error."""
        deadline = time.monotonic() + timeout_s
        status = "webserver not answering"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"dg dev exited with code {self.process.returncode} before {location} "
                    f"loaded:\n{self.log_tail()}"
                )
            status = self._location_status(location)
            if status == "LOADED":
                return
            time.sleep(POLL_S)
        raise AssertionError(
            f"code location {location} not loaded within {timeout_s:.0f} s (last status: "
            f"{status}):\n{self.log_tail()}"
        )

    def _location_status(self, location: str) -> str:
        """LOADED, LOADING, ... for `location`; fails at once when it loaded with an error."""
        try:
            self._session.get(f"{self.url}/server_info", timeout=REQUEST_TIMEOUT_S)
        except requests.ConnectionError:
            return "webserver not answering"
        workspace = self.graphql(WORKSPACE_QUERY)["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", f"workspace unavailable: {workspace}"
        entries = {entry["name"]: entry for entry in workspace["locationEntries"]}
        if location not in entries:
            return f"no location {location} yet (locations: {sorted(entries)})"
        entry = entries[location]
        loaded = entry["locationOrLoadError"] or {}
        if loaded.get("__typename") == "PythonError":
            causes = [link["error"]["message"] for link in loaded["errorChain"]]
            chain = [loaded["message"], *causes]
            raise AssertionError(f"code location {location} failed to load: " + "\n".join(chain))
        status: str = entry["loadStatus"]
        return status

    def log_tail(self) -> str:
        """The end of dg dev's combined output (webserver, daemon, code server)."""
        return processes.log_tail(self.log_path, LOG_TAIL_CHARS)

    def stop(self) -> None:
        """Ctrl-C `dg dev`, kill whatever is left after a grace period; nothing may survive."""
        self._session.close()
        processes.stop(self.process, signal.SIGINT, GRACEFUL_STOP_S)


@contextlib.contextmanager
def _sigint_not_ignored() -> Iterator[None]:
    """Let children started here take Ctrl-C even when this process ignores SIGINT.

    A background job (`make test &`) starts with SIGINT ignored and its children inherit that;
    `dg dev` would then ignore SIGINT and SIGTERM (it maps one to the other) and only die by
    SIGKILL. A handler, unlike an ignored signal, is reset to the default in a child.
    """
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
