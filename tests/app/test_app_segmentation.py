"""The Model selection, Segments, Projections and Anomalies pages, checked against the core."""

from __future__ import annotations

import json
from dataclasses import asdict

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.customers.rfm import DEFAULT_SEGMENTS
from rfm_core.customers.scores import ScoreBinning, rescore
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    choose_k,
    find_anomalies,
    segment_customers,
)
from tests.app.apptest_support import check, core, frame_with, generated_csv, metric, submit, upload

SWEEP_SUBMIT = "FormSubmitter:sweep_form-Compare"
FIT_SUBMIT = "FormSubmitter:fit_form-Fit segments"
ANOMALY_SUBMIT = "FormSubmitter:anomaly_form-Detect"


@pytest.fixture(scope="module")
def seg_csv() -> bytes:
    """A generated log of 600 customers: enough flagged customers for the classifier."""
    return generated_csv(600, seed=5)


@pytest.fixture(scope="module")
def seg_table(seg_csv: bytes) -> pd.DataFrame:
    return core(seg_csv, "segments.csv").rfm.table


@pytest.fixture
def session(app: AppTest, seg_csv: bytes) -> AppTest:
    return check(upload(app, "segments.csv", seg_csv))


def open_page(at: AppTest, page: str) -> AppTest:
    return check(at.switch_page(f"pages/{page}.py").run())


def plotly_figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def titles(at: AppTest) -> list[str]:
    return [f["layout"].get("title", {}).get("text", "") for f in plotly_figures(at)]


def test_model_selection_recommends_the_core_k(session: AppTest, seg_table) -> None:
    at = open_page(session, "model_selection")
    anomalies = find_anomalies(seg_table, AnomalySettings())  # the page's sweep leaves them out
    selection = choose_k(seg_table, SegmentationSettings(), anomalies=anomalies)
    success = [s.value for s in at.success]
    assert any(f"k = {selection.recommended_k}:" in text for text in success)
    assert any(selection.reason in text for text in success)
    shown = titles(at)
    for name in ("Elbow", "Silhouette", "Calinski", "Davies", "AIC"):
        assert any(name in title for title in shown), shown
    assert metric(at, "Segments found") == f"{selection.recommended_k}"
    assert float(metric(at, "Stability (adjusted Rand, refits on 80% subsamples)")) >= 0.0


def test_the_fit_form_changes_method_and_k(session: AppTest, seg_table) -> None:
    at = open_page(session, "model_selection")
    at.selectbox(key="fit_method").set_value("gmm")
    at.number_input(key="fit_k").set_value(3)
    check(submit(at, FIT_SUBMIT))
    assert at.session_state["segmentation"]["method"] == "gmm"
    assert metric(at, "Segments found") == "3"
    at.selectbox(key="fit_method").set_value("agglomerative")
    check(submit(at, FIT_SUBMIT))
    assert any("Dendrogram" in title for title in titles(at))
    at.selectbox(key="fit_method").set_value("dbscan")
    check(submit(at, FIT_SUBMIT))
    assert any("neighbour" in title for title in titles(at))


def test_the_sweep_form_changes_the_features(session: AppTest) -> None:
    at = open_page(session, "model_selection")
    at.multiselect(key="sweep_features").set_value(["recency", "frequency", "monetary",
                                                    "avg_order_value"])  # fmt: skip
    at.slider(key="sweep_k").set_value((2, 6))
    check(submit(at, SWEEP_SUBMIT))
    stored = at.session_state["segmentation"]
    assert stored["features"] == ("recency", "frequency", "monetary", "avg_order_value")
    assert (stored["k_min"], stored["k_max"]) == (2, 6)
    table = frame_with(at, "inertia", "silhouette")
    assert list(table.index) == [2, 3, 4, 5, 6]


def test_segments_page_profiles_and_downloads(session: AppTest, seg_table) -> None:
    at = open_page(session, "segments")
    anomalies = find_anomalies(seg_table, AnomalySettings())
    expected = segment_customers(seg_table, SegmentationSettings(), anomalies=anomalies)
    profile = frame_with(at, "customers", "share_revenue")
    assert profile["customers"].sum() == len(seg_table)
    assert sorted(profile.index) == sorted(expected.names.values())
    rules = frame_with(at, "rule", "precision")
    assert len(rules) >= expected.n_clusters
    assert at.download_button(key="download_labeled").label == "Labeled customers (CSV)"


