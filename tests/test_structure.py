"""The shape of the house: no import circles (between packages, or between modules), and
no module longer than 600 lines.

Every import counts, including those inside functions (a lazy import hides a circle, it
does not remove it). A package's ``__init__`` counts as the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "escalation_model"
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules ``name`` imports (``from .x import y`` names ``.x.y`` when
    that is a module, else ``.x``)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{module}.{alias.name}"
                found.add(full if full in known else module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known and m != name}


def _graph(level: str) -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)

    def node(m: str) -> str:  # a subpackage, or a top-level module
        return ".".join(m.split(".")[:2]) if level == "package" else m

    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        for dep in _imports(name, path, known):
            if node(name) != node(dep):
                graph.setdefault(node(name), set()).add(node(dep))
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return out


def test_the_circle_finder_finds_a_planted_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_the_known_edges():
    graph = _graph("module")
    assert "escalation_model.config" in graph["escalation_model.models._factory"]
    assert "escalation_model.reporting._build" in graph["escalation_model.reporting._card"]


@pytest.mark.parametrize("level", ["package", "module"])
def test_no_import_circles(level):
    circles = _circles(_graph(level))
    assert not circles, f"import circles between {level}s: {circles}"


def test_the_configuration_imports_nothing_above_it():
    graph = _graph("module")
    allowed = {"escalation_model._audit_metrics", "escalation_model._errors"}
    allowed |= {"escalation_model._limits", "escalation_model._selection"}
    assert graph.get("escalation_model.config", set()) <= allowed


def test_no_module_is_longer_than_600_lines():
    long = {
        str(p.relative_to(ROOT.parent)): n
        for p in ROOT.rglob("*.py")
        if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
