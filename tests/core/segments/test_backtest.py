"""Backtest: the metrics by hand on four customers, then whole runs on generated logs."""

from __future__ import annotations

import datetime as dt
import io
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from rfm_core.customers.engine import connect, open_file
from rfm_core.customers.migration import data_range, snapshot
from rfm_core.customers.pipeline import run_rfm
from rfm_core.customers.rfm import DEFAULT_SEGMENTS
from rfm_core.customers.trends import kept_lines_on_engine
from rfm_core.errors import BacktestError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_bgnbd_transactions
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.segments.backtest import (
    METHODS,
    activity_around,
    backtest,
    backtest_dates,
    compare_segmentations,
    concordance,
    deciles,
)
from rfm_core.segments.segmentation import SegmentationSettings

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}
FOUR_CLUSTERS = SegmentationSettings(n_clusters=4)
RULE_ORDER = [rule.name for rule in DEFAULT_SEGMENTS]


# -- the pieces, by hand -----------------------------------------------------------------------


def test_deciles_put_the_highest_first_and_break_ties_in_order():
    assert deciles(np.arange(20.0)).tolist() == [10 - i // 2 for i in range(20)]
    assert deciles([5.0, 5.0, 1.0, np.nan]).tolist() == [1, 2, 3, 4]  # four customers: quarters
    sizes = np.bincount(deciles(np.random.default_rng(0).random(1003)))[1:]
    assert sizes.sum() == 1003 and sizes.max() - sizes.min() <= 1


def brute_concordance(predicted, actual) -> float:
    score = pairs = 0.0
    for i in range(len(actual)):
        for j in range(i + 1, len(actual)):
            if actual[i] == actual[j]:
                continue
            pairs += 1
            sign = (predicted[i] - predicted[j]) * (actual[i] - actual[j])
            score += 1.0 if sign > 0 else 0.5 if sign == 0 else 0.0
    return score / pairs


def test_concordance_counts_pairs_as_defined():
    assert concordance([1, 2, 3], [10, 20, 30]) == 1.0
    assert concordance([3, 2, 1], [10, 20, 30]) == 0.0
    assert concordance([7, 7, 7], [10, 20, 30]) == 0.5  # a constant prediction says nothing
    assert math.isnan(concordance([1, 2, 3], [5, 5, 5]))  # no pair to order
    # pairs with different actual values: (a,b) concordant, (a,c) tied prediction → ½, (b,c) 1
    assert concordance([0, 1, 0], [0, 10, 5]) == pytest.approx((1 + 0.5 + 1) / 3)
    rng = np.random.default_rng(3)
    predicted = rng.integers(0, 5, 200).astype(float)
    actual = (predicted + rng.integers(0, 4, 200)) * (rng.random(200) < 0.5)
    assert concordance(predicted, actual) == pytest.approx(brute_concordance(predicted, actual))


def four_customers() -> pd.DataFrame:
    """c1 and c2 are Champions (cluster 0), c3 and c4 Lost (cluster 1); c1 and c3 bought again."""
    frame = pd.DataFrame(
        {
            "rfm_segment": ["Champions", "Champions", "Lost", "Lost"],
            "cluster": [0, 0, 1, 1],
            "cluster_name": ["Champions", "Champions", "Lost", "Lost"],
            "actual_purchases": [2, 0, 1, 0],
            "actual_revenue": [30.0, 0.0, 10.0, 0.0],
            "predicted_purchases_rule": [1.5, 1.5, 0.0, 0.0],
            "predicted_revenue_rule": [20.0, 20.0, 0.0, 0.0],
            "predicted_purchases_clv": [3.0, 0.5, 1.0, 0.2],
            "predicted_revenue_clv": [40.0, 5.0, 8.0, 1.0],
        },
        index=pd.Index(["c1", "c2", "c3", "c4"], name="customer_id"),
    )
    frame["predicted_purchases_cluster"] = frame["predicted_purchases_rule"]
    frame["predicted_revenue_cluster"] = frame["predicted_revenue_rule"]
    frame["clv_decile"] = deciles(frame["predicted_revenue_clv"])
    frame["bought_again"] = frame["actual_purchases"] > 0
    return frame


def test_groups_comparison_and_calibration_of_four_customers():
    groups, comparison, calibration, winner, sentence = compare_segmentations(
        four_customers(), cut=dt.date(2024, 3, 31), end=dt.date(2024, 6, 29),
        rule_order=RULE_ORDER,
    )  # fmt: skip
    rule = groups["rule"]
    assert list(rule.index) == ["Champions", "Lost"]
    assert rule.loc["Champions"].to_dict() == {
        "customers": 2, "share_customers": 0.5, "bought_again": 0.5,
        "revenue_per_customer": 15.0, "share_revenue": 0.75, "purchases_per_customer": 1.0,
        "predicted_purchases_per_customer": 1.5, "predicted_revenue_per_customer": 20.0,
    }  # fmt: skip
    assert list(groups["cluster"].index) == ["0: Champions", "1: Lost"]
    assert list(groups["clv"].index) == ["decile 1", "decile 2", "decile 3", "decile 4"]
    assert groups["clv"]["customers"].tolist() == [1, 1, 1, 1]
    # repeat rate 1/2 overall, revenue 10 per customer overall
    assert comparison.loc["rule", ["best_group", "best_group_share"]].tolist() == ["Champions", 0.5]
    assert comparison.loc["rule", "repeat_lift"] == 1.0  # Champions: 1 of 2 bought, as overall
    assert comparison.loc["rule", "revenue_lift"] == 1.5  # 15 / 10
    assert comparison.loc["clv", "best_group"] == "decile 1"  # c1 alone: bought, 30
    assert comparison.loc["clv", ["repeat_lift", "revenue_lift"]].tolist() == [2.0, 3.0]
    # pairs with different revenue: (c1,c2) (c1,c3) (c1,c4) (c2,c3) (c3,c4); (c2,c4) both 0
    # rule (20, 20, 0, 0): ½, 1, 1, 0, ½ → 3 / 5; CLV (40, 5, 8, 1): all five in order
    assert comparison.loc["rule", "concordance"] == pytest.approx(0.6)
    assert comparison.loc["clv", "concordance"] == pytest.approx(1.0)
    # Spearman by hand: ranks (3.5, 3.5, 1.5, 1.5) vs (4, 1.5, 3, 1.5) → 1 / √18
    assert comparison.loc["rule", "spearman"] == pytest.approx(1 / math.sqrt(18))
    assert comparison.loc["clv", "spearman"] == pytest.approx(4.5 / math.sqrt(22.5))
    assert comparison["actual_purchases"].tolist() == [3.0, 3.0, 3.0]
    assert comparison["predicted_purchases"].tolist() == pytest.approx([3.0, 3.0, 4.7])
    clv = calibration[calibration["method"] == "clv"]
    assert clv["predicted_purchases"].tolist() == [3.0, 1.0, 0.5, 0.2]  # c1, c3, c2, c4
    assert clv["actual_purchases"].tolist() == [2.0, 1.0, 0.0, 0.0]
    rule = calibration[calibration["method"] == "rule"]
    assert rule["predicted_purchases"].tolist() == [1.5, 1.5, 0.0, 0.0]  # ties in id order
    assert rule["actual_purchases"].tolist() == [2.0, 0.0, 1.0, 0.0]
    assert winner == "clv"
    assert sentence == (
        "The CLV deciles predicted best on this log: of two customers who spent different "
        "amounts in the 90 days after 2024-03-31, the one they expected to spend more did in "
        "100.0% of the pairs (a tie in the predictions counts half), against 60.0% for the "
        "rule segments and 60.0% for the clusters."
    )


def test_near_ties_and_a_period_without_purchases_are_said_so():
    customers = four_customers()
    customers["predicted_revenue_clv"] = customers["predicted_revenue_rule"]
    _, _, _, winner, sentence = compare_segmentations(
        customers, cut=dt.date(2024, 3, 31), end=dt.date(2024, 6, 29), rule_order=RULE_ORDER
    )
    assert winner == "rule"
    assert sentence.startswith(
        "The rule segments, clusters and CLV deciles predicted about equally well on this log"
    )
    assert "60.0%, 60.0% and 60.0% of the pairs (closer than 1% is a tie" in sentence
    customers = four_customers().assign(actual_purchases=0, actual_revenue=0.0)
    customers["bought_again"] = False
    _, comparison, _, winner, sentence = compare_segmentations(
        customers, cut=dt.date(2024, 3, 31), end=dt.date(2024, 6, 29), rule_order=RULE_ORDER
    )
    assert winner is None and comparison["concordance"].isna().all()
    assert sentence.startswith("None of the customers of 2024-03-31 bought again")


# -- dates and activity ------------------------------------------------------------------------

# a: 01-05 10, 02-10 20 + 5 (one day), 03-01 7 (after the cut); b: 02-20 returned the same day
# (with netted returns worth 0: no purchase day), 03-03 4; c: 01-02 3 only
LOG = """\
InvoiceNo,InvoiceDate,CustomerID,Quantity,UnitPrice
1,2024-01-05 10:00,a,1,10.00
2,2024-02-10 09:00,a,2,10.00
3,2024-02-10 18:00,a,1,5.00
4,2024-03-01 12:00,a,1,7.00
5,2024-02-20 12:00,b,1,6.00
C6,2024-02-20 15:00,b,-1,6.00
7,2024-03-03 12:00,b,1,4.00
8,2024-01-02 12:00,c,1,3.00
"""


def test_activity_before_and_after_the_cut_by_hand():
    lines = run_rfm(load_bytes(LOG.encode(), file_name="log.csv")).lines
    found = activity_around(
        lines, window_start=dt.date(2024, 1, 3), cut=dt.date(2024, 2, 29),
        end=dt.date(2024, 3, 31),
    )  # fmt: skip
    # c's only day, 01-02, is before the window; returns are dropped, so b's 02-20 counts
    assert found.to_dict("index") == {
        "a": {"previous_purchases": 2, "previous_revenue": 35.0,
              "actual_purchases": 1, "actual_revenue": 7.0},
        "b": {"previous_purchases": 1, "previous_revenue": 6.0,
              "actual_purchases": 1, "actual_revenue": 4.0},
    }  # fmt: skip
    netted = run_rfm(load_bytes(LOG.encode(), file_name="log.csv"), rules=CleaningRules("net"))
    found = activity_around(
        netted.lines, window_start=dt.date(2024, 1, 3), cut=dt.date(2024, 2, 29),
        end=dt.date(2024, 3, 31),
    )  # fmt: skip
    assert found.loc["b", "previous_purchases"] == 0  # the return nets 02-20 to 0: no purchase


def test_cut_dates_default_to_90_days_before_the_last_purchase_and_are_checked():
    span = (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert backtest_dates(span) == (dt.date(2023, 10, 2), dt.date(2023, 12, 31))
    assert backtest_dates(span, cut=dt.date(2023, 1, 1)) == (span[0], span[1])
    assert backtest_dates((dt.date(2023, 12, 1), span[1])) == (dt.date(2023, 12, 1), span[1])
    with pytest.raises(BacktestError, match="before the first purchase day 2023-01-01"):
        backtest_dates(span, cut=dt.date(2022, 12, 31))
    with pytest.raises(BacktestError, match="must be before the last purchase day 2023-12-31"):
        backtest_dates(span, cut=dt.date(2023, 12, 31))


# -- whole runs --------------------------------------------------------------------------------


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def cdnow_log() -> bytes:
    """3,000 customers of the BG/NBD and Gamma-Gamma processes, 78 weeks, as Parquet."""
    return parquet_bytes(generate_bgnbd_transactions(3000, **CDNOW, random_state=4).transactions)


@pytest.fixture(scope="module")
def cdnow_run(cdnow_log):
    result = run_rfm(load_bytes(cdnow_log, file_name="cdnow.parquet"))
    run = backtest(
        result.transactions, result.lines, span=data_range(result.rfm.table),
        settings=FOUR_CLUSTERS,
    )  # fmt: skip
    return result, run


def test_on_a_log_of_the_clv_models_clv_beats_random_and_the_segments(cdnow_run):
    run = cdnow_run[1]
    assert (run.cut, run.end, run.days) == (dt.date(1998, 4, 1), dt.date(1998, 6, 30), 90)
    customers = run.customers
    assert len(customers) == 3000  # everyone was acquired in the first 12 weeks
    comparison = run.comparison
    assert list(comparison.index) == list(METHODS)
    random = concordance(
        np.random.default_rng(0).permutation(customers["predicted_revenue_clv"].to_numpy()),
        customers["actual_revenue"],
    )
    assert abs(random - 0.5) < 0.03
    assert comparison.loc["clv", "concordance"] > 0.8  # measured 0.82
    assert comparison.loc["clv", "concordance"] > comparison["concordance"].drop("clv").max()
    assert run.winner == "clv" and run.sentence.startswith("The CLV deciles predicted best")
    # why Spearman's rho does not decide: it ranks the rule segments first (0.43 vs 0.38), for
    # predicting the same 0 as the many customers who buy nothing after the cut
    assert comparison.loc["rule", "spearman"] > comparison.loc["clv", "spearman"]
    # the models' own data: the purchases they expect are the ones made, within 5 % (2.7 %)
    total = comparison.loc["clv"]
    assert total["predicted_purchases"] == pytest.approx(total["actual_purchases"], rel=0.05)
    assert comparison.loc["clv", "revenue_lift"] > 5  # the top tenth spends 7× the average
    calibration = run.calibration[run.calibration["method"] == "clv"].set_index("decile")
    assert calibration.loc[1, "actual_purchases"] > 10 * calibration.loc[10, "actual_purchases"]
    assert calibration.loc[1, "predicted_purchases"] == pytest.approx(
        calibration.loc[1, "actual_purchases"], rel=0.1
    )


def test_a_run_follows_the_definitions(cdnow_run):
    result, run = cdnow_run
    customers = run.customers
    at_cut = snapshot(result.transactions, date=run.cut)
    assert customers.index.equals(at_cut.table.index)
    assert customers["rfm_segment"].tolist() == at_cut.table["rfm_segment"].tolist()
    assert (run.window_start, run.cut) == (dt.date(1998, 1, 2), dt.date(1998, 4, 1))
    activity = activity_around(
        result.lines, window_start=run.window_start, cut=run.cut, end=run.end
    ).reindex(customers.index, fill_value=0)
    pd.testing.assert_series_equal(customers["actual_revenue"], activity["actual_revenue"])
    # a segment predicts what its customers did, on average, in the 90 days before the cut
    for method, column in (("rule", "rfm_segment"), ("cluster", "cluster")):
        means = customers.groupby(column)["previous_revenue"].transform("mean")
        np.testing.assert_allclose(customers[f"predicted_revenue_{method}"], means)
    # CLV predicts the holdout purchases of its fit on the lines up to the cut
    rows = run.clv.customers.reindex(customers.index)
    np.testing.assert_allclose(customers["predicted_revenue_clv"], rows["clv"])
    np.testing.assert_allclose(
        customers["predicted_purchases_clv"], rows["expected_holdout_purchases"]
    )
    assert run.clv.horizon_weeks == pytest.approx(90 / 7)
    assert run.segmentation.n_clusters == 4
    for method, groups in run.groups.items():
        assert groups["customers"].sum() == 3000, method
        assert groups["share_revenue"].sum() == pytest.approx(1.0)
    by_decile = customers.groupby("clv_decile")["predicted_revenue_clv"]
    assert by_decile.size().tolist() == [300] * 10
    assert (by_decile.min().to_numpy()[:-1] >= by_decile.max().to_numpy()[1:]).all()
    assert stats.spearmanr(
        customers["predicted_revenue_rule"], customers["actual_revenue"]
    ).statistic == pytest.approx(run.comparison.loc["rule", "spearman"])


def test_the_engine_gives_the_same_backtest(cdnow_log, cdnow_run, tmp_path):
    run = cdnow_run[1]
    path = tmp_path / "cdnow.parquet"
    path.write_bytes(cdnow_log)
    backend = connect("duckdb")
    source, mapping = open_file(path, backend=backend)
    kept = kept_lines_on_engine(source, mapping, name="cdnow.parquet")
    on_engine = backtest(
        source, kept, backend=backend, mapping=mapping, name="cdnow.parquet",
        settings=FOUR_CLUSTERS,
    )  # fmt: skip
    assert (on_engine.cut, on_engine.end) == (run.cut, run.end)
    pd.testing.assert_frame_equal(on_engine.customers, run.customers, check_exact=False)
    pd.testing.assert_frame_equal(on_engine.comparison, run.comparison, check_exact=False)
    assert on_engine.sentence == run.sentence


def test_customers_first_seen_after_the_cut_are_left_out_and_counted():
    log = generate_bgnbd_transactions(1500, **CDNOW, acquisition_weeks=70, random_state=5)
    result = run_rfm(load_bytes(parquet_bytes(log.transactions), file_name="late.parquet"))
    steps: list[str] = []
    run = backtest(result.transactions, result.lines, settings=FOUR_CLUSTERS, progress=steps.append)
    first = log.transactions.groupby("CustomerID")["InvoiceDate"].min().dt.date
    later = int((first > run.cut).sum())
    assert later > 0 and len(run.customers) == 1500 - later
    assert f"{later:,} customers first bought after {run.cut}" in " ".join(run.notes)
    assert steps[0] == f"RFM table and rule segments on the lines up to {run.cut}"
    assert len(steps) == 5


def test_a_cut_outside_the_data_is_refused(cdnow_run):
    result = cdnow_run[0]
    with pytest.raises(BacktestError, match="must be before the last purchase day 1998-06-30"):
        backtest(result.transactions, result.lines, cut=dt.date(1998, 7, 1))
