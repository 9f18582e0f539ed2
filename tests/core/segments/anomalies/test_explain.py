"""Reasons in words and categories, by hand and on planted anomalies; the robust z."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rfm_core.errors import RfmError
from rfm_core.segments.anomalies import (
    explain,
    robust_z,
)
from tests.core.segments.anomalies.anomaly_tables import ORDINARY, hand_table

# generated logs leave few distinct frequency scores: not what these tests are about
pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


KIND_CATEGORY = {
    "whale": "wholesale-like whale",
    "bulk_single_order": "bulk single order",
    "machine_like": "machine-like buying",
}


# -- planted truth ----------------------------------------------------------------------------


def test_reasons_lead_with_the_planted_feature(default_result, truth):
    rows = default_result.table.join(truth[["anomaly_kind", "anomaly_feature"]])
    caught = rows[rows["anomaly"] & truth["is_anomaly"]]
    assert len(caught) >= 45
    for customer, row in caught.iterrows():
        # features are ordered by how far they push: the planted one comes first
        assert row["anomaly_reason"].startswith(row["anomaly_feature"]), customer


def test_categories_match_planted_kinds(default_result, truth):
    rows = default_result.table.join(truth[["anomaly_kind"]])
    caught = rows[rows["anomaly"] & truth["is_anomaly"]]
    assert set(caught["anomaly_kind"]) == set(KIND_CATEGORY)
    expected = caught["anomaly_kind"].map(KIND_CATEGORY)
    pd.testing.assert_series_equal(caught["anomaly_category"], expected, check_names=False)


def test_machine_like_reason_counts_orders(default_result, truth):
    machine = default_result.table.loc[truth["anomaly_kind"] == "machine_like"]
    reason = machine.loc[machine["anomaly"], "anomaly_reason"].iloc[0]
    assert reason.startswith("frequency ")
    assert " orders vs 2)" in reason  # the median customer placed 2 orders


# -- robust z ---------------------------------------------------------------------------------


def test_robust_z_by_hand():
    recency = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90])
    # median log1p(50); the MAD is the 5th smallest deviation, log1p(80) − log1p(50)
    scale = 1.4826 * (math.log1p(80) - math.log1p(50))
    z = robust_z(np.array([320, 50, 10]), recency)
    expected = [(math.log1p(v) - math.log1p(50)) / scale for v in (320, 50, 10)]
    np.testing.assert_allclose(z, expected)


def test_robust_z_falls_back_to_mean_absolute_deviation():
    reference = np.array([1, 1, 1, 1, 2])  # MAD 0
    mean_deviation = (math.log1p(2) - math.log1p(1)) / 5
    z = robust_z(np.array([2]), reference)
    assert z[0] == pytest.approx((math.log1p(2) - math.log1p(1)) / (1.2533 * mean_deviation))
    constant = robust_z(np.array([3, 3, 4]), np.array([3, 3, 3]))
    assert constant.tolist() == [0.0, 0.0, math.inf]


# -- explanations -----------------------------------------------------------------------------


def test_explain_exact_sentence_for_a_whale():
    table = hand_table({**ORDINARY, "whale": (40, 3, 1_200_000.0)})
    flags = pd.Series([False] * 9 + [True], index=table.index)
    words = explain(table, flags, features=("frequency", "monetary"), currency="£")
    assert words.loc["whale", "anomaly_reason"] == (
        "monetary 48× the median (£1.2M vs £25k), frequency typical"
    )
    assert words.loc["whale", "anomaly_category"] == "wholesale-like whale"
    assert (words.drop(index="whale") == "").all().all()
    assert list(words.columns) == ["anomaly_reason", "anomaly_category"]
    assert words.index.equals(table.index)


def test_explain_recency_in_days_and_bulk_order():
    table = hand_table({**ORDINARY, "bulk": (320, 1, 200_000.0)})
    flags = np.array([False] * 9 + [True])
    words = explain(table, flags)
    # robust z by hand (log1p scale, 1.4826 × MAD of the nine others): monetary
    # log(8)/(1.4826·log(25/20)) = 6.3, recency 2.7, frequency log(2/4)/(1.4826·log(5/4)) = −2.1
    assert words.loc["bulk", "anomaly_reason"] == (
        "monetary 8× the median (200k vs 25k), last purchase 320 days ago vs median 50, "
        "frequency 1/3 of the median (1 order vs 3)"
    )
    assert words.loc["bulk", "anomaly_category"] == "bulk single order"


def test_explain_machine_like_and_tiny_spender():
    table = hand_table({**ORDINARY, "bot": (2, 300, 30_000.0), "tiny": (50, 3, 2.5)})
    flags = pd.Series(table.index.isin(["bot", "tiny"]), index=table.index)
    words = explain(table, flags, currency="$")
    assert words.loc["bot", "anomaly_reason"].startswith("frequency 100× the median (300 orders")
    # 300 orders of $100 each, against a median order of 25,000 / 3: many small orders
    assert words.loc["bot", "anomaly_category"] == "machine-like buying"
    assert words.loc["tiny", "anomaly_reason"] == (
        "monetary 1/10,000 of the median ($2.50 vs $25k), recency typical, frequency typical"
    )
    assert words.loc["tiny", "anomaly_category"] == "tiny spender"


def test_explain_large_order_later_cancelled():
    table = hand_table({**ORDINARY, "12346": (40, 1, 77_183.6)})
    table["cancelled_amount"] = [0.0] * 8 + [-5_000.0, -77_183.6]  # returns carry minus signs
    flags = pd.Series(table.index.isin(["i", "12346"]), index=table.index)
    words = explain(table, flags, currency="£")
    assert words.loc["12346", "anomaly_category"] == "possible data error"
    assert words.loc["12346", "anomaly_reason"].startswith(
        "large order later cancelled (£77k cancelled of £77k bought), "
    )
    # £5k cancelled of £35k bought is under half: not a data error
    assert words.loc["i", "anomaly_category"] != "possible data error"
    # without the column the rule is skipped
    plain = explain(table.drop(columns="cancelled_amount"), flags)
    assert plain.loc["12346", "anomaly_category"] == "bulk single order"


def test_explain_small_cancellations_and_net_returns():
    table = hand_table({**ORDINARY, "small": (30, 1, 6.2), "net": (30, 2, 0.0)})
    table["cancelled_amount"] = [0.0] * 9 + [-6.2, 0.0]
    words = explain(table, np.array([False] * 9 + [True, True]), currency="£")
    assert words["anomaly_category"].tolist()[-2:] == ["possible data error"] * 2
    # £6.20 is below the median spend (£25k): not a "large order"
    assert words.loc["small", "anomaly_reason"].startswith(
        "most purchases later cancelled (£6.20 cancelled of £6.20 bought), monetary 1/4,032 of"
    )
    assert words.loc["net", "anomaly_reason"].startswith(
        "returns exceed purchases (monetary £0.00), monetary £0.00 vs median £25k"
    )


def test_explain_against_an_explicit_reference():
    table = hand_table({"x": (40, 3, 250_000.0)})
    reference = hand_table(ORDINARY)
    words = explain(table, np.array([True]), features=("monetary",), reference=reference)
    assert words.loc["x", "anomaly_reason"] == "monetary 10× the median (250k vs 25k)"


def test_unusual_combination_when_no_feature_stands_out():
    table = hand_table({**ORDINARY, "odd": (45, 3, 26_000.0)})
    words = explain(table, np.array([False] * 9 + [True]))
    assert words.loc["odd", "anomaly_category"] == "unusual combination"
    # |z| by hand: recency log(46/51)/(1.4826·log(81/51)) = −0.15, monetary 0.12, frequency 0
    assert words.loc["odd", "anomaly_reason"] == (
        "no single feature stands out: last purchase 45 days ago vs median 50, "
        "monetary about the median (26k vs 25k), frequency about the median (3 orders vs 3)"
    )


# -- errors -----------------------------------------------------------------------------------


def test_explain_errors(table, default_result):
    with pytest.raises(RfmError, match="one value per customer"):
        explain(table, np.zeros(5, dtype=bool))
    with pytest.raises(RfmError, match="must be booleans"):
        explain(table, np.zeros(len(table)))
    with pytest.raises(RfmError, match="no value for customer"):
        explain(table, default_result.table["anomaly"].iloc[1:])
