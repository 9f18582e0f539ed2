"""Exports: formula neutralisation and one customer's orders."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest

from rfm_core.customers.pipeline import customer_orders, run_rfm
from rfm_core.outputs.export import cleaned_lines_csv, labeled_csv, neutralise_formulas, rfm_csv

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


def test_formula_cells_are_quoted_in_csv():
    table = pd.DataFrame(
        {
            "segment_name": ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "Loyal"],
            "note": ["\tTAB", "\rCR", "plain", None, "a=b"],
            "monetary": [-5.0, 1.0, 2.0, 3.0, 4.0],  # numbers stay numbers, even negative
        },
        index=pd.Index(["=1+1", "c2", "c3", "c4", "c5"], dtype="string", name="customer_id"),
    )
    text = rfm_csv(table).decode("utf-8")
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back["customer_id"].tolist() == ["'=1+1", "c2", "c3", "c4", "c5"]
    assert back["segment_name"].tolist() == [
        "'=HYPERLINK(\"http://x\")", "'+1", "'-2+3", "'@SUM(A1)", "Loyal",
    ]  # fmt: skip
    assert back["note"].tolist()[2:] == ["plain", "", "a=b"]
    # quoted, and the carriage return became a line feed inside a quoted cell
    assert back["note"].tolist()[:2] == ["'\tTAB", "'\nCR"]
    assert back["monetary"].tolist()[0] == "-5.0"
    assert labeled_csv(table) == text.encode("utf-8")


def test_neutralise_does_not_touch_the_input():
    table = pd.DataFrame({"name": ["=x"]})
    neutralise_formulas(table)
    assert table["name"].tolist() == ["=x"]


def test_customer_orders_hand_computed(retail):
    result = run_rfm(retail)
    orders = customer_orders(result, "12346")
    assert orders["order"].tolist() == ["1001", "1002", "1004"]
    assert orders["lines"].tolist() == [2, 1, 1]
    assert orders["amount"].tolist() == [12.5, 5.0, 6.0]
    assert not orders["is_return"].any()
    assert customer_orders(result, "no such id").empty


def test_cleaned_lines_neutralise_product_codes(load):
    log = (
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
        '1,"=HYPERLINK(""http://x"")",1,2011-01-03 09:00,1.25,=1+1\n'
        "2,@SUM(A1),2,2011-01-04 09:00,2.50,c2\n"
        "3,plain,1,2011-01-05 09:00,1.00,c3\n"
    )
    text = cleaned_lines_csv(run_rfm(load(log))).decode("utf-8")
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back["customer_id"].tolist() == ["'=1+1", "c2", "c3"]
    assert back["product"].tolist() == ['\'=HYPERLINK("http://x")', "'@SUM(A1)", "plain"]
    assert back["amount"].tolist() == ["1.25", "5.0", "1.0"]


def test_csv_round_trip_keeps_types_and_missing_values():
    table = pd.DataFrame(
        {
            "flag": [True, False, True],
            "score": pd.array([1, None, 3], dtype="Int64"),
            "reason": pd.array(['big, "odd"', None, "multi\nline"], dtype="string"),
            "day": [dt.date(2011, 1, 2), None, dt.date(2011, 12, 9)],
        },
        index=pd.Index(["007", "a", "b"], name="customer_id"),
    )
    back = pd.read_csv(io.BytesIO(rfm_csv(table)), dtype={"customer_id": str})
    assert back["customer_id"].tolist() == ["007", "a", "b"]  # leading zeros survive
    assert back["flag"].tolist() == [True, False, True]
    assert back["score"].isna().tolist() == [False, True, False]
    assert back["reason"].tolist()[0] == 'big, "odd"'
    assert pd.isna(back["reason"][1]) and back["reason"][2] == "multi\nline"
    assert back["day"].tolist()[0] == "2011-01-02" and pd.isna(back["day"][1])
