"""The Web API and token routes, and the request pipeline every one of them runs through."""

# Order per API request: injected latency, scripted fault (its delay, then its answer), bearer
# check, whole-app 403, quota, lone 429, rolling window, random 5xx, then the endpoint itself;
# finally faults that rewrite or cut the answer, and the stats record.

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spotify_assets.emulator import handlers, traffic
from spotify_assets.emulator.fault_replies import RATE_LIMITED, early_answer, rewrite_body
from spotify_assets.emulator.faults import TOKEN, Fault
from spotify_assets.emulator.knobs import APP_FORBIDDEN_MESSAGES, AuthErrors, EmulatorConfig
from spotify_assets.emulator.protocol import Connections
from spotify_assets.emulator.responses import (
    ApiError,
    Reply,
    TrickledResponse,
    TruncatedResponse,
    api_error,
    json_response,
    oauth_error,
    phrase,
)
from spotify_assets.emulator.state import EmulatorState, InvalidClient
from spotify_assets.emulator.tokens import TokenStatus
from spotify_assets.emulator.traffic import UNKNOWN, Served

Handler = Callable[[handlers.Call, Request], Reply]
FEED_ENDPOINTS = frozenset({"new_releases", "search"})
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
QUOTA_RETRY_AFTER_S = 86400  # a day, as Development Mode apps see it (2026)
UNAUTHORIZED_2026 = "Missing/invalid/expired access token"


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
            fault, authorized, response, reason = await self._serve_api(request, endpoint, handler)
            response = self._finish(response, fault)
            self._record(request, endpoint, response, authorized, fault, reason=reason)
            return response

        return serve

    async def _serve_api(
        self, request: Request, endpoint: str, handler: Handler
    ) -> tuple[Fault | None, bool, Response, str | None]:
        """Run the pipeline for one API request: (fault fired, token valid, response, reason)."""
        config, _ = self._state.snapshot()
        if config.latency_ms > 0:
            await asyncio.sleep(config.latency_ms / 1000)
        fault = self._state.take_fault(endpoint, _album_ids(request))
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
        early = await early_answer(fault, self._connections, oauth=False)
        if early is not None:
            return fault, authorized, early, None
        if bad_auth is not None:
            return fault, False, bad_auth, None
        if token_status is not TokenStatus.VALID:
            return fault, False, _unauthorized(config.auth_errors, token_status), None
        refusal = _refusal(self._state)
        if refusal is not None:
            return fault, True, *refusal
        config, catalog = self._state.snapshot()
        missing: frozenset[str] = frozenset()
        if fault is not None and fault.action == "missing_album":
            missing = frozenset({fault.album_id})
        call = handlers.Call(config, catalog, request.query_params, _api_base(request), missing)
        try:
            reply = handler(call, request)
        except ApiError as exc:
            reply = exc.reply()
        if reply.status == 200 and endpoint in FEED_ENDPOINTS:
            self._state.page_served()
        reply = Reply(reply.status, rewrite_body(reply.body, fault))
        return fault, True, reply.response(), None

    async def _token(self, request: Request) -> Response:
        """POST /api/token: client-credentials grant, Basic auth or form credentials."""
        config, _ = self._state.snapshot()
        if config.latency_ms > 0:
            await asyncio.sleep(config.latency_ms / 1000)
        fault = self._state.take_fault(TOKEN)
        response = await early_answer(fault, self._connections, oauth=True)
        issued = False
        if response is None:
            form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
            response = _grant(self._state, request, form)
            issued = response.status_code == 200
        response = self._finish(response, fault)
        self._record(request, TOKEN, response, issued, fault)
        return response

    async def _unknown_api(self, request: Request) -> Response:
        """Any other /v1 path: Spotify's 404."""
        response = api_error(404, "Service not found")
        self._record(request, UNKNOWN, response, False, None)
        return response

    def _finish(self, response: Response, fault: Fault | None) -> Response:
        """Apply a truncate or trickle fault to an otherwise complete response."""
        if fault is not None and fault.action == "truncate":
            return TruncatedResponse(response, self._connections)
        if fault is not None and fault.action == "trickle":
            return TrickledResponse(response, fault.pause_s)
        return response

    def _record(
        self,
        request: Request,
        endpoint: str,
        response: Response,
        authorized: bool,
        fault: Fault | None,
        *,
        reason: str | None = None,
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
                reason=reason,
            )
        )


def _refusal(state: EmulatorState) -> tuple[Response, str] | None:
    """What refuses an authorized request before its endpoint runs: whole-app 403, quota,
    rolling window, random 5xx (in that order), with the reason stats record; else None."""
    config = state.config
    if config.app_forbidden is not None:
        message = APP_FORBIDDEN_MESSAGES[config.app_forbidden]
        return api_error(403, message), traffic.APP_FORBIDDEN
    if not state.spend_quota():
        body = {"error": {"status": 429, "message": RATE_LIMITED, "reason": QUOTA_EXCEEDED}}
        headers = {"Retry-After": str(QUOTA_RETRY_AFTER_S)}
        return json_response(body, 429, headers), traffic.QUOTA
    if state.lone_429():
        return api_error(429, RATE_LIMITED, _retry_after(config, 1)), traffic.LONE_429
    retry_after = state.admit()
    if retry_after is not None:
        return api_error(429, RATE_LIMITED, _retry_after(config, retry_after)), traffic.RATE_LIMIT
    server_error = state.draw_server_error()
    if server_error is not None:
        return api_error(server_error, phrase(server_error)), traffic.SERVER_ERROR
    return None


def _retry_after(config: EmulatorConfig, seconds: int) -> dict[str, str]:
    """The Retry-After header of a rate-limit 429 as rate_limit_retry_after asks: the seconds,
    none at all, or 0."""
    mode = config.rate_limit_retry_after
    if mode == "absent":
        return {}
    return {"Retry-After": "0" if mode == "zero" else str(seconds)}


def _grant(state: EmulatorState, request: Request, form: dict[str, str]) -> Response:
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
        token, expires_in = state.issue_token(client_id, client_secret)
    except InvalidClient as exc:
        return oauth_error(400, "invalid_client", str(exc))
    body: dict[str, object] = {"access_token": token, "token_type": "Bearer"}
    told = state.config.expires_in_told
    if told != "absent":
        body["expires_in"] = {"ttl": expires_in, "zero": 0, "null": None}[told]
    return json_response(body, headers={"Cache-Control": "no-store"})


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


def _unauthorized(style: AuthErrors, status: TokenStatus | None) -> Response:
    """401 as Spotify words it: per cause (legacy), or the one 2026 message for every cause."""
    challenge = 'Bearer realm="spotify"'
    if style == "2026":
        message = UNAUTHORIZED_2026
        challenge += ', error="invalid_token"'
    elif status is None:
        message = "No token provided"
    else:
        message = status.value
        challenge += f', error="invalid_token", error_description="{message}"'
    return api_error(401, message, {"WWW-Authenticate": challenge})


def _album_ids(request: Request) -> frozenset[str]:
    """The album ids a request names (path id or `ids`), unvalidated, for album_id faults."""
    ids = set(request.query_params.get("ids", "").split(","))
    ids.add(request.path_params.get("id", ""))
    return frozenset(ids - {""})


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
