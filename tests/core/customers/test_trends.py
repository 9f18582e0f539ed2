"""Trends over the kept lines, segment KPIs and the Pareto curve."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from rfm_core.customers.clv import clv_summary, customer_lifetime_value
from rfm_core.customers.engine import connect, open_file
from rfm_core.customers.migration import cohort_retention
from rfm_core.customers.pipeline import run_rfm
from rfm_core.customers.trends import (
    KEPT_COLUMNS,
    RETURNED_COLUMNS,
    Pareto,
    activity_trend,
    clean_lines_on_engine,
    kept_lines,
    kept_lines_on_engine,
    new_vs_returning,
    pareto_curve,
    returned_lines,
    returned_lines_on_engine,
    revenue_by_country,
    segment_kpis,
    top_products,
)
from rfm_core.errors import RfmError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.outputs.runs import overview_tables
from rfm_core.segments.backtest import activity_around
from tests.core.customers.migration_log import order_lines

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

MONTHS = pd.to_datetime([f"2024-{m:02d}-01" for m in range(1, 7)])


def result_of(text: str, rules: CleaningRules | None = None):
    return run_rfm(load_bytes(text.encode("utf-8"), file_name="log.csv"), rules=rules)


@pytest.fixture(scope="module")
def tiny():
    """The hand-written log of migration_log.py: its kept lines and RFM table."""
    result = result_of(order_lines())
    return kept_lines(result), ibis.duckdb.connect(), result.rfm.table


# -- trends ------------------------------------------------------------------------------------


def test_monthly_revenue_orders_and_customers_are_the_hand_computed_ones(tiny) -> None:
    kept, backend, _ = tiny
    trend = activity_trend(kept, backend=backend, freq="month")
    assert list(trend.columns) == ["period", "revenue", "orders", "customers"]
    assert list(trend["period"]) == list(MONTHS)
    assert trend["revenue"].tolist() == [38.0, 27.0, 40.0, 31.0, 23.0, 86.0]
    assert trend["orders"].tolist() == [4, 4, 3, 2, 2, 4]
    assert trend["customers"].tolist() == [4, 3, 2, 2, 2, 4]


def test_weeks_start_on_monday_and_empty_periods_are_zero(tiny) -> None:
    kept, backend, table = tiny
    weekly = activity_trend(kept, backend=backend, freq="week").set_index("period")
    assert (weekly.index.day_of_week == 0).all()
    assert weekly.loc["2024-01-01", "revenue"] == 8.0  # E on 01-03, C on 01-05
    assert weekly.loc["2024-03-25", "revenue"] == 10.0  # A on Sunday 03-31
    assert weekly.loc["2024-01-22"].tolist() == [0.0, 0, 0]
    daily = activity_trend(kept, backend=backend, freq="day")
    assert len(daily) == 179  # 2024-01-03 … 2024-06-29, every day listed
    for trend in (weekly, daily):
        assert trend["revenue"].sum() == pytest.approx(table["monetary"].sum())
        assert trend["orders"].sum() == table["frequency"].sum()


def test_unknown_period_is_refused(tiny) -> None:
    kept, backend, _ = tiny
    with pytest.raises(RfmError, match="unknown period 'year'"):
        activity_trend(kept, backend=backend, freq="year")


def test_new_and_returning_customers_per_month(tiny) -> None:
    kept, backend, _ = tiny
    split = new_vs_returning(kept, backend=backend)
    assert list(split["period"]) == list(MONTHS)
    assert split["new_customers"].tolist() == [4, 1, 0, 1, 0, 1]
    assert split["returning_customers"].tolist() == [0, 2, 2, 1, 2, 3]
    assert split["new_revenue"].tolist() == [38.0, 7.0, 0.0, 11.0, 0.0, 50.0]
    assert split["returning_revenue"].tolist() == [0.0, 20.0, 40.0, 20.0, 23.0, 36.0]
    trend = activity_trend(kept, backend=backend)
    assert (split["new_customers"] + split["returning_customers"]).tolist() == trend[
        "customers"
    ].tolist()  # fmt: skip


def test_returns_netted_reduce_the_revenue_of_their_period(retail) -> None:
    backend = ibis.duckdb.connect()
    dropped = activity_trend(kept_lines(run_rfm(retail)), backend=backend)
    netted = activity_trend(
        kept_lines(run_rfm(retail, rules=CleaningRules(returns="net"))), backend=backend
    )
    # C1003 of 2011-01-11 returns 2 × 1.25; it is not an order
    assert dropped["revenue"].tolist() == [98.34]
    assert netted["revenue"].tolist() == [95.84]
    assert netted["orders"].tolist() == dropped["orders"].tolist() == [10]


def test_revenue_by_country(tiny) -> None:
    kept, backend, _ = tiny
    countries = revenue_by_country(kept, backend=backend)
    assert countries["country"].tolist() == ["United Kingdom", "France", "Germany"]
    assert countries["revenue"].tolist() == [218.0, 20.0, 7.0]
    assert countries["share_revenue"].tolist() == pytest.approx([218 / 245, 20 / 245, 7 / 245])
    assert countries["customers"].tolist() == [5, 1, 1]
    assert countries["orders"].tolist() == [14, 4, 1]
    assert countries["quantity"].tolist() == [14, 4, 1]


def test_top_products(tiny) -> None:
    kept, backend, _ = tiny
    products = top_products(kept, backend=backend, n=5)
    assert products["product"].tolist() == ["P1", "P2"]
    assert products["revenue"].tolist() == [145.0, 100.0]
    assert products["customers"].tolist() == [6, 1]
    assert top_products(kept, backend=backend, n=1)["product"].tolist() == ["P1"]
    with pytest.raises(RfmError, match="at least 1"):
        top_products(kept, backend=backend, n=0)


def test_top_products_are_described_and_net_of_cancelled_lines(retail) -> None:
    """85123A: 12346 bought 2 + 4 at 1.25 and cancelled 2 (C1003); 12348 bought 10 (twice, a
    duplicate row). Without the cancelled line: 7.50 − 2.50 + 12.50 = 17.50."""
    result = run_rfm(retail)
    kept, backend = kept_lines(result), ibis.duckdb.connect()
    gross = top_products(kept, backend=backend).set_index("product")
    assert gross.loc["85123A", "revenue"] == 20.0
    products = top_products(kept, backend=backend, returned=returned_lines(result))
    assert products.columns[:2].tolist() == ["product", "description"]
    top = products.set_index("product")
    assert top.loc["85123A", "description"] == "WHITE HANGING HEART"
    assert top.loc["85123A", "revenue"] == 17.5
    assert top.loc["85123A", "quantity"] == 14  # 16 bought, 2 cancelled
    assert products["share_revenue"].sum() == pytest.approx(1.0)
    assert products["revenue"].is_monotonic_decreasing


def test_a_cancelled_order_is_not_a_top_product() -> None:
    """Online Retail's 80,995 PAPER CRAFT ordered and cancelled the same day is no top product."""
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
        "1,23843,PAPER CRAFT,80995,2024-01-02 09:00,2.08,16446\n"
        "C2,23843,PAPER CRAFT,-80995,2024-01-02 09:05,2.08,16446\n"
        "3,22423,CAKESTAND,2,2024-01-03 10:00,12.75,12347\n"
        "4,22423,CAKESTAND,1,2024-01-04 10:00,12.75,12348\n"
    )
    result = result_of(text)
    kept, backend = kept_lines(result), ibis.duckdb.connect()
    assert top_products(kept, backend=backend)["product"].tolist()[0] == "23843"
    netted = top_products(kept, backend=backend, returned=returned_lines(result))
    assert netted["product"].tolist() == ["22423", "23843"]
    assert netted["revenue"].tolist() == [38.25, 0.0]


