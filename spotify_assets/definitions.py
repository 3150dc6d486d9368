"""The code location: every Dagster object found under `spotify_assets/defs/`.

Configuration comes from the environment (see settings.py and README): credentials through
EnvVar, so their values stay out of run config; the rest read when the code location loads.
"""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions, definitions, load_from_defs_folder


@definitions
def defs() -> Definitions:
    """The assets, checks, job, schedule, resources and executor of the `defs` folder."""
    return load_from_defs_folder(path_within_project=Path(__file__).parent)
