"""Summaries of flagged customers against hand computations, and on a real detector's flags."""

from __future__ import annotations

import pandas as pd
import pytest

from rfm_core.customers.pipeline import run_rfm
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.segments.anomalies import detect_anomalies
from rfm_core.segments.summaries import (
    FLAG_COLUMNS,
    flagged_customers,
    flagged_revenue_share,
    with_flags,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


def rfm(monetary: list[float]) -> pd.DataFrame:
    ids = pd.Index([f"c{i}" for i in range(len(monetary))], name="customer_id")
    return pd.DataFrame(
        {
            "recency": range(1, len(monetary) + 1),
            "frequency": [1] * len(monetary),
            "monetary": monetary,
            "r_score": [3] * len(monetary),
        },
        index=ids,
    )


def flags(anomaly: list[bool], score: list[float], *, order: list[int] | None = None):
    ids = pd.Index([f"c{i}" for i in range(len(anomaly))], name="customer_id")
    frame = pd.DataFrame(
        {
            "anomaly": anomaly,
            "anomaly_score": score,
            "anomaly_reason": ["odd" if a else "" for a in anomaly],
            "anomaly_category": ["bulk single order" if a else "" for a in anomaly],
        },
        index=ids,
    )
    return frame.iloc[order] if order else frame


def test_the_revenue_share_of_the_flagged_is_their_monetary_over_all() -> None:
    table = rfm([10.0, 30.0, 60.0])
    # c1 and c2 flagged: (30 + 60) / 100, whatever order the flags come in
    assert flagged_revenue_share(table, flags([False, True, True], [0.1, 0.5, 0.7])) == 0.9
    shuffled = flags([False, True, True], [0.1, 0.5, 0.7], order=[2, 0, 1])
    assert flagged_revenue_share(table, shuffled) == 0.9


def test_nobody_flagged_or_no_revenue_is_a_share_of_zero() -> None:
    assert flagged_revenue_share(rfm([10.0, 30.0]), flags([False, False], [0.1, 0.2])) == 0.0
    assert flagged_revenue_share(rfm([0.0, 0.0]), flags([True, False], [0.9, 0.2])) == 0.0


def test_flagged_customers_come_strangest_first_with_their_values() -> None:
    table = rfm([10.0, 30.0, 60.0, 5.0])
    found = flagged_customers(table, flags([True, False, True, True], [0.5, 0.9, 0.8, 0.5]))
    # c2 (0.8) first; c0 and c3 tie at 0.5 and keep the table's order
    assert list(found.index) == ["c2", "c0", "c3"]
    assert list(found.columns) == ["recency", "frequency", "monetary", *FLAG_COLUMNS]
    assert found.loc["c2", "monetary"] == 60.0 and found.loc["c0", "anomaly_reason"] == "odd"


def test_with_flags_keeps_every_customer_in_table_order() -> None:
    table = rfm([10.0, 30.0, 60.0])
    joined = with_flags(table, flags([False, True, False], [0.1, 0.5, 0.2], order=[1, 2, 0]))
    assert list(joined.index) == ["c0", "c1", "c2"]
    assert joined["anomaly"].tolist() == [False, True, False]
    assert "r_score" not in joined.columns


def test_on_a_detector_s_flags() -> None:
    log = generate_transactions(400, random_state=5).transactions
    data = log.to_csv(index=False).encode("utf-8")
    table = run_rfm(load_bytes(data, file_name="log.csv")).rfm.table
    result = detect_anomalies(table, contamination=0.05, random_state=0)
    found = flagged_customers(table, result.table)
    assert len(found) == result.n_flagged
    assert found["anomaly_score"].is_monotonic_decreasing
    share = table.loc[found.index, "monetary"].sum() / table["monetary"].sum()
    assert flagged_revenue_share(table, result.table) == pytest.approx(share)
