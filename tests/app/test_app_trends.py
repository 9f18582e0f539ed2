"""The Overview, Movement and Cohorts pages on the demo log, checked against the core."""

from __future__ import annotations

import base64
import datetime as dt
import json

import ibis
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.customers.engine import connect, open_file, rfm_on_engine
from rfm_core.customers.migration import cohort_retention, data_range, migrate
from rfm_core.customers.pipeline import RfmPipelineResult
from rfm_core.customers.trends import (
    activity_trend,
    kept_lines,
    kept_lines_on_engine,
    pareto_curve,
    revenue_by_country,
    segment_kpis,
)
from rfm_core.ingest.synthetic import generate_transactions
from tests.app.apptest_support import DEMO, check, core, frame_with, metric, new_session

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


@pytest.fixture(scope="module")
def demo() -> RfmPipelineResult:
    """The core's result on the demo log the app opens on."""
    return core(DEMO.read_bytes(), DEMO.name)


@pytest.fixture(scope="module")
def demo_moves(demo: RfmPipelineResult):
    """The default migration of the demo log: 90 days before its last purchase → the last."""
    return migrate(demo.transactions, span=data_range(demo.rfm.table))


def open_page(at: AppTest, page: str) -> AppTest:
    return check(at.switch_page(f"pages/{page}.py").run())


def figure(at: AppTest, key: str) -> dict:
    """The plotly figure drawn with ``key``."""
    charts = [c for c in at.get("plotly_chart") if c.key == key]
    assert len(charts) == 1, (key, [c.key for c in at.get("plotly_chart")])
    return json.loads(charts[0].proto.spec)


