"""The core never imports Streamlit: neither in its source nor at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import rfm_core

PACKAGE = Path(rfm_core.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            names.update(a.value for a in node.args if isinstance(a, ast.Constant))
    return names


def test_the_package_has_the_expected_modules():
    names = {path.stem for path in MODULES}
    assert {"io", "schema", "cleaning", "rfm", "pipeline", "export", "cli"} <= names


def test_no_module_imports_streamlit():
    offenders = {
        path.name: sorted(n for n in imported_names(path) if n.split(".")[0] == "streamlit")
        for path in MODULES
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_import_scan_would_see_a_streamlit_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from streamlit import session_state\n")
    assert "streamlit" in imported_names(sample)


def test_importing_the_core_does_not_load_streamlit():
    modules = [
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
        for p in MODULES
        if p.stem not in ("__init__", "__main__")
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert len(modules) >= 7
