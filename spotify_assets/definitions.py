"""The code location: every Dagster object found under `spotify_assets/defs/`.

Configuration comes from the environment (see settings.py and README): credentials through
EnvVar, so their values stay out of run config; the rest read when the code location loads.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from dagster import ComponentTree, Definitions, PreviewWarning, definitions

import spotify_assets.defs


@definitions
def defs() -> Definitions:
    """The assets, checks, job, schedule, resources and executor of the `defs` folder.

    What `load_from_defs_folder` builds (the `dg` CLI reads the same folder through `[tool.dg]`
    in pyproject.toml), without needing pyproject.toml at run time, so the code location also
    loads from a wheel installed in a container image.
    """
    root = Path(spotify_assets.defs.__file__).parents[2]
    tree = ComponentTree.from_module(defs_module=spotify_assets.defs, project_root=root)
    with warnings.catch_warnings():
        # The module loaders under the tree are a preview; load_from_defs_folder silences them too.
        warnings.simplefilter("ignore", PreviewWarning)
        return tree.build_defs()
