"""Map a file's columns to the roles RFM needs and interpret their values.

Roles
-----
``customer`` (required)
    Who bought. Kept as text exactly as written (leading zeros kept); a column of integral
    numbers written with a decimal part, ``17850.0`` or ``17850,0`` (or typed as floats), becomes
    ``17850``.
``date`` (required)
    When. ISO dates, day-first or month-first dates (an ambiguous column is detected and the order
    offered as a choice), Excel serial numbers and ``YYYYMMDD`` integers are understood.
``quantity`` and ``price``, or ``amount`` (one of the two is required)
    What was paid for a line: ``amount`` when the file has a line or order total, otherwise
    ``quantity × price``. Decimal commas, thousands separators and currency symbols are understood.
``invoice``, ``product``, ``country``, ``description`` (optional)
    Order number (text; a leading ``C`` marks a cancellation), product code, country, and the
    product's name or description (shown for a product where there is one; the code stays the
    key: Online Retail's ``StockCode`` and ``Description``). A column named for a number of units
    (items, units, qty, count) or holding small whole numbers (:func:`looks_like_counts`) is never
    the product: it is the quantity when the file has none.

An explicit mapping always wins over detection. Detection looks at header names first (Online
Retail, Online Retail II and the usual variants) and at content for dates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfm_core.errors import DateParseError, MappingError
from rfm_core.ingest.io import LoadedTable

__all__ = [
    "COUNT_MEDIAN",
    "INTEGRAL_NUMBER_TEXT",
    "MAX_ABS_NUMBER",
    "OPTIONAL_ROLES",
    "ROLES",
    "ROLE_LABELS",
    "ColumnMapping",
    "DateOrder",
    "DateParse",
    "NumberParse",
    "Transactions",
    "detect_roles",
    "infer_mapping",
    "looks_like_counts",
    "parse_customer_ids",
    "parse_dates",
    "parse_numbers",
    "prepare_transactions",
    "written_as_integral_numbers",
]

DateOrder = Literal["auto", "dayfirst", "monthfirst"]

ROLES = (
    "customer", "date", "invoice", "quantity", "price", "amount", "product", "country",
    "description",
)  # fmt: skip
OPTIONAL_ROLES = ("invoice", "product", "country", "description")
ROLE_LABELS = {
    "customer": "customer id",
    "date": "date",
    "invoice": "invoice / order number",
    "quantity": "quantity",
    "price": "unit price",
    "amount": "line or order amount",
    "product": "product code",
    "country": "country",
    "description": "product name or description",
}

# normalised header names (lower case, letters and digits only), most specific first
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer": (
        "customerid",
        "customer",
        "customerno",
        "customernumber",
        "customercode",
        "customerkey",
        "customerref",
        "custid",
        "custno",
        "clientid",
        "client",
        "clientref",
        "clientno",
        "clientcode",
        "userid",
        "memberid",
        "buyerid",
        "accountid",
        "shopperid",
        "contactid",
    ),
    "date": (
        "invoicedate",
        "orderdate",
        "transactiondate",
        "purchasedate",
        "saledate",
        "salesdate",
        "orderdatetime",
        "invoicedatetime",
        "txndate",
        "orderedat",
        "createdat",
        "purchasedat",
        "date",
        "datetime",
        "timestamp",
        "orderday",
        "day",
    ),
    "invoice": (
        "invoiceno",
        "invoice",
        "invoicenumber",
        "invoiceid",
        "orderid",
        "orderno",
        "ordernumber",
        "order",
        "transactionid",
        "transactionno",
        "receiptid",
        "receiptno",
        "basketid",
        "txnid",
        "billno",
        "ticketid",
    ),
    "quantity": (
        "quantity",
        "qty",
        "units",
        "unitssold",
        "quantityordered",
        "itemcount",
        "items",
        "numitems",
        "numberofitems",
        "itemsordered",
        "itemquantity",
        "unitsordered",
        "pieces",
        "pcs",
        "count",
    ),
    "price": (
        "unitprice",
        "price",
        "priceeach",
        "itemprice",
        "unitcost",
        "priceperunit",
        "saleprice",
    ),
    "amount": (
        "amount",
        "lineamount",
        "linetotal",
        "totalamount",
        "ordertotal",
        "ordervalue",
        "total",
        "totalprice",
        "sales",
        "salesamount",
        "saleamount",
        "revenue",
        "value",
        "spend",
        "grosssales",
        "netsales",
        "totalsales",
        "turnover",
    ),
    "product": (
        "stockcode",
        "productid",
        "productcode",
        "sku",
        "itemid",
        "itemcode",
        "product",
        "article",
        "item",
    ),
    "country": ("country", "countrycode", "countryname", "nation", "market"),
    "description": (
        "description",
        "productname",
        "productdescription",
        "itemname",
        "itemdescription",
        "articlename",
        "productdesc",
        "desc",
    ),
}
# words that say a column counts units: it is never the product, whatever else its name says
_COUNT_WORDS = ("qty", "quantity", "items", "units", "count", "pieces", "pcs")
# words that, inside a longer header, point at a role ("client_ref" → customer)
_WORDS: dict[str, tuple[str, ...]] = {
    "date": ("date", "time", "day"),
    "customer": ("customer", "client", "cust", "member", "buyer", "shopper"),
    "invoice": ("invoice", "order", "receipt", "transaction", "basket"),
    "quantity": ("quantity", "qty", "items", "units"),
    "price": ("price",),
    "amount": ("amount", "total", "revenue", "sales", "value"),
    "product": ("product", "sku", "stock", "item"),
    "country": ("country",),
    "description": ("description", "desc"),
}


@dataclass(frozen=True)
class ColumnMapping:
    """Which column plays which role. ``None`` marks a role the file does not have."""

    customer: str
    date: str
    invoice: str | None = None
    quantity: str | None = None
    price: str | None = None
    amount: str | None = None
    product: str | None = None
    country: str | None = None
    description: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """Return the mapping as a dictionary.

        Returns
        -------
        dict of str to str or None
            ``{role: column or None}`` in :data:`ROLES` order.
        """
        return asdict(self)

    @property
    def uses_amount(self) -> bool:
        """Whether line amounts come from an amount column rather than quantity × price."""
        return self.amount is not None


@dataclass(frozen=True)
class DateParse:
    """Dates read from a column.

    Attributes
    ----------
    values : pyarrow.Array
        ``timestamp[us]`` values, null where a value could not be read as a date.
    format : str
        What was recognised: ``"native"``, ``"iso"``, ``"dayfirst"``, ``"monthfirst"``,
        ``"excel_serial"``, ``"yyyymmdd"`` or ``"mixed"``.
    ambiguous : bool
        True when every value fits both day-first and month-first orders; the caller should
        offer the choice (see ``date_order``).
    n_bad : int
        Non-empty values that are not dates.
    bad_examples : tuple of str
        Up to five of them, in file order.
    """

    values: pa.Array
    format: str
    ambiguous: bool = False
    n_bad: int = 0
    bad_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class NumberParse:
    """Numbers read from a column: ``float64`` values, null where missing or not a number."""

    values: pa.Array
    n_bad: int = 0
    bad_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transactions:
    """Transaction lines with their roles interpreted, ready for cleaning.

    Attributes
    ----------
    table : pyarrow.Table
        Canonical columns ``row_id, customer_id, invoice, timestamp, quantity, price, amount,
        product, description, country`` followed by the file's own columns renamed ``raw_0 …
        raw_n`` (used to find exact duplicate rows). ``amount`` is the line amount (the amount
        column, or quantity × price); a missing or unreadable value is null and is reported by
        the cleaning step.
    mapping : ColumnMapping
    file_name, dataset_id : str
        Where the rows come from.
    dates : DateParse
        How the date column was read (without the values).
    number_issues : dict
        ``{column: NumberParse}`` (without the values) for numeric columns with unreadable values.
    raw_columns : tuple of str
        The file's own column names; ``raw_i`` in :attr:`table` holds ``raw_columns[i]``.
    """

    table: pa.Table
    mapping: ColumnMapping
    file_name: str
    dataset_id: str
    dates: DateParse
    number_issues: dict[str, NumberParse] = field(default_factory=dict)
    raw_columns: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        """Number of transaction lines."""
        return self.table.num_rows

    @property
    def raw_column_names(self) -> list[str]:
        """Names of the file's own columns inside :attr:`table` (``raw_0 … raw_n``)."""
        return [_raw_name(i) for i in range(len(self.raw_columns))]


