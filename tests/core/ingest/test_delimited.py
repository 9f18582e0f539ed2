"""Delimited text: sniffing delimiters, encodings and decimal commas, headers, refusals."""

from __future__ import annotations

import pyarrow as pa
import pytest

from rfm_core.customers.pipeline import prepare
from rfm_core.errors import LoadError
from rfm_core.ingest.delimited import sniff_csv
from rfm_core.ingest.io import load_bytes

HEADER = ["InvoiceNo", "Description", "Quantity", "UnitPrice", "CustomerID", "Country"]
ROWS = [
    ["536365", "Café crème", "6", "2.55", "00123", "United Kingdom"],
    ["C536366", "Mug £5 deal", "-1", "1.85", "17850", "France"],
]


def delimited(delimiter: str, rows=ROWS, header=HEADER) -> str:
    return "".join(delimiter.join(row) + "\r\n" for row in [header, *rows])


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


@pytest.mark.parametrize("data", [b"a,b,c\n", b"a;b;c\r\n\r\n", b"a,b,c"])
def test_header_only(data):
    with pytest.raises(LoadError, match=r"^header\.csv: "):
        load_bytes(data, file_name="header.csv")


def test_binary_file_named_csv():
    with pytest.raises(LoadError, match=r"^blob\.csv: .*binary"):
        load_bytes(b"a,b\n\x00\x01\x02,\x03\n", file_name="blob.csv")
