"""The lab's way ("seed"), as the lab in shared/seed/ writes it: the baseline to beat.

`get_token` with the credentials as form fields; new releases paged by offset and limit with the
lab's default limit, until the offset reaches the total (the lab's loop, which also asks for the
empty page at offset == total); each album's tracks paged by `next` with the default limit;
a new token on 401; one request at a time on a new connection each (`requests.get`); an error
while paging an album prints and returns what the lab returns, an empty list. No 429 handling:
a 429 body has no `albums` or `items`, so the feed crashes and an album loses its tracks.

The one thing added is what its user has had to add since 2026: when browse answers 403 (a
Development Mode app), the same paging over search with q=tag:new at Spotify's default page size.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import requests

from bench.contenders import Extraction, Target

BROWSE_DEFAULT_LIMIT = 20
SEARCH_DEFAULT_LIMIT = 5
FORBIDDEN = 403

PageRequest = Callable[[int, int], Any]


def get_token(client_id: str, client_secret: str, url: str) -> dict[str, Any]:
    """POST the client credentials as form fields; the token response, or {} on error."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    payload = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
    }
    try:
        response = requests.post(url=url, headers=headers, data=payload)
        response.raise_for_status()
        token: dict[str, Any] = json.loads(response.content)
        return token
    except Exception as err:
        print(f"Error: {err}", file=sys.stderr)
        return {}


def get_auth_header(access_token: str) -> dict[str, str]:
    """The bearer header for the access token."""
    return {"Authorization": f"Bearer {access_token}"}


def get_with_refresh(request_url: str, headers: dict[str, str], target: Target) -> Any:
    """GET a URL; on 401 get a new token into `headers` and send it again (lab, exercise 4)."""
    while True:
        response = requests.get(url=request_url, headers=headers)
        if response.status_code == 401:
            token_response = get_token(target.client_id, target.client_secret, target.token_url)
            if "access_token" in token_response:
                headers.update(get_auth_header(token_response["access_token"]))
                continue
            print("Failed to refresh token.", file=sys.stderr)
            return {}
        return response.json()


def paginated_new_releases(
    endpoint_request: PageRequest, limit: int, response: Any = None
) -> list[dict[str, Any]]:
    """Every album of the feed by offset paging (lab, exercise 2), from a first page if given."""
    responses: list[dict[str, Any]] = []
    offset = 0
    if response is None:
        response = endpoint_request(offset, limit)
    responses.extend(response.get("albums").get("items"))
    total_elements = response.get("albums").get("total")
    while offset < total_elements:
        offset = response.get("albums").get("offset") + limit
        response = endpoint_request(offset, limit)
        responses.extend(response.get("albums").get("items"))
    return responses


def get_paginated_album_tracks(
    base_url: str, album_id: str, headers: dict[str, str], target: Target
) -> list[dict[str, Any]]:
    """Every track of one album following `next` (lab, exercise 5); [] after any error."""
    request_url: str | None = f"{base_url}/{album_id}/tracks"
    album_data: list[dict[str, Any]] = []
    try:
        while request_url:
            response_json = get_with_refresh(request_url, headers, target)
            album_data.extend(response_json.get("items"))
            request_url = response_json["next"]
        return album_data
    except Exception as err:
        print(f"Error occurred during request: {err}", file=sys.stderr)
        return []


def new_releases(api_base: str, headers: dict[str, str], target: Target) -> list[dict[str, Any]]:
    """The feed from browse, or from search (q=tag:new) when browse answers 403."""

    def browse(offset: int, limit: int) -> Any:
        url = f"{api_base}/browse/new-releases?offset={offset}&limit={limit}"
        return get_with_refresh(url, headers, target)

    def search(offset: int, limit: int) -> Any:
        url = f"{api_base}/search?q=tag:new&type=album&offset={offset}&limit={limit}"
        return get_with_refresh(url, headers, target)

    first_page = browse(0, BROWSE_DEFAULT_LIMIT)
    if first_page.get("error", {}).get("status") == FORBIDDEN:
        return paginated_new_releases(search, SEARCH_DEFAULT_LIMIT)
    return paginated_new_releases(browse, BROWSE_DEFAULT_LIMIT, first_page)


def extract(target: Target) -> Extraction:
    """Token, the feed, then each album's tracks, one request at a time (the lab's main.py)."""
    token = get_token(target.client_id, target.client_secret, target.token_url)
    headers = get_auth_header(token["access_token"])
    album_items: Extraction = []
    for album in new_releases(target.api_base, headers, target):
        album_data = get_paginated_album_tracks(
            f"{target.api_base}/albums", album["id"], headers, target
        )
        album_items.append((album["id"], [track["id"] for track in album_data]))
    return album_items
