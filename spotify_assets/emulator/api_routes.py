"""The Web API and token routes, and the request pipeline every one of them runs through."""

# Order per API request: injected latency, scripted fault, bearer check, rate limit, random 5xx,
# then the endpoint itself; finally faults that rewrite or cut the answer, and the stats record.

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spotify_assets.emulator import handlers
from spotify_assets.emulator.faults import TOKEN, Fault
from spotify_assets.emulator.protocol import Connections
from spotify_assets.emulator.responses import (
    ApiError,
    DroppedConnection,
    Reply,
    TruncatedResponse,
    api_error,
    html_error,
    json_response,
    oauth_error,
    phrase,
)
from spotify_assets.emulator.state import EmulatorState, InvalidClient
from spotify_assets.emulator.tokens import TokenStatus
from spotify_assets.emulator.traffic import UNKNOWN, Served

Handler = Callable[[handlers.Call, Request], Reply]
RATE_LIMITED = "API rate limit exceeded"
FEED_ENDPOINTS = frozenset({"new_releases", "search"})


class ApiRoutes:
    """Routes for /api/token and /v1/*, sharing one emulator state."""

    def __init__(self, state: EmulatorState, connections: Connections) -> None:
        """Serve from `state`; `connections` lets faults cut the connection a request came on."""
        self._state = state
        self._connections = connections

    def routes(self) -> list[BaseRoute]:
        """Every route, each also under a trailing slash (spotipy sends /v1/albums/?ids=)."""
        api: list[tuple[str, str, Handler]] = [
            ("/v1/browse/new-releases", "new_releases", lambda c, _: handlers.new_releases(c)),
            ("/v1/search", "search", lambda c, _: handlers.search(c)),
            ("/v1/albums", "albums", lambda c, _: handlers.albums(c)),
            ("/v1/albums/{id}", "album", lambda c, r: handlers.album(c, r.path_params["id"])),
            (
                "/v1/albums/{id}/tracks",
                "album_tracks",
                lambda c, r: handlers.album_tracks(c, r.path_params["id"]),
            ),
        ]
        routes: list[BaseRoute] = []
        for path in ("/api/token", "/api/token/"):
            routes.append(Route(path, self._token, methods=["POST"]))
        for path, endpoint, handler in api:
            for variant in (path, path + "/"):
                routes.append(
                    Route(variant, self._api_endpoint(endpoint, handler), methods=["GET"])
                )
        routes.append(Route("/v1/{rest:path}", self._unknown_api))
        return routes

    def _api_endpoint(self, endpoint: str, handler: Handler) -> Callable[[Request], Any]:
        """The Starlette endpoint for one API route, recording what it served."""

        async def serve(request: Request) -> Response:
            fault, authorized, response = await self._serve_api(request, endpoint, handler)
            response = self._finish(response, fault)
            self._record(request, endpoint, response, authorized, fault)
            return response

        return serve

    async def _serve_api(
        self, request: Request, endpoint: str, handler: Handler
    ) -> tuple[Fault | None, bool, Response]:
        """Run the pipeline for one API request: (fault fired, token valid, response)."""
        config, _ = self._state.snapshot()
        if config.latency_ms > 0:
            await asyncio.sleep(config.latency_ms / 1000)
        fault = self._state.take_fault(endpoint)
        bad_auth: Response | None = None
        try:
            token = _bearer_token(request)
        except ApiError as exc:
            token, bad_auth = None, exc.reply().response()
        if fault is not None and token is not None:
            if fault.action == "revoke_token":
                self._state.revoke_token(token)
            elif fault.action == "expire_token":
                self._state.expire_token(token)
        token_status = None if token is None else self._state.token_status(token)
        authorized = token_status is TokenStatus.VALID
        early = await self._fault_answer(fault, oauth=False)
        if early is not None:
            return fault, authorized, early
        if bad_auth is not None:
            return fault, False, bad_auth
        if token_status is None:
            return fault, False, _unauthorized("No token provided", token_sent=False)
        if token_status is not TokenStatus.VALID:
            return fault, False, _unauthorized(token_status.value)
        retry_after = self._state.admit()
        if retry_after is not None:
            return fault, True, api_error(429, RATE_LIMITED, {"Retry-After": str(retry_after)})
        server_error = self._state.draw_server_error()
        if server_error is not None:
            return fault, True, api_error(server_error, phrase(server_error))
        config, catalog = self._state.snapshot()
        call = handlers.Call(config, catalog, request.query_params, _api_base(request))
        try:
            reply = handler(call, request)
        except ApiError as exc:
            reply = exc.reply()
        if reply.status == 200 and endpoint in FEED_ENDPOINTS:
            self._state.page_served()
        if fault is not None and fault.action == "foreign_next":
            reply = Reply(reply.status, _foreign_next(reply.body, fault.next_base_url))
        return fault, True, reply.response()

    async def _token(self, request: Request) -> Response:
        """POST /api/token: client-credentials grant, Basic auth or form credentials."""
        config, _ = self._state.snapshot()
        if config.latency_ms > 0:
            await asyncio.sleep(config.latency_ms / 1000)
        fault = self._state.take_fault(TOKEN)
        response = await self._fault_answer(fault, oauth=True)
        issued = False
        if response is None:
            form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
            response = self._grant(request, form)
            issued = response.status_code == 200
        response = self._finish(response, fault)
        self._record(request, TOKEN, response, issued, fault)
        return response

    def _grant(self, request: Request, form: dict[str, str]) -> Response:
        """Check grant type and client, then issue a token (OAuth error shapes on failure)."""
        grant = form.get("grant_type")
        if not grant:
            return oauth_error(400, "unsupported_grant_type", "grant_type parameter is missing")
        if grant != "client_credentials":
            return oauth_error(
                400,
                "unsupported_grant_type",
                "grant_type must be client_credentials, authorization_code or refresh_token",
            )
        client_id, client_secret = _client_credentials(request, form)
        try:
            token, expires_in = self._state.issue_token(client_id, client_secret)
        except InvalidClient as exc:
            return oauth_error(400, "invalid_client", str(exc))
        body = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
        return json_response(body, headers={"Cache-Control": "no-store"})

    async def _unknown_api(self, request: Request) -> Response:
        """Any other /v1 path: Spotify's 404."""
        response = api_error(404, "Service not found")
        self._record(request, UNKNOWN, response, False, None)
        return response

    async def _fault_answer(self, fault: Fault | None, *, oauth: bool) -> Response | None:
        """The answer a fault gives instead of the endpoint's, or None to carry on (delays done)."""
        if fault is None:
            return None
        action = fault.action
        if action == "delay":
            await asyncio.sleep(fault.delay_s)
            return None
        if action == "status":
            if oauth:
                return oauth_error(fault.status, _oauth_code(fault.status), phrase(fault.status))
            return api_error(fault.status, phrase(fault.status))
        if action == "html":
            return html_error(fault.status)
        if action == "drop":
            return DroppedConnection(self._connections)
        if action == "rate_limit":
            headers = {"Retry-After": str(fault.retry_after_s)}
            if fault.body is not None:
                return json_response(fault.body, 429, headers)
            if oauth:
                return oauth_error(429, "temporarily_unavailable", RATE_LIMITED, headers)
            return api_error(429, RATE_LIMITED, headers)
        if action == "invalid_client":
            return oauth_error(400, "invalid_client", "Invalid client")
        return None

    def _finish(self, response: Response, fault: Fault | None) -> Response:
        """Apply a truncate fault to an otherwise complete response."""
        if fault is not None and fault.action == "truncate":
            return TruncatedResponse(response, self._connections)
        return response

    def _record(
        self,
        request: Request,
        endpoint: str,
        response: Response,
        authorized: bool,
        fault: Fault | None,
    ) -> None:
        """Add the request to the stats (status 0 when the connection was dropped)."""
        self._state.record(
            Served(
                endpoint=endpoint,
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                status=response.status_code,
                authorized=authorized,
                fault=None if fault is None else fault.action,
                time=time.time(),
            )
        )


