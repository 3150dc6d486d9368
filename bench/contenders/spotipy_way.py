"""spotipy, the library a lab user reaches for next: its client credentials, paging and retries.

`new_releases(limit=50)` then `next`; where browse answers 403, `search(q="tag:new")` at 10 per
page then `next`; each album's tracks with `album_tracks(limit=50)` then `next`. Its retry
behaviour is left as it ships: urllib3's Retry on 429 and 5xx, sleeping Retry-After, 3 retries.
"""

from __future__ import annotations

import warnings
from typing import Any

import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials

from bench.contenders import Extraction, Target

REQUESTS_TIMEOUT_S = 30
FORBIDDEN = 403


def client(target: Target) -> Any:
    """A spotipy client pointed at the target: token URL and API prefix, nothing else changed."""
    auth = SpotifyClientCredentials(
        target.client_id,
        target.client_secret,
        requests_timeout=REQUESTS_TIMEOUT_S,
        cache_handler=MemoryCacheHandler(),
    )
    auth.OAUTH_TOKEN_URL = target.token_url
    sp = spotipy.Spotify(auth_manager=auth, requests_timeout=REQUESTS_TIMEOUT_S)
    sp.prefix = target.api_base + "/"
    return sp


def new_releases(sp: Any) -> list[dict[str, Any]]:
    """The feed from browse, or from search (q=tag:new) when browse answers 403."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Spotify deprecated browse
            page = sp.new_releases(limit=50)["albums"]
    except spotipy.SpotifyException as exc:
        if exc.http_status != FORBIDDEN:
            raise
        page = sp.search(q="tag:new", type="album", limit=10)["albums"]
    albums: list[dict[str, Any]] = list(page["items"])
    while page["next"]:
        page = sp.next(page)["albums"]
        albums += page["items"]
    return albums


def album_track_ids(sp: Any, album_id: str) -> list[str]:
    """The track ids of one album, page by page."""
    page = sp.album_tracks(album_id, limit=50)
    ids = [track["id"] for track in page["items"]]
    while page["next"]:
        page = sp.next(page)
        ids += [track["id"] for track in page["items"]]
    return ids


def extract(target: Target) -> Extraction:
    """The feed, then each album's tracks, one request at a time."""
    sp = client(target)
    return [(album["id"], album_track_ids(sp, album["id"])) for album in new_releases(sp)]
