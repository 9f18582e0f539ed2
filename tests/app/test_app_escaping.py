"""User strings are shown literally: never Markdown, never HTML, on any page or chart.

A hostile log puts markup into column names, customer ids, products and countries, and the user
renames a segment and a rule segment the same way. Every Markdown element a page draws must hold
those strings backslash-escaped (no link, image, emphasis or tag can form) and every plotly figure
must hold them HTML-escaped (plotly draws ``<b>``, ``<a href>``… in labels and hover text).
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.customers.rfm import DEFAULT_SEGMENTS
from rfm_core.outputs.reports import escape_plotly
from tests.app.apptest_support import check, generated_log, metric, upload
from ui.components import safe_md

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

IMG = "<img src=x onerror=alert(1)>"
BOLD = "**bold**"
LINK = "[link](javascript:alert(1))"
FORMULA = '=HYPERLINK("http://x")'
ANCHOR = '<a href="http://evil.example">click</a>'
HOSTILE = (IMG, BOLD, LINK, FORMULA, ANCHOR)
# what must never appear unescaped in the Markdown source of an element
MARKUP = re.compile(r"(?<!\\)<img|(?<!\\)<a |(?<!\\)\*\*bold|(?<!\\)\[link(?<!\\)\]")
PAGES = (
    "cleaning", "overview", "rfm", "movement", "cohorts", "model_selection", "segments",
    "projections", "anomalies", "export",
)  # fmt: skip


# -- the helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (IMG, r"\<img src=x onerror=alert(1)\>"),
        (BOLD, r"\*\*bold\*\*"),
        (LINK, r"\[link\](javascript\:alert(1))"),
        (FORMULA, r'\=HYPERLINK("http\://x")'),
        ("see www.evil.example", r"see www\.evil.example"),
        ("mail a@b.example", r"mail a\@b.example"),
        (":red[x] :material/home: $x^2$", r"\:red\[x\] \:material/home: \$x^2\$"),
        ("`code` ~~s~~", r"\`code\` \~\~s\~\~"),
        ("# title\n- item", r"\# title - item"),
        ("_x_ __y__ a_b", r"\_x\_ \_\_y\_\_ a_b"),
        # ordinary text is left alone
        ("header_only.csv: 3 rows (12:30)", "header_only.csv: 3 rows (12:30)"),
    ],
)  # fmt: skip
def test_safe_md_escapes_every_markup_character(text: str, shown: str) -> None:
    assert safe_md(text) == shown


def test_escape_plotly_escapes_tags_but_not_quotes() -> None:
    assert escape_plotly(IMG) == "&lt;img src=x onerror=alert(1)&gt;"
    assert escape_plotly(ANCHOR) == '&lt;a href="http://evil.example"&gt;click&lt;/a&gt;'
    assert escape_plotly("R&D") == "R&amp;D"
    assert escape_plotly(None) == ""


# -- the app on a hostile file --------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_csv() -> bytes:
    """A generated log of 150 customers with markup in ids, products, countries and headers."""
    log = generated_log(150, seed=8)
    ids = log["CustomerID"].dropna().unique()
    for customer, hostile in zip(ids[:5], HOSTILE, strict=True):
        log.loc[log["CustomerID"] == customer, "CustomerID"] = hostile
    log["Description"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(log))]
    log["Country"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(log))]
    for hostile in HOSTILE:  # unmapped columns named with markup
        log[hostile] = 1
    return log.to_csv(index=False).encode("utf-8")


def markdown_texts(at: AppTest) -> list[str]:
    """The Markdown source of every element that renders Markdown, and metric labels/values."""
    kinds = ("markdown", "caption", "error", "warning", "info", "success", "subheader", "title")
    texts = [element.value for kind in kinds for element in at.get(kind)]
    texts += [m.label for m in at.metric] + [m.value for m in at.metric]
    return [str(text) for text in texts]


def plotly_strings(at: AppTest) -> list[str]:
    """Every string inside every plotly figure of the page (labels, hover data, names…)."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for chart in at.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return found


def assert_literal(at: AppTest, page: str) -> None:
    texts = markdown_texts(at)
    assert [t for t in texts if MARKUP.search(t)] == [], page
    strings = plotly_strings(at)
    raw = [s for s in strings if any(h in s for h in (IMG, ANCHOR, "<b>bold"))]
    assert raw == [], page


