"""The contenders: three ways to extract the feed and every track of its albums from one API.

Each contender module has `extract(target) -> Extraction`. They are imported by name, in the
child process that runs them, so each run's imports and memory are its own.
"""

from __future__ import annotations

from dataclasses import dataclass

Extraction = list[tuple[str, list[str]]]
"""(album id, track ids in order) for every album, in feed order."""

CONTENDERS: dict[str, str] = {
    "seed": "bench.contenders.seed",
    "spotipy": "bench.contenders.spotipy_way",
    "spotify_assets": "bench.contenders.project",
}
"""Contender name -> the module that implements it, in the order the table shows them."""


@dataclass(frozen=True)
class Target:
    """Where the API and the token endpoint are, and the app's credentials."""

    api_base: str
    token_url: str
    client_id: str
    client_secret: str
