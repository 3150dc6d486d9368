"""Spotify paging objects read safely, and as fast as their `next` links allow.

A `next` link is used never twice and never beyond the number of pages the reported total allows,
so a misbehaving server cannot keep a run looping; one to a host other than the API's is refused
by SpotifyApi.get, where the access token is attached.

`read_ahead` fetches a window of pages at once: Spotify's `next` links page by `offset`, so the
links of the coming pages are the first `next` link with its offset advanced. Every page must
then carry exactly the `next` link that was predicted for it and the same total, or the listing
changed while it was read (`ListingChanged`); the reading stops at the first page without `next`
or without items, so a total that overstates the listing (search's often does) costs at most a
window of requests, and the listing holds what Spotify had.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from spotify_assets.spotify.api import SpotifyApi
from spotify_assets.spotify.errors import SpotifyPagingError, SpotifyProtocolError
from spotify_assets.spotify.transport import request_label

log = logging.getLogger(__name__)

RunAll = Callable[[Sequence[Callable[[], "Page"]]], list["Page"]]
"""Runs calls concurrently and returns their results in order (the client's worker pool)."""


class ListingChanged(Exception):
    """A listing changed between two of its pages (total, links or items): read it again."""


@dataclass(frozen=True)
class Page:
    """One page of a Spotify paging object, null entries left out.

    Spotify has answered null entries in `items`, and `items: null` for a whole page (2026
    reports): `null_slots` are the indices of the null entries, `items_null` says the page's
    `items` was null. Neither ends a listing: paging goes on by offset + limit.
    """

    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
    next: str | None
    href: str | None = None
    null_slots: tuple[int, ...] = ()
    items_null: bool = False

    @classmethod
    def parse(cls, paging: Any, where: str, asked_offset: int = 0) -> Page:
        """Read a paging object, failing with a clear message when it is not one.

        A null or missing `offset` is taken from the request (`asked_offset`, the `offset`
        the request asked for, 0 without one): Spotify has answered `offset: null` on later
        pages, and read as 0 such a page overlapped the first one, which looked like drift.
        A null or missing `limit` is the number of entries the page holds.
        """
        if not isinstance(paging, dict):
            kind = "null" if paging is None else type(paging).__name__
            raise SpotifyProtocolError(f"{where} did not return a paging object (got {kind})")
        try:
            offset = paging.get("offset")
            raw = paging["items"]
            if raw is None:
                log.warning("%s returned a page whose items are null; it is skipped", where)
                raw = []
            elif None in raw:
                log.warning("%s returned %d null items; they are left out", where, raw.count(None))
            page = cls(
                items=[item for item in raw if item is not None],
                total=int(paging["total"]),
                offset=asked_offset if offset is None else int(offset),
                limit=int(paging.get("limit") or len(raw)),
                next=paging.get("next"),
                href=paging.get("href"),
                null_slots=tuple(index for index, item in enumerate(raw) if item is None),
                items_null=paging["items"] is None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SpotifyProtocolError(f"{where} did not return a paging object ({exc!r})") from exc
        if not isinstance(page.items, list) or not all(isinstance(i, dict) for i in page.items):
            raise SpotifyProtocolError(f"{where} returned paging items that are not objects")
        return page

    @property
    def unsent(self) -> int:
        """Places of this page Spotify answered null for: its null entries, or every place a
        page with null `items` covers (its limit, no further than the total)."""
        if self.items_null:
            return max(0, min(self.limit, self.total - self.offset))
        return len(self.null_slots)

    def positioned(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Each item with its place in Spotify's listing (0-based, null entries counted)."""
        slots = (
            i for i in range(len(self.items) + len(self.null_slots)) if i not in self.null_slots
        )
        for slot, item in zip(slots, self.items, strict=True):
            yield self.offset + slot, item


def get_page(
    api: SpotifyApi,
    url: str,
    key: str | None,
    params: Mapping[str, str | int] | None = None,
    *,
    patience: int | None = None,
    not_found_is_transient: bool = False,
) -> Page:
    """GET one page; `key` unwraps `{key: paging}` bodies (the options: see Transport.send).
    Its `next` and `href` links are made absolute against `url`: Spotify sends absolute ones,
    and a relative one (a proxy's rewrite) names a page of the same host."""
    body = api.get(url, params, patience=patience, not_found_is_transient=not_found_is_transient)
    where = request_label("GET", url)
    if key is not None and key not in body:
        raise SpotifyProtocolError(f"{where} answered without `{key}`")
    page = Page.parse(body[key] if key else body, where, asked_offset(url, params))
    return replace(
        page,
        next=None if page.next is None else urljoin(url, page.next),
        href=None if page.href is None else urljoin(url, page.href),
    )


def asked_offset(url: str, params: Mapping[str, str | int] | None = None) -> int:
    """The offset a request asked for: its `offset` parameter (in `params`, else in the URL's
    query), 0 when it names none or one that is not a number, as for a first page."""
    if params is not None and "offset" in params:
        value = str(params["offset"])
    else:
        offsets = [v for n, v in parse_qsl(urlsplit(url).query) if n == "offset"]
        value = offsets[0] if len(offsets) == 1 else ""
    return int(value) if value.isdigit() else 0


def ended(page: Page) -> bool:
    """Whether a listing ends at `page`: no `next` link, or an empty page although `next` is set
    (Spotify's search runs out before the `total` it reports, which is an estimate). A page of
    null entries, or whose `items` is null, is not empty: Spotify sent something there."""
    return page.next is None or not (page.items or page.null_slots or page.items_null)


def follow(api: SpotifyApi, first: Page, key: str | None = None) -> Iterator[Page]:
    """Yield `first`, then every page its `next` links lead to, one request at a time."""
    seen: set[str] = set()
    max_pages = math.ceil(first.total / max(first.limit, 1)) + 1
    page = first
    yield page
    while not ended(page) and page.next is not None:
        link = page.next
        if link in seen or len(seen) >= max_pages:
            raise SpotifyPagingError(
                f"Paging {request_label('GET', link)} does not end: "
                f"{len(seen) + 1} pages for a total of {first.total}, last link {link}"
            )
        seen.add(link)
        page = get_page(api, link, key)
        yield page


def fetch(
    api: SpotifyApi,
    url: str,
    params: Mapping[str, str | int],
    key: str | None = None,
    *,
    not_found_is_transient: bool = False,
) -> Iterator[Page]:
    """GET the first page of a listing, then follow its `next` links."""
    first = get_page(api, url, key, params, not_found_is_transient=not_found_is_transient)
    return follow(api, first, key)


def offset_links(first: Page, max_items: int | None = None) -> list[str] | None:
    """The `next` links of the pages after `first`, made from `first.next` by advancing its
    offset, up to the total, and only while `offset + limit <= max_items` (how deep search lets
    one page); None when that link does not page by offset."""
    if first.next is None:
        return []
    parts = urlsplit(first.next)
    query = parse_qsl(parts.query, keep_blank_values=True)
    offsets = [value for name, value in query if name == "offset"]
    if len(offsets) != 1 or not offsets[0].isdigit() or first.limit < 1:
        return None
    return [
        parts._replace(
            query=urlencode([(n, str(offset) if n == "offset" else v) for n, v in query])
        ).geturl()
        for offset in range(int(offsets[0]), first.total, first.limit)
        if max_items is None or offset + first.limit <= max_items
    ]


def same_link(a: str | None, b: str | None) -> bool:
    """Whether two links name the same page (parameter order and encoding aside)."""
    if a is None or b is None:
        return a is b
    first, second = urlsplit(a), urlsplit(b)
    return (first.scheme, first.netloc, first.path) == (
        second.scheme,
        second.netloc,
        second.path,
    ) and sorted(parse_qsl(first.query, keep_blank_values=True)) == sorted(
        parse_qsl(second.query, keep_blank_values=True)
    )


def beyond_total(api: SpotifyApi, link: str, key: str | None, total: int) -> None:
    """Read once the `next` link of a page that reaches the total (Spotify has sent one on the
    last page of browse, to offset = total): the places up to the total were all read, and an
    empty page there confirms the end; items there mean the total understated the listing,
    ListingChanged."""
    page = get_page(api, link, key)
    if page.items or page.null_slots or page.items_null:
        raise ListingChanged(f"items past the total of {total} at {link}")
    log.info("The last page still linked to %s, which is empty: the listing is complete", link)


def past_estimate(api: SpotifyApi, last: Page, key: str | None, max_items: int) -> Iterator[Page]:
    """The pages a search listing links to past the total its first page reported, one at a
    time until they end, no deeper than `max_items`: search's total is an estimate, and a first
    page has reported fewer albums than the pages after it (30, then 31)."""
    page = last
    while not ended(page) and page.next is not None:
        link = page.next
        if asked_offset(link) != page.offset + page.limit:
            raise ListingChanged(f"a page past the total linked to {link}, not the next page")
        if page.offset + 2 * page.limit > max_items:
            return
        page = get_page(api, link, key)
        yield page


def read_ahead(
    api: SpotifyApi,
    first: Page,
    key: str | None,
    run_all: RunAll,
    *,
    window: int,
    max_items: int | None = None,
) -> Iterator[Page]:
    """Yield the pages of a listing, fetching up to `window` of them at once through `run_all`.

    Falls back to following `next` one page at a time when the links do not page by offset.
    Raises ListingChanged when a page does not carry the `next` link predicted for it.
    """
    links = offset_links(first, max_items)
    if links is None:
        yield from follow(api, first, key)
        return
    previous = first
    yield first
    for start in range(0, len(links), window):
        if ended(previous):
            return
        chunk = links[start : start + window]
        pages = run_all([partial(get_page, api, link, key) for link in chunk])
        for link, page in zip(chunk, pages, strict=True):
            if ended(previous):
                if page.items:
                    raise ListingChanged(f"items after the page that ended the listing ({link})")
                continue
            if not same_link(previous.next, link):
                raise ListingChanged(f"a page pointed to {previous.next}, not {link}")
            previous = page
            yield page
    if ended(previous):
        return
    if max_items is None or first.total <= max_items:
        if previous.offset + previous.limit >= first.total and previous.next is not None:
            if max_items is None:
                beyond_total(api, previous.next, key, first.total)
            else:
                yield from past_estimate(api, previous, key, max_items)
            return
        raise ListingChanged(f"more pages than the total of {first.total} allows")
    log.info(
        "Spotify pages no deeper than %d items: %d of the %d it reports are reachable",
        max_items,
        previous.offset + len(previous.items),
        previous.total,
    )
