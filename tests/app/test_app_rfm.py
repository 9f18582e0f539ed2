"""The RFM page, driven headlessly with AppTest and checked against the core."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.customers.pipeline import RfmPipelineResult
from rfm_core.customers.rfm import SegmentRule, relabel
from tests.app.apptest_support import check, frame_with, metric, submit
from ui.components import log_spaced_stops

SCORES = ["recency", "frequency", "monetary", "r_score", "f_score", "m_score"]


@pytest.fixture
def rfm_page(on_generated: AppTest) -> AppTest:
    """The RFM page of a session in which the generated log was uploaded."""
    return check(on_generated.switch_page("pages/rfm.py").run())


def in_range(table: pd.DataFrame, r: tuple, f: tuple, m: tuple) -> pd.DataFrame:
    """The customers the core table has within the (inclusive) ranges."""
    mask = (
        table["recency"].between(*r)
        & table["frequency"].between(*f)
        & table["monetary"].between(*m)
    )
    return table[mask]


def treemap_values(at: AppTest) -> np.ndarray:
    """The ``values`` of the treemap figure (plotly ships arrays base64-encoded)."""
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    traces = [f["data"][0] for f in figures if f["data"][0]["type"] == "treemap"]
    assert len(traces) == 1
    values = traces[0]["values"]
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype=float)


def test_metrics_match_the_core(rfm_page: AppTest, gen_result: RfmPipelineResult) -> None:
    table = gen_result.rfm.table
    n = len(table)

    assert metric(rfm_page, "Customers") == f"{n:,}" == f"{gen_result.rfm.n_customers:,}"
    assert metric(rfm_page, "Reference date") == gen_result.rfm.reference_date.isoformat()
    assert metric(rfm_page, "Median recency (days)") == f"{table['recency'].median():,.0f}"
    assert metric(rfm_page, "Revenue") == f"{table['monetary'].sum():,.0f}"
    assert metric(rfm_page, "Customers in range") == f"{n:,} of {n:,}"


def test_the_sliders_select_the_customers_the_core_table_has_in_range(
    rfm_page: AppTest, gen_result: RfmPipelineResult
) -> None:
    table = gen_result.rfm.table
    n = len(table)
    f_stops = log_spaced_stops(table["frequency"], decimals=0)
    m_stops = log_spaced_stops(table["monetary"], decimals=2)
    r = (0, int(table["recency"].max()))
    f = (f_stops[0], f_stops[-1])
    m = (m_stops[0], m_stops[-1])
    assert rfm_page.slider(key="slider_r").value == r
    assert rfm_page.select_slider(key="slider_f").value == f
    assert rfm_page.select_slider(key="slider_m").value == m
    assert f == (table["frequency"].min(), table["frequency"].max())
    assert m == pytest.approx((table["monetary"].min(), table["monetary"].max()))

    def stop_near(stops: list[float], value: float) -> float:
        return min(stops, key=lambda s: abs(s - value))

    recency, frequency, monetary = table["recency"], table["frequency"], table["monetary"]
    steps = [
        ("slider_r", "r", (int(recency.quantile(0.1)), int(recency.quantile(0.7)))),
        ("slider_f", "f", (2.0, stop_near(f_stops, frequency.quantile(0.9)))),
        ("slider_m", "m", (stop_near(m_stops, monetary.quantile(0.2)), stop_near(m_stops, 5e3))),
    ]
    ranges = {"r": r, "f": f, "m": m}
    previous = n
    for key, name, value in steps:
        widget = rfm_page.slider(key=key) if name == "r" else rfm_page.select_slider(key=key)
        check(widget.set_value(value).run())
        ranges[name] = value
        selected = in_range(table, **ranges)
        assert 0 < len(selected) < previous, (key, len(selected))  # each slider narrows
        previous = len(selected)
        assert metric(rfm_page, "Customers in range") == f"{len(selected):,} of {n:,}"
        shown = frame_with(rfm_page, "recency", "frequency", "monetary", "rfm_segment")
        assert sorted(shown.index.astype(str)) == sorted(selected.index.astype(str))


def test_the_treemap_can_be_sized_by_revenue(
    rfm_page: AppTest, gen_result: RfmPipelineResult
) -> None:
    table = gen_result.rfm.table
    radio = rfm_page.radio(key="treemap_by")
    assert radio.value == "customers"
    assert radio.options == ["customers", "revenue"]
    assert treemap_values(rfm_page).sum() == len(table)

    check(radio.set_value("revenue").run())
    assert rfm_page.radio(key="treemap_by").value == "revenue"
    assert treemap_values(rfm_page).sum() == pytest.approx(table["monetary"].sum())


def test_the_tables_show_the_core_result(rfm_page: AppTest, gen_result: RfmPipelineResult) -> None:
    table = gen_result.rfm.table
    shown = frame_with(rfm_page, "recency", "frequency", "monetary", "rfm_segment")
    shown.index = shown.index.astype(str)

    assert len(shown) == len(table)
    assert shown["monetary"].is_monotonic_decreasing
    expected = table.loc[shown.index]
    np.testing.assert_array_equal(shown[SCORES].to_numpy(float), expected[SCORES].to_numpy(float))
    assert list(shown["rfm_segment"]) == list(expected["rfm_segment"])

    segments = frame_with(rfm_page, "rfm_segment", "customers", "revenue", "definition")
    counts = table["rfm_segment"].value_counts()
    assert dict(zip(segments["rfm_segment"], segments["customers"], strict=True)) == dict(counts)
    assert segments["revenue"].sum() == pytest.approx(table["monetary"].sum())

    assert rfm_page.download_button(key="download_rfm").label == "Download RFM table (CSV)"
    assert rfm_page.download_button(key="download_rfm_selected").label == (
        "Download the customers in range (CSV)"
    )


def test_edited_segment_rules_relabel_every_customer(
    rfm_page: AppTest, gen_result: RfmPipelineResult
) -> None:
    # AppTest cannot type into the data editor: the rules are injected the way the form stores
    # them (plain tuples), then the defaults are restored through the form's button
    two = (
        SegmentRule("Recent", (4, 5), (1, 5), description="bought lately"),
        SegmentRule("Earlier", (1, 3), (1, 5)),
    )
    rfm_page.session_state["segments"] = tuple((s.name, s.r, s.f, s.m, s.description) for s in two)
    check(rfm_page.run())
    expected = relabel(gen_result.rfm.table, two)["rfm_segment"].value_counts()
    shown = frame_with(rfm_page, "rfm_segment", "customers", "revenue", "definition")
    assert list(shown["rfm_segment"]) == ["Recent", "Earlier"]
    assert dict(zip(shown["rfm_segment"], shown["customers"], strict=True)) == dict(expected)

    check(submit(rfm_page, "FormSubmitter:segments_form-Restore the default rules"))
    shown = frame_with(rfm_page, "rfm_segment", "customers", "revenue", "definition")
    assert set(shown["rfm_segment"]) == set(gen_result.rfm.table["rfm_segment"])
