"""Excel workbooks: sheets, values, the old binary format, refusals."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pyarrow as pa
import pytest

from rfm_core.customers.pipeline import prepare
from rfm_core.errors import LoadError
from rfm_core.ingest.io import dataset_id, list_sheets, load_bytes, load_path


@pytest.fixture
def workbook() -> bytes:
    """Two sheets: a small notes table first, the orders second."""
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["note"])
    notes.append(["exported by hand"])
    orders = book.create_sheet("Orders")
    orders.append(["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"])
    orders.append([536365, 6, dt.datetime(2010, 12, 1, 8, 26), 2.55, 17850])
    orders.append([536366, 2, dt.datetime(2010, 12, 2, 9, 0), 1.85, None])
    orders.append(["C536379", -1, dt.datetime(2010, 12, 3, 9, 41), 27.5, 14527])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_first_sheet_by_default(workbook):
    loaded = load_bytes(workbook, file_name="book.xlsx")
    assert loaded.sheet == "Notes"
    assert loaded.sheet_names == ("Notes", "Orders")
    assert loaded.table.to_pylist() == [{"note": "exported by hand"}]
    assert list_sheets(workbook, file_name="book.xlsx") == ["Notes", "Orders"]
    assert list_sheets(b"a,b\n", file_name="x.csv") == []


@pytest.mark.parametrize("sheet", ["Orders", 1])
def test_xlsx_sheet_by_name_or_index(workbook, sheet):
    loaded = load_bytes(workbook, file_name="book.xlsx", sheet=sheet)
    assert loaded.sheet == "Orders"
    assert isinstance(loaded.table, pa.Table)
    assert loaded.columns == ["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    assert loaded.n_rows == 3
    assert loaded.dataset_id == dataset_id(workbook, sheet="Orders")
    # numeric invoice numbers followed by a "C…" cancellation: the column is text
    assert loaded.table.column("InvoiceNo").to_pylist() == ["536365", "536366", "C536379"]


def test_xlsx_values_are_interpreted(workbook):
    loaded = load_bytes(workbook, file_name="book.xlsx", sheet="Orders")
    transactions = prepare(loaded)
    table = transactions.table
    # a numeric id column with a blank cell arrives as floats: 17850.0 → "17850"
    assert table.column("customer_id").to_pylist() == ["17850", None, "14527"]
    assert transactions.dates.format == "native"
    assert table.column("timestamp").to_pylist()[0] == dt.datetime(2010, 12, 1, 8, 26)
    assert table.column("amount").to_pylist() == pytest.approx([15.3, 3.7, -27.5])


def test_xls_workbook(tmp_path):
    import xlwt  # a dev requirement: nothing else writes the old binary format

    book = xlwt.Workbook()
    sheet = book.add_sheet("Data")
    for r, row in enumerate([["CustomerID", "Amount"], ["00123", 5.0]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    path = tmp_path / "old.xls"
    book.save(str(path))
    loaded = load_path(path)
    assert loaded.columns == ["CustomerID", "Amount"]
    assert loaded.table.column("CustomerID").to_pylist() == ["00123"]


def test_header_only_workbook():
    book = openpyxl.Workbook()
    book.active.append(["CustomerID", "Amount"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(LoadError, match=r"^header\.xlsx: no data rows"):
        load_bytes(buffer.getvalue(), file_name="header.xlsx")


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", b"a,b\n1,2\n"])
def test_corrupt_workbook(data):
    with pytest.raises(LoadError, match=r"^broken\.xlsx: not a readable Excel workbook"):
        load_bytes(data, file_name="broken.xlsx")


@pytest.mark.parametrize(
    ("sheet", "message"), [("Nope", "no sheet 'Nope'"), (5, "no sheet number 6")]
)
def test_missing_sheet(workbook, sheet, message):
    with pytest.raises(LoadError, match=rf"^book\.xlsx: there is {message}.*Orders"):
        load_bytes(workbook, file_name="book.xlsx", sheet=sheet)
