"""The layers of the tree, as docs/layout.md draws them: who may import whom, no cycles, client
and emulator without a module name in common, and each folder saying what lives there.

Imports point one way: local tooling -> code location (defs) -> data contract -> client; the
client imports nothing of ours or of Dagster; the emulator shares no code with anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "spotify_assets"

LAYERS = {
    "spotify_assets.spotify": {"spotify_assets.spotify"},
    "spotify_assets.emulator": {"spotify_assets.emulator"},
    "spotify_assets.contract": {"spotify_assets.contract", "spotify_assets.spotify"},
    "spotify_assets.defs": {
        "spotify_assets.defs",
        "spotify_assets.contract",
        "spotify_assets.spotify",
        "spotify_assets.settings",
    },
    "spotify_assets.definitions": {"spotify_assets.defs", "spotify_assets.settings"},
    "spotify_assets.settings": set(),
}
"""What each layer may import of the project (the local tooling may import any of them)."""
DAGSTER_FREE = ("spotify_assets.spotify", "spotify_assets.emulator", "spotify_assets.contract")


def module_name(path: Path) -> str:
    """`spotify_assets.spotify.client` for .../spotify_assets/spotify/client.py."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every module a file imports: `from package import module` names the module, not the
    package (relative imports are not used here)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if submodule in MODULES else node.module)
    return names


IMPORTS = {name: imports_of(path) for name, path in MODULES.items()}


def within(name: str, prefix: str) -> bool:
    """Whether module `name` is `prefix` or inside it."""
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_each_layer_imports_only_what_it_may(layer: str) -> None:
    allowed = LAYERS[layer]
    offenders = {
        module: sorted(
            name
            for name in names
            if within(name, "spotify_assets")
            and name != "spotify_assets"
            and not any(within(name, ok) for ok in allowed)
        )
        for module, names in IMPORTS.items()
        if within(module, layer)
    }
    assert {module: names for module, names in offenders.items() if names} == {}


@pytest.mark.parametrize("layer", DAGSTER_FREE)
def test_client_emulator_and_contract_import_nothing_of_dagster(layer: str) -> None:
    offenders = {
        module: sorted(name for name in names if name.split(".")[0] == "dagster")
        for module, names in IMPORTS.items()
        if within(module, layer)
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_no_module_of_the_project_imports_the_local_tooling() -> None:
    assert (
        sorted(
            module
            for module, names in IMPORTS.items()
            if not within(module, "spotify_assets.local")
            and any(within(name, "spotify_assets.local") for name in names)
        )
        == []
    )


def test_no_import_cycles() -> None:
    graph = {
        module: {name for name in names if name in MODULES and name != module}
        for module, names in IMPORTS.items()
    }
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in trail:
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in done:
                visit(target, [*trail, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert cycles == []


def test_every_folder_says_what_lives_there() -> None:
    silent = sorted(
        str(init.parent.relative_to(PACKAGE.parent))
        for init in PACKAGE.rglob("__init__.py")
        if not ast.get_docstring(ast.parse(init.read_text()))
    )
    assert silent == []


def test_client_and_emulator_share_no_module_name() -> None:
    """Two `config.py` (or any same-named pair) in client and emulator read as one module shared
    by both, which the design forbids; one name each keeps a traceback or a grep unambiguous."""
    client, emulator = (
        {path.stem for path in (PACKAGE / folder).glob("*.py") if path.stem != "__init__"}
        for folder in ("spotify", "emulator")
    )
    assert sorted(client & emulator) == []