def _api_base(request: Request) -> str:
    """Links point back at the host and port the client used: scheme://host:port/v1."""
    return f"{request.url.scheme}://{request.url.netloc}/v1"


def _bearer_token(request: Request) -> str | None:
    """The bearer token, None when there is none; 400 for other schemes, as Spotify answers."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise ApiError(400, "Only valid bearer authentication supported")
    return token.strip() or None


def _unauthorized(message: str, *, token_sent: bool = True) -> Response:
    """401 with Spotify's message and a WWW-Authenticate challenge (with error= if a token came)."""
    challenge = 'Bearer realm="spotify"'
    if token_sent:
        challenge += f', error="invalid_token", error_description="{message}"'
    return api_error(401, message, {"WWW-Authenticate": challenge})


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """Client id and secret from Basic auth, else from the form; empty strings when absent."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _oauth_code(status: int) -> str:
    """OAuth error code for a scripted token-endpoint status."""
    if status == 503:
        return "temporarily_unavailable"
    if status >= 500:
        return "server_error"
    if status == 401:
        return "invalid_client"
    return "invalid_request"


def _foreign_next(value: Any, base_url: str) -> Any:
    """Copy of a body with every paging `next` moved to `base_url`, same path and query."""
    if isinstance(value, list):
        return [_foreign_next(item, base_url) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: _foreign_next(item, base_url) for key, item in value.items()}
    if "items" in out and isinstance(out.get("next"), str):
        parts = urlsplit(out["next"])
        out["next"] = base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    return out
