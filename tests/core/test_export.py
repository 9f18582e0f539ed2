"""Exports: formula neutralisation and one customer's orders."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from rfm_core.export import labeled_csv, neutralise_formulas, rfm_csv
from rfm_core.pipeline import customer_orders, run_rfm

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
