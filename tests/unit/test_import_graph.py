"""The shape of the code, read from the source with `ast` (nothing here imports it).

Every import counts, wherever it is written: at the top of a module, inside a function or
under `if TYPE_CHECKING`. An import tucked into a function still makes the two modules
depend on each other; it only hides the cycle from Python's import machinery.

Rules (the layers of DESIGN.md's "The shape"):
- no import cycle between modules of familybot/ and cogs/;
- ui/ renders only: it imports neither familybot.services nor familybot.db;
- cogs never import familybot.db (repositories): types come from familybot.models;
- services and db never import discord (nor the adapters, nor ui); db never imports services;
- models (the domain types) import nothing of the application but other models.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("familybot", "cogs")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if ".venv" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imported_names(module: str, path: Path) -> Iterator[str]:
    """Every dotted name this module imports, relative imports resolved; `from x import y`
    gives x.y (which is a module when y is a submodule) and x."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop] if drop else base
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            yield prefix
            for alias in node.names:
                yield f"{prefix}.{alias.name}"


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module a dotted name lands in (the longest known prefix), or None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(edges between project modules, every top-level or dotted external name imported)."""
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    raw: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for name in _imported_names(module, path):
            raw[module].add(name)
            target = _resolve(name, modules)
            if target is not None and target != module:
                edges[module].add(target)
    return edges, raw


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _within(name: str, package: str) -> bool:
    """name is package or inside it; "familybot.discord*" also covers familybot.discord_io."""
    if package.endswith("*"):
        return name.startswith(package[:-1])
    return name == package or name.startswith(package + ".")


def violations(
    edges: dict[str, set[str]], raw: dict[str, set[str]], source: str, forbidden: str
) -> list[str]:
    """'a -> b' for every module under `source` importing anything under `forbidden`
    (project modules as resolved, other packages by the name imported)."""
    bad = set()
    for module in sorted(edges):
        if not _within(module, source):
            continue
        external = {n for n in raw[module] if n.split(".")[0] not in PACKAGES}
        for name in edges[module] | external:
            if _within(name, forbidden):
                bad.add(f"{module} -> {name}")
    return sorted(bad)


# --- the reader itself, on a tiny made-up tree ------------------------------------------
def test_the_reader_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    text = "def f():\n    from .b import thing\n    import familybot.c\n"
    path = tmp_path / "a.py"
    path.write_text(text)
    names = set(_imported_names("familybot.x.a", path))
    assert "familybot.x.b" in names and "familybot.x.b.thing" in names
    assert "familybot.c" in names


def test_cycles_finds_a_loop_and_only_loops() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_violations_names_each_upward_import_once() -> None:
    edges = {"familybot.ui.a": {"familybot.services.b"}, "familybot.services.b": set()}
    raw = {
        "familybot.ui.a": {"familybot.services.b", "familybot.services.b.Thing"},
        "familybot.services.b": {"discord", "discord.ext"},
    }
    assert violations(edges, raw, "familybot.ui", "familybot.services") == [
        "familybot.ui.a -> familybot.services.b"
    ]
    assert violations(edges, raw, "familybot.services", "discord") == [
        "familybot.services.b -> discord",
        "familybot.services.b -> discord.ext",
    ]


# --- the rules, on the real code ---------------------------------------------------------
@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    edges, raw = import_graph()
    assert "familybot.tree" in edges and "cogs.groups" in edges  # the walk found the code
    return edges, raw


def test_no_import_cycles(graph: tuple[dict[str, set[str]], dict[str, set[str]]]) -> None:
    edges, _ = graph
    assert cycles(edges) == []


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("familybot.ui", "familybot.services"),
        ("familybot.ui", "familybot.db"),
        ("cogs", "familybot.db"),
        ("familybot.services", "discord"),
        ("familybot.db", "discord"),
        ("familybot.services", "familybot.discord*"),
        ("familybot.db", "familybot.discord*"),
        ("familybot.services", "familybot.ui"),
        ("familybot.db", "familybot.services"),
        ("familybot.models", "familybot.services"),
        ("familybot.models", "familybot.db"),
        ("familybot.models", "discord"),
        ("familybot.ui", "cogs"),
    ],
)
def test_no_upward_imports(
    graph: tuple[dict[str, set[str]], dict[str, set[str]]], source: str, forbidden: str
) -> None:
    edges, raw = graph
    assert violations(edges, raw, source, forbidden) == []
