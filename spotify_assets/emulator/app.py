"""The emulator's ASGI application: API, token and control routes, Spotify-shaped 404s elsewhere."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from spotify_assets.emulator.api_routes import ApiRoutes
from spotify_assets.emulator.control_routes import ControlRoutes
from spotify_assets.emulator.protocol import Connections
from spotify_assets.emulator.responses import api_error
from spotify_assets.emulator.state import EmulatorState


async def _not_found(request: Request) -> Response:
    """Anything unrouted gets the Web API error shape rather than Starlette's plain text."""
    return api_error(404, "Service not found")


def create_app(state: EmulatorState, connections: Connections) -> Starlette:
    """Build the app over `state`; `connections` must be the registry the server protocol fills."""
    routes = [
        *ApiRoutes(state, connections).routes(),
        *ControlRoutes(state).routes(),
        Route("/{path:path}", _not_found),
    ]
    return Starlette(routes=routes)