def test_returns_are_taken_off_each_customers_purchases_of_the_product_only() -> None:
    """Only the (customer, product) pairs with returns lose anything, never below zero, and a
    pair whose purchases sum below zero counts as least(units, 0), as over every pair."""
    at = pd.Timestamp("2024-01-02 10:00")
    kept = ibis.memtable(
        pd.DataFrame(
            {
                "customer_id": ["A", "B", "C", "A"],
                "invoice": ["1", "2", "3", "4"],
                "timestamp": [at] * 4,
                "quantity": [10.0, -4.0, 5.0, 2.0],
                "amount": [10.0, -4.0, 5.0, 2.0],
                "is_return": [False] * 4,
                "product": ["P", "P", "Q", "R"],
                "description": [None] * 4,
                "country": [None] * 4,
            }
        )
    )
    returned = ibis.memtable(
        pd.DataFrame(
            {
                "customer_id": ["A", "C", "B"],
                "amount": [-3.0, -9.0, -1.0],
                "quantity": [-3.0, -9.0, -1.0],
                "product": ["P", "Q", "R"],
                "description": [None] * 3,
            }
        )
    )
    products = top_products(kept, backend=ibis.duckdb.connect(), returned=returned)
    # P: 10 - 4 bought, A returns 3 of their 10, B's -4 counts as least(-4, 0) = -4 → 7
    # Q: C returns 9 of their 5 → 0; R: B returns R but never bought it → A's 2 stay
    assert products.set_index("product")["revenue"].to_dict() == {"P": 7.0, "R": 2.0, "Q": 0.0}
    assert products.set_index("product")["quantity"].to_dict() == {"P": 7.0, "R": 2.0, "Q": 0.0}


