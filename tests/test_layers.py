"""Imports point down only (STYLE.md): core → catalog → privacy → platforms → tracking → feeds, posts.

Edge modules (views, admin, urls, api, tasks, commands, templatetags, the top-level wiring) may
import anything. socialshop never imports shop_demo.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "socialshop"
LEVELS = {
    "core": 0, "conf": 0, "exceptions": 0,
    "catalog": 1, "privacy": 2, "platforms": 3, "tracking": 4,
    "feeds": 5, "posts": 5, "audiences": 6, "campaigns": 7,
}
EDGE_PACKAGES = {"api", "management", "templatetags", "migrations"}
EDGE_FILES = {"views.py", "admin.py", "urls.py", "tasks.py"}
TOP_LEVEL_WIRING = {"__init__.py", "apps.py", "models.py", "admin.py", "urls.py", "tasks.py", "checks.py"}


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _is_edge(rel: Path) -> bool:
    if len(rel.parts) == 1:
        return rel.name in TOP_LEVEL_WIRING
    return rel.parts[0] in EDGE_PACKAGES or rel.name in EDGE_FILES


def test_the_walker_sees_the_packages():
    seen = {p.relative_to(ROOT).parts[0] for p in _modules()}
    assert {"core", "catalog", "tracking"} <= seen


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_point_down(path: Path):
    rel = path.relative_to(ROOT)
    imported = _imported(path)
    assert not any(name == "shop_demo" or name.startswith("shop_demo.") for name in imported), "socialshop imports shop_demo"
    if _is_edge(rel):
        return
    own = rel.parts[0].removesuffix(".py")
    own_level = LEVELS.get(own)
    assert own_level is not None, f"{rel}: package {own!r} has no level in tests/test_layers.py"
    for name in imported:
        parts = name.split(".")
        if parts[0] != "socialshop" or len(parts) < 2:
            continue
        target = parts[1]
        if target == own or target not in LEVELS or LEVELS[target] == own_level == 0:
            continue  # core, conf and exceptions form one bottom layer
        assert LEVELS[target] < own_level, f"{rel} imports socialshop.{target}: imports must point down"
