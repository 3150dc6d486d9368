"""Spotify Web API client for batch extraction: plain Python on requests, nothing of Dagster."""

from spotify_assets.spotify.client import SpotifyClient
from spotify_assets.spotify.config import ClientConfig, Source
from spotify_assets.spotify.errors import (
    SpotifyAppForbiddenError,
    SpotifyAuthError,
    SpotifyConfigError,
    SpotifyCredentialsError,
    SpotifyError,
    SpotifyForbiddenError,
    SpotifyHTTPError,
    SpotifyNotFoundError,
    SpotifyPagingError,
    SpotifyProtocolError,
    SpotifyRateLimitError,
    SpotifyRequestError,
    SpotifyRetryBudgetError,
    SpotifyRunStoppedError,
    SpotifyUnavailableError,
)
from spotify_assets.spotify.results import AlbumTracks, NewReleases
from spotify_assets.spotify.stats import ClientStats

__all__ = [
    "AlbumTracks",
    "ClientConfig",
    "ClientStats",
    "NewReleases",
    "Source",
    "SpotifyAppForbiddenError",
    "SpotifyAuthError",
    "SpotifyClient",
    "SpotifyConfigError",
    "SpotifyCredentialsError",
    "SpotifyError",
    "SpotifyForbiddenError",
    "SpotifyHTTPError",
    "SpotifyNotFoundError",
    "SpotifyPagingError",
    "SpotifyProtocolError",
    "SpotifyRateLimitError",
    "SpotifyRequestError",
    "SpotifyRetryBudgetError",
    "SpotifyRunStoppedError",
    "SpotifyUnavailableError",
]