def test_renamed_segments_show_everywhere(session: AppTest) -> None:
    at = open_page(session, "segments")
    at.session_state["segment_names"] = {0: "Our best"}
    check(at.run())
    profile = frame_with(at, "customers", "share_revenue")
    assert "Our best" in profile.index


def test_duplicate_segment_names_are_refused_with_the_core_message(session: AppTest) -> None:
    at = open_page(session, "segments")
    at.session_state["segment_names"] = {0: "Twins", 1: "twins "}
    check(at.run())
    check(submit(at, "FormSubmitter:names_form-Save names"))
    assert any("are both named" in e.value for e in at.error)
    assert at.session_state["segment_names"] == {0: "Twins", 1: "twins "}  # nothing saved
    assert at.download_button(key="download_labeled")  # the rest of the page is still drawn


def test_saved_segment_names_are_trimmed(session: AppTest) -> None:
    at = open_page(session, "segments")
    at.session_state["segment_names"] = {0: "  Our best  "}
    check(at.run())
    check(submit(at, "FormSubmitter:names_form-Save names"))
    assert not at.error
    assert at.session_state["segment_names"][0] == "Our best"
    assert "Our best" in frame_with(at, "customers", "share_revenue").index


def test_customer_drill_down(session: AppTest, seg_table) -> None:
    at = open_page(session, "segments")
    customer = seg_table["frequency"].idxmax()
    at.text_input(key="drill_customer").set_value(customer).run()
    check(at)
    assert metric(at, "Orders") == f"{seg_table.loc[customer, 'frequency']:,}"
    orders = frame_with(at, "order", "lines", "amount")
    assert len(orders) == seg_table.loc[customer, "frequency"]
    at.text_input(key="drill_customer").set_value("no-such-id").run()
    assert any("No customer" in w.value for w in check(at).warning)


def open_tab(at: AppTest, label: str) -> AppTest:
    """Switch the Projections page's tabs (they rerun: only the open one draws)."""
    at.session_state["projection_tab"] = label
    return check(at.run())


def test_projections_page(session: AppTest) -> None:
    at = open_page(session, "projections")
    assert titles(at) == ["PCA"]  # only the open tab draws
    assert titles(open_tab(at, "PCA 3D")) == ["PCA 3D"]
    assert titles(open_tab(at, "RFM 3D")) == ["Recency, orders and total spend (log axes)"]
    at = open_tab(at, "t-SNE")
    assert titles(at) == []  # placed only when asked
    at.button(key="ask_tsne").click().run()
    assert titles(check(at)) == ["t-SNE"]
    at.radio(key="colour_by").set_value("anomaly").run()
    legends = {t["name"] for f in plotly_figures(check(at)) for t in f["data"]}
    assert {"anomaly", "normal"} <= legends


def test_anomalies_page_matches_the_core(session: AppTest, seg_table) -> None:
    at = open_page(session, "anomalies")
    expected = find_anomalies(seg_table, AnomalySettings())
    assert metric(at, "Customers flagged") == f"{expected.n_flagged:,}"
    flagged = frame_with(at, "anomaly_score", "anomaly_reason")
    assert set(flagged.index) == set(expected.table.index[expected.table["anomaly"]])
    # the classifier is trained only when asked, whatever the size of the log
    assert not [d for d in at.dataframe if "f1" in d.value.columns]
    at.button(key="ask_classifier").click().run()
    classifier = frame_with(check(at), "precision", "recall", "f1")
    assert set(classifier.index) == {"validation", "test"}
    assert any("not ground truth" in i.value for i in at.info)
    at.selectbox(key="anomaly_method").set_value("zscore")
    at.slider(key="anomaly_share").set_value(5.0)
    check(submit(at, ANOMALY_SUBMIT))
    changed = find_anomalies(seg_table, AnomalySettings(method="zscore", contamination=0.05))
    assert metric(at, "Customers flagged") == f"{changed.n_flagged:,}"


def test_slow_analyses_wait_for_the_button_and_stay_shown(session: AppTest) -> None:
    at = open_page(session, "anomalies")
    assert not [d for d in at.dataframe if "f1" in d.value.columns]
    assert "agreement_heatmap" not in [c.key for c in at.get("plotly_chart")]
    at.button(key="ask_classifier").click().run()
    assert set(frame_with(check(at), "precision", "recall", "f1").index) == {"validation", "test"}
    at.button(key="ask_agreement").click().run()
    assert any("Jaccard" in title for title in titles(check(at)))
    # asked once: both stay on the page after a visit elsewhere, without asking again
    at = open_page(open_page(at, "segments"), "anomalies")
    assert any("Jaccard" in title for title in titles(at))
    assert [d for d in at.dataframe if "f1" in d.value.columns]
    # new detector settings: new results, so the buttons come back
    at.slider(key="anomaly_share").set_value(5.0)
    check(submit(at, ANOMALY_SUBMIT))
    assert "agreement_heatmap" not in [c.key for c in at.get("plotly_chart")]
    assert not [d for d in at.dataframe if "f1" in d.value.columns]
    assert {"ask_agreement", "ask_classifier"} <= {b.key for b in at.button}