def _raw_name(position: int) -> str:
    return f"raw_{position}"


# -- mapping -----------------------------------------------------------------------------------


def _normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def infer_mapping(
    loaded: LoadedTable, *, explicit: Mapping[str, str | None] | None = None
) -> ColumnMapping:
    """Find the column of each role.

    Parameters
    ----------
    loaded : LoadedTable
        The file as read.
    explicit : mapping of role to column name, optional
        Roles fixed by the user; they win over detection. ``None`` removes a role.

    Returns
    -------
    ColumnMapping

    Raises
    ------
    MappingError
        An unknown role or column in ``explicit``, or a required role that cannot be found: the
        message names the missing roles and lists candidate columns.
    """
    chosen = detect_roles(loaded, explicit=explicit)
    _require_roles(chosen, loaded)
    return ColumnMapping(**{role: chosen.get(role) for role in ROLES})


def detect_roles(
    loaded: LoadedTable, *, explicit: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """Return ``{role: column}`` for every role that can be found, without requiring any.

    Used to pre-fill a mapping form when :func:`infer_mapping` cannot complete the mapping.

    Parameters
    ----------
    loaded : LoadedTable
        The file as read.
    explicit : mapping of role to column, optional
        Roles chosen by the user; they win over detection.

    Returns
    -------
    dict of str to str
        The roles found (by column name, the date also by content), explicit ones included.

    Raises
    ------
    MappingError
        An explicit role or column that does not exist.
    """
    columns = loaded.columns
    chosen = _explicit_roles(explicit or {}, columns, loaded.file_name)
    free = [c for c in columns if c not in chosen.values()]
    detected = _detect_by_name(free, skip=set(chosen))
    _counts_are_quantities(detected, loaded.table)
    for role, column in detected.items():
        chosen.setdefault(role, column)
    if "date" not in chosen:
        unused = [c for c in free if c not in chosen.values()]
        column = _detect_date_by_content(loaded.table, unused)
        if column is not None:
            chosen["date"] = column
    return {role: col for role, col in chosen.items() if col is not None}


def _explicit_roles(
    explicit: Mapping[str, str | None], columns: list[str], file_name: str
) -> dict[str, str | None]:
    chosen: dict[str, str | None] = {}
    for role, column in explicit.items():
        if role not in ROLES:
            raise MappingError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        if column is not None and column not in columns:
            raise MappingError(
                f"{file_name}: no column {_short(column)} for role {role!r}; "
                f"columns are {_listed(columns)}"
            )
        chosen[role] = column
    return chosen


def _detect_by_name(columns: list[str], *, skip: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    normalised = {c: _normalise(c) for c in columns}

    def allowed(role: str, column: str) -> bool:
        if column in found.values():
            return False
        # "Items", "Units sold", "Item count": a number of units, never the product
        return role not in ("product", "description") or not any(
            w in normalised[column] for w in _COUNT_WORDS
        )

    # exact synonyms first, in order of specificity, then words inside longer names
    for role, names in _SYNONYMS.items():
        if role in skip:
            continue
        for name in names:
            match = next((c for c in columns if normalised[c] == name and allowed(role, c)), None)
            if match is not None:
                found[role] = match
                break
    for role, words in _WORDS.items():
        if role in skip or role in found:
            continue
        match = next(
            (c for c in columns if allowed(role, c) and any(w in normalised[c] for w in words)),
            None,
        )
        if match is not None:
            found[role] = match
    return found


COUNT_MEDIAN = 10
"""A product candidate whose values are whole numbers with a median of at most this is a count
of units (CDNOW's ``Items``: 1 … 99, mostly 1 or 2), not a product code."""


def looks_like_counts(values: pa.ChunkedArray | pa.Array, *, rows: int = 1000) -> bool:
    """Whether a column holds small whole numbers, as a quantity does (see :data:`COUNT_MEDIAN`).

    Parameters
    ----------
    values : pyarrow.ChunkedArray or pyarrow.Array
        The column as read (numbers or text).
    rows : int
        How many leading values to look at.

    Returns
    -------
    bool
        True when every present value among the first ``rows`` is a whole number and their
        median is at most :data:`COUNT_MEDIAN`; False for an empty column.
    """
    head = _combine(values.slice(0, rows))
    if not (pa.types.is_integer(head.type) or pa.types.is_floating(head.type)):
        text = pc.utf8_trim_whitespace(pc.cast(head, pa.string())).drop_null()
        if not len(text) or not pc.all(pc.match_substring_regex(text, r"^\d+$")).as_py():
            return False
        head = pc.cast(text, pa.int64())
    numbers = head.drop_null().to_numpy(zero_copy_only=False).astype("float64")
    if not len(numbers) or not (np.floor(numbers) == numbers).all():
        return False
    return bool(np.median(numbers) <= COUNT_MEDIAN)


def _counts_are_quantities(chosen: dict[str, str | None], table: pa.Table) -> None:
    """A product column of small whole numbers is the quantity (or nothing), never the product."""
    column = chosen.get("product")
    if column is None or not looks_like_counts(table.column(column)):
        return
    del chosen["product"]
    if "quantity" not in chosen:
        chosen["quantity"] = column


def _detect_date_by_content(table: pa.Table, columns: list[str]) -> str | None:
    for column in columns:
        values = table.column(column).slice(0, 200)
        if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
            return column
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            sample = values.drop_null()
            if len(sample) and _looks_like_dates(sample.to_pylist()):
                return column
    return None


def _looks_like_dates(values: list[str]) -> bool:
    pattern = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}.*)?\s*$")
    return sum(bool(pattern.match(v)) for v in values) >= 0.9 * len(values)


