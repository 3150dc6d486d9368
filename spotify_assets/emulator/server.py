"""The emulator in-process: uvicorn on its own thread and event loop, on a socket bound here."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

from spotify_assets.emulator.app import create_app
from spotify_assets.emulator.catalog import Catalog
from spotify_assets.emulator.config import EmulatorConfig
from spotify_assets.emulator.faults import Fault
from spotify_assets.emulator.protocol import Connections, protocol_class
from spotify_assets.emulator.state import EmulatorState

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
GRACEFUL_STOP_S = 1.0  # how long running requests may finish once a stop is asked


class _Server(uvicorn.Server):
    """uvicorn.Server that reports readiness and stops in milliseconds, not 0.2 s."""

    # Stock uvicorn polls for exit every 0.1 s and pauses 0.1 s more during shutdown; test suites
    # start and stop hundreds of emulators, so this one wakes at once and waits only as long as
    # open requests need (lifespan is off, so there is no lifespan shutdown to run).

    def __init__(self, config: uvicorn.Config) -> None:
        """Wrap `config`; `ready` is set once startup completed."""
        super().__init__(config)
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start listening, then signal readiness."""
        await super().startup(sockets=sockets)
        self._loop = asyncio.get_running_loop()
        self.ready.set()

    def request_exit(self) -> None:
        """Ask the server to stop now; callable from any thread."""
        self.should_exit = True
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already finished
                self._loop.call_soon_threadsafe(self._wake.set)

    async def main_loop(self) -> None:
        """uvicorn's housekeeping tick every 0.1 s, cut short by request_exit."""
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop accepting, close idle connections, let running requests finish (bounded)."""
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        state = self.server_state
        deadline = time.monotonic() + GRACEFUL_STOP_S
        while (state.connections or state.tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        for task in state.tasks:
            task.cancel()
        for server in self.servers:
            await server.wait_closed()


class EmulatorServer:
    """The emulator on a background thread; a context manager that starts and stops it."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare (catalog included) without listening yet; port 0 picks a free port at start.

        `clock` (monotonic seconds) drives the rate window and token expiry; tests pass a fake
        one to move time without sleeping.
        """
        self._state = EmulatorState(config or EmulatorConfig(), clock)
        self._host = host
        self._requested_port = port
        self._connections = Connections()
        self._socket: socket.socket | None = None
        self._port: int | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> EmulatorServer:
        """Start serving; return self."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        self.stop()

    def start(self) -> None:
        """Bind the socket, run uvicorn on a thread and return once it accepts connections."""
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        sock.listen(socket.SOMAXCONN)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self._state, self._connections),
            http=protocol_class(self._connections),
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_keep_alive=75,
        )
        server = _Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="spotify-emulator", daemon=True
        )
        self._socket, self._server, self._thread = sock, server, thread
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.ready.wait(0.005):
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("spotify emulator failed to start (see the log above)")

    def stop(self) -> None:
        """Ask uvicorn to shut down, wait for its thread and release the socket."""
        if self._server is not None and self._thread is not None:
            self._server.request_exit()
            self._thread.join(STOP_TIMEOUT_S)
        self._cleanup()

    def _cleanup(self) -> None:
        """Close the listening socket and forget the thread."""
        if self._socket is not None:
            self._socket.close()
        self._socket, self._server, self._thread = None, None, None

    @property
    def port(self) -> int:
        """The port actually listened on."""
        if self._port is None:
            raise RuntimeError("emulator not started")
        return self._port

    @property
    def base_url(self) -> str:
        """http://host:port of the emulator."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """Web API base, what SPOTIFY_API_BASE_URL should be."""
        return f"{self.base_url}/v1"

    @property
    def token_url(self) -> str:
        """Token endpoint, what SPOTIFY_TOKEN_URL should be."""
        return f"{self.base_url}/api/token"

    @property
    def config(self) -> EmulatorConfig:
        """The current configuration."""
        return self._state.config

    @property
    def client_id(self) -> str:
        """The one client id the token endpoint accepts."""
        return self._state.config.client_id

    @property
    def client_secret(self) -> str:
        """Its secret."""
        return self._state.config.client_secret

    @property
    def catalog(self) -> Catalog:
        """Ground truth: the catalog being served; `.feed(day, market)` gives any day's feed,
        of one market when asked (each album's `available_markets` says where it is sold)."""
        return self._state.catalog

    def catalog_json(self, day: int | None = None, market: str | None = None) -> dict[str, Any]:
        """Ground truth of the feed of `day` (default today), of `market` when given, as
        /_emulator/catalog returns it."""
        return self._state.catalog_json(self.api_base_url, day, market)

    def stats(self) -> dict[str, Any]:
        """Snapshot of request counters and log."""
        return self._state.stats()

    def configure(self, **changes: Any) -> EmulatorConfig:
        """Apply any subset of the knobs in config.TUNABLE_KEYS at once; returns the new config."""
        return self._state.configure(**changes)

    def add_fault(self, fault: Fault) -> None:
        """Arm a scripted fault."""
        self._state.add_fault(fault)

    def reset(self) -> None:
        """Clear stats, scripted faults, issued tokens and quota spent; keep catalog and config."""
        self._state.reset()
