"""Spotify paging objects followed through their `next` links, safely.

A `next` link is followed only when it points at the configured API host (the request carries the
access token, which must never go anywhere else), never twice, and never beyond the number of
pages the reported total allows, so a misbehaving server cannot keep a run looping.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from spotify_assets.spotify.api import SpotifyApi
from spotify_assets.spotify.errors import SpotifyPagingError, SpotifyProtocolError
from spotify_assets.spotify.transport import request_label


@dataclass(frozen=True)
class Page:
    """One page of a Spotify paging object."""

    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
    next: str | None

    @classmethod
    def parse(cls, paging: Any, where: str) -> Page:
        """Read a paging object, failing with a clear message when it is not one."""
        try:
            items = paging["items"]
            page = cls(
                items=[item for item in items if item is not None],
                total=int(paging["total"]),
                offset=int(paging.get("offset") or 0),
                limit=int(paging.get("limit") or len(items)),
                next=paging.get("next"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SpotifyProtocolError(f"{where} did not return a paging object ({exc!r})") from exc
        if not isinstance(page.items, list) or not all(isinstance(i, dict) for i in page.items):
            raise SpotifyProtocolError(f"{where} returned paging items that are not objects")
        return page


def follow(api: SpotifyApi, first: Page, key: str | None = None) -> Iterator[Page]:
    """Yield `first`, then every page its `next` links lead to; `key` unwraps `{key: paging}`."""
    seen: set[str] = set()
    max_pages = math.ceil(first.total / max(first.limit, 1)) + 1
    page = first
    yield page
    while page.next is not None:
        link = page.next
        if not api.is_own(link):
            raise SpotifyPagingError(
                f"Refusing to follow a `next` link to {link.split('?')[0]}: it is not on the "
                f"configured API host {api.base_url}, and the request would carry the access "
                "token there. Check SPOTIFY_API_BASE_URL and any proxy in between."
            )
        if link in seen or len(seen) >= max_pages:
            raise SpotifyPagingError(
                f"Paging {request_label('GET', link)} does not end: "
                f"{len(seen) + 1} pages for a total of {first.total}, last link {link}"
            )
        seen.add(link)
        body = api.get(link)
        page = Page.parse(body[key] if key else body, request_label("GET", link))
        yield page


def fetch(
    api: SpotifyApi, url: str, params: Mapping[str, str | int], key: str | None = None
) -> Iterator[Page]:
    """GET the first page of a listing, then follow its `next` links."""
    body = api.get(url, params)
    where = request_label("GET", url)
    if key is not None and key not in body:
        raise SpotifyProtocolError(f"{where} answered without `{key}`")
    return follow(api, Page.parse(body[key] if key else body, where), key)
