"""Column roles (detection and explicit mapping) and the reading of ids, numbers and dates."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from rfm_core.customers.pipeline import prepare
from rfm_core.errors import CleaningError, DateParseError, MappingError
from rfm_core.ingest.schema import (
    ColumnMapping,
    infer_mapping,
    looks_like_counts,
    parse_customer_ids,
    parse_dates,
    parse_numbers,
)
from rfm_core.lines.cleaning import clean

DATE_LIKE = {"InvoiceDate", "order_date", "ordered_at", "when", "Txn Date", "stamp"}


def one_row_log(load, header: str):
    """A one-row file with this header; date-like columns get a date, the others a number.

    The number is not a small count (a product column of small whole numbers is a quantity).
    """
    names = header.split(",")
    row = ["2011-01-03 10:00" if n in DATE_LIKE else "100" for n in names]
    return load(f"{header}\n{','.join(row)}\n", "cols.csv")


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args)


# -- mapping -------------------------------------------------------------------------------------


def test_online_retail_headers(load):
    loaded = one_row_log(
        load, "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
    )
    assert infer_mapping(loaded) == ColumnMapping(
        customer="CustomerID",
        date="InvoiceDate",
        invoice="InvoiceNo",
        quantity="Quantity",
        price="UnitPrice",
        product="StockCode",
        country="Country",
        description="Description",
    )


def test_online_retail_ii_headers(load):
    loaded = one_row_log(
        load, "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
    )
    mapping = infer_mapping(loaded)
    assert mapping == ColumnMapping(
        customer="Customer ID",
        date="InvoiceDate",
        invoice="Invoice",
        quantity="Quantity",
        price="Price",
        product="StockCode",
        country="Country",
        description="Description",
    )
    assert not mapping.uses_amount


@pytest.mark.parametrize(
    ("header", "roles"),
    [
        (
            "order_id,order_date,client,total",
            {"invoice": "order_id", "date": "order_date", "customer": "client", "amount": "total"},
        ),
        (
            "client_ref,ordered_at,sales",
            {"customer": "client_ref", "date": "ordered_at", "amount": "sales"},
        ),
        (
            "Customer Number,Txn Date,Order No,Units,Price Each,Line Total,SKU,Market",
            {
                "customer": "Customer Number",
                "date": "Txn Date",
                "invoice": "Order No",
                "quantity": "Units",
                "price": "Price Each",
                "amount": "Line Total",
                "product": "SKU",
                "country": "Market",
            },
        ),
        # no date-like name: the date column is found by its content
        (
            "cust_id,when,amount_eur",
            {"customer": "cust_id", "date": "when", "amount": "amount_eur"},
        ),
        (
            "member,stamp,qty,unit_cost",
            {"customer": "member", "date": "stamp", "quantity": "qty", "price": "unit_cost"},
        ),
    ],
)
def test_header_variants(load, header, roles):
    mapping = infer_mapping(one_row_log(load, header)).as_dict()
    assert {role: column for role, column in mapping.items() if column} == roles


def test_explicit_mapping_wins(load):
    loaded = load(
        "CustomerID,InvoiceDate,Amount,client_ref,ordered_at,total\na,2011-01-01,1,x,2011-02-01,5\n"
    )
    explicit = {"customer": "client_ref", "date": "ordered_at", "amount": "total", "invoice": None}
    mapping = infer_mapping(loaded, explicit=explicit)
    assert (mapping.customer, mapping.date, mapping.amount) == ("client_ref", "ordered_at", "total")
    assert mapping.invoice is None
    table = prepare(loaded, mapping=explicit).table
    assert table.column("customer_id").to_pylist() == ["x"]
    assert table.column("timestamp").to_pylist() == [ts(2011, 2, 1)]
    assert table.column("amount").to_pylist() == [5.0]


def test_explicit_mapping_with_a_mapping_object(load):
    loaded = load("a,b,c\nx,2011-02-01,5\n")
    mapping = ColumnMapping(customer="a", date="b", amount="c")
    assert prepare(loaded, mapping=mapping).mapping is mapping


def test_unknown_role(retail):
    with pytest.raises(MappingError, match="unknown role 'shop'"):
        infer_mapping(retail, explicit={"shop": "Country"})


def test_missing_column(retail):
    with pytest.raises(MappingError, match=r"retail\.csv: no column 'Client' for role 'customer'"):
        infer_mapping(retail, explicit={"customer": "Client"})


def test_missing_customer_role_names_it_and_lists_candidates(load):
    loaded = load("foo,bar,InvoiceDate,Quantity,UnitPrice\nx,y,2011-01-01,1,1\n", "shop.csv")
    with pytest.raises(MappingError) as info:
        infer_mapping(loaded)
    message = str(info.value)
    assert message.startswith("shop.csv: cannot find the column for customer id")
    assert "Candidate columns: 'foo', 'bar'" in message
    assert "--map customer=COLUMN" in message


def test_missing_amount_roles(load):
    loaded = load("CustomerID,InvoiceDate,Quantity,notes\nx,2011-01-01,1,hello\n")
    with pytest.raises(MappingError, match="unit price, line or order amount") as info:
        infer_mapping(loaded)
    assert "'notes'" in str(info.value)


# -- dates ---------------------------------------------------------------------------------------


def test_iso_dates():
    parsed = parse_dates(pa.array(["2011-01-13", "2011-12-01 08:26", "2011-02-03T10:15:30", None]))
    assert parsed.format == "iso"
    assert parsed.values.to_pylist() == [
        ts(2011, 1, 13),
        ts(2011, 12, 1, 8, 26),
        ts(2011, 2, 3, 10, 15, 30),
        None,
    ]
    assert parsed.n_bad == 0


def test_day_first_dates():
    parsed = parse_dates(pa.array(["13/01/2011", "01/02/2011 10:30", "31.12.2010"]))
    assert (parsed.format, parsed.ambiguous) == ("dayfirst", False)
    assert parsed.values.to_pylist() == [ts(2011, 1, 13), ts(2011, 2, 1, 10, 30), ts(2010, 12, 31)]


def test_month_first_dates():
    parsed = parse_dates(pa.array(["01/13/2011", "02/01/2011 8:05", "12/31/10"]))
    assert (parsed.format, parsed.ambiguous) == ("monthfirst", False)
    assert parsed.values.to_pylist() == [ts(2011, 1, 13), ts(2011, 2, 1, 8, 5), ts(2010, 12, 31)]


def test_ambiguous_dates_are_flagged_and_the_order_can_be_chosen():
    values = pa.array(["01/02/2011", "03/04/2011", "12/11/2011"])
    auto = parse_dates(values)
    assert auto.ambiguous
    assert auto.format == "dayfirst"
    assert auto.values.to_pylist() == [ts(2011, 2, 1), ts(2011, 4, 3), ts(2011, 11, 12)]
    chosen = parse_dates(values, order="monthfirst")
    assert chosen.format == "monthfirst"
    assert chosen.values.to_pylist() == [ts(2011, 1, 2), ts(2011, 3, 4), ts(2011, 12, 11)]


def test_ambiguous_dates_give_a_cleaning_warning(load):
    loaded = load("customer,date,amount\na,01/02/2011,1\nb,03/04/2011,2\n")
    transactions = prepare(loaded, date_order="monthfirst")
    assert transactions.table.column("timestamp").to_pylist() == [ts(2011, 1, 2), ts(2011, 3, 4)]
    assert any("both day-first and month-first" in w for w in clean(transactions).warnings)


def test_iso_values_among_day_first_dates_are_not_read_day_first():
    parsed = parse_dates(pa.array(["13/01/2011", "14/01/2011", "2011-02-01", "2011/02/03 10:00"]))
    assert parsed.format == "dayfirst"
    assert parsed.values.to_pylist() == [
        ts(2011, 1, 13),
        ts(2011, 1, 14),
        ts(2011, 2, 1),
        ts(2011, 2, 3, 10),
    ]


@pytest.mark.parametrize(
    "values",
    [pa.array([40544, 40909.25, None]), pa.array(["40544", "40909.25", None])],
    ids=["numbers", "strings"],
)
def test_excel_serial_dates(values):
    parsed = parse_dates(values)
    assert parsed.format == "excel_serial"
    assert parsed.values.to_pylist() == [ts(2011, 1, 1), ts(2012, 1, 1, 6), None]


@pytest.mark.parametrize(
    "values",
    [pa.array([20110103, 20111231], pa.int64()), pa.array(["20110103", "20111231"])],
    ids=["ints", "strings"],
)
def test_yyyymmdd_dates(values):
    parsed = parse_dates(values)
    assert parsed.format == "yyyymmdd"
    assert parsed.values.to_pylist() == [ts(2011, 1, 3), ts(2011, 12, 31)]


def test_yyyymmdd_ints_with_a_placeholder_value():
    # 0 and 99999999 are common "unknown" markers: one of them must not sink the column
    values = [20110101 + d for d in range(28)] + [0, 99999999]
    parsed = parse_dates(pa.array(values))
    assert parsed.format == "yyyymmdd"
    assert parsed.n_bad == 2
    assert parsed.values.to_pylist() == [ts(2011, 1, 1 + d) for d in range(28)] + [None, None]


def test_native_timestamps_keep_wall_clock_time():
    utc = pa.array([dt.datetime(2011, 1, 3, 10)], pa.timestamp("us", tz="Europe/Paris"))
    parsed = parse_dates(utc)
    assert parsed.format == "native"
    assert parsed.values.type == pa.timestamp("us")
    dates = parse_dates(pa.array([dt.date(2011, 1, 3)]))
    assert dates.values.to_pylist() == [ts(2011, 1, 3)]


def test_utc_offsets_are_dropped_keeping_wall_clock_time():
    parsed = parse_dates(
        pa.array(["2011-01-03T10:00:00+01:00", "2011-01-04 10:00 -0500", "2011-01-05T23:30:00Z"])
    )
    assert parsed.format == "iso"
    assert parsed.values.to_pylist() == [
        ts(2011, 1, 3, 10),
        ts(2011, 1, 4, 10),
        ts(2011, 1, 5, 23, 30),
    ]
    day_first = parse_dates(pa.array(["13/01/2011 10:30 +0100", "14/01/2011 00:15+01:00"]))
    assert day_first.values.to_pylist() == [ts(2011, 1, 13, 10, 30), ts(2011, 1, 14, 0, 15)]


def test_columns_without_any_value():
    for values in (pa.array([None, None], pa.string()), pa.array(["", "  "])):
        dates = parse_dates(values)
        assert (dates.n_bad, dates.values.null_count) == (0, 2)
        numbers = parse_numbers(values)
        assert (numbers.n_bad, numbers.values.null_count) == (0, 2)


def test_an_empty_date_column_leaves_nothing_to_analyse(load):
    transactions = prepare(load("customer,date,amount\na,,1\nb,,2\n", "blank.csv"))
    with pytest.raises(CleaningError, match=r"blank\.csv: no line is left.*'unparseable_date'"):
        clean(transactions)


def test_a_few_bad_dates_are_counted_with_examples():
    values = ["2011-01-03", "oops", "2011-01-04", "", "  ", None, "2011-02-30", "oops"] + [
        f"2011-03-{d:02d}" for d in range(1, 21)
    ]
    parsed = parse_dates(pa.array(values))
    assert parsed.format == "iso"
    assert parsed.n_bad == 3  # blanks are missing, not bad
    assert parsed.bad_examples == ("oops", "2011-02-30")
    assert parsed.values.null_count == 6


def test_bad_date_rows_are_removed_as_unparseable(load):
    loaded = load(
        "customer,date,amount\n"
        "a,2011-01-03,1\n"
        "b,soon,1\n"
        "c,2011-01-05,1\n"
        "d,,1\n"  # missing: removed under the same reason, but not a bad value
        "e,2011-01-06,1\n"
    )
    transactions = prepare(loaded)
    assert (transactions.dates.n_bad, transactions.dates.bad_examples) == (1, ("soon",))
    report = clean(transactions).report.set_index("reason")["rows"]
    assert report["unparseable_date"] == 2


def test_mostly_bad_dates_raise_naming_file_column_and_value(load):
    loaded = load("customer,when,amount\na,2011-01-03,1\nb,tomorrow,1\nc,later,1\n", "odd.csv")
    with pytest.raises(DateParseError) as info:
        prepare(loaded, mapping={"date": "when"})
    message = str(info.value)
    assert message.startswith("odd.csv: column 'when': 2 of 3 values are not dates")
    assert "first: 'tomorrow'" in message
    assert isinstance(info.value, MappingError)


# -- numbers -------------------------------------------------------------------------------------


def test_currency_symbols_and_thousands_separators():
    parsed = parse_numbers(
        pa.array(["£1,299.00", "$5", "€3.50", "USD 12.00", "1 234.50", "1'000.25", "(2.50)"])
    )
    assert parsed.values.to_pylist() == [1299.0, 5.0, 3.5, 12.0, 1234.5, 1000.25, -2.5]
    assert parsed.n_bad == 0


def test_decimal_commas():
    parsed = parse_numbers(pa.array(["1.234,50", "12,5", "3", "€ 0,99"]))
    assert parsed.values.to_pylist() == [1234.5, 12.5, 3.0, 0.99]


def test_decimal_comma_default_for_undecided_columns():
    assert parse_numbers(pa.array(["3", "4"]), decimal=",").values.to_pylist() == [3.0, 4.0]
    assert parse_numbers(pa.array(["2,5"]), decimal=",").values.to_pylist() == [2.5]


def test_thousands_without_decimals_do_not_flip_the_decimal_separator():
    parsed = parse_numbers(pa.array(["1,000", "2,500", "12.50"]))
    assert parsed.values.to_pylist() == [1000.0, 2500.0, 12.5]


def test_ambiguous_thousands_follow_the_file_dialect():
    assert parse_numbers(pa.array(["1,000", "2,500"]), decimal=",").values.to_pylist() == [1.0, 2.5]
    assert parse_numbers(pa.array(["1,000", "2,500"])).values.to_pylist() == [1000.0, 2500.0]


def test_text_values_are_counted_as_bad():
    parsed = parse_numbers(pa.array(["1.5", "abc", None, "", "2", "n/a", "abc"]))
    assert parsed.values.to_pylist() == [1.5, None, None, None, 2.0, None, None]
    assert parsed.n_bad == 3
    assert parsed.bad_examples == ("abc", "n/a")


def test_numeric_arrays_pass_through_and_infinities_are_bad():
    assert parse_numbers(pa.array([1, 2], pa.int32())).values.to_pylist() == [1.0, 2.0]
    parsed = parse_numbers(pa.array([1.5, float("inf"), None]))
    assert parsed.values.to_pylist() == [1.5, None, None]
    assert parsed.n_bad == 1


def test_mostly_bad_numbers_raise_mapping_error(load):
    loaded = load("customer,date,Quantity,Price\na,2011-01-03,x,1\nb,2011-01-04,y,1\n", "q.csv")
    with pytest.raises(
        MappingError, match=r"q\.csv: column 'Quantity': 2 of 2 values are not numbers"
    ):
        prepare(loaded)


def test_a_few_bad_numbers_become_invalid_number_rows(load):
    loaded = load("customer,date,amount\na,2011-01-03,1\nb,2011-01-04,£x\nc,2011-01-05,2\n")
    transactions = prepare(loaded)
    assert transactions.number_issues["amount"].n_bad == 1
    report = clean(transactions).report.set_index("reason")["rows"]
    assert report["invalid_number"] == 1


# -- ids -----------------------------------------------------------------------------------------


def test_customer_ids_are_trimmed_text():
    ids = parse_customer_ids(pa.array([" 00123 ", "", None, "17850", "A-1"]))
    assert ids.to_pylist() == ["00123", None, None, "17850", "A-1"]


def test_float_customer_ids():
    assert parse_customer_ids(pa.array([17850.0, None, 13047.0])).to_pylist() == [
        "17850",
        None,
        "13047",
    ]
    assert parse_customer_ids(pa.array(["17850.0", "13047.00", None])).to_pylist() == [
        "17850",
        "13047",
        None,
    ]
    # only when every id looks like that: "1.0" next to "ABC" is an id of its own
    assert parse_customer_ids(pa.array(["1.0", "ABC"])).to_pylist() == ["1.0", "ABC"]
    assert parse_customer_ids(pa.array([12, 7], pa.int64())).to_pylist() == ["12", "7"]


def test_transactions_table_layout(retail):
    transactions = prepare(retail)
    assert transactions.table.column_names[:10] == [
        "row_id",
        "customer_id",
        "invoice",
        "timestamp",
        "quantity",
        "price",
        "amount",
        "product",
        "description",
        "country",
    ]
    assert transactions.table.column_names[10:] == [f"raw_{i}" for i in range(8)]
    assert transactions.raw_columns == tuple(retail.columns)
    assert transactions.n_rows == 15
    assert transactions.table.column("amount").to_pylist()[:2] == [2.5, 10.0]


def test_ids_written_with_a_decimal_comma_lose_it():
    """A European spreadsheet writes the float id column of Excel as ``17850,0``."""
    ids = parse_customer_ids(pa.array(["17850,0", " 13047,00 ", None, "12346.0"]))
    assert ids.to_pylist() == ["17850", "13047", None, "12346"]
    # as with the decimal point, only when every id looks like that
    assert parse_customer_ids(pa.array(["1,0", "ABC"])).to_pylist() == ["1,0", "ABC"]
    assert parse_customer_ids(pa.array(["17850,5", "1,0"])).to_pylist() == ["17850,5", "1,0"]


def test_european_csv_ids_are_integers_in_every_table(load):
    from rfm_core.customers.pipeline import run_rfm
    from rfm_core.ingest.synthetic import european_csv, generate_transactions

    log = generate_transactions(60, random_state=4).transactions
    data = european_csv(log)
    assert b";" in data and b"10001,0;" in data
    result = run_rfm(load(data, "european.csv"))
    assert result.date_format == "dayfirst"
    ids = result.rfm.table.index
    assert ids.str.fullmatch(r"\d+").all()
    assert "10001" in ids
    lines = result.cleaning.transactions.column("customer_id").drop_null().to_pylist()
    assert all(text.isdigit() for text in lines)
    expected = {str(int(v)) for v in pd.to_numeric(log["CustomerID"]).dropna()}
    assert set(ids) <= expected


# -- product and quantity ------------------------------------------------------------------------


def test_cdnow_items_are_the_quantity_never_the_product(load):
    from rfm_core.ingest.synthetic import generate_cdnow_like

    loaded = load(generate_cdnow_like(50, random_state=1).to_csv(index=False), "cdnow.csv")
    mapping = infer_mapping(loaded)
    assert (mapping.customer, mapping.date, mapping.amount) == (
        "Customer",
        "Order Date",
        "Sales ($)",
    )
    assert mapping.quantity == "Items"
    assert mapping.product is None and mapping.description is None
    # mapped elsewhere, "Items" is still no product
    other = infer_mapping(loaded, explicit={"quantity": None})
    assert other.product is None and other.quantity is None


@pytest.mark.parametrize("name", ["Units sold", "Item count", "qty_items", "Pieces"])
def test_a_count_of_units_is_never_the_product(load, name):
    text = f"customer,date,amount,{name}\nA,2024-01-02,10.5,120\nB,2024-01-03,3.0,250\n"
    mapping = infer_mapping(load(text))
    assert mapping.product is None
    assert mapping.quantity == name


def test_a_product_column_of_small_whole_numbers_is_the_quantity(load):
    text = (
        "customer,date,amount,product\nA,2024-01-02,10.5,1\nB,2024-01-03,3.0,2\nC,2024-01-04,4,1\n"
    )
    mapping = infer_mapping(load(text))
    assert (mapping.product, mapping.quantity) == (None, "product")
    codes = "customer,date,amount,product\nA,2024-01-02,10.5,1204\nB,2024-01-03,3.0,877\n"
    assert infer_mapping(load(codes)).product == "product"
    # an explicit mapping always wins
    assert infer_mapping(load(text), explicit={"product": "product"}).product == "product"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pa.array([1, 2, 1, 3, 99], pa.int64()), True),
        (pa.array(["1", "2", " 4 ", None]), True),
        (pa.array([1.0, 2.0, 12.0]), True),
        (pa.array([1.5, 2.0, 1.0]), False),
        (pa.array(["85123A", "22423", "1"]), False),
        (pa.array([22423, 85099, 47566], pa.int64()), False),
        (pa.array([None, None], pa.string()), False),
    ],
)
def test_looks_like_counts(values, expected):
    assert looks_like_counts(values) is expected


def test_description_is_its_own_role(load):
    text = "client,date,total,sku,Product name\nA,2024-01-01,10,T-1,Tea\nB,2024-01-02,5,C-2,Cake\n"
    mapping = infer_mapping(load(text))
    assert (mapping.product, mapping.description) == ("sku", "Product name")
    lines = prepare(load(text)).table
    assert lines.column("description").to_pylist() == ["Tea", "Cake"]
