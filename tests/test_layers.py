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


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _top_level_imports(path: Path, known: set[str]) -> set[str]:
    """socialshop modules imported when ``path`` is imported (module-level statements, not inside functions)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in known)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in known else node.module)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "finalbody", []))

    visit(ast.parse(path.read_text(), filename=str(path)).body)
    return {name for name in found if name in known}


def test_no_module_imports_a_module_that_imports_it_back():
    paths = {_module_name(p): p for p in _modules()}
    known = set(paths)
    graph = {name: _top_level_imports(path, known) - {name} for name, path in paths.items()}
    cycles: list[str] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*stack[stack.index(target):], target]))
            elif target not in state:
                walk(target)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert cycles == [], "module-level import cycles:\n" + "\n".join(cycles)


def _all_imports(path: Path, known: set[str]) -> set[str]:
    """socialshop modules ``path`` imports anywhere, inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return {name for name in found if name in known}


def test_no_domain_module_imports_back_inside_a_function():
    """A function-level import that hides a cycle (models <-> publishing) is a cycle too; edges may do it."""
    paths = {_module_name(p): p for p in _modules()}
    known = set(paths)
    top = {name: _top_level_imports(path, known) for name, path in paths.items()}
    hidden = []
    for name, path in paths.items():
        if _is_edge(path.relative_to(ROOT)):
            continue
        for target in _all_imports(path, known) - top[name] - {name}:
            if name in top.get(target, set()):
                hidden.append(f"{name} imports {target} inside a function; {target} imports {name} at module level")
    assert hidden == [], "\n".join(hidden)
