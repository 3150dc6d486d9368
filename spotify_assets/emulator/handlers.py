"""What each Web API endpoint answers, given config, catalog and query (no HTTP in here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import QueryParams

from spotify_assets.emulator import params
from spotify_assets.emulator.catalog import Catalog
from spotify_assets.emulator.knobs import EmulatorConfig
from spotify_assets.emulator.objects import (
    JSON,
    View,
    full_album,
    paging,
    simplified_album,
    track_object,
)
from spotify_assets.emulator.records import Album, Track
from spotify_assets.emulator.responses import ApiError, Reply

NEW_RELEASES_LIMIT = (20, 50)  # (default, maximum)
SEARCH_LIMIT = (5, 10)  # Feb 2026: search pages hold at most 10
SEARCH_MAX_OFFSET = 1000
TRACKS_LIMIT = (20, 50)
EMBEDDED_TRACKS = 50  # albums embed their first 50 tracks
SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
DEVELOPMENT_MODE_FORBIDDEN = "Forbidden: this endpoint is not available to Development Mode apps"


@dataclass(frozen=True)
class Call:
    """One API request as handlers see it: the world at that moment and where links point."""

    config: EmulatorConfig
    catalog: Catalog
    query: QueryParams
    api_base: str
    missing: frozenset[str] = frozenset()  # ids answered as unknown this once (scripted fault)

    def album(self, album_id: str) -> Album | None:
        """The album with this id as this request sees it, or None (unknown this once, or on
        every request: `unknown_albums`)."""
        if album_id in self.missing or album_id in self.config.unknown_albums:
            return None
        return self.catalog.album(album_id)

    def view(self, market: str | None = None) -> View:
        """Rendering options for this request."""
        return View(self.api_base, self.config.mode, market)


def new_releases(call: Call) -> Reply:
    """GET /v1/browse/new-releases: the feed, paged; removed for Development Mode apps in 2026."""
    if call.config.mode == "development":
        raise ApiError(403, DEVELOPMENT_MODE_FORBIDDEN)
    limit = params.limit(call.query, default=NEW_RELEASES_LIMIT[0], maximum=NEW_RELEASES_LIMIT[1])
    offset = params.offset(call.query)
    url = f"{call.api_base}/browse/new-releases"
    return Reply(200, {"albums": _feed_page(call, url, offset=offset, limit=limit)})


def search(call: Call) -> Reply:
    """GET /v1/search: type=album with q=tag:new lists the feed; other queries find nothing."""
    query = call.query.get("q") or call.query.get("query")
    if not query:
        raise ApiError(400, "No search query")
    raw_types = call.query.get("type")
    if not raw_types:
        raise ApiError(400, "Missing parameter type")
    types = raw_types.split(",")
    for kind in types:
        if kind not in SEARCH_TYPES:
            raise ApiError(400, f"Bad search type field {kind}")
    limit = params.limit(call.query, default=SEARCH_LIMIT[0], maximum=SEARCH_LIMIT[1])
    offset = params.offset(call.query, maximum=SEARCH_MAX_OFFSET)
    if offset + limit > SEARCH_MAX_OFFSET:
        raise ApiError(400, "Bad request.")
    market = params.market(call.query)
    link_params = [("query", query), ("type", raw_types)]
    if market is not None:
        link_params.append(("market", market))
    url = f"{call.api_base}/search"
    body: JSON = {}
    for kind in types:
        if kind == "album" and "tag:new" in query.lower():
            body["albums"] = _feed_page(
                call,
                url,
                offset=offset,
                limit=limit,
                link_params=link_params,
                max_offset=SEARCH_MAX_OFFSET,
                total=call.config.search_total,
                market=market,
            )
        else:
            body[f"{kind}s"] = paging(
                url, [], offset=offset, limit=limit, total=0, has_next=False, params=link_params
            )
    return Reply(200, body)


def album_tracks(call: Call, album_id: str) -> Reply:
    """GET /v1/albums/{id}/tracks: one page of an album's tracks."""
    params.album_id(album_id)
    limit = params.limit(call.query, default=TRACKS_LIMIT[0], maximum=TRACKS_LIMIT[1])
    offset = params.offset(call.query)
    market = params.market(call.query)
    return Reply(200, _tracks_page(call, _album(call, album_id), call.view(market), offset, limit))


