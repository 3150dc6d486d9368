"""The HTTP protocol the emulator runs under uvicorn: TCP_NODELAY, connections faults can cut."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

Peer = tuple[str, int]


@dataclass
class Connection:
    """An open client connection: its transport, and an event set once it is gone."""

    transport: asyncio.Transport
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def cut(self) -> None:
        """Abort the connection, unsent bytes dropped, and wait until uvicorn saw it go."""
        # Waiting lets uvicorn mark the request disconnected before the app returns, so it neither
        # writes a 500 of its own nor logs an incomplete response.
        self.transport.abort()
        await self.closed.wait()


class Connections:
    """Open connections by client address, as in scope["client"] (event loop thread only)."""

    def __init__(self) -> None:
        """Start with none."""
        self._open: dict[Peer, Connection] = {}

    def add(self, peer: Peer, transport: asyncio.Transport) -> None:
        """Remember a new connection."""
        self._open[peer] = Connection(transport)

    def remove(self, peer: Peer) -> None:
        """Forget a closed connection and wake whoever waits for it to close."""
        connection = self._open.pop(peer, None)
        if connection is not None:
            connection.closed.set()

    def get(self, peer: Peer) -> Connection | None:
        """The connection a request came on."""
        return self._open.get(peer)


def protocol_class(connections: Connections) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with TCP_NODELAY, registering connections in `connections`."""
    # Uvicorn writes the status line and headers, then the body, as two writes. With Nagle's
    # algorithm on, the second small segment waits for the ACK of the first, which a keep-alive
    # client delays by up to 40 ms: every request would stall. TCP_NODELAY sends both at once.
    # asyncio and uvloop set it on TCP transports already; setting it here makes it explicit.

    class EmulatorHttpProtocol(HttpToolsProtocol):
        """HttpToolsProtocol plus TCP_NODELAY and connection bookkeeping."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            """Disable Nagle, then register the connection under its client address."""
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().connection_made(transport)
            if self.client is not None:
                connections.add(self.client, transport)

        def connection_lost(self, exc: Exception | None) -> None:
            """Let uvicorn mark the request disconnected first, then release waiters."""
            super().connection_lost(exc)
            if self.client is not None:
                connections.remove(self.client)

    return EmulatorHttpProtocol
