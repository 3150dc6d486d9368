"""The environment variables users set, their defaults, and how empty values are read."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import cast

from spotify_assets.spotify import DEFAULT_API_BASE_URL, DEFAULT_TOKEN_URL, Source

CLIENT_ID = "SPOTIFY_CLIENT_ID"
CLIENT_SECRET = "SPOTIFY_CLIENT_SECRET"
API_BASE_URL = "SPOTIFY_API_BASE_URL"
TOKEN_URL = "SPOTIFY_TOKEN_URL"
DATA_DIR = "SPOTIFY_ASSETS_DATA_DIR"
NEW_RELEASES_SOURCE = "SPOTIFY_NEW_RELEASES_SOURCE"
MARKET = "SPOTIFY_MARKET"

DEFAULTS: Mapping[str, str] = {
    API_BASE_URL: DEFAULT_API_BASE_URL,
    TOKEN_URL: DEFAULT_TOKEN_URL,
    DATA_DIR: "./data",
    NEW_RELEASES_SOURCE: "auto",
}


def env(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable's value, its default when unset or blank, or None when it has no default."""
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return value or DEFAULTS.get(name)


def value(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The value of a variable that has a default (see DEFAULTS)."""
    return env(name, environ) or DEFAULTS[name]


def new_releases_source(environ: Mapping[str, str] | None = None) -> Source:
    """SPOTIFY_NEW_RELEASES_SOURCE, refusing anything but auto, browse or search."""
    source = value(NEW_RELEASES_SOURCE, environ)
    if source not in ("auto", "browse", "search"):
        raise ValueError(f"{NEW_RELEASES_SOURCE} must be auto, browse or search, not {source!r}")
    return cast(Source, source)


def has_credentials(environ: Mapping[str, str] | None = None) -> bool:
    """Whether both app credentials are set to something non-blank."""
    return bool(env(CLIENT_ID, environ) and env(CLIENT_SECRET, environ))