def test_a_log_with_descriptions_only_ranks_them() -> None:
    text = "client,date,total,Product name\nA,2024-01-01,10,Tea\nB,2024-01-02,5,Cake\n"
    products = top_products(kept_lines(result_of(text)), backend=ibis.duckdb.connect())
    assert products["product"].tolist() == ["Tea", "Cake"]
    assert "description" not in products.columns


def test_breakdowns_are_none_without_the_columns() -> None:
    text = "client,ordered_at,total\nA,2024-01-01,10\nB,2024-01-02,5\n"
    kept = kept_lines(result_of(text))
    backend = ibis.duckdb.connect()
    assert revenue_by_country(kept, backend=backend) is None
    assert top_products(kept, backend=backend) is None
    assert activity_trend(kept, backend=backend)["revenue"].tolist() == [15.0]


def test_kept_lines_need_an_in_memory_result(tmp_path) -> None:
    from rfm_core.customers.engine import rfm_on_engine

    path = tmp_path / "log.parquet"
    generate_transactions(50, random_state=1).transactions.to_parquet(path, index=False)
    source, mapping = open_file(path, backend=connect("duckdb"))
    with pytest.raises(RfmError, match="stay on the engine"):
        kept_lines(rfm_on_engine(source, name=path.name, mapping=mapping))


@pytest.mark.parametrize(
    "rules", [CleaningRules(), CleaningRules(returns="net", max_zscore=3.0)], ids=["drop", "net"]
)
def test_the_engine_gives_the_same_trends(tmp_path, rules) -> None:
    log = generate_transactions(300, random_state=8).transactions
    path = tmp_path / "gen.parquet"
    log.to_parquet(path, index=False)
    result = run_rfm(load_bytes(log.to_csv(index=False).encode(), file_name="gen.csv"), rules=rules)
    memory, duck = kept_lines(result), ibis.duckdb.connect()
    source, mapping = open_file(path, backend=connect("duckdb"))
    engine = kept_lines_on_engine(source, mapping, rules)
    backend = source._find_backend()
    assert engine.count().execute() == result.n_kept
    for freq in ("day", "week", "month"):
        pd.testing.assert_frame_equal(
            activity_trend(engine, backend=backend, freq=freq),
            activity_trend(memory, backend=duck, freq=freq),
        )
    pd.testing.assert_frame_equal(
        new_vs_returning(engine, backend=backend), new_vs_returning(memory, backend=duck)
    )
    pd.testing.assert_frame_equal(
        revenue_by_country(engine, backend=backend), revenue_by_country(memory, backend=duck)
    )
    pd.testing.assert_frame_equal(
        top_products(engine, backend=backend), top_products(memory, backend=duck)
    )
    pd.testing.assert_frame_equal(
        top_products(
            engine,
            backend=backend,
            returned=returned_lines_on_engine(source, mapping, rules),
        ),
        top_products(memory, backend=duck, returned=returned_lines(result)),
    )
    monthly = activity_trend(memory, backend=duck)
    assert monthly["revenue"].sum() == pytest.approx(result.rfm.table["monetary"].sum(), abs=0.01)


