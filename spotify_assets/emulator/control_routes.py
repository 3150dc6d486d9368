"""The /_emulator control endpoints: the in-process API over HTTP, for other processes."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spotify_assets.emulator.faults import Fault
from spotify_assets.emulator.records import is_market_code
from spotify_assets.emulator.responses import api_error, json_response
from spotify_assets.emulator.state import EmulatorState

PREFIX = "/_emulator"


class ControlRoutes:
    """Health, stats, reset, config, faults and ground truth, straight onto the shared state."""

    def __init__(self, state: EmulatorState) -> None:
        """Control `state`."""
        self._state = state

    def routes(self) -> list[BaseRoute]:
        """The control routes."""
        return [
            Route(f"{PREFIX}/health", self._health, methods=["GET"]),
            Route(f"{PREFIX}/stats", self._stats, methods=["GET"]),
            Route(f"{PREFIX}/reset", self._reset, methods=["POST"]),
            Route(f"{PREFIX}/config", self._get_config, methods=["GET"]),
            Route(f"{PREFIX}/config", self._configure, methods=["POST"]),
            Route(f"{PREFIX}/faults", self._add_fault, methods=["POST"]),
            Route(f"{PREFIX}/catalog", self._catalog, methods=["GET"]),
        ]

    async def _health(self, request: Request) -> Response:
        """Liveness plus what is being served."""
        config, catalog = self._state.snapshot()
        return json_response({"status": "ok", "mode": config.mode, "albums": len(catalog.albums)})

    async def _stats(self, request: Request) -> Response:
        """Counters and request log."""
        return json_response(self._state.stats())

    async def _reset(self, request: Request) -> Response:
        """Clear stats, faults and tokens."""
        self._state.reset()
        return json_response({"status": "ok"})

    async def _get_config(self, request: Request) -> Response:
        """The current configuration."""
        return json_response(self._state.config.to_json())

    async def _configure(self, request: Request) -> Response:
        """Apply a JSON object of knobs (same keys as EmulatorServer.configure)."""
        try:
            changes = await _json_object(request)
            config = self._state.configure(**changes)
        except ValueError as exc:
            return api_error(400, str(exc))
        return json_response(config.to_json())

    async def _add_fault(self, request: Request) -> Response:
        """Arm one scripted fault given as JSON."""
        try:
            fault = Fault.from_json(await _json_object(request))
        except ValueError as exc:
            return api_error(400, str(exc))
        self._state.add_fault(fault)
        return json_response({"status": "ok", "fault": fault.to_json()})

    async def _catalog(self, request: Request) -> Response:
        """Ground truth of ?day=d (default today) and ?market=XX (default: every album), links
        pointing at the host the caller used."""
        api_base = f"{request.url.scheme}://{request.url.netloc}/v1"
        raw_day = request.query_params.get("day")
        if raw_day is not None and not raw_day.isdigit():
            return api_error(400, f"day must be a whole number >= 0, got {raw_day!r}")
        day = None if raw_day is None else int(raw_day)
        market = request.query_params.get("market")
        if market is not None and not is_market_code(market):
            return api_error(400, f"market must be an ISO 3166-1 alpha-2 code, got {market!r}")
        return json_response(self._state.catalog_json(api_base, day, market))


async def _json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, ValueError otherwise."""
    try:
        data = json.loads(await request.body())
    except json.JSONDecodeError as exc:
        raise ValueError(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data
