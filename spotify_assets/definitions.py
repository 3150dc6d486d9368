"""The code location: every Dagster object found under `spotify_assets/defs/`.

`defs/spotify/defs.yaml` makes the Spotify part of it the SpotifyAssetsComponent, which reads the
environment when the code location loads (see settings.py and README); credentials go through
EnvVar, so their values stay out of run config.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from dagster import (
    AnchorBasedFilePathMapping,
    AssetsDefinition,
    AssetSpec,
    BetaWarning,
    ComponentTree,
    Definitions,
    PreviewWarning,
    definitions,
    link_code_references_to_git,
    with_source_code_references,
)

import spotify_assets.defs
from spotify_assets import settings

CODE_REFERENCES = "dagster/code_references"
"""The metadata key under which the UI finds where an asset's code is."""


@definitions
def defs() -> Definitions:
    """The assets, checks, job, schedule, resources and executor of the `defs` folder, with the
    code references the environment configures.

    What `load_from_defs_folder` builds (the `dg` CLI reads the same folder through `[tool.dg]`
    in pyproject.toml), without needing pyproject.toml at run time, so the code location also
    loads from a wheel installed in a container image.
    """
    environ = settings.Settings.from_environ()
    root = Path(spotify_assets.defs.__file__).parents[2]
    tree = ComponentTree.from_module(defs_module=spotify_assets.defs, project_root=root)
    with warnings.catch_warnings():
        # The module loaders under the tree and the mapping over asset specs are a preview
        # (load_from_defs_folder silences them too), code references a beta.
        warnings.simplefilter("ignore", PreviewWarning)
        warnings.simplefilter("ignore", BetaWarning)
        return with_code_references(tree.build_defs(), environ)


def with_code_references(built: Definitions, environ: settings.Settings) -> Definitions:
    """Each asset linked to its function's source: in the git repository SPOTIFY_ASSETS_GIT_URL
    names (at SPOTIFY_ASSETS_GIT_BRANCH), or to the local file when no repository is set."""
    assets = [a for a in built.assets or [] if isinstance(a, AssetsDefinition)]
    referenced = with_source_code_references(assets)
    if environ.git_url:
        referenced = link_code_references_to_git(
            referenced,
            git_url=environ.git_url,
            git_branch=environ.git_branch,
            file_path_mapping=AnchorBasedFilePathMapping(
                local_file_anchor=Path(__file__),
                file_anchor_path_in_repository="spotify_assets/definitions.py",
            ),
        )
    references = {
        key: {CODE_REFERENCES: metadata[CODE_REFERENCES]}
        for assets_def in referenced
        if isinstance(assets_def, AssetsDefinition)
        for key, metadata in assets_def.metadata_by_key.items()
    }

    def add_reference(spec: AssetSpec) -> AssetSpec:
        """The spec with its code reference."""
        return spec.merge_attributes(metadata=references.get(spec.key, {}))

    return built.map_asset_specs(func=add_reference)
