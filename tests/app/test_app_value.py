"""The Lifetime value and Backtest pages, checked against the core on the same data."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.customers.clv import clv_by_segment, clv_table, customer_lifetime_value
from rfm_core.customers.engine import connect, open_file, rfm_on_engine
from rfm_core.customers.migration import data_range
from rfm_core.customers.pipeline import RfmPipelineResult
from rfm_core.customers.rfm import DEFAULT_SEGMENTS
from rfm_core.customers.trends import kept_lines_on_engine
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.outputs.export import rfm_csv
from rfm_core.segments.backtest import backtest
from tests.app.apptest_support import DEMO, Downloads, check, core, frame_with, metric, new_session
from tests.app.test_app_trends import array, figure

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

CLV_SUBMIT = "FormSubmitter:clv_form-Compute"
BACKTEST_SUBMIT = "FormSubmitter:backtest_form-Run the backtest"


@pytest.fixture(scope="module")
def demo() -> RfmPipelineResult:
    return core(DEMO.read_bytes(), DEMO.name)


@pytest.fixture(scope="module")
def demo_value(demo):
    return customer_lifetime_value(demo.lines, customers=demo.rfm.table.index)


@pytest.fixture(scope="module")
def demo_backtest(demo):
    return backtest(demo.transactions, demo.lines, span=data_range(demo.rfm.table))


def open_page(at: AppTest, page: str) -> AppTest:
    return check(at.switch_page(f"pages/{page}.py").run())


def csv_frame(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype={"customer_id": str})


# -- Lifetime value ----------------------------------------------------------------------------


def test_clv_page_shows_the_cores_fit_and_predictions(app, demo, demo_value, downloads: Downloads):
    at = open_page(app, "clv")
    rows = demo_value.customers
    segments = demo.rfm.table["rfm_segment"].astype(str)
    assert metric(at, "Customers with a prediction") == f"{rows['clv'].notna().sum():,}"
    assert metric(at, "CLV over 12 weeks") == f"{rows['clv'].sum():,.0f}"
    assert metric(at, "Expected purchases") == f"{rows['expected_purchases'].sum():,.0f}"
    params = frame_with(at, "value", "standard error", "what it describes")
    fitted = {**demo_value.bgnbd.params, **demo_value.gamma_gamma.params}
    np.testing.assert_allclose(params["value"].to_numpy(), list(fitted.values()))
    assert list(params.index) == ["r", "α", "a", "b", "p", "q", "γ"]
    texts = " ".join(m.value for m in at.markdown)
    assert "converged in" in texts and "stops for good" in texts
    assert any(f"ρ = {demo_value.correlation:.2f}" in c.value for c in at.caption)
    # per rule segment: the core's sums and medians, in rule order
    groups = frame_with(at, "clv_sum", "clv_median", "share_clv")
    order = [rule.name for rule in DEFAULT_SEGMENTS]
    want = clv_by_segment(rows, segments, order=order)
    np.testing.assert_allclose(groups["clv_sum"].to_numpy(), want["clv_sum"].to_numpy())
    assert list(groups.index) == list(want.index)
    # the customers, largest first, at most 2,000 sent
    top = frame_with(at, "rfm_segment", "clv", "p_alive", "clv_note")
    assert len(top) == min(2000, len(rows))
    assert top["clv"].is_monotonic_decreasing
    assert top["clv"].iloc[0] == pytest.approx(rows["clv"].max(), abs=0.01)
    written = csv_frame(downloads.bytes_of(at, "download_clv"))
    want = csv_frame(rfm_csv(clv_table(rows, segments)))
    pd.testing.assert_frame_equal(written, want)


def test_clv_options_change_the_prediction_as_the_core_does(app, demo):
    at = open_page(app, "clv")
    at.number_input(key="clv_horizon").set_value(26)
    at.number_input(key="clv_margin").set_value(30.0)
    at.number_input(key="clv_discount").set_value(10.0)
    at.button(key=CLV_SUBMIT).click()
    at = check(at.run())
    value = customer_lifetime_value(
        demo.lines, customers=demo.rfm.table.index, horizon_weeks=26, margin=0.3,
        discount_rate=0.1,
    )  # fmt: skip
    assert metric(at, "CLV over 26 weeks") == f"{value.customers['clv'].sum():,.0f}"
    # the options stay when the page is left and opened again
    at = open_page(open_page(at, "overview"), "clv")
    assert metric(at, "CLV over 26 weeks") == f"{value.customers['clv'].sum():,.0f}"
    assert at.number_input(key="clv_margin").value == 30.0


def test_clv_per_cluster_names_the_clusters_of_the_segments_page(app, demo):
    at = open_page(app, "clv")
    at.radio(key="clv_by").set_value("cluster")
    at = check(at.run())
    groups = frame_with(at, "clv_sum", "clv_median", "share_clv")
    assert all(str(label).startswith("Cluster ") for label in groups.index)
    assert groups["customers"].sum() == demo.rfm.n_customers
    assert groups["share_clv"].sum() == pytest.approx(1.0)


# -- Backtest ----------------------------------------------------------------------------------


def run_at_default_cut(at):
    """Press the page's button with the cut date it proposes."""
    at.button(key=BACKTEST_SUBMIT).click()
    return check(at.run())