def _rows(table, columns) -> pd.DataFrame:
    """Every row of a table, in one order (the tables have no order of their own)."""
    frame = table.select(*columns).to_pandas()
    return frame.sort_values(list(columns), ignore_index=True, na_position="first")


RULES = [
    CleaningRules(),
    CleaningRules(returns="net", max_zscore=3.0),
    CleaningRules(drop_duplicates=False, max_quantity=50.0),
]


@pytest.mark.parametrize("rules", RULES, ids=["default", "net_zscore", "keep_copies"])
def test_lines_cleaned_once_give_what_the_expressions_give(tmp_path, rules) -> None:
    log = generate_transactions(300, random_state=8).transactions
    path = tmp_path / "gen.parquet"
    log.to_parquet(path, index=False)
    source, mapping = open_file(path, backend=connect("duckdb"))
    backend = source._find_backend()
    old_kept = kept_lines_on_engine(source, mapping, rules)
    old_returned = returned_lines_on_engine(source, mapping, rules)
    lines = clean_lines_on_engine(source, mapping, rules, name=path.name)
    assert lines.backend is backend
    assert lines.kept.schema() == old_kept.select(*KEPT_COLUMNS).schema()
    assert lines.returned.schema() == old_returned.schema()
    pd.testing.assert_frame_equal(_rows(lines.kept, KEPT_COLUMNS), _rows(old_kept, KEPT_COLUMNS))
    pd.testing.assert_frame_equal(
        _rows(lines.returned, RETURNED_COLUMNS), _rows(old_returned, RETURNED_COLUMNS)
    )
    assert lines.kept.count().execute() > 0
    # netted returns stay among the kept lines: none is removed
    assert (lines.returned.count().execute() > 0) == (rules.returns == "drop")

    def both(function, *args, **options):
        """The function on the lines cleaned once, and on the expressions."""
        new = function(lines.kept, *args, backend=backend, **options)
        old = function(old_kept, *args, backend=backend, **options)
        return new, old

    for freq in ("day", "week", "month"):
        pd.testing.assert_frame_equal(*both(activity_trend, freq=freq))
    for function in (new_vs_returning, revenue_by_country, top_products):
        pd.testing.assert_frame_equal(*both(function))
    new, old = (
        top_products(kept, backend=backend, returned=returned)
        for kept, returned in ((lines.kept, lines.returned), (old_kept, old_returned))
    )
    pd.testing.assert_frame_equal(new, old)
    new, old = (
        overview_tables(kept, backend=backend, returned=returned)
        for kept, returned in ((lines.kept, lines.returned), (old_kept, old_returned))
    )
    assert new.keys() == old.keys()
    for name in new:
        pd.testing.assert_frame_equal(new[name], old[name], obj=name)
    new, old = both(cohort_retention)
    pd.testing.assert_frame_equal(new.counts, old.counts)
    pd.testing.assert_frame_equal(new.share, old.share)
    pd.testing.assert_series_equal(new.sizes, old.sizes)
    cut, end = dt.date(2023, 9, 30), dt.date(2023, 12, 31)
    new, old = both(clv_summary, calibration_end=cut, holdout_end=end)
    pd.testing.assert_frame_equal(new.table, old.table)
    new, old = both(customer_lifetime_value, horizon_weeks=26.0)
    pd.testing.assert_frame_equal(new.customers, old.customers)
    assert new.bgnbd == old.bgnbd and new.gamma_gamma == old.gamma_gamma
    window = {"window_start": dt.date(2023, 7, 3), "cut": cut, "end": end}
    pd.testing.assert_frame_equal(*both(activity_around, **window))


