"""The environment variables users set, read in one place into one frozen value.

Credentials are not read here: the Spotify resource takes them through EnvVar at run time, so
their values never appear in run config. Blank values count as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

CLIENT_ID: Final = "SPOTIFY_CLIENT_ID"
CLIENT_SECRET: Final = "SPOTIFY_CLIENT_SECRET"
API_BASE_URL: Final = "SPOTIFY_API_BASE_URL"
TOKEN_URL: Final = "SPOTIFY_TOKEN_URL"
DATA_DIR: Final = "SPOTIFY_ASSETS_DATA_DIR"
NEW_RELEASES_SOURCE: Final = "SPOTIFY_NEW_RELEASES_SOURCE"
MARKET: Final = "SPOTIFY_MARKET"
GIT_URL: Final = "SPOTIFY_ASSETS_GIT_URL"
GIT_BRANCH: Final = "SPOTIFY_ASSETS_GIT_BRANCH"

CLIENT_FIELDS: Final = {
    API_BASE_URL: "api_base_url",
    TOKEN_URL: "token_url",
    NEW_RELEASES_SOURCE: "new_releases_source",
    MARKET: "market",
}
"""Variables that set a field of the Spotify resource (whose defaults are the client's)."""
DEFAULT_DATA_DIR: Final = "./data"
DEFAULT_GIT_BRANCH: Final = "main"


@dataclass(frozen=True)
class Settings:
    """What the environment configures: resource fields it sets, the data folder, credentials,
    and the git repository the UI links the assets' code to (unset: links to local files)."""

    client: Mapping[str, str] = field(default_factory=dict)
    data_dir: str = DEFAULT_DATA_DIR
    credentials_given: tuple[str, ...] = ()
    git_url: str | None = None
    git_branch: str = DEFAULT_GIT_BRANCH

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the variables from `environ` (default: this process's environment)."""
        values = {
            name: value.strip()
            for name, value in (os.environ if environ is None else environ).items()
            if name.startswith("SPOTIFY_") and value.strip()
        }
        return cls(
            client={key: values[name] for name, key in CLIENT_FIELDS.items() if name in values},
            data_dir=values.get(DATA_DIR, DEFAULT_DATA_DIR),
            credentials_given=tuple(name for name in (CLIENT_ID, CLIENT_SECRET) if name in values),
            git_url=values.get(GIT_URL),
            git_branch=values.get(GIT_BRANCH, DEFAULT_GIT_BRANCH),
        )

    @property
    def has_credentials(self) -> bool:
        """Whether both app credentials are set to something non-blank."""
        return len(self.credentials_given) == 2