def test_backtest_page_shows_the_cores_comparison(app, demo_backtest, downloads: Downloads):
    at = run_at_default_cut(open_page(app, "backtest"))
    result = demo_backtest
    assert [s.value for s in at.success] == [result.sentence]
    assert metric(at, f"Customers on {result.cut}") == f"{len(result.customers):,}"
    share = result.customers["bought_again"].mean()
    assert metric(at, f"Bought again in {result.days} days") == f"{share:.1%}"
    clv = result.comparison.loc["clv"]
    assert metric(at, "Purchases predicted by CLV") == f"{clv['predicted_purchases']:,.0f}"
    comparison = frame_with(at, "best_group", "concordance", "spearman")
    assert list(comparison.index) == ["Rule segments", "Clusters", "CLV deciles"]
    np.testing.assert_allclose(
        comparison["concordance"].to_numpy(), result.comparison["concordance"].to_numpy()
    )
    assert comparison["best_group"].tolist() == ["Champions", "Cluster 0 · Champions", "decile 1"]
    traces = figure(at, "calibration")["data"]
    assert [t["name"] for t in traces] == [
        "predicted = actual", "Rule segments", "Clusters", "CLV deciles"
    ]  # fmt: skip
    want = result.calibration[result.calibration["method"] == "clv"]
    np.testing.assert_allclose(array(traces[3]["y"]), want["actual_purchases"].to_numpy())
    tabs = [
        d.value for d in at.dataframe if {"bought_again", "share_revenue"} <= set(d.value.columns)
    ]
    assert [list(t.index) for t in tabs] == [list(g.index) for g in result.groups.values()]
    for shown, (method, want) in zip(tabs, result.groups.items(), strict=True):
        np.testing.assert_allclose(shown["bought_again"], want["bought_again"], err_msg=method)
    written = csv_frame(downloads.bytes_of(at, "download_backtest"))
    pd.testing.assert_frame_equal(written, csv_frame(rfm_csv(result.customers.round(4))))


def test_another_cut_date_reruns_the_backtest_there(app, demo):
    at = open_page(app, "backtest")
    cut = dt.date(2023, 11, 1)
    at.date_input(key="backtest_date").set_value(cut)
    at.button(key=BACKTEST_SUBMIT).click()
    at = check(at.run())
    result = backtest(demo.transactions, demo.lines, cut=cut, span=data_range(demo.rfm.table))
    assert [s.value for s in at.success] == [result.sentence]
    assert metric(at, "Customers on 2023-11-01") == f"{len(result.customers):,}"
    at = open_page(open_page(at, "rfm"), "backtest")  # the cut date stays for the session
    assert metric(at, "Customers on 2023-11-01") == f"{len(result.customers):,}"


def test_a_cut_on_the_last_day_is_refused_in_words(app):
    at = open_page(app, "backtest")
    at.date_input(key="backtest_date").set_value(dt.date(2023, 12, 31))
    at.button(key=BACKTEST_SUBMIT).click()
    at = check(at.run())
    assert [e.value for e in at.error] == [
        "the cut date 2023-12-31 must be before the last purchase day 2023-12-31: nothing "
        "happens after it to compare the predictions with"
    ]


def test_the_backtest_waits_for_the_user_to_run_it(app):
    at = open_page(app, "backtest")
    assert not at.success and any("Choose a cut date and run it" in i.value for i in at.info)
    assert any("(several seconds)" in i.value for i in at.info)
    at = run_at_default_cut(at)
    assert len(at.success) == 1


# -- a file of the data folder (lines on DuckDB) -----------------------------------------------


@pytest.fixture
def folder(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    generate_transactions(400, random_state=21).transactions.to_parquet(
        data / "shop.parquet", index=False
    )
    monkeypatch.setenv("RFM_DATA_DIR", str(data))
    return data / "shop.parquet"


def test_both_pages_work_on_a_data_folder_file(folder):
    at = new_session()
    at.button(key="open_folder_file").click()
    at = check(at.run())
    backend = connect("duckdb")
    source, mapping = open_file(folder, backend=backend)
    run = rfm_on_engine(source, name="shop.parquet", mapping=mapping)
    kept = kept_lines_on_engine(source, run.mapping, name="shop.parquet")
    value = customer_lifetime_value(kept, backend=backend, customers=run.rfm.table.index)
    at = open_page(at, "clv")
    assert metric(at, "CLV over 12 weeks") == f"{value.customers['clv'].sum():,.0f}"
    result = backtest(
        source, kept, backend=backend, mapping=run.mapping, span=data_range(run.rfm.table),
        name="shop.parquet",
    )  # fmt: skip
    at = run_at_default_cut(open_page(at, "backtest"))
    assert [s.value for s in at.success] == [result.sentence]
