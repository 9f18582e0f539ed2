"""Properties of the whole pipeline on random messy logs (hypothesis)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfm_core.customers.pipeline import prepare, run_rfm
from rfm_core.customers.rfm import DEFAULT_SEGMENTS
from rfm_core.errors import CleaningError
from rfm_core.ingest.io import load_bytes
from rfm_core.lines.cleaning import CleaningRules, clean

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

SETTINGS = settings(max_examples=40, deadline=None)
START = dt.datetime(2011, 1, 1)
HEADER = "Invoice,Customer ID,InvoiceDate,Quantity,Price,Country"

# (invoice, customer or "" for missing, timestamp text, quantity, price in cents, country)
Row = tuple[str, str, str, int, int, str]

rows_strategy = st.tuples(
    st.sampled_from(["1000", "1001", "1002", "1003", "1004", "C1000", "C1005"]),
    st.sampled_from(["", "00123", "123", "17850", "A7", "b-2", "z"]),
    st.builds(
        lambda days, minutes: (START + dt.timedelta(days=days, minutes=minutes)).strftime(
            "%Y-%m-%d %H:%M"
        ),
        st.integers(0, 90),
        st.sampled_from([0, 1, 600, 1439]),
    ),
    st.integers(-3, 12),
    st.sampled_from([0, 1, 99, 125, 250, 999, 1000, 4321]),
    st.sampled_from(["United Kingdom", "France"]),
)


@st.composite
def logs(draw) -> list[Row]:
    """Random rows, some of them repeated verbatim (exact duplicates)."""
    rows = draw(st.lists(rows_strategy, min_size=1, max_size=30))
    copies = draw(st.lists(st.integers(0, len(rows) - 1), max_size=4))
    return rows + [rows[i] for i in copies]


def to_csv(rows: list[Row]) -> bytes:
    lines = [HEADER]
    for invoice, customer, stamp, quantity, cents, country in rows:
        price = f"{cents // 100}.{cents % 100:02d}"
        lines.append(f"{invoice},{customer},{stamp},{quantity},{price},{country}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def load_rows(rows: list[Row]):
    return load_bytes(to_csv(rows), file_name="random.csv")


# -- an independent reference: plain Python and pandas, default rules ----------------------------


def reference_reasons(rows: list[Row]) -> list[str | None]:
    """The documented reason of each row under the default rules (drop returns and copies)."""
    reasons, seen = [], set()
    for row in rows:
        invoice, customer, _, quantity, cents, _ = row
        if not customer:
            reason = "missing_customer_id"
        elif row in seen:
            reason = "duplicate_row"
        elif invoice.startswith("C"):
            reason = "cancellation"
        elif quantity <= 0:
            reason = "non_positive_quantity"
        elif cents <= 0:
            reason = "non_positive_price"
        else:
            reason = None
        seen.add(row)
        reasons.append(reason)
    return reasons


def segment_of(r: int, f: int, m: int) -> str:
    (name,) = [
        rule.name
        for rule in DEFAULT_SEGMENTS
        if rule.r[0] <= r <= rule.r[1]
        and rule.f[0] <= f <= rule.f[1]
        and rule.m[0] <= m <= rule.m[1]
    ]
    return name


def reference_scores(values: list[int], higher_is_better: bool) -> list[int]:
    n = len(values)
    if len(set(values)) == 1:
        return [3] * n  # nothing to rank: the middle score
    worse = [
        sum((other < value) if higher_is_better else (other > value) for other in values)
        for value in values
    ]
    return [1 + (5 * w) // n for w in worse]


def reference_rfm(rows: list[Row]) -> tuple[pd.DataFrame, list[float]]:
    """Per-customer table (monetary from exact cents) and the exact average order values."""
    kept = [
        row for row, reason in zip(rows, reference_reasons(rows), strict=True) if reason is None
    ]
    lines = pd.DataFrame(
        kept, columns=["invoice", "customer", "stamp", "quantity", "cents", "country"]
    )
    lines["day"] = pd.to_datetime(lines["stamp"]).dt.date
    lines["line_cents"] = lines["quantity"] * lines["cents"]
    reference = lines["day"].max() + dt.timedelta(days=1)
    per = lines.groupby("customer").agg(
        first=("day", "min"),
        last=("day", "max"),
        frequency=("invoice", "nunique"),
        cents=("line_cents", "sum"),
    )
    per = per.sort_index()
    first, last = per["first"].tolist(), per["last"].tolist()
    frequency, cents = per["frequency"].tolist(), per["cents"].tolist()
    recency = [(reference - d).days for d in last]
    r = reference_scores(recency, higher_is_better=False)
    f = reference_scores(frequency, higher_is_better=True)
    m = reference_scores(cents, higher_is_better=True)
    table = pd.DataFrame(
        {
            "recency": recency,
            "frequency": frequency,
            "monetary": [c / 100 for c in cents],
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_segment": [segment_of(*cell) for cell in zip(r, f, m, strict=True)],
            "first_purchase": first,
            "last_purchase": last,
            "tenure_days": [(reference - d).days for d in first],
            "mean_days_between_purchases": [
                (b - a).days / (n - 1) if n > 1 else math.nan
                for a, b, n in zip(first, last, frequency, strict=True)
            ],
        },
        index=pd.Index(per.index.tolist(), dtype="string", name="customer_id"),
    )
    cancelled = {customer: 0 for customer in per.index}
    for row, reason in zip(rows, reference_reasons(rows), strict=True):
        _, customer, _, quantity, unit_cents, _ = row
        if reason in ("cancellation", "non_positive_quantity") and customer in cancelled:
            cancelled[customer] += abs(quantity * unit_cents)
    table["cancelled_amount"] = [cancelled[customer] / 100 for customer in per.index]
    exact_average = [c / n / 100 for c, n in zip(cents, frequency, strict=True)]
    return table, exact_average


# -- properties ----------------------------------------------------------------------------------

rules_strategy = st.builds(
    CleaningRules,
    returns=st.sampled_from(["drop", "net"]),
    drop_duplicates=st.booleans(),
    countries=st.sampled_from([None, ("France",), ("United Kingdom", "France")]),
    date_from=st.sampled_from([None, dt.date(2011, 1, 15)]),
    reference_date=st.sampled_from([None, dt.date(2011, 3, 1)]),
    max_quantity=st.sampled_from([None, 5.0]),
    max_line_amount=st.sampled_from([None, 40.0]),
    max_zscore=st.sampled_from([None, 1.5]),
)


@SETTINGS
@given(rows=logs(), rules=rules_strategy)
def test_every_row_is_kept_or_removed_once(rows, rules):
    transactions = prepare(load_rows(rows))
    try:
        result = clean(transactions, rules)
    except CleaningError as exc:
        assert "no line is left" in str(exc)
        return
    assert result.n_in == len(rows)
    assert result.n_in == result.n_kept + int(result.report["rows"].sum())
    assert (result.report["rows"] >= 0).all()
    kept_ids = result.transactions.column("row_id").to_pylist()
    assert kept_ids == sorted(set(kept_ids))


@SETTINGS
@given(rows=logs())
def test_default_cleaning_matches_the_documented_reasons(rows):
    expected = Counter(r for r in reference_reasons(rows) if r is not None)
    transactions = prepare(load_rows(rows))
    if sum(expected.values()) == len(rows):  # nothing left
        with pytest.raises(CleaningError):
            clean(transactions)
        return
    report = clean(transactions).report.set_index("reason")["rows"]
    assert {reason: int(n) for reason, n in report.items() if n} == dict(expected)


@SETTINGS
@given(rows=logs())
def test_rfm_equals_an_independent_reference(rows):
    reasons = reference_reasons(rows)
    if all(reason is not None for reason in reasons):
        with pytest.raises(CleaningError):
            run_rfm(load_rows(rows))
        return
    got = run_rfm(load_rows(rows)).rfm.table
    want, exact_average = reference_rfm(rows)
    pd.testing.assert_frame_equal(
        got.drop(columns="avg_order_value"), want, check_exact=True, check_dtype=False
    )
    average = got["avg_order_value"]
    assert ((average - exact_average).abs() <= 0.005 + 1e-9).all()
    assert ((average * 100).round() / 100 == average).all()  # whole cents


@SETTINGS
@given(
    rows=logs(),
    rules=st.sampled_from([CleaningRules(), CleaningRules(returns="net")]),
    data=st.data(),
)
def test_row_order_does_not_matter(rows, rules, data):
    shuffled = data.draw(st.permutations(rows))
    try:
        original = run_rfm(load_rows(rows), rules=rules).rfm.table
    except CleaningError:
        with pytest.raises(CleaningError):
            run_rfm(load_rows(shuffled), rules=rules)
        return
    permuted = run_rfm(load_rows(shuffled), rules=rules).rfm.table
    pd.testing.assert_frame_equal(permuted, original, check_exact=True)


@SETTINGS
@given(
    rows=logs(),
    rules=st.builds(
        CleaningRules,
        returns=st.sampled_from(["drop", "net"]),
        reference_date=st.sampled_from([None, dt.date(2011, 1, 20), dt.date(2011, 2, 28)]),
    ),
)
def test_one_row_per_purchasing_customer_with_sane_values(rows, rules):
    try:
        result = run_rfm(load_rows(rows), rules=rules)
    except CleaningError:
        return
    table = result.rfm.table
    kept = result.cleaning.transactions.to_pandas()
    buyers = set(kept.loc[~kept["is_return"], "customer_id"])
    assert table.index.is_unique
    assert set(table.index) == buyers
    assert (table["recency"] >= 0).all()
    assert (table["tenure_days"] >= table["recency"]).all()
    assert (table["frequency"] >= 1).all()
    assert (table["monetary"] >= 0).all()
    assert (table["first_purchase"] <= table["last_purchase"]).all()
    assert (table["last_purchase"] <= result.rfm.reference_date).all()
    for column in ("r_score", "f_score", "m_score"):
        assert table[column].between(1, 5).all()
    assert table["rfm_segment"].notna().all()
    if rules.reference_date is None:
        assert table["recency"].min() == 1