def test_zscore_on_a_log_where_most_customers_buy_once(app: AppTest) -> None:
    """CDNOW-shaped: the z-score flags at most the share asked for and says why; the agreement
    chart counts customers flagged by at least n detectors, never more than any detector's
    union."""
    from rfm_core.ingest.synthetic import generate_cdnow_like

    data = generate_cdnow_like(1500, random_state=4).to_csv(index=False).encode()
    check(upload(app, "cdnow.csv", data))
    table = core(data, "cdnow.csv").rfm.table
    at = open_page(app, "anomalies")
    at.selectbox(key="anomaly_method").set_value("zscore")
    at.slider(key="anomaly_share").set_value(2.0)
    check(submit(at, ANOMALY_SUBMIT))
    at.button(key="ask_agreement").click().run()
    expected = find_anomalies(table, AnomalySettings(method="zscore", contamination=0.02))
    flagged = int(metric(at, "Customers flagged").replace(",", ""))
    assert flagged == expected.n_flagged <= 2 * 0.02 * len(table)
    assert any("robust standard deviations" in i.value for i in at.info)
    bars = [f for f in plotly_figures(at) if "at least n" in f["layout"]["title"]["text"]]
    assert len(bars) == 1 and "each ≤ 2.0%" in bars[0]["layout"]["title"]["text"]
    heights = bars[0]["data"][0]["y"]
    if isinstance(heights, dict):  # plotly ships integer arrays base64-encoded
        import base64

        import numpy as np

        heights = np.frombuffer(base64.b64decode(heights["bdata"]), heights["dtype"]).tolist()
    assert len(heights) == 4
    assert heights == sorted(heights, reverse=True)  # at least 1, 2, 3, 4 detectors
    assert heights[0] <= 4 * 0.02 * len(table) + 4
    assert any(f"({flagged:,})" in c.value for c in at.caption)


def test_cluster_names_follow_the_sessions_cut_points(session: AppTest, seg_table) -> None:
    fixed = ScoreBinning(recency=(30, 90, 180, 365), frequency=(2, 3, 5, 10))
    session.session_state["binning"] = asdict(fixed)
    at = open_page(session, "segments")
    anomalies = find_anomalies(seg_table, AnomalySettings())
    fitted = segment_customers(seg_table, SegmentationSettings(), anomalies=anomalies)
    scoring = rescore(seg_table, fixed)
    names = fitted.with_rule_names(DEFAULT_SEGMENTS, scoring.edges).names
    profile = frame_with(at, "customers", "share_revenue")
    assert list(profile.index) == [
        names[label] for label in sorted(names, key=lambda k: (k < 0, k))
    ]
    assert all(name.startswith(f"Cluster {label} · ") for label, name in names.items())
    # the crosswalk: rule segments scored with the same cut points, clusters in number order
    heat = next(f for f in plotly_figures(at) if f["data"][0]["type"] == "heatmap")
    assert list(heat["data"][0]["x"]) == [names[label] for label in sorted(names)]
    rows = [r.name for r in DEFAULT_SEGMENTS if r.name in set(scoring.table["rfm_segment"])]
    assert list(heat["data"][0]["y"]) == rows


def test_anomalies_page_says_what_its_scatters_draw_of_many_customers() -> None:
    from tests.app.apptest_support import new_session

    at = check(upload(new_session(), "many.csv", generated_csv(6_000, seed=2)))
    check(at.switch_page("pages/anomalies.py").run())
    flagged = int(metric(at, "Customers flagged").replace(",", ""))
    notes = [c.value for c in at.caption if c.value.startswith("Drawn: ")]
    assert len(notes) == 1 and f"every flagged customer ({flagged:,})" in notes[0]
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    scatters = [f for f in figures if {t.get("name") for t in f["data"]} == {"anomaly", "normal"}]
    assert len(scatters) == 3
    # customdata: one row a point drawn (x and y may come as typed arrays)
    assert all(sum(len(t["customdata"]) for t in f["data"]) == 5_000 for f in scatters)
