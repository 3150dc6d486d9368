"""Offline emulator of Spotify's Web API and accounts service, for tests, benchmarks and demos."""

from spotify_assets.emulator.catalog import Catalog
from spotify_assets.emulator.control import EmulatorControl
from spotify_assets.emulator.faults import Fault
from spotify_assets.emulator.knobs import EmulatorConfig, Mode
from spotify_assets.emulator.records import Album, Artist, Image, Track
from spotify_assets.emulator.server import EmulatorServer

__all__ = [
    "Album",
    "Artist",
    "Catalog",
    "EmulatorConfig",
    "EmulatorControl",
    "EmulatorServer",
    "Fault",
    "Image",
    "Mode",
    "Track",
]
