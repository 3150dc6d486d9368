"""HTTP responses the emulator sends: Spotify JSON, OAuth errors, proxy HTML, cut connections."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from spotify_assets.emulator.objects import JSON, error_body
from spotify_assets.emulator.protocol import Connections

JSON_TYPE = "application/json; charset=utf-8"
# Status recorded for a request whose connection was cut before any response byte left.
DROPPED_STATUS = 0


@dataclass(frozen=True)
class Reply:
    """A JSON answer before it becomes bytes, so faults can still rewrite it."""

    status: int
    body: JSON

    def response(self) -> Response:
        """The HTTP response for this reply."""
        return json_response(self.body, self.status)


class ApiError(Exception):
    """A Web API error answer raised from request handling (validation, 404, 403)."""

    def __init__(self, status: int, message: str) -> None:
        """Remember status and message for the error body."""
        super().__init__(message)
        self.status = status
        self.message = message

    def reply(self) -> Reply:
        """The error as a Web API error reply."""
        return Reply(self.status, error_body(self.status, self.message))


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """Compact UTF-8 JSON, as Spotify sends it."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status, dict(headers or {}), media_type=JSON_TYPE)


def api_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """Web API error: {"error": {"status", "message"}}."""
    return json_response(error_body(status, message), status, headers)


def oauth_error(
    status: int, error: str, description: str, headers: Mapping[str, str] | None = None
) -> Response:
    """Accounts-service error in OAuth 2 shape: {"error", "error_description"}."""
    return json_response({"error": error, "error_description": description}, status, headers)


def phrase(status: int) -> str:
    """The reason phrase of a status ("Bad Gateway")."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def html_error(status: int) -> Response:
    """An HTML error page like a CDN or proxy in front of the API sends."""
    text = f"{status} {phrase(status)}"
    page = f"<html><head><title>{text}</title></head><body><h1>{text}</h1></body></html>"
    return Response(page, status, media_type="text/html; charset=utf-8")


class DroppedConnection(Response):
    """Closes the TCP connection without sending a single byte of response."""

    def __init__(self, connections: Connections) -> None:
        """Cut the connection the request came on, found in `connections`."""
        super().__init__(b"", DROPPED_STATUS)
        self._connections = connections

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Abort the transport instead of answering."""
        connection = self._connections.get(_peer(scope))
        if connection is not None:
            await connection.cut()


class TruncatedResponse(Response):
    """Sends status, headers and the full Content-Length, then half the body, then closes."""

    def __init__(self, full: Response, connections: Connections) -> None:
        """Wrap a finished response `full`, cutting its body short on the wire."""
        super().__init__(full.body, full.status_code)
        self.raw_headers = full.raw_headers
        self._connections = connections

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the start and a partial body, then abort the connection."""
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send(
            {
                "type": "http.response.body",
                "body": self.body[: len(self.body) // 2],
                "more_body": True,
            }
        )
        connection = self._connections.get(_peer(scope))
        if connection is not None:
            await connection.cut()


class TrickledResponse(Response):
    """Sends status, headers and the full Content-Length, then the body `step` bytes at a time
    every `pause_s`: each wait for bytes is short, the whole answer is not."""

    def __init__(self, full: Response, pause_s: float, step: int = 8) -> None:
        """Wrap a finished response `full`, sending its body slowly."""
        super().__init__(full.body, full.status_code)
        self.raw_headers = full.raw_headers
        self._pause_s = pause_s
        self._step = step

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the start, then the body in small pieces with a pause before each."""
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        for start in range(0, len(self.body), self._step):
            await asyncio.sleep(self._pause_s)
            piece = self.body[start : start + self._step]
            more = start + self._step < len(self.body)
            await send({"type": "http.response.body", "body": piece, "more_body": more})


def _peer(scope: Scope) -> tuple[str, int]:
    """The client address of a request, as the protocol registered its connection."""
    host, port = scope["client"]
    return host, port
