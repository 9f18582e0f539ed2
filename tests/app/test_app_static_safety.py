"""Static checks of the Streamlit code: bounded session-scoped caches, no unsafe HTML.

Every ``st.cache_data`` / ``st.cache_resource`` in ``app.py``, ``ui/`` and ``pages/`` must set
``max_entries`` and ``scope="session"`` (all of them hold user data: files, tables, models), so
memory stays bounded and one session never sees another's results. ``unsafe_allow_html`` and raw
HTML elements (``st.html``, ``components.html``) may only ever get literal text, never a value
that could carry a user's string.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted([REPO / "app.py", *(REPO / "ui").glob("*.py"), *(REPO / "pages").glob("*.py")])
CACHES = {"cache_data", "cache_resource"}
RAW_HTML = {"html"}  # st.html, components.html, components.v1.html


def _name(node: ast.AST) -> str:
    """Dotted name of an attribute chain (``st.cache_resource``), else ''."""
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}" if _name(node.value) else node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _literal_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def cache_problems(path: Path) -> list[str]:
    """Each cache decorator of ``path`` without ``max_entries`` or ``scope="session"``."""
    problems = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            name = _name(call.func if call else decorator)
            if name.split(".")[-1] not in CACHES:
                continue
            keywords = {k.arg: k.value for k in call.keywords} if call else {}
            where = f"{path.name}:{node.lineno} {node.name}"
            entries = keywords.get("max_entries")
            if not (isinstance(entries, ast.Constant) and isinstance(entries.value, int)):
                problems.append(f"{where}: no max_entries")
            scope = keywords.get("scope")
            if not (isinstance(scope, ast.Constant) and scope.value == "session"):
                problems.append(f'{where}: not scope="session"')
    return problems


def html_problems(path: Path) -> list[str]:
    """Each call that renders raw HTML from anything but literal text."""
    problems = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        unsafe = keywords.get("unsafe_allow_html")
        raw = _name(node.func).split(".")[-1] in RAW_HTML
        allowed = isinstance(unsafe, ast.Constant) and unsafe.value is False
        if (unsafe is not None and not allowed) or raw:
            arguments = [*node.args, *(v for k, v in keywords.items() if k == "body")]
            if not arguments or not all(_literal_text(a) for a in arguments):
                problems.append(f"{path.name}:{node.lineno}: raw HTML from a non-literal")
    return problems


def test_the_sources_are_found() -> None:
    names = {p.name for p in SOURCES}
    assert {"app.py", "cache.py", "state.py", "segments.py", "upload.py"} <= names


def test_every_cache_is_bounded_and_session_scoped() -> None:
    assert [p for path in SOURCES for p in cache_problems(path)] == []


def test_there_are_caches_to_check() -> None:
    text = "".join(path.read_text(encoding="utf-8") for path in SOURCES)
    assert text.count("@st.cache_resource(") >= 20


def test_no_unsafe_html_with_non_literal_content() -> None:
    assert [p for path in SOURCES for p in html_problems(path)] == []
    # the core never renders to Streamlit at all, and builds its HTML report escaped
    for path in (REPO / "rfm_core").glob("*.py"):
        assert "unsafe_allow_html" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("@st.cache_data\ndef f(x): ...\n", 2),
        ("@st.cache_resource(max_entries=2)\ndef f(x): ...\n", 1),
        ('@st.cache_data(scope="session")\ndef f(x): ...\n', 1),
        ('@st.cache_resource(scope="global", max_entries=2)\ndef f(x): ...\n', 1),
        ('@st.cache_resource(scope="session", max_entries=2)\ndef f(x): ...\n', 0),
    ],
)
def test_the_cache_check_would_see_an_unbounded_cache(tmp_path, source: str, found: int) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import streamlit as st\n" + source)
    assert len(cache_problems(sample)) == found


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('st.markdown(f"<b>{name}</b>", unsafe_allow_html=True)\n', 1),
        ("st.markdown(text, unsafe_allow_html=True)\n", 1),
        ("st.html(report)\n", 1),
        ("components.html(page, height=400)\n", 1),
        ('st.markdown("<hr>", unsafe_allow_html=True)\n', 0),
        ("st.markdown(text, unsafe_allow_html=False)\n", 0),
        ("st.markdown(text)\n", 0),
    ],
)
def test_the_html_check_would_see_user_html(tmp_path, source: str, found: int) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import streamlit as st\n" + source)
    assert len(html_problems(sample)) == found
