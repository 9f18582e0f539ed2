"""Static checks of the Streamlit code: bounded session-scoped caches, no unsafe HTML, thin pages.

Every ``st.cache_data`` / ``st.cache_resource`` in ``app.py``, ``ui/`` and ``pages/`` must set
``max_entries`` and ``scope="session"`` (all of them hold user data: files, tables, models), so
memory stays bounded and one session never sees another's results. ``unsafe_allow_html`` and raw
HTML elements (``st.html``, ``components.html``) may only ever get literal text, never a value
that could carry a user's string.

Download buttons set ``on_click="ignore"``: a download needs no rerun of the page, and a rerun
started by the click raced the browser's request of a file built on click (its callable replaced
before it ran) and could swallow the click.

Pages only lay out: they import neither plotly (every figure is built in ``ui/charts``) nor
``rfm_core`` (they go through ``ui/``), and none is longer than :data:`MAX_PAGE_LINES`. Neither
pages nor ``ui/`` ask which kind of run they hold (in memory or on an engine): they read the
:class:`rfm_core.customers.result.CustomerRun` protocol.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted((REPO / "pages").glob("*.py"))
SOURCES = sorted([REPO / "app.py", *(REPO / "ui").rglob("*.py"), *PAGES])
CACHES = {"cache_data", "cache_resource"}
RAW_HTML = {"html"}  # st.html, components.html, components.v1.html
MAX_PAGE_LINES = 100
NOT_IN_PAGES = {"plotly", "rfm_core"}  # figures come from ui/charts, the core through ui/
RUN_TYPES = {"RfmPipelineResult", "EngineRun"}  # both read as a CustomerRun, never told apart


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


def rerunning_downloads(path: Path) -> list[str]:
    """Each ``download_button`` call of ``path`` without ``on_click="ignore"``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func).endswith("download_button"):
            on_click = {k.arg: k.value for k in node.keywords}.get("on_click")
            if not (isinstance(on_click, ast.Constant) and on_click.value == "ignore"):
                problems.append(f"{path.name}:{node.lineno}: a download that reruns the page")
    return problems


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at its top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def run_type_checks(path: Path) -> list[str]:
    """Each ``isinstance`` / ``issubclass`` of ``path`` that asks for one kind of run."""
    problems = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in {"isinstance", "issubclass"}:
            named = {_name(n) for arg in node.args[1:] for n in ast.walk(arg)}
            if {n.split(".")[-1] for n in named} & RUN_TYPES:
                problems.append(f"{path.name}:{node.lineno}: tells the runs apart")
    return problems


def test_the_sources_are_found() -> None:
    names = {p.name for p in SOURCES}
    assert {"app.py", "cache.py", "state.py", "segments.py", "upload.py", "base.py"} <= names
    assert len(PAGES) == 16


def test_pages_import_neither_plotly_nor_the_core() -> None:
    found = {
        path.name: sorted(m for m in imported_modules(path) if m.split(".")[0] in NOT_IN_PAGES)
        for path in PAGES
    }
    assert {name: modules for name, modules in found.items() if modules} == {}


def test_every_page_is_short() -> None:
    lengths = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in PAGES}
    assert {name: n for name, n in lengths.items() if n > MAX_PAGE_LINES} == {}


def test_pages_and_ui_never_ask_which_run_they_hold() -> None:
    assert [p for path in SOURCES for p in run_type_checks(path)] == []
    for path in PAGES:
        assert not RUN_TYPES & set(path.read_text(encoding="utf-8").split()), path.name


def name_merges(path: Path) -> list[str]:
    """Each ``{**x.names, …}`` of ``path``: renames go through ``SegmentationResult.names_with``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.name}:{node.lineno}: merges segment names by hand"
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        and any(
            key is None and isinstance(value, ast.Attribute) and value.attr == "names"
            for key, value in zip(node.keys, node.values, strict=True)
        )
    ]


def test_segment_names_are_merged_by_the_core_only(tmp_path) -> None:
    assert [p for path in SOURCES for p in name_merges(path)] == []
    sample = tmp_path / "sample.py"
    sample.write_text("names = {**segmentation.names, **segment_renames()}\n")
    assert len(name_merges(sample)) == 1


def test_labels_are_defined_in_ui_labels_only() -> None:
    defined = {
        f"{path.relative_to(REPO)}:{target.id}"
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name) and target.id.endswith("_LABELS")
    }
    assert {d for d in defined if not d.startswith("ui/labels.py:")} == set()
    assert {"ui/labels.py:METHOD_LABELS", "ui/labels.py:DETECTOR_LABELS"} <= defined


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import plotly.express as px\n", ["plotly.express"]),
        ("from rfm_core.outputs.export import rfm_csv\n", ["rfm_core.outputs.export"]),
        ("def f():\n    import plotly.graph_objects as go\n", ["plotly.graph_objects"]),
        ("from ui.charts import trends as charts\nimport streamlit as st\n", []),
    ],
)
def test_the_page_import_check_would_see_plotly_or_the_core(tmp_path, source, found) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(source)
    assert sorted(m for m in imported_modules(sample) if m.split(".")[0] in NOT_IN_PAGES) == found


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("if isinstance(result, RfmPipelineResult):\n    pass\n", 1),
        ("ok = isinstance(run, (pipeline.RfmPipelineResult, EngineRun))\n", 1),
        ("ok = isinstance(window, tuple)\n", 0),
        ("ok = result.lines is None\n", 0),
    ],
)
def test_the_run_check_would_see_an_isinstance(tmp_path, source: str, found: int) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(source)
    assert len(run_type_checks(sample)) == found


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


def test_downloads_do_not_rerun_the_page() -> None:
    assert [p for path in SOURCES for p in rerunning_downloads(path)] == []
    text = "".join(path.read_text(encoding="utf-8") for path in PAGES)
    assert text.count("download_button(") >= 10


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('st.download_button("CSV", data, file_name="a.csv")\n', 1),
        ('column.download_button("CSV", data, on_click="rerun")\n', 1),
        ('st.download_button("CSV", data, on_click="ignore", key="k")\n', 0),
    ],
)
def test_the_download_check_would_see_a_rerun(tmp_path, source: str, found: int) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import streamlit as st\n" + source)
    assert len(rerunning_downloads(sample)) == found
