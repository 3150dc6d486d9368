"""The code location: `defs` wires the assets, checks, job, schedule and resources together.

Configuration comes from the environment (see settings.py and README): credentials through
EnvVar, so their values stay out of run config; the rest read when the code location loads.
"""

from __future__ import annotations

from dagster import Definitions, EnvVar, in_process_executor

from spotify_assets import settings
from spotify_assets.assets import IO_MANAGER, album_tracks, new_releases
from spotify_assets.io_manager import ParquetIOManager
from spotify_assets.jobs import spotify_daily, spotify_daily_schedule
from spotify_assets.resources import SpotifyResource


def build_defs() -> Definitions:
    """The Definitions for the current environment."""
    return Definitions(
        assets=[new_releases, album_tracks],
        jobs=[spotify_daily],
        schedules=[spotify_daily_schedule],
        resources={
            "spotify": SpotifyResource(
                client_id=EnvVar(settings.CLIENT_ID),
                client_secret=EnvVar(settings.CLIENT_SECRET),
                api_base_url=settings.value(settings.API_BASE_URL),
                token_url=settings.value(settings.TOKEN_URL),
                new_releases_source=settings.new_releases_source(),
                market=settings.env(settings.MARKET),
            ),
            IO_MANAGER: ParquetIOManager(base_path=settings.value(settings.DATA_DIR)),
        },
        # One process per run: both steps share the run's Spotify client (what it learned about
        # the app's access and the rate limit), and the client parallelizes the requests itself.
        executor=in_process_executor,
    )


defs = build_defs()
