"""A listing read to its end without drift (or, for search, its best read): each id once, what
Spotify sent besides, restarts.

Drift shows as a total that moves between pages or an item that comes again as the listing shifts
under the reader. But Spotify also lists some albums twice the same way on every read, and an
album listed twice is no proof of drift: the pages holding it are read once more (from their own
`href`), and when they answer the same the album is kept once with a warning; only a listing
that really moves (a total changed, a page that answers differently) is read again.

Search paging is not guaranteed stable either: it can list an album again in another album's
place, at places that move from one read to the next. Reading again does not settle that, so
once the restarts are spent a caller may keep, of the passes whose only fault was duplicates
that moved when read again, the one with the most items (`keep_unsettled`, marked
`unsettled`): each album once, where failing would throw away a whole feed that is all but a
few places right. Such a pass cannot tell a repeat in place from a listing that shifted while
read (an album that came in shows as the one before it listed again), so what it lacks is
counted, not named.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from spotify_assets.spotify.errors import SpotifyPagingError
from spotify_assets.spotify.paging import ListingChanged, Page

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listing:
    """The items of a listing read in one pass, and what Spotify sent besides them.

    `duplicates` maps an id listed more than once to its places (0-based); only its first
    listing is in `items`. `pages` are the pages read, for a second look at the duplicates.
    `unsettled`: the duplicates did not list the same way when read again (see `settled`).
    """

    items: list[dict[str, Any]]
    total: int
    duplicates: dict[str, tuple[int, ...]] = field(default_factory=dict)
    unsent: int = 0
    null_pages: tuple[int, ...] = ()
    pages: tuple[Page, ...] = ()
    unsettled: bool = False


def collect(pages: Iterable[Page], *, total_is_estimate: bool = False) -> Listing:
    """The items of a listing, each id once; ListingChanged when the total moves (which is how
    drift between pages shows) or a page covers places read already. An id listed twice is
    kept once and named in `duplicates`, for `settled` to tell a stable duplicate from drift.

    With `total_is_estimate` (search's) a moving total is no drift: search's estimate moves by
    one now and then between pages of a listing that does not. The total kept is then the one
    most pages reported (one page that says otherwise does not decide it); drift still shows as
    pages overlapping, links not as predicted, or items coming twice.
    """
    items: list[dict[str, Any]] = []
    places: dict[str, list[int]] = {}
    read: list[Page] = []
    total: int | None = None
    for page in pages:
        if total is not None and page.total != total and not total_is_estimate:
            raise ListingChanged(f"total changed from {total} to {page.total}")
        if any(
            page.offset < seen.offset + seen.limit and seen.offset < page.offset + page.limit
            for seen in read
        ):
            raise ListingChanged(f"the places from offset {page.offset} came twice")
        total = page.total
        read.append(page)
        for place, item in page.positioned():
            item_id = item.get("id")
            if item_id is not None:  # local tracks have no id, and may be several
                places.setdefault(item_id, []).append(place)
                if len(places[item_id]) > 1:
                    continue
            items.append(item)
    if total_is_estimate and read:
        total = Counter(page.total for page in read).most_common(1)[0][0]
    return Listing(
        items,
        total or 0,
        {item_id: tuple(at) for item_id, at in places.items() if len(at) > 1},
        sum(page.unsent for page in read),
        tuple(page.offset for page in read if page.items_null),
        tuple(read),
    )


def stable(
    listing: Listing, reread: Callable[[str], Page], *, total_is_estimate: bool = False
) -> None:
    """Read again the pages that hold a duplicate; ListingChanged unless each answers the same
    items in the same places with the same total (then the duplicate is how Spotify lists it,
    not drift: drift moves items across the pages it shifts). A total that is an estimate
    (search's) may move without the items moving."""
    held = {place for at in listing.duplicates.values() for place in at}
    for page in listing.pages:
        if not any(page.offset <= place < page.offset + page.limit for place in held):
            continue
        if page.href is None:
            raise ListingChanged(f"an item appeared twice, on a page without href ({page.offset})")
        again = reread(page.href)
        moved = again.total != page.total and not total_is_estimate
        if moved or ids(again) != ids(page):
            raise ListingChanged(f"the page at offset {page.offset} changed when read again")


def places_of(listing: Listing) -> str:
    """The ids a listing holds more than once with their places (1-based), for a warning."""
    return "; ".join(
        f"{item_id} at places {', '.join(str(p + 1) for p in at)}"
        for item_id, at in listing.duplicates.items()
    )


def ids(page: Page) -> list[tuple[int, str | None]]:
    """The ids of a page's items with their places, as the comparison of two reads sees them."""
    return [(place, item.get("id")) for place, item in page.positioned()]


def settled(
    what: str,
    pages: Callable[[int], Iterator[Page]],
    *,
    max_restarts: int,
    on_restart: Callable[[], None],
    reread: Callable[[str], Page] | None = None,
    total_is_estimate: bool = False,
    keep_unsettled: bool = False,
) -> Listing:
    """The first pass over `pages(attempt)` that does not drift; a listing that keeps changing
    after `max_restarts` restarts fails with SpotifyPagingError.

    A pass that lists an id twice is checked by reading again only the pages holding it
    (`reread(href)`, the page's own link): the same answer means Spotify
    lists it so, and it is kept once with a warning; else the listing is read again. With
    `keep_unsettled`, a listing that kept changing gives, of its passes that failed only so
    (duplicates that moved when read again), the one with the most items, marked `unsettled`;
    it fails only when no pass did.
    """
    last: ListingChanged | None = None
    unsettled: Listing | None = None
    for attempt in range(max_restarts + 1):
        try:
            listing = collect(pages(attempt), total_is_estimate=total_is_estimate)
            if listing.duplicates:
                if reread is None:
                    raise ListingChanged(f"{len(listing.duplicates)} items appeared twice")
                try:
                    stable(listing, reread, total_is_estimate=total_is_estimate)
                except ListingChanged:
                    best = unsettled is None or len(listing.items) > len(unsettled.items)
                    if keep_unsettled and best:
                        unsettled = replace(listing, unsettled=True)
                    raise
                log.warning(
                    "%s lists %s the same way on every read: kept once",
                    what,
                    places_of(listing),
                )
            return listing
        except ListingChanged as change:
            last = change
            if attempt < max_restarts:
                on_restart()
                log.warning("%s changed while paged (%s); restart %d", what, change, attempt + 1)
    if unsettled is not None:
        log.warning(
            "%s kept changing while it was paged (%s), %d reads: kept the one with the most "
            "items (%d), in which %s listed again; each is kept once, and what belonged in "
            "the places they took (or came in while the listing was read) is not in it",
            what,
            last,
            max_restarts + 1,
            len(unsettled.items),
            places_of(unsettled),
        )
        return unsettled
    raise SpotifyPagingError(
        f"{what} kept changing while it was paged ({last}); "
        f"gave up after {max_restarts} restarts. Run again later."
    )
