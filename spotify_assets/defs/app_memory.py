"""The client's app memory kept beside the data, where every run of a deployment finds it.

What the client learns about the app (endpoints it may not use, the pace of the rate limit) is
worth keeping from one run to the next; in a deployment each run may start in a fresh container
or pod without the home folder of the last, but they all share the data folder (a local path or
object storage). The memory holds no secret (see spotify_assets.spotify.memory).
"""

from __future__ import annotations

from upath import UPath

from spotify_assets.defs.storage import DataStorage, write_atomically
from spotify_assets.spotify.memory import FILE_NAME

FOLDER = "_spotify_assets"
"""Beside the assets' folders; no `*.parquet` glob over an asset's folder ever reaches it."""


class DataFolderStore:
    """A MemoryStore (see spotify_assets.spotify.memory) in `<data storage>/_spotify_assets/`."""

    def __init__(self, storage: DataStorage) -> None:
        self.path: UPath = storage.root() / FOLDER / FILE_NAME

    def __repr__(self) -> str:
        return str(self.path)

    def read(self) -> str | None:
        """The stored text, None before any run stored one."""
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return None

    def write(self, text: str) -> None:
        """Replace the stored text atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, lambda sink: sink.write(text.encode()))
