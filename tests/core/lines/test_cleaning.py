"""Cleaning rules: every row kept or removed under exactly one reason, counted in the report."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from rfm_core.customers.pipeline import prepare
from rfm_core.errors import CleaningError
from rfm_core.lines.cleaning import (
    CANONICAL_COLUMNS,
    LINE_COLUMNS,
    CleaningRules,
    clean,
    customers_lost,
    flag_rows,
    kept_and_removed,
    reason_name,
)
from rfm_core.lines.reasons import KEPT, REASON_CODES, REASONS

# one row per reason (and a few that must be kept), with the reason expected under ALL_RULES
MESSY_ROWS = [
    ("1,c1,2011-05-02 10:00,1,1.00,United Kingdom", None),
    ("2,,2011-05-02 10:00,1,1.00,United Kingdom", "missing_customer_id"),
    ("C3,,2011-07-01 10:00,-1,0,France", "missing_customer_id"),  # first matching rule wins
    ("4,c1,not a date,1,1.00,United Kingdom", "unparseable_date"),
    ("5,c1,2011-05-02 10:00,abc,1.00,United Kingdom", "invalid_number"),
    ("1,c1,2011-05-02 10:00,1,1.00,United Kingdom", "duplicate_row"),  # copy of the first row
    ("6,c2,2011-06-30 10:00,1,1.00,United Kingdom", "after_reference_date"),
    ("7,c2,2011-04-30 23:59,1,1.00,United Kingdom", "outside_date_window"),
    ("8,c2,2011-05-03 10:00,1,1.00,France", "country_excluded"),
    ("9,c2,2011-05-03 10:00,1,1.00,", "country_excluded"),  # no country at all
    ("C10,c2,2011-05-03 10:00,-1,1.00,United Kingdom", "cancellation"),
    ("11,c2,2011-05-03 10:00,-1,1.00,United Kingdom", "non_positive_quantity"),
    ("11,c2,2011-05-03 10:00,1,0.00,United Kingdom", "non_positive_price"),
    ("13,c3,2011-05-04 10:00,500,1.00,United Kingdom", "quantity_cap"),
    ("14,c3,2011-05-04 10:00,10,90.00,United Kingdom", "line_amount_cap"),
    ("15,c3,2011-05-31 23:59,2,3.00,United Kingdom", None),  # last day of the window
    ("16,c2,2011-05-01 00:00,1,2.50,United Kingdom", None),  # first day of the window
    ("17,c3,2011-05-04 10:00,100,5.00,United Kingdom", None),  # caps are not exceeded
]
MESSY_CSV = "Invoice,Customer ID,InvoiceDate,Quantity,Price,Country\n" + "".join(
    line + "\n" for line, _ in MESSY_ROWS
)
ALL_RULES = CleaningRules(
    reference_date=dt.date(2011, 6, 1),
    date_from=dt.date(2011, 5, 1),
    date_to=dt.date(2011, 5, 31),
    countries=("United Kingdom",),
    max_quantity=100,
    max_line_amount=500,
)


@pytest.fixture
def messy(load):
    return prepare(load(MESSY_CSV, "messy.csv"))


def removed(result) -> dict[str, int]:
    rows = result.report.set_index("reason")["rows"]
    return {reason: int(n) for reason, n in rows.items() if n}


def reasons_per_row(transactions, rules) -> list[str | None]:
    raw = [c for c in transactions.table.column_names if c.startswith("raw_")]
    expr = flag_rows(ibis.memtable(transactions.table), rules, raw_columns=raw)
    out = ibis.duckdb.connect().to_pyarrow(expr.order_by("row_id").select("drop_reason"))
    return out.column("drop_reason").to_pylist()


def test_each_row_gets_the_first_matching_reason(messy):
    assert reasons_per_row(messy, ALL_RULES) == [reason for _, reason in MESSY_ROWS]


def test_report_counts_each_reason(messy):
    result = clean(messy, ALL_RULES)
    assert removed(result) == {
        "missing_customer_id": 2,
        "unparseable_date": 1,
        "invalid_number": 1,
        "duplicate_row": 1,
        "after_reference_date": 1,
        "outside_date_window": 1,
        "country_excluded": 2,
        "cancellation": 1,
        "non_positive_quantity": 1,
        "non_positive_price": 1,
        "quantity_cap": 1,
        "line_amount_cap": 1,
    }
    assert result.n_in == 18
    assert result.n_kept == 4
    assert result.n_in == result.n_kept + result.report["rows"].sum()
    assert result.n_removed == 14
    assert result.n_customers == 3
    assert result.transactions.column("row_id").to_pylist() == [0, 15, 16, 17]


def test_report_lists_every_reason_in_rule_order_with_shares(messy):
    report = clean(messy, ALL_RULES).report
    assert list(report.columns) == ["reason", "description", "rows", "share", "customers"]
    assert report["reason"].tolist() == list(REASONS)
    assert report["description"].tolist() == list(REASONS.values())
    assert report["share"].tolist() == pytest.approx((report["rows"] / 18).tolist())


def test_kept_lines_have_canonical_columns_and_purchase_flag(messy):
    kept = clean(messy, ALL_RULES).transactions
    assert kept.column_names == [*CANONICAL_COLUMNS, "is_return"]
    assert kept.column("is_return").to_pylist() == [False] * 4
    assert kept.column("amount").to_pylist() == [1.0, 6.0, 2.5, 500.0]


def test_default_rules_drop_only_the_always_on_reasons(messy):
    result = clean(messy)
    assert removed(result) == {
        "missing_customer_id": 2,
        "unparseable_date": 1,
        "invalid_number": 1,
        "duplicate_row": 1,
        "cancellation": 1,
        "non_positive_quantity": 1,
        "non_positive_price": 1,
    }
    assert result.n_kept == 10


def test_keeping_duplicates(messy):
    result = clean(messy, CleaningRules(drop_duplicates=False))
    assert "duplicate_row" not in removed(result)
    assert result.n_kept == 11
    assert result.n_in == result.n_kept + result.report["rows"].sum()


def test_country_filter(messy):
    result = clean(messy, CleaningRules(countries=("United Kingdom",)))
    assert removed(result)["country_excluded"] == 2  # France, and the row without a country
    assert set(result.transactions.column("country").to_pylist()) == {"United Kingdom"}
    france = clean(messy, CleaningRules(countries=("France",)))
    assert france.transactions.column("row_id").to_pylist() == [8]


def test_date_window_includes_both_ends(messy):
    rules = CleaningRules(date_from=dt.date(2011, 5, 1), date_to=dt.date(2011, 5, 31))
    result = clean(messy, rules)
    assert removed(result)["outside_date_window"] == 2  # 04-30 23:59 and 06-30
    kept = result.transactions.column("row_id").to_pylist()
    assert 15 in kept and 16 in kept


def test_quantity_and_line_amount_caps(messy):
    result = clean(messy, CleaningRules(max_quantity=100))
    assert removed(result)["quantity_cap"] == 1
    result = clean(messy, CleaningRules(max_line_amount=500))
    assert removed(result)["line_amount_cap"] == 1
    result = clean(messy, CleaningRules(max_quantity=5, max_line_amount=7))
    # quantities 10, 100 and 500 above 5; then the amounts 900, 500 are already gone
    assert removed(result)["quantity_cap"] == 3
    assert "line_amount_cap" not in removed(result)


def test_bad_values_are_reported_as_warnings(messy):
    warnings = " | ".join(clean(messy).warnings)
    assert "'InvoiceDate': 1 values are not dates, first: 'not a date'" in warnings
    assert "'Quantity': 1 values are not numbers, first: 'abc'" in warnings


def zscore_csv(outlier_lines: int) -> str:
    """Ten customers spending 10.00 and one spending 1000.00 over ``outlier_lines`` lines."""
    lines = [f"{i},c{i:02d},2011-05-02 10:00,1,10.00" for i in range(10)]
    lines += [
        f"99,whale,2011-05-02 1{k}:00,1,{1000 / outlier_lines:.2f}" for k in range(outlier_lines)
    ]
    return "Invoice,Customer ID,InvoiceDate,Quantity,Price\n" + "\n".join(lines) + "\n"


def test_zscore_rule_removes_every_line_of_outlying_customers(load):
    transactions = prepare(load(zscore_csv(outlier_lines=2)))
    # monetary z of the one outlier among 11 customers is sqrt(10) ≈ 3.16, the others ≈ 0.32
    result = clean(transactions, CleaningRules(max_zscore=3))
    assert removed(result) == {"customer_zscore_outlier": 2}
    assert "whale" not in result.transactions.column("customer_id").to_pylist()
    assert result.n_customers == 10
    assert removed(clean(transactions, CleaningRules(max_zscore=3.5))) == {}


def test_nothing_left_raises_naming_file_and_reason(messy):
    with pytest.raises(CleaningError, match=r"messy\.csv: no line is left.*'after_reference_date'"):
        clean(messy, CleaningRules(reference_date=dt.date(2010, 1, 1)))


def test_country_filter_needs_a_country_column(load):
    transactions = prepare(load(zscore_csv(outlier_lines=1)))
    with pytest.raises(CleaningError, match="country column"):
        clean(transactions, CleaningRules(countries=("France",)))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"returns": "keep"},
        {"max_quantity": 0},
        {"max_line_amount": -5},
        {"max_zscore": 0},
        {"date_from": dt.date(2011, 2, 1), "date_to": dt.date(2011, 1, 1)},
    ],
)
def test_invalid_rules_are_rejected(kwargs):
    with pytest.raises(CleaningError):
        CleaningRules(**kwargs)


def test_net_returns_keep_negative_lines_as_returns(messy):
    result = clean(messy, CleaningRules(returns="net"))
    rows = removed(result)
    assert "cancellation" not in rows and "non_positive_quantity" not in rows
    assert rows["non_positive_price"] == 1  # a zero price is never a purchase nor a return
    kept = result.transactions.to_pylist()
    returns = [row["row_id"] for row in kept if row["is_return"]]
    assert returns == [10, 11]  # C10 and the negative quantity of invoice 11
    assert all(row["amount"] < 0 for row in kept if row["is_return"])


def test_clean_runs_on_a_given_backend(messy):
    con = ibis.duckdb.connect()
    result = clean(messy, ALL_RULES, backend=con)
    assert isinstance(result.transactions, pa.Table)
    assert result.n_kept == 4


# -- customers lost -----------------------------------------------------------------------------

# A: only a zero-price line; B: a cancelled and a zero-price line (a tie: the earlier rule);
# C: two cancellations and a zero price; D: a zero-price line and its exact copy (copies never
# decide); E: a purchase (kept); lines without an id are nobody's
LOST_CSV = """Invoice,Customer ID,InvoiceDate,Quantity,Price
1,A,2011-05-02 10:00,1,0.00
C2,B,2011-05-02 11:00,-1,2.00
3,B,2011-05-03 10:00,1,0.00
C4,C,2011-05-02 10:00,-1,2.00
C5,C,2011-05-03 10:00,-2,2.00
6,C,2011-05-04 10:00,1,0.00
7,D,2011-05-05 10:00,1,0.00
7,D,2011-05-05 10:00,1,0.00
8,E,2011-05-05 10:00,1,3.00
9,,2011-05-05 10:00,1,3.00
"""


def test_customers_lost_are_counted_under_the_reason_of_most_of_their_rows(load):
    result = clean(prepare(load(LOST_CSV)))
    report = result.report.set_index("reason")
    lost = {reason: int(n) for reason, n in report["customers"].items() if n}
    assert lost == {"cancellation": 2, "non_positive_price": 2}
    assert result.n_customers == 1
    assert report.loc["duplicate_row", "rows"] == 1
    assert report.loc["duplicate_row", "customers"] == 0


def test_customers_lost_by_hand():
    frame = pd.DataFrame(
        {
            "purchases": [0, 0, 3, 0],
            "rows_cancellation": [2, 1, 5, 0],
            "rows_non_positive_price": [2, 0, 0, 1],
            "rows_duplicate_row": [9, 0, 0, 4],
        }
    )
    assert customers_lost(frame) == {"cancellation": 2, "non_positive_price": 1}
    assert customers_lost(frame.iloc[[2]]) == {}


def test_without_an_invoice_column_duplicates_may_be_repeat_orders(load):
    text = "client,date,amount\nA,2024-01-02,10\nA,2024-01-02,10\nB,2024-01-03,5\n"
    result = clean(prepare(load(text)))
    assert result.warnings == (
        "the file has no invoice column, so the 1 rows removed as exact duplicates may be real "
        "repeat orders (same customer, date, items and amount); keep them by switching off the "
        "removal of exact duplicates (--keep-duplicates)",
    )
    kept_all = clean(prepare(load(text)), CleaningRules(drop_duplicates=False))
    assert kept_all.warnings == () and kept_all.n_kept == 3
    with_invoice = "order,client,date,amount\n1,A,2024-01-02,10\n1,A,2024-01-02,10\n"
    assert clean(prepare(load(with_invoice))).warnings == ()


def test_kept_and_removed_account_for_every_row(messy):
    flags = flag_rows(ibis.memtable(messy.table), ALL_RULES, raw_columns=messy.raw_column_names)
    kept, dropped = kept_and_removed(flags)
    backend = ibis.duckdb.connect()
    kept, dropped = backend.to_pyarrow(kept), backend.to_pyarrow(dropped)
    assert kept.column_names == list(LINE_COLUMNS)
    assert dropped.column_names == [*LINE_COLUMNS, "drop_reason"]
    assert dropped.column("drop_reason").to_pylist() == [r for _, r in MESSY_ROWS if r]
    assert kept.num_rows == clean(messy, ALL_RULES).n_kept


def test_reason_codes_follow_the_rule_order_and_name_every_reason():
    assert list(REASON_CODES) == list(REASONS)
    assert list(REASON_CODES.values()) == list(range(1, len(REASONS) + 1))
    assert KEPT not in REASON_CODES.values()
    codes = ibis.memtable({"code": [KEPT, *REASON_CODES.values()]}, schema={"code": "int8"})
    names = ibis.duckdb.connect().to_pyarrow(codes.select(name=reason_name(codes.code)))
    assert names.column("name").to_pylist() == [None, *REASONS]


def test_the_reason_code_of_each_row_is_its_reason(messy):
    expr = flag_rows(ibis.memtable(messy.table), ALL_RULES, raw_columns=messy.raw_column_names)
    out = ibis.duckdb.connect().to_pyarrow(expr.order_by("row_id"))
    expected = [KEPT if reason is None else REASON_CODES[reason] for _, reason in MESSY_ROWS]
    assert out.column("reason_code").to_pylist() == expected
    assert out.column("drop_reason").to_pylist() == [reason for _, reason in MESSY_ROWS]


@pytest.mark.parametrize("rules", [CleaningRules(returns="net"), CleaningRules(max_zscore=1.0)])
def test_reasons_given_to_whole_customers_carry_their_code(load, rules):
    """``return_without_purchase`` and ``customer_zscore_outlier`` are given after the other
    rules, by customer; their code and their name must still agree."""
    text = (
        "Invoice,Customer ID,InvoiceDate,Quantity,Price\n"
        "C1,a,2011-05-02 10:00,-1,5.00\n"  # a only returns
        + "".join(f"{i},b{i},2011-05-0{1 + i % 8} 10:00,1,{1 + i}.00\n" for i in range(2, 12))
        + "99,z,2011-05-09 10:00,1,900.00\n"  # z spends far more than the others
    )
    data = prepare(load(text))
    expr = flag_rows(ibis.memtable(data.table), rules, raw_columns=data.raw_column_names)
    out = ibis.duckdb.connect().to_pyarrow(expr.select("reason_code", "drop_reason"))
    pairs = set(zip(*(out.column(c).to_pylist() for c in out.column_names), strict=True))
    given = {r for _, r in pairs} - {None}
    assert given & {"return_without_purchase", "customer_zscore_outlier"}
    assert pairs == {(KEPT if r is None else REASON_CODES[r], r) for _, r in pairs}