def array(values) -> np.ndarray:
    """A plotly array as numpy (plotly ships numeric arrays base64-encoded, with a shape)."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        shape = values.get("shape")
        if shape:
            dims = [int(d) for d in str(shape).split(",")] if isinstance(shape, str) else shape
            return flat.reshape(dims)
        return flat
    return np.asarray(values, dtype=float)


# -- Overview ----------------------------------------------------------------------------------


def test_overview_trends_equal_the_core(app: AppTest, demo: RfmPipelineResult) -> None:
    at = open_page(app, "overview")
    backend = ibis.duckdb.connect()
    monthly = activity_trend(kept_lines(demo), backend=backend, freq="month")
    for measure in ("revenue", "orders", "customers"):
        trace = figure(at, f"trend_{measure}")["data"][0]
        np.testing.assert_allclose(array(trace["y"]), monthly[measure].to_numpy(dtype=float))
    assert metric(at, "Revenue") == f"{monthly['revenue'].sum():,.0f}"
    assert metric(at, "Orders") == f"{monthly['orders'].sum():,}"
    assert metric(at, "Customers") == f"{demo.rfm.n_customers:,}"
    countries = frame_with(at, "country", "share_revenue")
    expected = revenue_by_country(kept_lines(demo), backend=backend)
    assert countries["country"].tolist() == expected["country"].tolist()
    np.testing.assert_allclose(countries["revenue"], expected["revenue"])

    at.radio(key="trend_freq").set_value("week").run()
    weekly = activity_trend(kept_lines(demo), backend=backend, freq="week")
    trace = figure(check(at), "trend_revenue")["data"][0]
    np.testing.assert_allclose(array(trace["y"]), weekly["revenue"].to_numpy())


def test_overview_segments_kpis_and_pareto(app: AppTest, demo: RfmPipelineResult) -> None:
    at = open_page(app, "overview")
    table = demo.rfm.table
    kpis = segment_kpis(table, table["rfm_segment"], order=_rule_order())
    shown = frame_with(at, "avg_order_value", "orders_per_customer", "median_recency")
    assert list(shown.index) == list(kpis.index)
    assert shown["customers"].tolist() == kpis["customers"].tolist()
    np.testing.assert_allclose(shown["revenue"], kpis["revenue"])
    treemap = figure(at, "revenue_treemap")["data"][0]
    np.testing.assert_allclose(
        array(treemap["values"]), kpis.loc[kpis["revenue"] > 0, "revenue"].to_numpy()
    )
    pareto = pareto_curve(table)
    assert metric(at, "Top 20% of customers") == f"{pareto.share_of(0.2):.1%} of revenue"
    curve = figure(at, "pareto")["data"][0]
    assert array(curve["x"])[0] == 0.0 and array(curve["y"])[-1] == pytest.approx(1.0)


def test_overview_cluster_kpis_on_demand(app: AppTest, demo: RfmPipelineResult) -> None:
    at = open_page(app, "overview")
    first = "Cluster 0 · "  # clusters are listed by their generated names
    assert not [d for d in at.dataframe if first in str(list(d.value.index)[:1])]
    at.toggle(key="overview_clusters").set_value(True).run()
    clusters = [d.value for d in check(at).dataframe if str(d.value.index[0]).startswith(first)]
    assert len(clusters) == 1
    assert clusters[0]["customers"].sum() == demo.rfm.n_customers


def _rule_order() -> list[str]:
    from rfm_core.customers.rfm import DEFAULT_SEGMENTS

    return [rule.name for rule in DEFAULT_SEGMENTS]


# -- Movement ----------------------------------------------------------------------------------


def test_movement_defaults_equal_the_core(app: AppTest, demo_moves) -> None:
    at = open_page(app, "movement")
    assert at.date_input(key="move_from").value == demo_moves.date_from
    assert at.date_input(key="move_to").value == demo_moves.date_to
    heat = figure(at, "transition_heatmap")["data"][0]
    np.testing.assert_array_equal(array(heat["z"]), demo_moves.counts.to_numpy())
    assert heat["texttemplate"] == "%{z:,.0f}"  # 122,531, not plotly's default "122.531k"
    assert metric(at, "New customers") == f"{len(demo_moves.new_customers):,}"
    assert metric(at, "Moved to a worse segment") == f"{len(demo_moves.worse):,}"
    assert metric(at, "Lapsed (no purchase since)") == f"{len(demo_moves.lapsed):,}"
    links = figure(at, "sankey")["data"][0]["link"]
    assert array(links["value"]).sum() == len(demo_moves.customers)
    tabs = {tab.label: tab for tab in at.tabs}
    worse = tabs["Moved to a worse segment"].dataframe[0].value
    assert set(worse.index) == set(demo_moves.worse.index)
    assert set(tabs["New customers"].dataframe[0].value.index) == set(
        demo_moves.new_customers.index
    )

    at.radio(key="move_measure").set_value("revenue").run()
    heat = figure(check(at), "transition_heatmap")["data"][0]
    np.testing.assert_allclose(array(heat["z"]), demo_moves.revenue.to_numpy())


def test_changing_the_dates_changes_the_matrix(app: AppTest, demo: RfmPipelineResult) -> None:
    at = open_page(app, "movement")
    before = array(figure(at, "transition_heatmap")["data"][0]["z"])
    date_from, date_to = dt.date(2023, 6, 30), dt.date(2023, 9, 30)
    at.date_input(key="move_from").set_value(date_from)
    at.date_input(key="move_to").set_value(date_to).run()
    after = array(figure(check(at), "transition_heatmap")["data"][0]["z"])
    expected = migrate(demo.transactions, date_from=date_from, date_to=date_to)
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, expected.counts.to_numpy())
    assert metric(at, f"Customers on {date_to}") == f"{len(expected.customers):,}"


def test_a_bad_date_order_shows_an_error(app: AppTest) -> None:
    at = open_page(app, "movement")
    at.date_input(key="move_from").set_value(dt.date(2023, 11, 1))
    at.date_input(key="move_to").set_value(dt.date(2023, 8, 1)).run()
    check(at)
    assert [e.value for e in at.error] == [
        "date_from (2023-11-01) must be before date_to (2023-08-01)"
    ]
    assert not at.get("plotly_chart")


def test_movement_by_cluster(app: AppTest, demo_moves) -> None:
    at = open_page(app, "movement")
    at.radio(key="move_by").set_value("cluster").run()
    heat = figure(check(at), "transition_heatmap")["data"][0]
    z = array(heat["z"])
    assert z.sum() == len(demo_moves.customers)
    assert heat["y"][0] == "(not yet a customer)"
    assert heat["x"][0].startswith("Cluster 0 · ")


# -- Cohorts -----------------------------------------------------------------------------------


def test_cohorts_equal_the_core(app: AppTest, demo: RfmPipelineResult) -> None:
    at = open_page(app, "cohorts")
    cohorts = cohort_retention(kept_lines(demo), backend=ibis.duckdb.connect())
    heat = figure(at, "cohort_heatmap")["data"][0]
    np.testing.assert_allclose(array(heat["z"]), cohorts.share.to_numpy() * 100)
    assert heat["y"] == list(cohorts.share.index)
    assert metric(at, "Customers") == f"{demo.rfm.n_customers:,}"
    at.radio(key="cohort_measure").set_value("customers").run()
    heat = figure(check(at), "cohort_heatmap")["data"][0]
    np.testing.assert_allclose(
        array(heat["z"]), cohorts.counts.astype("float64").to_numpy(), equal_nan=True
    )


# -- a file of the data folder (DuckDB, no lines in memory) ------------------------------------


def test_the_three_pages_on_a_data_folder_file(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "shop.parquet"
    generate_transactions(300, random_state=21).transactions.to_parquet(path, index=False)
    monkeypatch.setenv("RFM_DATA_DIR", str(folder))
    source, mapping = open_file(path, backend=connect("duckdb"))
    run = rfm_on_engine(source, name=path.name, mapping=mapping)
    backend = source._find_backend()
    kept = kept_lines_on_engine(source, mapping)

    at = new_session()
    at.button(key="open_folder_file").click()
    at = open_page(check(at.run()), "overview")
    monthly = activity_trend(kept, backend=backend)
    assert metric(at, "Orders") == f"{monthly['orders'].sum():,}"
    assert metric(at, "Customers") == f"{run.rfm.n_customers:,}"
    at = open_page(at, "movement")
    moves = migrate(source, mapping=mapping, name=path.name)
    assert metric(at, "New customers") == f"{len(moves.new_customers):,}"
    heat = figure(at, "transition_heatmap")["data"][0]
    np.testing.assert_array_equal(array(heat["z"]), moves.counts.to_numpy())
    at = open_page(at, "cohorts")
    cohorts = cohort_retention(kept, backend=backend)
    heat = figure(at, "cohort_heatmap")["data"][0]
    np.testing.assert_allclose(array(heat["z"]), cohorts.share.to_numpy() * 100)


# -- issue 17: top products of real logs ------------------------------------------------------


def test_overview_products_are_named_and_net_of_cancelled_lines(
    app: AppTest, demo: RfmPipelineResult
) -> None:
    from rfm_core.customers.trends import returned_lines, top_products

    at = open_page(app, "overview")
    shown = frame_with(at, "product", "description", "revenue")
    expected = top_products(
        kept_lines(demo), backend=ibis.duckdb.connect(), n=10, returned=returned_lines(demo)
    )
    assert shown["product"].tolist() == expected["product"].tolist()
    assert shown["description"].tolist() == expected["description"].tolist()
    np.testing.assert_allclose(shown["revenue"], expected["revenue"])
    bars = figure(at, "products_chart")["data"][0]
    labels = bars["y"] if isinstance(bars["y"], list) else list(array(bars["y"]))
    assert labels[0] == f"{expected['description'][0]} ({expected['product'][0]})"


def test_overview_of_a_cdnow_log_has_no_numbers_for_products(app: AppTest) -> None:
    """CDNOW's Items are units, not products: no top products 1, 2, 3 … on the Overview."""
    from rfm_core.ingest.synthetic import generate_cdnow_like
    from tests.app.apptest_support import upload

    data = generate_cdnow_like(400, random_state=9).to_csv(index=False).encode()
    check(upload(app, "cdnow.csv", data))
    at = open_page(app, "overview")
    assert not [d for d in at.dataframe if "product" in d.value.columns]
    assert any("no product column" in i.value for i in at.info)
