"""What fetching the tracks of some albums costs in requests, from their track counts alone.

Used to report the requests track reuse saved: the cost of a full fetch of the day's albums,
estimated with the endpoint the client used, minus the requests actually sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import ceil

from spotify_assets.spotify.results import TracksEndpoint
from spotify_assets.spotify.tracks import MAX_IDS_PER_REQUEST

EMBEDDED_TRACKS = 50
"""Albums from `/albums?ids=` embed their first 50 tracks; `tracks.next` pages the rest by 50."""


def tracks_cost(
    total_tracks: Iterable[int | None], endpoint: TracksEndpoint, page_size: int
) -> int:
    """Requests to fetch every track of albums with these track counts through `endpoint`.

    `albums`: one request per 20 albums, plus one per further 50 tracks of each album over 50.
    `album_tracks`: one listing per album, one request per `page_size` tracks (at least one).
    An unknown count (None) counts as one page.
    """
    counts = [max(0, count or 0) for count in total_tracks]
    if endpoint == "albums":
        extra_pages = sum(ceil(max(0, n - EMBEDDED_TRACKS) / EMBEDDED_TRACKS) for n in counts)
        return ceil(len(counts) / MAX_IDS_PER_REQUEST) + extra_pages
    return sum(max(1, ceil(n / page_size)) for n in counts)