def test_released_lines_free_their_table(tmp_path) -> None:
    path = tmp_path / "gen.parquet"
    generate_transactions(50, random_state=2).transactions.to_parquet(path, index=False)
    source, mapping = open_file(path, backend=connect("duckdb"))
    lines = clean_lines_on_engine(source, mapping)
    assert lines.table_name in lines.backend.list_tables()
    lines.release()
    assert lines.table_name not in lines.backend.list_tables()


# -- per segment -------------------------------------------------------------------------------


def test_segment_kpis_of_the_tiny_log(tiny) -> None:
    _, _, table = tiny
    kpis = segment_kpis(table, table["rfm_segment"], order=["Loyal", "Lost"])
    assert list(kpis.index[:2]) == ["Loyal", "Lost"]
    loyal = kpis.loc["Loyal"]
    members = table[table["rfm_segment"] == "Loyal"]
    assert loyal["customers"] == len(members)
    assert loyal["revenue"] == members["monetary"].sum()
    assert loyal["orders"] == members["frequency"].sum()
    assert loyal["avg_order_value"] == round(
        members["monetary"].sum() / members["frequency"].sum(), 2
    )
    assert loyal["orders_per_customer"] == members["frequency"].mean()
    assert loyal["median_recency"] == members["recency"].median()


def test_segment_kpis_add_up_to_the_totals() -> None:
    log = generate_transactions(400, random_state=4).transactions
    table = run_rfm(load_bytes(log.to_csv(index=False).encode(), file_name="g.csv")).rfm.table
    rng = np.random.default_rng(0)
    clusters = pd.Series(rng.integers(-1, 4, len(table)), index=table.index).sample(frac=1.0)
    for labels in (table["rfm_segment"], clusters):
        kpis = segment_kpis(table, labels)
        assert kpis["customers"].sum() == len(table)
        assert kpis["share_customers"].sum() == pytest.approx(1.0)
        assert kpis["revenue"].sum() == pytest.approx(table["monetary"].sum(), abs=0.05)
        assert kpis["share_revenue"].sum() == pytest.approx(1.0)
        assert kpis["orders"].sum() == table["frequency"].sum()
    assert list(segment_kpis(table, clusters).index) == [0, 1, 2, 3, -1]  # noise last


def test_segment_kpis_need_one_label_per_customer(tiny) -> None:
    _, _, table = tiny
    with pytest.raises(RfmError, match="one segment per customer"):
        segment_kpis(table, table["rfm_segment"].iloc[:3])


def test_pareto_curve_of_the_tiny_log(tiny) -> None:
    _, _, table = tiny
    pareto = pareto_curve(table)
    assert isinstance(pareto, Pareto)
    curve = pareto.curve
    assert curve.iloc[0].tolist() == [0.0, 0.0]
    assert curve.iloc[-1].tolist() == [1.0, pytest.approx(1.0)]
    # monetary sorted: 100, 50, 40, 22, 20, 7, 6 (245); the top 20 % is 2 customers
    assert pareto.points.loc[0.2, "customers"] == 2
    assert pareto.share_of(0.2) == pytest.approx(150 / 245)
    assert pareto.share_of(0.5) == pytest.approx(212 / 245)  # 4 customers
    assert pareto.n_customers == 7
    assert pareto.revenue == 245.0


def test_pareto_curve_is_thinned_and_monotone() -> None:
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"monetary": rng.lognormal(5, 1.5, 20_000)})
    pareto = pareto_curve(table, max_points=501)
    curve = pareto.curve
    assert len(curve) <= 501
    assert curve.iloc[0].tolist() == [0.0, 0.0]
    assert curve.iloc[-1].tolist() == [1.0, pytest.approx(1.0)]
    assert (np.diff(curve["share_revenue"]) >= 0).all()
    assert (np.diff(np.diff(curve["share_revenue"])) <= 1e-12).all()  # concave: best first
    assert pareto.share_of(0.2) > 0.2


def test_pareto_curve_needs_revenue() -> None:
    with pytest.raises(RfmError, match="customers with revenue"):
        pareto_curve(pd.DataFrame({"monetary": [0.0, 0.0]}))
