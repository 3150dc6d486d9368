"""What a scripted fault answers instead of the endpoint, or how it rewrites the endpoint's body."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.responses import Response

from spotify_assets.emulator.faults import Fault
from spotify_assets.emulator.protocol import Connections
from spotify_assets.emulator.responses import (
    DroppedConnection,
    api_error,
    html_error,
    json_response,
    oauth_error,
    phrase,
)

RATE_LIMITED = "API rate limit exceeded"
RATE_LIMITED_TEXT = "Too many requests"
TEXT_TYPE = "text/plain; charset=utf-8"


async def early_answer(
    fault: Fault | None, connections: Connections, *, oauth: bool
) -> Response | None:
    """Wait the fault's delay, then its answer in place of the endpoint's (None: carry on)."""
    if fault is None:
        return None
    if fault.delay_s > 0:
        await asyncio.sleep(fault.delay_s)
    action = fault.action
    if action == "status":
        return error_response(fault, fault.status, oauth=oauth)
    if action == "html":
        return html_error(fault.status)
    if action == "drop":
        return DroppedConnection(connections)
    if action == "rate_limit":
        headers = {} if fault.retry_after_s is None else {"Retry-After": str(fault.retry_after_s)}
        return error_response(fault, 429, oauth=oauth, headers=headers)
    if action == "invalid_client":
        return oauth_error(400, "invalid_client", "Invalid client")
    return None


def error_response(
    fault: Fault, status: int, *, oauth: bool, headers: Mapping[str, str] | None = None
) -> Response:
    """An error answer shaped as the fault asks: its JSON body, text, empty, or the usual shape."""
    if fault.body is not None:
        return json_response(fault.body, status, headers)
    if fault.body_format == "empty":
        return Response(b"", status, dict(headers or {}))
    if fault.body_format == "text":
        text = fault.message or (RATE_LIMITED_TEXT if status == 429 else phrase(status))
        return Response(text, status, dict(headers or {}), media_type=TEXT_TYPE)
    message = fault.message or (RATE_LIMITED if status == 429 else phrase(status))
    if oauth:
        return oauth_error(status, _oauth_code(status), message, headers)
    return api_error(status, message, headers)


def rewrite_body(body: Any, fault: Fault | None) -> Any:
    """The endpoint's JSON body as a paging-rewriting fault (foreign_next, same_next,
    null_offset, stale_next, total_plus_one, repeat_album) leaves it."""
    if fault is None or fault.action not in (
        "foreign_next",
        "same_next",
        "null_offset",
        "stale_next",
        "total_plus_one",
        "repeat_album",
    ):
        return body
    return _rewrite_next(body, fault)


def _rewrite_next(value: Any, fault: Fault) -> Any:
    """Copy of a body with every paging `next` moved to another host or back to its own page,
    or every paging `offset` made null (a page seen from Spotify that forgot where it starts),
    or a last page given a `next` link anyway, to offset + limit (past the total), or every
    paging `total` one higher (search's estimate moving between pages), or one item of each page
    replaced by the one before it: an album listed twice, at a place that moves with each turn of
    the fault (search paging that is not stable, spotify/web-api#115)."""
    if isinstance(value, list):
        return [_rewrite_next(item, fault) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: _rewrite_next(item, fault) for key, item in value.items()}
    if "items" in out and fault.action == "null_offset":
        out["offset"] = None
    elif "items" in out and fault.action == "repeat_album":
        items = out["items"]
        if isinstance(items, list) and len(items) >= 2:
            place = 1 + fault.turn % (len(items) - 1)
            out["items"] = [*items[:place], items[place - 1], *items[place + 1 :]]
    elif "items" in out and fault.action == "total_plus_one":
        out["total"] = int(out["total"]) + 1
    elif "items" in out and fault.action == "stale_next":
        if out.get("next") is None and isinstance(out.get("href"), str):
            parts = urlsplit(out["href"])
            beyond = str(int(out["offset"]) + int(out["limit"]))
            pairs = [(n, beyond if n == "offset" else v) for n, v in parse_qsl(parts.query)]
            if "offset" not in dict(pairs):
                pairs.append(("offset", beyond))
            out["next"] = parts._replace(query=urlencode(pairs)).geturl()
    elif "items" in out and isinstance(out.get("next"), str):
        if fault.action == "same_next":
            out["next"] = out["href"]
        else:
            parts = urlsplit(out["next"])
            query = f"?{parts.query}" if parts.query else ""
            out["next"] = fault.next_base_url.rstrip("/") + parts.path + query
    return out


def _oauth_code(status: int) -> str:
    """OAuth error code for a scripted token-endpoint status."""
    if status in (429, 503):
        return "temporarily_unavailable"
    if status >= 500:
        return "server_error"
    if status == 401:
        return "invalid_client"
    return "invalid_request"
