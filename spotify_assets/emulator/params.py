"""Query-parameter validation with Spotify's limits and its 400 messages."""

from __future__ import annotations

import re

from starlette.datastructures import QueryParams

from spotify_assets.emulator.records import is_base62_id, is_market_code
from spotify_assets.emulator.responses import ApiError

MAX_IDS = 20


def limit(query: QueryParams, *, default: int, maximum: int) -> int:
    """`limit` as an int in 1..maximum, else 400 "Invalid limit"."""
    return _bounded(query.get("limit"), default, 1, maximum, "Invalid limit")


def offset(query: QueryParams, *, maximum: int | None = None) -> int:
    """`offset` as an int >= 0 (and <= maximum when given), else 400 "Invalid offset"."""
    return _bounded(query.get("offset"), 0, 0, maximum, "Invalid offset")


def market(query: QueryParams) -> str | None:
    """`market` as an ISO 3166-1 alpha-2 code or None; else 400 "Invalid market code"."""
    value = query.get("market")
    if value is None:
        return None
    if not is_market_code(value):
        raise ApiError(400, "Invalid market code")
    return value


def album_id(value: str) -> str:
    """A path album id, 400 "Invalid base62 id" unless it looks like one."""
    if not is_base62_id(value):
        raise ApiError(400, "Invalid base62 id")
    return value


def album_ids(query: QueryParams) -> list[str]:
    """`ids`: 1 to 20 comma-separated base62 ids, in order, duplicates kept."""
    raw = query.get("ids")
    if not raw:
        raise ApiError(400, "Missing required parameter ids")
    ids = raw.split(",")
    if len(ids) > MAX_IDS:
        raise ApiError(400, "Too many ids requested")
    return [album_id(value) for value in ids]


def _bounded(raw: str | None, default: int, low: int, high: int | None, message: str) -> int:
    """Parse a decimal integer within [low, high]; absent means `default`."""
    if raw is None:
        return default
    if not re.fullmatch(r"[+-]?\d{1,9}", raw):
        raise ApiError(400, message)
    value = int(raw)
    if value < low or (high is not None and value > high):
        raise ApiError(400, message)
    return value