def _require_roles(chosen: dict[str, str], loaded: LoadedTable) -> None:
    missing = [r for r in ("customer", "date") if r not in chosen]
    if "amount" not in chosen and not ("quantity" in chosen and "price" in chosen):
        missing += [r for r in ("quantity", "price") if r not in chosen] + ["amount"]
    if not missing:
        return
    unused = [c for c in loaded.columns if c not in chosen.values()]
    labels = ", ".join(ROLE_LABELS[r] for r in missing)
    hint = " or ".join(f"--map {r}=COLUMN" for r in missing[:2])
    others = [s for s in loaded.sheet_names if s != loaded.sheet]
    raise MappingError(
        f"{loaded.file_name}: cannot find the column for {labels}. "
        f"Candidate columns: {_listed(unused) or 'none'}. "
        f"Choose it in the mapping (e.g. {hint})."
        + (
            " Amount is needed unless both quantity and unit price are mapped."
            if "amount" in missing
            else ""
        )
        + (
            f" Sheet {loaded.sheet!r} was read; if the transactions are on another sheet "
            f"({_listed(others)}), choose it (the Sheet box, or --sheet NAME)."
            if others
            else ""
        )
    )


def _listed(names: list[str], limit: int = 20) -> str:
    """Quote up to ``limit`` names, each cut to a readable length."""
    shown = ", ".join(_short(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def _short(value: object, limit: int = 60) -> str:
    """``repr`` of a value from the file, cut so that one message stays one readable line."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


# -- values ------------------------------------------------------------------------------------


def parse_customer_ids(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Return customer ids as text, exactly as written, ``null`` where missing.

    Whitespace around an id is removed and empty ids are missing. Ids stored as floats (Excel and
    pandas write integer ids with missing values as ``17850.0``) lose the ``.0``, and so do text
    columns whose every id is written that way, with a decimal point or a decimal comma
    (``17850.0``, ``17850,0``; see :func:`written_as_integral_numbers`).

    Parameters
    ----------
    values : pyarrow.ChunkedArray or pyarrow.Array
        The mapped column, as read.

    Returns
    -------
    pyarrow.Array
        Strings.
    """
    values = _combine(values)
    if pa.types.is_floating(values.type):
        floats = values.to_numpy(zero_copy_only=False)
        integral = np.isnan(floats) | (np.floor(floats) == floats)
        if integral.all():
            return pc.cast(pc.cast(values, pa.int64()), pa.string())
        return pc.cast(values, pa.string())
    if pa.types.is_integer(values.type):
        return pc.cast(values, pa.string())
    text = pc.utf8_trim_whitespace(pc.cast(values, pa.string()))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    if written_as_integral_numbers(text):
        text = pc.replace_substring_regex(text, r"[.,]0+$", "")
    return text


INTEGRAL_NUMBER_TEXT = r"^\d+[.,]0+$"
"""An id written as an integral number by a spreadsheet: ``17850.0``, or ``17850,0`` with a
decimal comma."""


def written_as_integral_numbers(text: pa.Array) -> bool:
    """Whether every present value is an integral number with a decimal part of zeros.

    Such a column (``17850.0``, ``17850,0``) was an integer column before a spreadsheet or
    pandas wrote it; its values lose the ``.0`` (``,0``). One value that does not look like
    that (``ABC``) keeps every value as written: ``1.0`` is then an id of its own.

    Parameters
    ----------
    text : pyarrow.Array
        Trimmed text values (null where missing).

    Returns
    -------
    bool
        True when there is at least one present value and all of them match
        :data:`INTEGRAL_NUMBER_TEXT`.
    """
    present = _combine(text).drop_null()
    return bool(len(present)) and bool(
        pc.all(pc.match_substring_regex(present, INTEGRAL_NUMBER_TEXT)).as_py()
    )


def _combine(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _blank_to_null(values: pa.Array) -> pa.Array:
    """Empty or all-blank text is a missing value, as in CSV files, not a bad one."""
    blank = pc.equal(pc.utf8_trim_whitespace(values), "")
    return pc.if_else(blank, pa.scalar(None, values.type), values)


def parse_text(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Return a column as trimmed text (integral floats without ``.0``), null where empty.

    Parameters
    ----------
    values : pyarrow.ChunkedArray or pyarrow.Array
        The mapped column (invoice, product or country), as read.

    Returns
    -------
    pyarrow.Array
        Strings, read as :func:`parse_customer_ids` reads ids.
    """
    return parse_customer_ids(values)


MAX_ABS_NUMBER = 1e12
"""Largest quantity, price or line amount read as a number: amounts are summed exactly as whole
ten-thousandths of the currency (64-bit integers), which holds about 900 lines of this size per
customer; anything larger is a placeholder or a broken value, counted as not a number."""

_CURRENCY = re.compile(r"[\s\u00a0\u202f'£$€¥₹]|(?i:eur|usd|gbp|chf)")


def parse_numbers(values: pa.ChunkedArray | pa.Array, *, decimal: str = ".") -> NumberParse:
    """Read a column as ``float64``.

    Text values may carry currency symbols or codes, spaces or apostrophes as thousands
    separators, and a decimal comma (``decimal=","``, or detected from the column: values such as
    ``1.234,50`` or ``12,5``). Infinite values, values beyond ±:data:`MAX_ABS_NUMBER` and text
    that is not a number become null and are counted in ``n_bad``; missing values are null but
    not counted.

    Parameters
    ----------
    values : pyarrow.ChunkedArray or pyarrow.Array
        The mapped column, as read.
    decimal : {".", ","}
        The decimal separator of the file (a column of decimal commas is recognised anyway).

    Returns
    -------
    NumberParse
        The numbers, how many values were not numbers, and the first of them.
    """
    values = _combine(values)
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        floats = pc.cast(values, pa.float64())
        finite = pc.less_equal(pc.abs(floats), MAX_ABS_NUMBER)  # false for inf, null for NaN
        bad = pc.and_(finite.is_valid(), pc.invert(pc.fill_null(finite, True)))
        n_bad = pc.sum(bad).as_py() or 0
        examples = tuple(str(v) for v in pc.filter(floats, bad).slice(0, 5).to_pylist())
        return NumberParse(pc.if_else(bad, pa.scalar(None, pa.float64()), floats), n_bad, examples)
    if pa.types.is_boolean(values.type) or not (
        pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
    ):
        values = pc.cast(values, pa.string())
    return _parse_number_text(values, decimal)


def _parse_number_text(values: pa.Array, decimal: str) -> NumberParse:
    values = _blank_to_null(values)
    codes, uniques = pd.factorize(values.to_numpy(zero_copy_only=False), use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).astype(str).str.replace(_CURRENCY, "", regex=True)
    decimal = _column_decimal(text, decimal)
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    text = text.str.replace(r"^\((.*)\)$", r"-\1", regex=True)  # (12.50) is negative
    parsed = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy(copy=True)
    parsed[~(np.abs(parsed) <= MAX_ABS_NUMBER)] = np.nan  # inf and absurd sizes are not numbers
    bad_unique = np.isnan(parsed)
    out = np.full(len(codes), np.nan)
    present = codes >= 0
    out[present] = parsed[codes[present]]
    bad_rows = np.zeros(len(codes), dtype=bool)  # also right when every value is missing
    bad_rows[present] = bad_unique[codes[present]]
    examples = tuple(str(uniques[c]) for c in pd.unique(codes[bad_rows])[:5])
    return NumberParse(pa.array(out, pa.float64(), from_pandas=True), int(bad_rows.sum()), examples)


def _column_decimal(text: pd.Series, default: str) -> str:
    """Decide the decimal separator from values that can only be read one way.

    ``1,000`` and ``1.000`` (one separator, three digits after it) are thousands or decimals
    alike and count for neither; ``12,5``, ``1.234,50`` or ``0,1234`` are decimal commas.
    """
    comma = text.str.fullmatch(
        r"-?\d{1,3}(\.\d{3})+,\d+|-?\d+,(\d{1,2}|\d{4,})|-?\d{4,},\d+|-?0,\d+"
    ).sum()
    dot = text.str.fullmatch(
        r"-?\d{1,3}(,\d{3})+\.\d+|-?\d+\.(\d{1,2}|\d{4,})|-?\d{4,}\.\d+|-?0\.\d+"
    ).sum()
    if comma > dot:
        return ","
    if dot > comma:
        return "."
    return default


# -- dates -------------------------------------------------------------------------------------

_EXCEL_EPOCH = np.datetime64("1899-12-30")
_SERIAL_RANGE = (20_000, 80_000)  # 1954-10-03 … 2119-01-10
_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\b")
# a UTC offset after a time of day ("10:00:00+01:00", "10:00 -0500", "10:00Z"); group 1 is the time
_UTC_OFFSET = re.compile(
    r"(\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE
)


def parse_dates(values: pa.ChunkedArray | pa.Array, *, order: DateOrder = "auto") -> DateParse:
    """Read a column as timestamps.

    Parameters
    ----------
    values : pyarrow array
        Native timestamps or dates, numbers (Excel serials or ``YYYYMMDD``) or text.
    order : {"auto", "dayfirst", "monthfirst"}
        How to read ``01/02/2011``. ``"auto"`` decides from the values (a first field above 12
        means day-first, a second field above 12 means month-first) and, when every value fits
        both, reads day-first and sets ``ambiguous``.

    Returns
    -------
    DateParse
        Time zones are dropped: wall-clock time is kept.
    """
    values = _combine(values)
    if pa.types.is_timestamp(values.type):
        if values.type.tz is not None:
            values = pc.local_timestamp(values)
        return DateParse(pc.cast(values, pa.timestamp("us")), "native")
    if pa.types.is_date(values.type):
        return DateParse(pc.cast(pc.cast(values, pa.date32()), pa.timestamp("us")), "native")
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return _dates_from_numbers(values)
    codes, uniques = pd.factorize(
        _blank_to_null(pc.cast(values, pa.string())).to_numpy(zero_copy_only=False),
        use_na_sentinel=True,
    )
    text = pd.Series(uniques, dtype=object).astype(str).str.strip()
    text = text.str.replace(_UTC_OFFSET, r"\1", regex=True)  # keep the wall-clock time
    parsed, fmt, ambiguous = _dates_from_text(text, order)
    return _expand(parsed, codes, uniques, fmt, ambiguous)


def _expand(
    parsed: pd.Series, codes: np.ndarray, uniques: np.ndarray, fmt: str, ambiguous: bool
) -> DateParse:
    parsed_values = parsed.to_numpy(dtype="datetime64[us]")
    out = np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[us]")
    present = codes >= 0
    out[present] = parsed_values[codes[present]]
    bad_unique = np.isnat(parsed_values)
    bad_rows = np.zeros(len(codes), dtype=bool)  # also right when every value is missing
    bad_rows[present] = bad_unique[codes[present]]
    examples = tuple(str(uniques[c]) for c in pd.unique(codes[bad_rows])[:5])
    array = pa.array(out, pa.timestamp("us"), from_pandas=True)
    return DateParse(array, fmt, ambiguous, int(bad_rows.sum()), examples)


def _dates_from_numbers(values: pa.Array) -> DateParse:
    numbers = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    present = ~np.isnan(numbers)
    sample = numbers[present]
    # like text dates: a few bad values (0, 99999999 placeholders) must not hide the format
    if len(sample) and np.mean((sample >= 19_000_101) & (sample <= 21_001_231)) > 0.9:
        text = pd.Series(np.where(present, numbers, 0).astype(np.int64).astype(str))
        parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
        fmt = "yyyymmdd"
    else:
        in_range = (numbers >= _SERIAL_RANGE[0]) & (numbers <= _SERIAL_RANGE[1])
        micros = np.round(np.where(in_range, numbers, 0) * 86_400e6).astype(np.int64)
        stamps = _EXCEL_EPOCH.astype("datetime64[us]") + micros.astype("timedelta64[us]")
        parsed = pd.Series(np.where(in_range, stamps, np.datetime64("NaT")))
        fmt = "excel_serial"
    codes = np.where(present, np.arange(len(numbers)), -1)
    return _expand(pd.Series(parsed), codes, numbers, fmt, False)


def _dates_from_text(text: pd.Series, order: DateOrder) -> tuple[pd.Series, str, bool]:
    if text.empty:
        return pd.Series([], dtype="datetime64[us]"), "iso", False
    if text.str.fullmatch(r"\d{8}").mean() > 0.9:
        return pd.to_datetime(text, format="%Y%m%d", errors="coerce"), "yyyymmdd", False
    if text.str.fullmatch(r"\d{5}(\.\d+)?").mean() > 0.9:
        numbers = pd.to_numeric(text, errors="coerce").to_numpy()
        return _dates_from_numbers(pa.array(numbers)).values.to_pandas(), "excel_serial", False
    if text.str.match(r"\d{4}-\d{1,2}-\d{1,2}").mean() > 0.9:
        # utc=True: an offset left in an odd value must not make the column tz-aware or raise
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        parsed = parsed.dt.tz_localize(None)
        return _fill_mixed(text, parsed, dayfirst=False), "iso", False
    dayfirst, ambiguous = _day_order(text, order)
    parsed = _parse_with_order(text, dayfirst)
    return parsed, "dayfirst" if dayfirst else "monthfirst", ambiguous


def _day_order(text: pd.Series, order: DateOrder) -> tuple[bool, bool]:
    fields = text.str.extract(_DMY).dropna()
    first = pd.to_numeric(fields[0]) if len(fields) else pd.Series([], dtype="int64")
    second = pd.to_numeric(fields[1]) if len(fields) else pd.Series([], dtype="int64")
    day_first_evidence = bool((first > 12).any())
    month_first_evidence = bool((second > 12).any())
    ambiguous = len(fields) > 0 and not day_first_evidence and not month_first_evidence
    if order != "auto":
        return order == "dayfirst", ambiguous
    if month_first_evidence and not day_first_evidence:
        return False, False
    return True, ambiguous


def _parse_with_order(text: pd.Series, dayfirst: bool) -> pd.Series:
    fields = text.str.extract(
        r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
    )
    day, month = (fields[0], fields[1]) if dayfirst else (fields[1], fields[0])
    year = pd.to_numeric(fields[2], errors="coerce")
    year = year.where(year >= 100, year + 2000)
    parts = pd.DataFrame(
        {
            "year": year,
            "month": pd.to_numeric(month, errors="coerce"),
            "day": pd.to_numeric(day, errors="coerce"),
            "hour": pd.to_numeric(fields[3], errors="coerce").fillna(0),
            "minute": pd.to_numeric(fields[4], errors="coerce").fillna(0),
            "second": pd.to_numeric(fields[5], errors="coerce").fillna(0),
        }
    )
    parsed = pd.to_datetime(parts, errors="coerce")
    return _fill_mixed(text, parsed, dayfirst=dayfirst)


def _fill_mixed(text: pd.Series, parsed: pd.Series, *, dayfirst: bool) -> pd.Series:
    """Give values in another format ("1 Dec 2010", ISO among slashes) a second chance."""
    missing = parsed.isna() & text.ne("")
    if missing.any():
        parsed = parsed.astype("datetime64[us]")
        # a value that starts with a 4-digit year is never day-first: 2011-02-01 is 1 February
        year_first = text.str.match(r"\s*\d{4}[-/.]")
        for part, first in ((missing & year_first, False), (missing & ~year_first, dayfirst)):
            if part.any():
                retry = pd.to_datetime(
                    text[part], format="mixed", dayfirst=first, errors="coerce", utc=True
                ).dt.tz_localize(None)
                parsed[part] = retry.astype("datetime64[us]")
    return parsed.astype("datetime64[us]")


# -- the canonical table -----------------------------------------------------------------------


def prepare_transactions(
    loaded: LoadedTable, mapping: ColumnMapping, *, date_order: DateOrder = "auto"
) -> Transactions:
    """Interpret the mapped columns and build the canonical transaction table.

    Parameters
    ----------
    loaded : LoadedTable
    mapping : ColumnMapping
    date_order : {"auto", "dayfirst", "monthfirst"}

    Returns
    -------
    Transactions

    Raises
    ------
    DateParseError
        When most values of the date column are not dates (the message names the file, the column,
        how many values and the first bad one). A few bad values are not an error: their rows are
        counted by the cleaning step.
    MappingError
        When most values of a numeric column are not numbers.
    """
    table = loaded.table
    decimal = loaded.dialect.decimal if loaded.dialect else "."
    dates = parse_dates(table.column(mapping.date), order=date_order)
    _check_mostly_valid(dates, loaded, mapping.date, "dates", DateParseError)
    numbers = {
        role: parse_numbers(table.column(getattr(mapping, role)), decimal=decimal)
        for role in ("quantity", "price", "amount")
        if getattr(mapping, role) is not None
    }
    for role, parsed in numbers.items():
        _check_mostly_valid(parsed, loaded, getattr(mapping, role), "numbers", MappingError)
    canonical = _canonical_columns(table, mapping, dates, numbers)
    raw_names = [_raw_name(i) for i in range(table.num_columns)]
    full = pa.Table.from_arrays(
        [*canonical.values(), *table.columns], names=[*canonical, *raw_names]
    )
    issues = {
        getattr(mapping, role): replace(parsed, values=pa.array([], pa.float64()))
        for role, parsed in numbers.items()
        if parsed.n_bad
    }
    summary = replace(dates, values=pa.array([], pa.timestamp("us")))
    return Transactions(
        full, mapping, loaded.file_name, loaded.dataset_id, summary, issues, tuple(loaded.columns)
    )


def _canonical_columns(
    table: pa.Table, mapping: ColumnMapping, dates: DateParse, numbers: dict[str, NumberParse]
) -> dict[str, pa.Array]:
    n = table.num_rows

    def text(role: str) -> pa.Array:
        column = getattr(mapping, role)
        return parse_text(table.column(column)) if column else pa.nulls(n, pa.string())

    quantity = numbers["quantity"].values if "quantity" in numbers else pa.nulls(n, pa.float64())
    price = numbers["price"].values if "price" in numbers else pa.nulls(n, pa.float64())
    amount = numbers["amount"].values if "amount" in numbers else pc.multiply(quantity, price)
    # a product beyond the limit cannot be summed exactly: the line counts as an invalid number
    amount = pc.if_else(
        pc.greater(pc.abs(amount), MAX_ABS_NUMBER), pa.scalar(None, pa.float64()), amount
    )
    return {
        "row_id": pa.array(np.arange(n, dtype=np.int64)),
        "customer_id": parse_customer_ids(table.column(mapping.customer)),
        "invoice": text("invoice"),
        "timestamp": dates.values,
        "quantity": quantity,
        "price": price,
        "amount": amount,
        "product": text("product"),
        "description": text("description"),
        "country": text("country"),
    }


def _check_mostly_valid(
    parsed: DateParse | NumberParse,
    loaded: LoadedTable,
    column: str,
    what: str,
    error: type[MappingError],
) -> None:
    n_present = len(parsed.values) - parsed.values.null_count + parsed.n_bad
    if parsed.n_bad and parsed.n_bad > 0.5 * max(n_present, 1):
        raise error(
            f"{loaded.file_name}: column {_short(column)}: {parsed.n_bad:,} of {n_present:,} "
            f"values are not {what}, first: {_short(parsed.bad_examples[0])}. "
            f"Check that {_short(column)} is the right column for this role."
        )
