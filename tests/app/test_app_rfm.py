"""The RFM page, driven headlessly with AppTest and checked against the core."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.customers.pipeline import RfmPipelineResult
from rfm_core.customers.rfm import SegmentRule, relabel, score_edges
from rfm_core.customers.scores import (
    ScoreBinning,
    compare_segments,
    cut_points,
    describe_scores,
    rescore,
)
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


# -- how the scores are cut ----------------------------------------------------------------------

PREVIEW = "FormSubmitter:binning_form-Preview changes"
APPLY = "FormSubmitter:binning_form-Apply"
FIXED = ScoreBinning(recency=(30, 90, 180, 365), frequency=(2, 3, 5, 10))


def levels_shown(at: AppTest) -> pd.DataFrame:
    """The page's table of the scores in words (the first: a preview shows its own below)."""
    return next(d.value for d in at.dataframe if list(d.value.columns)[:2] == ["score", "meaning"])


def type_cut_points(at: AppTest, **texts: str) -> None:
    at.radio(key="binning_method").set_value("fixed")
    for feature in ("recency", "frequency", "monetary"):
        at.text_input(key=f"binning_{feature}").input(texts.get(feature, ""))


def test_the_scores_are_shown_in_words(rfm_page: AppTest, gen_result: RfmPipelineResult) -> None:
    table = gen_result.rfm.table
    want = describe_scores(score_edges(table), table)
    shown = levels_shown(rfm_page)
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), want, check_dtype=False)
    assert any("cut by quantiles" in c.value for c in rfm_page.caption)
    assert rfm_page.radio(key="binning_method").value == "quantile"
    # the boxes start from the current cut points, ready to edit
    recency = rfm_page.text_input(key="binning_recency").value
    assert [float(v) for v in recency.split(", ")] == list(
        cut_points(score_edges(table))["recency"]
    )


def test_a_preview_counts_the_moves_and_changes_nothing(
    rfm_page: AppTest, gen_result: RfmPipelineResult
) -> None:
    table = gen_result.rfm.table
    type_cut_points(rfm_page, recency="30, 90, 180, 365", frequency="2 3 5 10")
    check(submit(rfm_page, PREVIEW))
    changes = compare_segments(table["rfm_segment"], rescore(table, FIXED).table["rfm_segment"])
    assert changes.changed > 0
    assert metric(rfm_page, "Customers who would change rule segment") == (
        f"{changes.changed:,} of {len(table):,}"
    )
    moves = frame_with(rfm_page, "segment_from", "segment_to", "customers")
    pd.testing.assert_frame_equal(moves.reset_index(drop=True), changes.moves, check_dtype=False)
    # not applied: the session still scores with quantiles
    assert (
        rfm_page.session_state["binning"] is None if "binning" in rfm_page.session_state else True
    )
    shown = frame_with(rfm_page, "rfm_segment", "customers", "revenue", "definition")
    assert dict(zip(shown["rfm_segment"], shown["customers"], strict=True)) == dict(
        table["rfm_segment"].value_counts()
    )


def test_applied_cut_points_rescore_every_customer(
    rfm_page: AppTest, gen_result: RfmPipelineResult
) -> None:
    table = gen_result.rfm.table
    type_cut_points(rfm_page, recency="30, 90, 180, 365", frequency="2, 3, 5, 10")
    check(submit(rfm_page, APPLY))
    scored = rescore(table, FIXED)
    assert rfm_page.session_state["binning"] == asdict(FIXED)
    shown = frame_with(rfm_page, "rfm_segment", "customers", "revenue", "definition")
    assert dict(zip(shown["rfm_segment"], shown["customers"], strict=True)) == dict(
        scored.table["rfm_segment"].value_counts()
    )
    rows = frame_with(rfm_page, "recency", "frequency", "monetary", "rfm_segment")
    rows.index = rows.index.astype(str)
    expected = scored.table.loc[rows.index]
    np.testing.assert_array_equal(rows[SCORES].to_numpy(float), expected[SCORES].to_numpy(float))
    levels = levels_shown(rfm_page)
    assert levels["meaning"].iloc[0] == "last purchase within 30 days"
    assert any("fixed cut points for recency and frequency" in c.value for c in rfm_page.caption)

    # natural breaks, then quantiles again
    rfm_page.radio(key="binning_method").set_value("jenks")
    check(submit(rfm_page, APPLY))
    jenks = rescore(table, ScoreBinning("jenks"))
    pd.testing.assert_frame_equal(
        levels_shown(rfm_page).reset_index(drop=True),
        describe_scores(jenks.edges, jenks.table),
        check_dtype=False,
    )
    rfm_page.radio(key="binning_method").set_value("quantile")
    check(submit(rfm_page, APPLY))
    pd.testing.assert_frame_equal(
        levels_shown(rfm_page).reset_index(drop=True),
        describe_scores(score_edges(table), table),
        check_dtype=False,
    )


def test_bad_cut_points_are_refused_with_the_reason(rfm_page: AppTest) -> None:
    type_cut_points(rfm_page, recency="365, 180, 90, 30")
    check(submit(rfm_page, APPLY))
    errors = [e.value for e in rfm_page.error]
    assert len(errors) == 1 and "recency: cut points must increase" in errors[0]
    assert "first bad value 180 after 365" in errors[0]
    type_cut_points(rfm_page, monetary="100, 200, lots, 900")
    check(submit(rfm_page, PREVIEW))
    assert ["monetary: 'lots' is not a number" in e.value for e in rfm_page.error] == [True]
    assert "binning" not in rfm_page.session_state