def album(call: Call, album_id: str) -> Reply:
    """GET /v1/albums/{id}: the full album with its first 50 tracks."""
    params.album_id(album_id)
    view = call.view(params.market(call.query))
    return Reply(200, _full_album(call, _album(call, album_id), view))


def albums(call: Call) -> Reply:
    """GET /v1/albums?ids=: up to 20 full albums, null for unknown ids; 403 in Development Mode."""
    if call.config.mode == "development":
        raise ApiError(403, DEVELOPMENT_MODE_FORBIDDEN)
    ids = params.album_ids(call.query)
    view = call.view(params.market(call.query))
    found = [call.album(album_id) for album_id in ids]
    return Reply(
        200, {"albums": [None if a is None else _full_album(call, a, view) for a in found]}
    )


def listed_tracks(config: EmulatorConfig, album: Album) -> tuple[Track, ...]:
    """The tracks the API lists for an album: all, or all but the last when drop_tracks names it."""
    if album.id in config.drop_tracks:
        return album.tracks[:-1]
    return album.tracks


def _album(call: Call, album_id: str) -> Album:
    """The album a path names: 400 when the id is malformed, 404 when unknown."""
    found = call.album(params.album_id(album_id))
    if found is None:
        raise ApiError(404, "Non existing id")
    return found


def _feed_page(
    call: Call,
    url: str,
    *,
    offset: int,
    limit: int,
    link_params: Sequence[tuple[str, str]] = (),
    max_offset: int | None = None,
    total: int | None = None,
    market: str | None = None,
) -> JSON:
    """One page of the feed (only the albums sold in `market` when given), its last
    `feed_shortfall` albums missing from the listing.

    The listing is the feed with `feed_duplicate`'s second listing inserted (the places are of
    this feed, a market's or a day's: one too short to hold the first place lists no album
    twice, and the second listing goes last when it falls beyond the end); `null_albums` places
    are answered null and a page at a `null_pages` offset has `items: null` (both as Spotify has
    sent them; the places still count). `total` (default: listing size + total_offset) is what
    the page claims; `next` is set while the listing has more places (whether listed or not) and
    the next page stays within `max_offset`.
    """
    feed = list(call.catalog.feed(market=market))
    if call.config.feed_duplicate is not None and call.config.feed_duplicate[0] < len(feed):
        source, copy = call.config.feed_duplicate
        feed.insert(copy, feed[source])
    listed = feed[: max(0, len(feed) - call.config.feed_shortfall)]
    view = call.view()
    items: list[JSON | None] | None = [
        None if place in call.config.null_albums else simplified_album(album, view)
        for place, album in enumerate(listed[offset : offset + limit], start=offset)
    ]
    if offset in call.config.null_pages:
        items = None
    following = offset + limit
    has_next = following < len(feed) and (max_offset is None or following + limit <= max_offset)
    if total is None:
        total = len(feed) + call.config.total_offset
    return paging(
        url, items, offset=offset, limit=limit, total=total, has_next=has_next, params=link_params
    )


def _tracks_page(call: Call, album: Album, view: View, offset: int, limit: int) -> JSON:
    """One page of an album's listed tracks, market kept in the links."""
    tracks = listed_tracks(call.config, album)
    items = [track_object(track, album, view) for track in tracks[offset : offset + limit]]
    link_params = [] if view.market is None else [("market", view.market)]
    return paging(
        f"{call.api_base}/albums/{album.id}/tracks",
        items,
        offset=offset,
        limit=limit,
        total=len(tracks),
        has_next=offset + limit < len(tracks),
        params=link_params,
    )


def _full_album(call: Call, album: Album, view: View) -> JSON:
    """AlbumObject with the first page of 50 tracks embedded."""
    return full_album(album, view, _tracks_page(call, album, view, 0, EMBEDDED_TRACKS))
