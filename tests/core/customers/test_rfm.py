"""RFM values computed by hand on tiny logs, scores and rule-based segments."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm_core.customers.pipeline import run_rfm
from rfm_core.customers.rfm import (
    DEFAULT_SEGMENTS,
    SEGMENT_TABLE_COLUMNS,
    SegmentRule,
    assign_segments,
    relabel,
    score,
    score_edges,
    score_with_edges,
    segment_summary,
    segments_from_frame,
    segments_to_frame,
    select_range,
    validate_segments,
)
from rfm_core.errors import SegmentDefinitionError
from rfm_core.lines.cleaning import CleaningRules

# tiny logs leave few distinct scores: that warning is tested on its own below
pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

COLUMNS = [
    "recency",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "first_purchase",
    "last_purchase",
    "tenure_days",
    "avg_order_value",
    "mean_days_between_purchases",
    "cancelled_amount",
]
NAN = math.nan


def day(month_day: str) -> dt.date:
    """``"01-31"`` → 31 January 2011 (every hand-made log is dated 2011)."""
    return dt.date.fromisoformat(f"2011-{month_day}")


def expected(rows: dict[str, tuple], cancelled: dict[str, float] | None = None) -> pd.DataFrame:
    """Build the RFM frame from ``{customer: (recency, frequency, monetary, r, f, m, segment,
    first, last, tenure_days, avg_order_value, mean_days_between_purchases)}``; first and last
    purchase as ``"MM-DD"`` of 2011; ``cancelled`` amounts default to 0."""
    cancelled = cancelled or {}
    values = [(*row, cancelled.get(customer, 0.0)) for customer, row in rows.items()]
    table = pd.DataFrame(values, columns=COLUMNS)
    table.index = pd.Index(list(rows), dtype="string", name="customer_id")
    for column in ("first_purchase", "last_purchase"):
        table[column] = pd.Series([day(v) for v in table[column]], index=table.index, dtype=object)
    return table.astype(
        {
            "recency": "int64",
            "frequency": "int64",
            "monetary": "float64",
            "r_score": "int8",
            "f_score": "int8",
            "m_score": "int8",
            "rfm_segment": "string",
            "tenure_days": "int64",
            "avg_order_value": "float64",
            "mean_days_between_purchases": "float64",
            "cancelled_amount": "float64",
        }
    )


# -- hand-computed tables ----------------------------------------------------------------------


def test_retail_log_matches_hand_computed_table(retail):
    result = run_rfm(retail)
    # last purchase 2011-01-31 08:15 (the 17:00 line has no customer) → reference 2011-02-01;
    # with 5 customers a score is 1 + the number of customers with a strictly worse value
    want = expected(
        {
            "12346": (12, 3, 23.50, 3, 4, 3, "Loyal", "01-03", "01-20", 29, 7.83, 8.5),
            "12347": (27, 1, 15.00, 2, 1, 2, "Hibernating", "01-05", "01-05", 27, 15.0, NAN),
            "12348": (1, 2, 32.50, 5, 3, 5, "Potential Loyalist", "01-28", "01-31", 4, 16.25, 3.0),
            "12349": (30, 1, 0.99, 1, 1, 1, "Lost", "01-02", "01-02", 30, 0.99, NAN),
            "12350": (2, 3, 26.35, 4, 4, 4, "Loyal", "01-12", "01-30", 20, 8.78, 9.0),
        },
        cancelled={"12346": 2.50},  # C1003: 2 × 1.25, removed but remembered
    )  # fmt: skip
    assert result.rfm.reference_date == dt.date(2011, 2, 1)
    pd.testing.assert_frame_equal(result.rfm.table, want)


def test_user_reference_date_removes_later_lines(retail):
    result = run_rfm(retail, rules=CleaningRules(reference_date=dt.date(2011, 1, 28)))
    report = result.cleaning.report.set_index("reason")["rows"]
    # 1007 (01-31) and 1013 (01-30); 1008 (01-31) is counted as missing_customer_id first
    assert report["after_reference_date"] == 2
    assert result.cleaning.n_kept == 9
    # a purchase on the reference date itself has recency 0
    want = expected(
        {
            "12346": (8, 3, 23.50, 3, 5, 5, "Loyal", "01-03", "01-20", 25, 7.83, 8.5),
            "12347": (23, 1, 15.00, 2, 1, 3, "Hibernating", "01-05", "01-05", 23, 15.0, NAN),
            "12348": (0, 1, 12.50, 5, 1, 2, "New", "01-28", "01-28", 0, 12.5, NAN),
            "12349": (26, 1, 0.99, 1, 1, 1, "Lost", "01-02", "01-02", 26, 0.99, NAN),
            "12350": (3, 2, 18.90, 4, 4, 4, "Loyal", "01-12", "01-25", 16, 9.45, 13.0),
        },
        cancelled={"12346": 2.50},
    )  # fmt: skip
    assert result.rfm.reference_date == dt.date(2011, 1, 28)
    pd.testing.assert_frame_equal(result.rfm.table, want)


def test_without_invoice_column_frequency_counts_distinct_timestamps(load):
    loaded = load(
        "customer,date,quantity,price\n"
        "A,2011-03-01 10:00,1,5.00\n"
        "A,2011-03-01 10:00,2,1.50\n"  # second line of the 10:00 order
        "A,2011-03-01 15:00,1,2.00\n"  # same day, another order
        "B,2011-03-02 09:00,1,4.00\n"
    )
    result = run_rfm(loaded)
    assert result.transactions.mapping.invoice is None
    want = expected(
        {
            "A": (2, 2, 10.00, 1, 3, 3, "At Risk", "03-01", "03-01", 2, 5.0, 0.0),
            "B": (1, 1, 4.00, 3, 1, 1, "About to Sleep", "03-02", "03-02", 1, 4.0, NAN),
        }
    )
    pd.testing.assert_frame_equal(result.rfm.table, want)


def test_amount_column_instead_of_quantity_times_price(load):
    loaded = load(
        "order_id,order_date,client,total\n"
        "O-1,2011-02-01,alice,19.99\n"
        "O-2,2011-02-03,alice,5.01\n"
        "O-3,2011-02-03,bob,100.00\n"
        "O-4,2011-02-04,carol,0\n"  # zero amount: removed, so it does not set the reference
        'O-5,2011-02-02,dave,"1,250.00"\n'
    )
    result = run_rfm(loaded)
    assert result.transactions.mapping.uses_amount
    assert result.rfm.reference_date == dt.date(2011, 2, 4)
    want = expected(
        {
            "alice": (1, 2, 25.00, 2, 4, 1, "At Risk", "02-01", "02-03", 3, 12.5, 2.0),
            "bob": (1, 1, 100.00, 2, 1, 2, "Hibernating", "02-03", "02-03", 1, 100.0, NAN),
            "dave": (2, 1, 1250.00, 1, 1, 4, "Lost", "02-02", "02-02", 2, 1250.0, NAN),
        }
    )  # fmt: skip
    pd.testing.assert_frame_equal(result.rfm.table, want)


RETURNS_CSV = """\
InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID
1,A,10,2011-03-01 10:00,2.00,111
C2,A,-3,2011-03-05 10:00,2.00,111
3,B,1,2011-03-02 10:00,5.00,222
C4,B,-4,2011-03-03 10:00,5.00,222
C5,A,-1,2011-03-04 10:00,2.00,333
6,C,2,2011-03-04 12:00,1.00,444
7,C,-1,2011-03-04 13:00,1.00,444
"""


def test_returns_net_subtract_from_monetary_only(load):
    result = run_rfm(load(RETURNS_CSV), rules=CleaningRules(returns="net"))
    report = result.cleaning.report.set_index("reason")["rows"]
    assert report["return_without_purchase"] == 1  # 333 only returned goods
    assert report["cancellation"] == 0
    assert report["non_positive_quantity"] == 0
    assert result.cleaning.n_kept == 6
    # the return on 03-05 is not a purchase: the reference stays the day after 03-04
    assert result.rfm.reference_date == dt.date(2011, 3, 5)
    want = expected(
        {
            # everyone has frequency 1: nothing to rank, everyone gets the middle f score 3
            "111": (4, 1, 14.00, 1, 3, 4, "At Risk", "03-01", "03-01", 4, 14.0, NAN),
            # 5.00 bought, 20.00 returned: clipped to 0
            "222": (3, 1, 0.00, 2, 3, 1, "At Risk", "03-02", "03-02", 3, 0.0, NAN),
            "444": (1, 1, 1.00, 4, 3, 2, "Potential Loyalist", "03-04", "03-04", 1, 1.0, NAN),
        },
        cancelled={"111": 6.0, "222": 20.0, "444": 1.0},  # netted returns, as positive values
    )  # fmt: skip
    pd.testing.assert_frame_equal(result.rfm.table, want)
    assert any("returned more than they bought" in w for w in result.rfm.warnings)
    assert any("returned more than they bought" in w for w in result.warnings)


def test_returns_dropped_by_default(load):
    result = run_rfm(load(RETURNS_CSV))
    report = result.cleaning.report.set_index("reason")["rows"]
    assert report["cancellation"] == 3
    assert report["non_positive_quantity"] == 1
    assert report["return_without_purchase"] == 0
    assert result.rfm.table["monetary"].to_dict() == {"111": 20.0, "222": 5.0, "444": 2.0}
    # removed returns are still remembered per customer (333 bought nothing: not a customer)
    cancelled = result.rfm.table["cancelled_amount"].to_dict()
    assert cancelled == {"111": 6.0, "222": 20.0, "444": 1.0}
    assert not any("returned more" in w for w in result.warnings)


def test_every_customer_gets_exactly_one_valid_segment(retail):
    table = run_rfm(retail).rfm.table
    assert table.index.is_unique
    names = {rule.name for rule in DEFAULT_SEGMENTS}
    assert table["rfm_segment"].notna().all()
    assert set(table["rfm_segment"]) <= names


def test_few_distinct_scores_warn(retail):
    with pytest.warns(UserWarning, match="f_score: ties leave only 3 distinct score"):
        result = run_rfm(retail)
    assert any(w.startswith("f_score") for w in result.rfm.warnings)
    assert not any(w.startswith("r_score") for w in result.rfm.warnings)


# -- score ---------------------------------------------------------------------------------------


def test_score_spreads_distinct_values_over_five_bins():
    values = pd.Series(range(1, 11), index=list("abcdefghij"), dtype="float64")
    got = score(values)
    assert got.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert got.index.tolist() == list("abcdefghij")


def test_score_ties_share_a_score():
    got = score(pd.Series([10.0, 10.0, 10.0, 5.0, 20.0]))
    # 10s: one worse value of five → 1 + floor(5 × 1/5) = 2
    assert got.tolist() == [2, 2, 2, 1, 5]


def test_score_recency_is_inverted():
    got = score(pd.Series([1, 30, 7, 7, 365]), higher_is_better=False)
    assert got.tolist() == [5, 2, 3, 3, 1]


def test_score_is_invariant_to_order():
    rng = np.random.default_rng(3)
    values = pd.Series(rng.integers(0, 40, size=60), index=[f"c{i}" for i in range(60)])
    shuffled = values.sample(frac=1, random_state=5)
    pd.testing.assert_series_equal(score(shuffled).loc[values.index], score(values))


@pytest.mark.parametrize("n", [2, 3, 7, 50])
def test_score_stays_within_one_to_five(n):
    values = pd.Series(np.linspace(0, 1, n))
    got = score(values)
    assert got.between(1, 5).all()
    assert got.min() == 1
    assert got.max() == (1 + (5 * (n - 1)) // n)


@pytest.mark.parametrize("values", [[7.0], [2, 2, 2, 2], [0.5] * 9])
def test_score_of_identical_values_is_the_middle_score(values):
    assert score(pd.Series(values)).tolist() == [3] * len(values)
    assert score(pd.Series(values), higher_is_better=False).tolist() == [3] * len(values)


# -- segments ------------------------------------------------------------------------------------


def test_default_segments_partition_all_125_cells():
    validate_segments(DEFAULT_SEGMENTS)
    for r, f, m in itertools.product(range(1, 6), repeat=3):
        owners = [
            rule.name
            for rule in DEFAULT_SEGMENTS
            if rule.r[0] <= r <= rule.r[1]
            and rule.f[0] <= f <= rule.f[1]
            and rule.m[0] <= m <= rule.m[1]
        ]
        assert len(owners) == 1, (r, f, m, owners)


def test_assign_segments_gives_the_owning_rule_to_every_cell():
    cells = pd.DataFrame(
        list(itertools.product(range(1, 6), repeat=3)), columns=["r_score", "f_score", "m_score"]
    )
    names = assign_segments(cells)
    assert names.notna().all()
    rules = {rule.name: rule for rule in DEFAULT_SEGMENTS}
    for (r, f, m), name in zip(cells.itertuples(index=False), names, strict=True):
        rule = rules[name]
        assert rule.r[0] <= r <= rule.r[1]
        assert rule.f[0] <= f <= rule.f[1]
        assert rule.m[0] <= m <= rule.m[1]


def test_gap_in_segments_names_an_uncovered_cell():
    rules = [rule for rule in DEFAULT_SEGMENTS if rule.name != "Lost"]  # r=1, f=1..2
    with pytest.raises(SegmentDefinitionError, match=r"r=1, f=1, m=1"):
        validate_segments(rules)


def test_overlapping_segments_name_both():
    rules = [*DEFAULT_SEGMENTS, SegmentRule("Whales", (5, 5), (5, 5), (5, 5))]
    with pytest.raises(SegmentDefinitionError) as info:
        validate_segments(rules)
    message = str(info.value)
    assert "'Champions'" in message
    assert "'Whales'" in message
    assert "r=5, f=5, m=5" in message


def test_segment_range_outside_one_to_five_is_rejected():
    with pytest.raises(SegmentDefinitionError, match=r"within 1\.\.5"):
        validate_segments([SegmentRule("All", (0, 5), (1, 5))])


def test_custom_segments_are_used_by_the_pipeline(retail):
    two = (
        SegmentRule("Recent", (3, 5), (1, 5)),
        SegmentRule("Old", (1, 2), (1, 5)),
    )
    table = run_rfm(retail, segments=two).rfm.table
    assert table["rfm_segment"].to_dict() == {
        "12346": "Recent",
        "12347": "Old",
        "12348": "Recent",
        "12349": "Old",
        "12350": "Recent",
    }


# -- editable segment tables ----------------------------------------------------------------

TWO_SEGMENTS = (
    SegmentRule("Recent", (4, 5), (1, 5), description="bought lately"),
    SegmentRule("Earlier", (1, 3), (1, 5)),
)


def test_segment_table_round_trip():
    frame = segments_to_frame(DEFAULT_SEGMENTS)
    assert list(frame.columns) == list(SEGMENT_TABLE_COLUMNS)
    assert segments_from_frame(frame) == DEFAULT_SEGMENTS


def test_segment_table_errors_name_the_problem():
    frame = segments_to_frame(TWO_SEGMENTS)
    gap = frame.assign(r_max=[5, 2])
    with pytest.raises(SegmentDefinitionError, match="r=3, f=1, m=1"):
        segments_from_frame(gap)
    unnamed = frame.assign(name=["Recent", None])
    with pytest.raises(SegmentDefinitionError, match="row 2 has no name"):
        segments_from_frame(unnamed)
    not_a_number = frame.astype({"f_min": object}).assign(f_min=["x", 1])
    with pytest.raises(SegmentDefinitionError, match=r"'Recent'.*whole number"):
        segments_from_frame(not_a_number)


def test_relabel_and_summary_follow_the_rules():
    scores = pd.DataFrame(
        {
            "recency": [1, 40, 300, 200],
            "frequency": [3, 1, 1, 2],
            "monetary": [30.0, 10.0, 60.0, 0.0],
            "r_score": [5, 4, 1, 2],
            "f_score": [5, 1, 1, 4],
            "m_score": [4, 2, 5, 1],
            "rfm_segment": ["x"] * 4,
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )
    relabelled = relabel(scores, TWO_SEGMENTS)
    assert list(relabelled["rfm_segment"]) == ["Recent", "Recent", "Earlier", "Earlier"]
    assert list(scores["rfm_segment"]) == ["x"] * 4  # the input is not modified
    summary = segment_summary(relabelled, TWO_SEGMENTS)
    assert list(summary["rfm_segment"]) == ["Recent", "Earlier"]
    assert list(summary["customers"]) == [2, 2]
    assert list(summary["revenue"]) == [40.0, 60.0]
    assert list(summary["share_revenue"]) == [0.4, 0.6]
    assert list(summary["share_customers"]) == [0.5, 0.5]
    assert list(summary["definition"]) == ["R 4–5, F 1–5: bought lately", "R 1–3, F 1–5"]


def test_assign_segments_refuses_an_incomplete_partition():
    with pytest.raises(SegmentDefinitionError):
        assign_segments(pd.DataFrame({"r_score": [1], "f_score": [1], "m_score": [1]}),
                        TWO_SEGMENTS[:1])  # fmt: skip


def test_select_range_hand_computed():
    table = pd.DataFrame(
        {
            "recency": [1, 5, 10, 30, 60],
            "frequency": [9, 3, 1, 4, 2],
            "monetary": [500.0, 120.0, 80.0, 300.0, 0.0],
        },
        index=pd.Index(["a", "b", "c", "d", "e"], name="customer_id"),
    )
    chosen = select_range(table, recency=(1, 30), frequency=(2, 9), monetary=(0, 400), top=2)
    # a is out on monetary, c on frequency, e on recency: b and d remain
    assert chosen.count == 2
    assert chosen.mask.tolist() == [False, True, False, True, False]
    assert chosen.revenue_share == pytest.approx(420 / 1000)
    assert chosen.top.index.tolist() == ["d", "b"]  # largest monetary first
    bounds = {"recency": (0, 60), "frequency": (1, 9), "monetary": (0, 500)}
    assert select_range(table, **bounds, top=3).top.index.tolist() == ["a", "d", "b"]
    assert select_range(table, **bounds).count == 5  # inclusive ends select everyone
    nobody = select_range(table, recency=(2, 4), frequency=(1, 9), monetary=(0, 500))
    assert (nobody.count, nobody.revenue_share, len(nobody.top)) == (0, 0.0, 0)


def _scored(recency, frequency, monetary) -> pd.DataFrame:
    table = pd.DataFrame({"recency": recency, "frequency": frequency, "monetary": monetary})
    return table.assign(
        r_score=score(table["recency"], higher_is_better=False),
        f_score=score(table["frequency"]),
        m_score=score(table["monetary"]),
        rfm_segment=lambda t: assign_segments(t),
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 12),
            st.integers(1, 6),
            st.sampled_from([0.0, 1.5, 2.0, 2.01, 10.0, 99.99, 1e6]),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_score_edges_reproduce_the_scores_they_come_from(rows):
    """Ties, one customer, all equal: the edges give every customer the score it had."""
    table = _scored(*zip(*rows, strict=True))
    again = score_with_edges(table, score_edges(table))
    pd.testing.assert_frame_equal(again, table, check_dtype=False)


def test_score_edges_by_hand():
    """Ten customers: F-scores 1 + ⌊5 × (number of customers with fewer orders) / 10⌋."""
    frequency = [1, 1, 1, 2, 2, 3, 4, 5, 8, 9]
    table = _scored([5] * 10, frequency, [10.0] * 10)
    assert table["f_score"].tolist() == [1, 1, 1, 2, 2, 3, 4, 4, 5, 5]
    edges = score_edges(table)
    # the 2nd, 4th, 6th and 8th smallest values (k = ⌈(s − 1) × 10 / 5⌉)
    assert edges["f_score"] == (1.0, 2.0, 3.0, 5.0)
    assert edges["r_score"] is None and edges["m_score"] is None  # everyone equal
    new = pd.DataFrame({"recency": [0, 99], "frequency": [1, 6], "monetary": [0.0, 1e9]})
    scored = score_with_edges(new, edges)
    assert scored["f_score"].tolist() == [1, 5]  # 6 orders: better than 8 of the 10
    assert scored["r_score"].tolist() == [3, 3] and scored["m_score"].tolist() == [3, 3]
