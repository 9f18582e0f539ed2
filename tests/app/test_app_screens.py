"""Every page reads as words: headers, number formats, chart texts (headless, every page).

What the browser draws is decided by what each element sends: a table's column config (label,
number format, missing-value placeholder) and a chart's figure spec. Every page of the app is run
on the demo and on a CDNOW-shaped upload, and every table and chart it sends is checked: no code
name (``share_customers``) as a header, title, axis, legend or colour-bar title, no number column
without a format, no missing value drawn as ``None``, no formula in a title, log axes ticked at
powers of ten only, and no raw float in a metric. The e2e screenshot walk checks the same in a
real browser.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.apptest_support import DEMO, check, metric, upload
from tests.cdnow_shaped import COLUMNS, cdnow_shaped_csv
from ui.formats import LONG_TEXT, TABLE_WIDTH

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

REPO = Path(__file__).resolve().parents[2]
# every page of local mode (the login page only exists when [auth] is configured)
PAGES = sorted(p.stem for p in (REPO / "pages").glob("*.py") if p.stem != "login")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
RAW_FLOAT = re.compile(r"\d\.\d{3,}")
READ_ONLY = 0  # Dataframe.EditingMode: editors may show their own empty cells


def headers(element) -> list[tuple[str, str]]:
    """(code name, header drawn) of every visible column of a table, its index included."""
    config = json.loads(element.proto.columns or "{}")
    frame: pd.DataFrame = element.value
    order = list(element.proto.column_order) or [str(c) for c in frame.columns]
    shown = []
    index = config.get("_index", {})
    if frame.index.name is not None and not index.get("hidden"):
        shown.append((str(frame.index.name), index.get("label") or str(frame.index.name)))
    for name in order:
        column = config.get(name) or {}
        if column.get("hidden"):
            continue
        shown.append((name, column.get("label") or name))
    return shown


def table_problems(page: str, element) -> list[str]:
    config = json.loads(element.proto.columns or "{}")
    frame: pd.DataFrame = element.value
    where = f"{page}: table {list(frame.columns)[:4]}"
    found = [f"{where}: header {drawn!r}" for _, drawn in headers(element) if SNAKE.search(drawn)]
    for name in frame.columns:
        values = frame[name]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        setting = config.get(str(name)) or {}
        if numeric and not setting.get("hidden") and "format" not in setting.get("type_config", {}):
            found.append(f"{where}: number column {name!r} without a format")
    if element.proto.editing_mode == READ_ONLY and not element.proto.HasField("placeholder"):
        found.append(f"{where}: missing values drawn as None")
    if element.proto.editing_mode == READ_ONLY:
        found += layout_problems(where, element, config)
    return found


def layout_problems(where: str, element, config: dict) -> list[str]:
    """A read-only table fits the page, or scrolls with what each row is (and its sentences)
    pinned in view: every shown column has a width in pixels."""
    frame: pd.DataFrame = element.value
    keys = [name for name, _ in headers(element)]
    if frame.index.name is not None and not config.get("_index", {}).get("hidden"):
        keys[0] = "_index"  # headers() lists the drawn index first
    widths = [(config.get(key) or {}).get("width") for key in keys]
    if not all(isinstance(width, int) for width in widths):
        return [f"{where}: columns without a width: {widths}"]
    if sum(widths) <= TABLE_WIDTH:
        return []
    found = [] if (config.get(keys[0]) or {}).get("pinned") else [f"{where}: wide, nothing pinned"]
    texts = [i for i, key in enumerate(keys) if key in LONG_TEXT]
    if texts and texts != list(range(1, 1 + len(texts))):
        found.append(f"{where}: wide, its sentences scroll out of view")
    return found


def figure_problems(page: str, spec: dict) -> list[str]:
    layout, data = spec.get("layout", {}), spec.get("data", [])

    def text(value) -> str:
        value = value.get("text", "") if isinstance(value, dict) else value
        return re.sub(r"<[^>]+>", "", str(value or ""))

    title = text(layout.get("title"))
    words = [title, text(layout.get("legend", {}).get("title"))]
    axes = {k: v for k, v in layout.items() if re.fullmatch(r"[xy]axis\d*", k)}
    for key, scene in layout.items():
        if key.startswith("scene"):
            axes.update({f"{key}.{a}": scene.get(a, {}) for a in ("xaxis", "yaxis", "zaxis")})
    words += [text(axis.get("title")) for axis in axes.values()]
    words += [text(layout.get("coloraxis", {}).get("colorbar", {}).get("title"))]
    for trace in data:
        words.append(text(trace.get("colorbar", {}).get("title")))
        if trace.get("showlegend", True) and trace.get("type") not in ("heatmap", "treemap"):
            words.append(text(trace.get("name")))
    where = f"{page}: chart {title or '(untitled)'!r}"
    found = [f"{where}: code name {w!r}" for w in words if w and SNAKE.search(w)]
    if "+ 1" in title:
        found.append(f"{where}: a formula in the title")
    for key, axis in axes.items():
        if axis.get("type") == "log":
            ticks = axis.get("tickvals")
            if not ticks or not all(math.log10(t).is_integer() for t in ticks):
                found.append(f"{where}: log axis {key} not ticked at powers of ten: {ticks}")
    return found


def page_problems(page: str, at: AppTest, file_columns: list[str]) -> list[str]:
    found = [f"{page}: metric {m.value!r}" for m in at.metric if RAW_FLOAT.search(str(m.value))]
    for element in at.dataframe:
        if list(element.value.columns) == file_columns:
            continue  # the Upload page's preview: the file's own headers, as read
        found += table_problems(page, element)
    for chart in at.get("plotly_chart"):
        found += figure_problems(page, json.loads(chart.proto.spec))
    return found


def walk(at: AppTest, file_columns: list[str]) -> list[str]:
    """Open every page in turn; the problems found on all of them."""
    found = []
    for page in PAGES:
        at = check(at.switch_page(f"pages/{page}.py").run())
        found += page_problems(page, at, file_columns)
    return found


def test_every_page_reads_as_words_on_the_demo(app: AppTest) -> None:
    problems = walk(app, list(pd.read_csv(DEMO, nrows=1).columns))
    assert not problems, "\n".join(problems)


def test_every_page_reads_as_words_on_a_cdnow_shaped_upload(app: AppTest) -> None:
    check(upload(app, "cdnow.csv", cdnow_shaped_csv(800, random_state=3)))
    problems = walk(app, list(COLUMNS))
    assert not problems, "\n".join(problems)


def test_the_currency_reaches_tables_metrics_and_charts(app: AppTest) -> None:
    app.text_input(key="currency").set_value("£")
    at = check(app.switch_page("pages/overview.py").run())
    assert metric(at, "Revenue").startswith("£")
    config = json.loads(at.dataframe[-1].proto.columns)
    assert config["revenue"]["type_config"]["format"].startswith("£%,")
    titles = [json.loads(c.proto.spec)["layout"].get("yaxis", {}).get("title", {})
              for c in at.get("plotly_chart")]  # fmt: skip
    assert any(t.get("text") == "Revenue (£)" for t in titles)
    # kept on another page: drawn in the shared sidebar
    at = check(at.switch_page("pages/rfm.py").run())
    assert at.text_input(key="currency").value == "£"
    assert metric(at, "Revenue").startswith("£")
