"""Every public function and method of rfm_core documents its Parameters and Returns (numpydoc).

Public: a name without a leading underscore, defined in the module (not imported), at its top
level or as a method of a public class. ``Parameters`` is required when the function takes
arguments besides ``self``/``cls``; ``Returns`` (``Yields`` for a generator) when it is annotated
to return something other than None. Properties are exempt (their docstring says what they are),
and so are the methods a dataclass generates, which have no source.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import rfm_core

PACKAGE = Path(rfm_core.__file__).resolve().parent
EXEMPT_DECORATORS = {"property", "cached_property", "setter", "deleter", "overload"}


def _has_section(docstring: str, *titles: str) -> bool:
    return any(re.search(rf"^\s*{title}\s*\n\s*-{{3,}}\s*$", docstring, re.M) for title in titles)


def _decorators(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def _arguments(node: ast.FunctionDef | ast.AsyncFunctionDef, *, method: bool) -> list[str]:
    args = node.args
    names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    if method and "staticmethod" not in _decorators(node) and names[:1] in (["self"], ["cls"]):
        names = names[1:]
    return names


def _returns_something(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    returns = node.returns
    if returns is None:
        return False
    text = returns.value if isinstance(returns, ast.Constant) else ast.unparse(returns)
    return text not in ("None", None)


def _public_functions(
    tree: ast.Module,
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """(qualified name, node, is a method) of the public functions and methods of a module."""
    body = list(tree.body)
    # definitions under a top-level `if` or `try` (an optional dependency) count too
    for node in tree.body:
        if isinstance(node, ast.If | ast.Try):
            body += [*node.body, *node.orelse, *getattr(node, "finalbody", [])]
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if not node.name.startswith("_"):
                yield node.name, node, False
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and not (
                    item.name.startswith("_")
                ):
                    yield f"{node.name}.{item.name}", item, True


def missing_sections(source: str, module: str) -> list[str]:
    """``module.function: Section`` for every section a public function lacks."""
    missing = []
    for name, node, method in _public_functions(ast.parse(source)):
        if _decorators(node) & EXEMPT_DECORATORS:
            continue
        docstring = ast.get_docstring(node) or ""
        if _arguments(node, method=method) and not _has_section(docstring, "Parameters"):
            missing.append(f"{module}.{name}: Parameters")
        if _returns_something(node) and not _has_section(docstring, "Returns", "Yields"):
            missing.append(f"{module}.{name}: Returns")
    return missing


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_walked():
    names = {module_name(p) for p in MODULES}
    assert {"rfm_core.cli", "rfm_core.ingest.io", "rfm_core.outputs.persistence"} <= names
    assert any(name.startswith("rfm_core.segments.") for name in names)


def test_every_public_function_has_parameters_and_returns():
    missing = [
        entry
        for path in MODULES
        for entry in missing_sections(path.read_text(encoding="utf-8"), module_name(path))
    ]
    assert missing == [], f"{len(missing)} numpydoc sections missing:\n" + "\n".join(missing)


# -- the checker itself ------------------------------------------------------------------------

SAMPLE = textwrap.dedent(
    '''
    from dataclasses import dataclass


    def bare(table, *, limit: int = 3) -> int:
        """Count something, but say nothing about how."""


    def documented(table, *, limit: int = 3) -> int:
        """Count rows.

        Parameters
        ----------
        table : pandas.DataFrame
        limit : int

        Returns
        -------
        int
        """


    def no_arguments() -> str:
        """A name, without a Returns section."""


    def side_effect(path) -> None:
        """Write a file, without a Parameters section."""


    def generated(n: int) -> Iterator[int]:
        """Count up.

        Parameters
        ----------
        n : int

        Yields
        ------
        int
        """


    def _private(table) -> int:
        """Not public: not checked."""


    @dataclass(frozen=True)
    class Result:
        """A dataclass: its generated __init__ and __eq__ have no source."""

        table: object

        @property
        def n_rows(self) -> int:
            """A property: exempt."""

        def only_self(self) -> None:
            """No argument but self, returns nothing: nothing required."""

        def lookup(self, key: str) -> str:
            """A method without sections."""

        @classmethod
        def build(cls) -> Result:
            """A class method: cls is not a parameter, but it returns a Result."""

        @staticmethod
        def helper(value) -> None:
            """A static method's first argument is a parameter."""


    class _Hidden:
        def visible(self, x) -> int:
            """A public method of a private class: not public."""
    '''
)


def test_the_checker_lists_what_is_missing():
    assert missing_sections(SAMPLE, "sample") == [
        "sample.bare: Parameters",
        "sample.bare: Returns",
        "sample.no_arguments: Returns",
        "sample.side_effect: Parameters",
        "sample.Result.lookup: Parameters",
        "sample.Result.lookup: Returns",
        "sample.Result.build: Returns",
        "sample.Result.helper: Parameters",
    ]


@pytest.mark.parametrize("title", ["Parameters", "Returns"])
def test_a_section_needs_its_underline(title):
    assert _has_section(f"Summary.\n\n{title}\n{'-' * len(title)}\nx : int\n", title)
    assert not _has_section(f"Summary.\n\n{title}: x is an int\n", title)
    assert not _has_section(f"Summary mentioning {title}.\n", title)
