"""Imports point one way: Dagster layer -> client -> nothing of ours; the emulator stands alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "spotify_assets"


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Every module imported by each file under `folder` (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(PACKAGE.parent))] = names
    return found


@pytest.mark.parametrize(
    ("folder", "allowed_own"),
    [("spotify", "spotify_assets.spotify"), ("emulator", "spotify_assets.emulator")],
)
def test_client_and_emulator_import_nothing_of_dagster_or_each_other(
    folder: str, allowed_own: str
) -> None:
    offenders = {
        file: sorted(
            name
            for name in names
            if name.split(".")[0] == "dagster"
            or (name.startswith("spotify_assets") and not name.startswith(allowed_own))
        )
        for file, names in imported_modules(PACKAGE / folder).items()
    }
    assert {file: names for file, names in offenders.items() if names} == {}
