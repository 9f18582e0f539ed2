"""The core's modules import each other in one direction: no cycle, and steps only look back.

The graph counts every import in a module, at its top or inside a function (a lazy import is
still a dependency), and leaves out only those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rfm_core

PACKAGE = Path(rfm_core.__file__).resolve().parent
# the steps in data-flow order; a module may import its own step and earlier ones only
LAYERS = (
    "errors",
    "config",
    "labels",
    "ingest",
    "lines",
    "customers",
    "segments",
    "outputs",
    "cli",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        getattr(test, "id", None) == "TYPE_CHECKING"
        or getattr(test, "attr", None) == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str) -> set[str]:
    found: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if _type_checking_only(node):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: the package, ``level - 1`` packages up
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # `from pkg import module` imports the module; `from module import name` the module
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
        found |= _imports(node, package)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the rfm_core modules it imports (their packages' ``__init__`` left out)."""
    graph = {}
    for name, path in MODULES.items():
        is_package = path.name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = {m for m in _imports(tree, package) if m in MODULES and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle as a path ``[a, b, …, a]``, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_no_import_cycle_in_the_core():
    assert find_cycle(import_graph()) is None


def test_steps_import_only_their_own_and_earlier_steps():
    backward = sorted(
        f"{source} imports {target}"
        for source, targets in import_graph().items()
        for target in targets
        if layer(source) is not None and layer(target) is not None and layer(target) > layer(source)
    )
    assert backward == []


def test_every_module_sits_in_a_step():
    loose = [
        m for m in MODULES if m.count(".") >= 1 and layer(m) is None and m != "rfm_core.__main__"
    ]
    assert loose == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"a"}}, ["a", "a"]),
    ],
)
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert find_cycle(graph) == expected


def test_a_lazy_import_counts_and_a_type_checking_one_does_not(tmp_path):
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from rfm_core.cli import main\n"
        "def f():\n    from rfm_core.lines import cleaning\n"
    )
    found = _imports(ast.parse(source), "rfm_core.customers")
    assert "rfm_core.lines.cleaning" in found
    assert "rfm_core.cli" not in found