@pytest.fixture(scope="module")
def walked(hostile_csv: bytes) -> dict[str, AppTest]:
    """One session: the hostile upload, hostile renames, then every page in turn."""
    from tests.app.apptest_support import new_session

    at = check(upload(new_session(), "hostile.csv", hostile_csv))
    # a rule segment and a cluster renamed with markup, as the RFM and Segments pages store them
    rules = [(s.name, s.r, s.f, s.m, s.description) for s in DEFAULT_SEGMENTS]
    rules[0] = (ANCHOR, *rules[0][1:])
    at.session_state["segments"] = tuple(rules)
    at.session_state["segment_names"] = {0: IMG, 1: LINK}
    shown = {"upload": at}
    for page in PAGES:
        check(at.switch_page(f"pages/{page}.py").run())
        shown[page] = at
        assert_literal(at, page)
    return shown


def test_no_page_renders_markup_from_the_file_or_the_user(walked) -> None:
    assert set(walked) == {"upload", *PAGES}  # each page was drawn and checked in the fixture


def test_the_charts_show_the_hostile_strings_escaped(hostile_csv: bytes) -> None:
    from tests.app.apptest_support import new_session

    at = check(upload(new_session(), "hostile.csv", hostile_csv))
    rules = [(s.name, s.r, s.f, s.m, s.description) for s in DEFAULT_SEGMENTS]
    at.session_state["segments"] = tuple([(ANCHOR, *rules[0][1:]), *rules[1:]])
    at.session_state["segment_names"] = {0: IMG, 1: LINK}

    check(at.switch_page("pages/overview.py").run())
    strings = plotly_strings(at)
    for hostile in (IMG, ANCHOR):  # countries and products bars, the rule-segment treemap
        assert escape_plotly(hostile) in strings
    assert_literal(at, "overview")

    check(at.switch_page("pages/segments.py").run())
    strings = plotly_strings(at)
    assert escape_plotly(IMG) in strings  # the renamed cluster in bars, snake plot, crosswalk
    assert LINK in strings  # not HTML: plotly shows it as written
    assert escape_plotly(ANCHOR) in strings  # the renamed rule segment in the crosswalk

    check(at.switch_page("pages/anomalies.py").run())
    assert any(escape_plotly(IMG) == s for s in plotly_strings(at))  # a customer id on hover


def test_messages_quote_user_strings_escaped(hostile_csv: bytes) -> None:
    from tests.app.apptest_support import new_session

    at = check(upload(new_session(), "hostile.csv", hostile_csv))
    at.session_state["segment_names"] = {label: f"{IMG} {label}" for label in range(15)}
    check(at.switch_page("pages/segments.py").run())

    at.text_input(key="drill_customer").set_value(BOLD + " nobody").run()
    warnings = [w.value for w in check(at).warning]
    assert any(safe_md(repr(BOLD + " nobody")) in w for w in warnings), warnings
    assert_literal(at, "segments: unknown customer")

    # a hostile customer id that exists: its segment's hostile name is a metric value, and its
    # order numbers are on the timeline
    at.text_input(key="drill_customer").set_value(IMG).run()
    check(at)
    assert re.fullmatch(re.escape(safe_md(IMG)) + r" \d+", metric(at, "Segment"))
    assert_literal(at, "segments: hostile customer")


def test_an_error_quoting_a_hostile_column_is_escaped() -> None:
    from tests.app.apptest_support import new_session

    frame = pd.DataFrame({IMG: ["a", "b"], LINK: ["2024-01-01", "2024-01-02"], BOLD: [1.0, 2.0]})
    at = check(upload(new_session(), "columns.csv", frame.to_csv(index=False).encode()))
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert safe_md(IMG) in errors[0] and safe_md(BOLD) in errors[0]  # named, escaped
    assert_literal(at, "upload: unmapped hostile columns")


def test_a_hostile_file_name_is_shown_literally(hostile_csv: bytes) -> None:
    from tests.app.apptest_support import new_session

    name = f"{BOLD}{IMG}[x](javascript:alert(1)).csv"
    at = check(upload(new_session(), name, hostile_csv))
    assert_literal(at, "upload")
    subheaders = [s.value for s in at.subheader]
    assert any(s.startswith(safe_md(name) + ":") for s in subheaders), subheaders
