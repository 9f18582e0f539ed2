"""Reading uploaded bytes: CSV sniffing and encodings, workbooks, Parquet, load errors."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rfm_core.customers.pipeline import prepare
from rfm_core.errors import LoadError, RfmError
from rfm_core.ingest.io import dataset_id, list_sheets, load_bytes, load_path, sniff_csv

HEADER = ["InvoiceNo", "Description", "Quantity", "UnitPrice", "CustomerID", "Country"]
ROWS = [
    ["536365", "Café crème", "6", "2.55", "00123", "United Kingdom"],
    ["C536366", "Mug £5 deal", "-1", "1.85", "17850", "France"],
]


def delimited(delimiter: str, rows=ROWS, header=HEADER) -> str:
    return "".join(delimiter.join(row) + "\r\n" for row in [header, *rows])


# -- CSV -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", {"utf-8"}),
        ("utf-8-sig", {"utf-8-sig"}),
        ("cp1252", {"cp1252"}),
        ("latin-1", {"cp1252", "latin-1"}),  # identical bytes for these characters
    ],
)
def test_delimiter_and_encoding_are_sniffed(delimiter, encoding, detected):
    loaded = load_bytes(delimited(delimiter).encode(encoding), file_name="log.csv")
    assert loaded.dialect.delimiter == delimiter
    assert loaded.dialect.encoding in detected
    assert loaded.columns == HEADER  # no byte-order mark glued to the first name
    assert loaded.table.to_pylist() == [dict(zip(HEADER, row, strict=True)) for row in ROWS]
    assert loaded.n_rows == 2


def test_cp1252_only_characters_are_decoded():
    text = "CustomerID;Description;Price\n1;Prix en €, “spécial”;9,99\n"
    loaded = load_bytes(text.encode("cp1252"), file_name="fr.csv")
    assert loaded.dialect.encoding == "cp1252"
    assert loaded.table.column("Description").to_pylist() == ["Prix en €, “spécial”"]


def test_latin1_text_is_decoded():
    text = "customer,city,amount\nø1,Zürich Straße,1.00\n"
    loaded = load_bytes(text.encode("latin-1"), file_name="de.csv")
    assert loaded.table.to_pylist() == [
        {"customer": "ø1", "city": "Zürich Straße", "amount": "1.00"}
    ]


def test_sniff_csv_on_a_sample():
    dialect = sniff_csv(b"a|b|c\n1|2,5|3\n4|5,25|6\n")
    assert (dialect.delimiter, dialect.encoding, dialect.decimal) == ("|", "utf-8", ",")


def test_decimal_commas_with_semicolons(load):
    loaded = load(
        "Invoice;Customer ID;InvoiceDate;Quantity;Price\n"
        "1;a;2011-01-03;2;2,55\n"
        "2;b;2011-01-04;1;1.234,50\n"
        "3;c;2011-01-05;3;0,5\n"
    )
    assert loaded.dialect.decimal == ","
    assert loaded.table.column("Price").to_pylist() == ["2,55", "1.234,50", "0,5"]  # still text
    transactions = prepare(loaded)
    assert transactions.table.column("price").to_pylist() == [2.55, 1234.5, 0.5]
    assert transactions.table.column("amount").to_pylist() == pytest.approx([5.1, 1234.5, 1.5])


def test_dot_decimals_with_commas(load):
    assert load("a,b\n1.5,2\n").dialect.decimal == "."


def test_identifiers_stay_text(load):
    loaded = load(
        "InvoiceNo,InvoiceDate,Quantity,UnitPrice,CustomerID\n"
        "536365,2011-01-03,1,1.00,00123\n"
        "C536379,2011-01-04,-1,1.00,00123\n"
        "000042,2011-01-05,1,1.00,0099\n"
    )
    assert all(pa.types.is_string(t) for t in loaded.table.schema.types)
    assert loaded.table.column("CustomerID").to_pylist() == ["00123", "00123", "0099"]
    table = prepare(loaded).table
    assert table.column("customer_id").to_pylist() == ["00123", "00123", "0099"]
    assert table.column("invoice").to_pylist() == ["536365", "C536379", "000042"]


def test_float_customer_ids_lose_the_trailing_zero(load):
    loaded = load(
        "InvoiceNo,InvoiceDate,Quantity,UnitPrice,CustomerID\n"
        "1,2011-01-03,1,1.00,17850.0\n"
        "2,2011-01-04,1,1.00,\n"
        "3,2011-01-05,1,1.00,13047.0\n"
    )
    ids = prepare(loaded).table.column("customer_id").to_pylist()
    assert ids == ["17850", None, "13047"]


def test_duplicate_and_blank_header_names_are_made_unique(load):
    loaded = load("Price,Price,,Price\n1,2,3,4\n")
    assert loaded.columns == ["Price", "Price.1", "column_3", "Price.2"]
    assert loaded.table.to_pylist() == [
        {"Price": "1", "Price.1": "2", "column_3": "3", "Price.2": "4"}
    ]


def test_quoted_fields_and_null_tokens(load):
    loaded = load('id,text,n\n1,"a, b; c\nnext line",NA\n2,"",NULL\n')
    assert loaded.table.to_pylist() == [
        {"id": "1", "text": "a, b; c\nnext line", "n": None},
        {"id": "2", "text": None, "n": None},
    ]


def test_dataset_id_depends_on_bytes_and_sheet(load):
    data = delimited(",").encode()
    assert load(data).dataset_id == load(data, "other.csv").dataset_id == dataset_id(data)
    assert load(data).dataset_id != load(data + b"x,y,z,1,2,3\n").dataset_id
    assert dataset_id(data, sheet="A") != dataset_id(data, sheet="B") != dataset_id(data)


# -- Excel ---------------------------------------------------------------------------------------


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


# -- Parquet -------------------------------------------------------------------------------------


def test_parquet_is_read_as_is(load):
    table = pa.table(
        {
            "customer": pa.array(["007", "42"]),
            "when": pa.array(
                [dt.datetime(2011, 1, 3, 10), dt.datetime(2011, 1, 4)], pa.timestamp("ms")
            ),
            "spend": pa.array([1.5, 2.25]),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    loaded = load(buffer.getvalue(), "log.parquet")
    assert loaded.table.equals(table)
    assert loaded.dialect is None and loaded.sheet is None
    transactions = prepare(loaded, mapping={"amount": "spend"})
    assert transactions.mapping.date == "when"
    assert transactions.table.column("customer_id").to_pylist() == ["007", "42"]


# -- errors --------------------------------------------------------------------------------------


def test_load_error_is_a_user_error():
    assert issubclass(LoadError, RfmError)
    assert issubclass(RfmError, ValueError)


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx", "empty.parquet"])
def test_empty_file(name):
    with pytest.raises(LoadError, match=rf"^{name}: the file is empty"):
        load_bytes(b"", file_name=name)


@pytest.mark.parametrize("data", [b"a,b,c\n", b"a;b;c\r\n\r\n", b"a,b,c"])
def test_header_only(data):
    with pytest.raises(LoadError, match=r"^header\.csv: "):
        load_bytes(data, file_name="header.csv")


def test_header_only_workbook():
    book = openpyxl.Workbook()
    book.active.append(["CustomerID", "Amount"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(LoadError, match=r"^header\.xlsx: no data rows"):
        load_bytes(buffer.getvalue(), file_name="header.xlsx")


@pytest.mark.parametrize("name", ["log.json", "log", "log.csv.gz"])
def test_unsupported_suffix(name):
    with pytest.raises(LoadError, match=rf"^{name}: unsupported file type"):
        load_bytes(b"a,b\n1,2\n", file_name=name)


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really a zip", b"a,b\n1,2\n"])
def test_corrupt_workbook(data):
    with pytest.raises(LoadError, match=r"^broken\.xlsx: not a readable Excel workbook"):
        load_bytes(data, file_name="broken.xlsx")


def test_corrupt_parquet():
    with pytest.raises(LoadError, match=r"^broken\.parquet: not a readable Parquet file"):
        load_bytes(b"PAR1 garbage", file_name="broken.parquet")


def test_binary_file_named_csv():
    with pytest.raises(LoadError, match=r"^blob\.csv: .*binary"):
        load_bytes(b"a,b\n\x00\x01\x02,\x03\n", file_name="blob.csv")


@pytest.mark.parametrize(
    ("sheet", "message"), [("Nope", "no sheet 'Nope'"), (5, "no sheet number 6")]
)
def test_missing_sheet(workbook, sheet, message):
    with pytest.raises(LoadError, match=rf"^book\.xlsx: there is {message}.*Orders"):
        load_bytes(workbook, file_name="book.xlsx", sheet=sheet)


def test_load_path_errors_name_the_path(tmp_path):
    with pytest.raises(LoadError, match=r"missing\.csv: no such file"):
        load_path(tmp_path / "missing.csv")
    with pytest.raises(LoadError, match="is a folder"):
        load_path(tmp_path)


def test_load_path_reads_the_file(tmp_path):
    path = tmp_path / "log.tsv"
    path.write_bytes(delimited("\t").encode("utf-8"))
    loaded = load_path(path)
    assert loaded.file_name == "log.tsv"
    assert loaded.columns == HEADER
