"""Cleaning and RFM where the data lives: DuckDB scanning a file, or Spark on a cluster table.

Uploads are small and messy: :mod:`rfm_core.ingest.schema` reads every value in Arrow and
:func:`rfm_core.lines.cleaning.clean` keeps the lines in memory for the drill-down and the
cleaned-lines download. Logs of tens of millions of lines, or logs that live in a warehouse, go
through this module instead. It runs **the same Ibis expressions** —
:func:`rfm_core.lines.cleaning.flag_rows` and :mod:`rfm_core.lines.aggregate` — on the engine,
and only the RFM values, the rows per removal reason and the rows of the customers lost come
back, computed there from the activity of each customer per reason
(:func:`rfm_core.lines.aggregate.line_activity`). No line is ever converted to pandas; nothing but
one row per customer is held in Python.

Values must be typed by the source: numbers as numbers, dates as dates or timestamps (or ISO
text). Customer ids, invoice numbers, products and countries are always read as text, so that
leading zeros survive. What the engine cannot type (day-first text dates, decimal commas,
currency symbols) raises :class:`EngineUnsupported`; the command line then reads the file in
memory with the full parsers of :mod:`rfm_core.ingest.schema`.

Exact duplicates: instead of numbering the copies of each row in a window over every column
(which sorts the whole log and held 8 GB for 13 million lines), the engine first collapses exact
copies into one row with their count (column :data:`rfm_core.lines.reasons.COPIES`); the rules then
see each distinct row once, and the extra copies are counted as ``duplicate_row`` (or under an
earlier reason that removes every copy). The result is the same as the window's, row for row.
``row_id`` is 0 on an engine: it only ordered copies among themselves. For the RFM table
(:func:`rfm_on_engine`) DuckDB compares the columns the RFM never reads (products,
descriptions) through one 64-bit hash and keeps only the columns it reads past the collapse; the
same aggregation checks that no two different values share a hash, and groups every column
instead when two do (:func:`collapsed_copies`), so the copies are exact either way.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dt_
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from rfm_core.customers.pipeline import orders_of
from rfm_core.customers.rfm import DEFAULT_SEGMENTS, RfmResult, SegmentRule, finish_rfm
from rfm_core.errors import CleaningError, EngineUnsupported, LoadError, RfmError
from rfm_core.ingest.io import LoadedTable
from rfm_core.ingest.schema import (
    INTEGRAL_NUMBER_TEXT,
    ColumnMapping,
    infer_mapping,
    parse_dates,
    written_as_integral_numbers,
)
from rfm_core.lines.aggregate import (
    customer_activity,
    line_activity,
    lost_customer_rows,
    reason_totals,
    rfm_columns,
)
from rfm_core.lines.cleaning import (
    CleaningRules,
    customers_lost,
    duplicate_warnings,
    flag_rows,
    removal_report,
)
from rfm_core.lines.reasons import COPIES, KEPT, REASON_CODES

__all__ = [
    "ENGINES",
    "EngineRun",
    "canonical_lines",
    "collapsed_copies",
    "connect",
    "customer_orders_on_engine",
    "distinct_values",
    "flagged_lines",
    "integral_text_columns",
    "open_file",
    "rfm_on_engine",
    "sample_of",
    "scan_file",
]

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")
SAMPLE_ROWS = 20_000
TEXT_ROLES = ("customer", "invoice", "product", "country", "description")
DUCKDB_MEMORY_LIMIT = "2.5GB"  # per connection: one large file never takes the server's memory
ENGINE_DATE_FORMATS = ("iso", "native")  # what an engine's timestamp cast reads as written
WHITESPACE = (" ", "\t", "\n", "\r", "\v", "\f")  # what Ibis's strip removes


@dataclass(frozen=True)
class EngineRun:
    """What an engine computed: the removal counts and the RFM table.

    Attributes
    ----------
    name : str
        File or table name.
    mapping : ColumnMapping
    rules : CleaningRules
    report : pandas.DataFrame
        As :attr:`rfm_core.lines.cleaning.CleaningResult.report`.
    n_in, n_kept : int
    rfm : RfmResult
    engine : str
    warnings : tuple of str
    """

    name: str
    mapping: ColumnMapping
    rules: CleaningRules
    report: pd.DataFrame
    n_in: int
    n_kept: int
    rfm: RfmResult
    engine: str
    warnings: tuple[str, ...] = field(default_factory=tuple)

    # the accessors of rfm_core.customers.result.CustomerRun, shared with RfmPipelineResult

    @property
    def date_format(self) -> str:
        """Dates are typed by the source."""
        return "native"

    @property
    def dates_ambiguous(self) -> bool:
        """Never: dates are typed by the source."""
        return False

    @property
    def lines(self) -> None:
        """The kept lines stay on the engine; see :func:`customer_orders_on_engine`."""
        return None

    @property
    def transactions(self) -> None:
        """The lines stay on the engine: read them again from the source."""
        return None


def connect(
    engine: Engine = "duckdb",
    *,
    session: Any = None,
    memory_limit: str | None = DUCKDB_MEMORY_LIMIT,
) -> ibis.BaseBackend:
    """Return an Ibis backend: an in-memory DuckDB, or Spark on ``session`` (a SparkSession).

    Without a session, Spark starts a local one (``local[*]``); on a cluster, pass yours.
    DuckDB's buffers are capped at ``memory_limit`` (None: DuckDB's default, 80 % of RAM). With
    the default cap the 13.4-million-line log peaks at 2.8 GB instead of 3.3 GB, no slower:
    the collapse of exact copies keeps fewer partitions in memory at once.

    Parameters
    ----------
    engine : {"duckdb", "spark"}
        Which engine.
    session : pyspark.sql.SparkSession, optional
        For Spark: the session to run on (default: a local one).
    memory_limit : str or None
        For DuckDB: the cap of its buffers, e.g. ``"2.5GB"``.

    Returns
    -------
    ibis.BaseBackend
        The connected backend.

    Raises
    ------
    RfmError
        An unknown engine, or Spark without pyspark installed.
    """
    if engine == "duckdb":
        return ibis.duckdb.connect(**({"memory_limit": memory_limit} if memory_limit else {}))
    if engine == "spark":
        if session is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise RfmError("the spark engine needs pyspark (pip install pyspark)") from exc
            session = (
                SparkSession.builder.master("local[*]")
                .appName("rfm")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.ui.enabled", "false")
                .getOrCreate()
            )
        return ibis.pyspark.connect(session)
    raise RfmError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")


def scan_file(
    path: str | Path,
    *,
    backend: ibis.BaseBackend,
    text_columns: tuple[str, ...] = (),
    all_text: bool = False,
) -> ir.Table:
    """Open a CSV or Parquet file on the engine without reading it into Python.

    Parameters
    ----------
    path : str or Path
    backend : ibis backend
    text_columns : tuple of str
        CSV columns to read as text whatever they look like (ids with leading zeros).
    all_text : bool
        Read every CSV column as text (to look at a sample as written).

    Returns
    -------
    ibis Table
        An expression over the file; nothing is read until it runs.

    Raises
    ------
    LoadError
        No such file.
    EngineUnsupported
        Neither CSV nor Parquet.
    """
    path = Path(path)
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return backend.read_parquet(str(path))
    if suffix in (".csv", ".tsv", ".txt"):
        options: dict[str, Any] = {}
        if all_text and backend.name == "duckdb":
            options["all_varchar"] = True
        elif text_columns and backend.name == "duckdb":
            options["types"] = {column: "VARCHAR" for column in text_columns}
        return backend.read_csv(str(path), **options)
    raise EngineUnsupported(f"{path.name}: the engine reads .csv and .parquet files")


def open_file(
    path: str | Path,
    *,
    backend: ibis.BaseBackend,
    mapping: dict[str, str | None] | ColumnMapping | None = None,
) -> tuple[ir.Table, ColumnMapping]:
    """Open a file on the engine with its roles: ids, invoices, products, countries as text.

    The roles are detected on a sample read as written (explicit ones win), then the file is
    scanned with those columns as text, so that ``00123`` stays ``00123`` as on the in-memory
    path.

    Parameters
    ----------
    path : str or Path
        A CSV or Parquet file.
    backend : ibis backend
        From :func:`connect`.
    mapping : dict or ColumnMapping, optional
        Explicit roles (role → column); a ColumnMapping is used as it is, without detection.

    Returns
    -------
    source : ibis Table
        The file, text roles read as text.
    mapping : ColumnMapping
        The roles of its columns.

    Raises
    ------
    LoadError
        No such file.
    EngineUnsupported
        Neither CSV nor Parquet, or dates that need the in-memory parsers (day-first text, for
        instance).
    MappingError
        The roles cannot be mapped.
    """
    name = Path(path).name
    sample = sample_of(scan_file(path, backend=backend, all_text=True), name=name)
    if not isinstance(mapping, ColumnMapping):
        mapping = infer_mapping(sample, explicit=mapping)
    dates = parse_dates(sample.table.column(mapping.date))
    if dates.format not in ENGINE_DATE_FORMATS:
        raise EngineUnsupported(
            f"{name}: column {mapping.date!r} holds {dates.format} dates, "
            "which need the in-memory reader"
        )
    text = tuple(getattr(mapping, role) for role in TEXT_ROLES if getattr(mapping, role))
    return scan_file(path, backend=backend, text_columns=text), mapping


def sample_of(source: ir.Table, *, name: str, rows: int = SAMPLE_ROWS) -> LoadedTable:
    """The first ``rows`` rows as text, enough to recognise the columns' roles.

    Parameters
    ----------
    source : ibis Table
        A file or table on an engine.
    name : str
        Its name, for messages.
    rows : int
        How many rows to read.

    Returns
    -------
    LoadedTable
        Every column cast to text; ``dataset_id`` is empty (no bytes were read).
    """
    head = source.limit(rows).to_pyarrow()
    text = pa.table({c: head.column(c).cast(pa.string()) for c in head.column_names})
    return LoadedTable(text, file_name=name, dataset_id="")


def integral_text_columns(
    source: ir.Table, mapping: ColumnMapping, *, rows: int = SAMPLE_ROWS
) -> tuple[str, ...]:
    """The text columns of the text roles whose values are integral numbers (``17850,0``).

    Decided on the first ``rows`` rows, as the in-memory reader decides on the whole column
    (:func:`rfm_core.ingest.schema.written_as_integral_numbers`): the values of these columns
    lose their decimal part of zeros.

    Parameters
    ----------
    source : ibis Table
        The raw file or table (before exact copies are collapsed).
    mapping : ColumnMapping
        Which column plays which role.
    rows : int
        How many rows to look at.

    Returns
    -------
    tuple of str
        Column names, in the order of :data:`TEXT_ROLES`.
    """
    schema = source.schema()
    columns = [
        column
        for role in TEXT_ROLES
        if (column := getattr(mapping, role)) is not None and schema[column].is_string()
    ]
    if not columns:
        return ()
    head = source.select(*dict.fromkeys(columns)).limit(rows).to_pyarrow()
    return tuple(
        column
        for column in dict.fromkeys(columns)
        if written_as_integral_numbers(pa.compute.utf8_trim_whitespace(head.column(column)))
    )


def canonical_lines(
    source: ir.Table,
    mapping: ColumnMapping,
    *,
    name: str,
    integral_text: tuple[str, ...] | None = None,
    roles: Collection[str] | None = None,
) -> ir.Table:
    """Build the canonical columns of :mod:`rfm_core.lines.cleaning` from a typed source.

    Parameters
    ----------
    source : ibis Table
        The file or table, numbers typed as numbers.
    mapping : ColumnMapping
        Which column plays which role.
    name : str
        The source's name, for messages.
    integral_text : tuple of str, optional
        Text columns written as integral numbers (:func:`integral_text_columns`); looked up on
        ``source`` when not given.
    roles : collection of str, optional
        The text roles to read (``customer, invoice, product, description, country``); the
        others are left empty, and their columns need not be in ``source`` (all by default).

    Returns
    -------
    ibis Table
        ``row_id`` (0), ``customer_id, invoice, timestamp, quantity, price, amount, product,
        description, country`` and the source's columns as ``raw_0 … raw_n``.
    """
    schema = source.schema()
    if integral_text is None:
        integral_text = integral_text_columns(source, mapping)

    def text(role: str) -> ir.StringValue:
        column = getattr(mapping, role)
        if column is None or (roles is not None and role not in roles):
            return ibis.null("string")
        value = source[column]
        if schema[column].is_floating():
            # integral ids written by Excel or pandas as 17850.0
            value = value.cast("int64")
        value = _trimmed(value.cast("string")).nullif("")
        if column in integral_text:
            # 17850.0 or 17850,0 written by a spreadsheet: the digits before the separator
            whole = value.re_extract(r"^[0-9]+", 0)
            value = ibis.ifelse(value.re_search(INTEGRAL_NUMBER_TEXT), whole, value)
        return value

    def number(role: str) -> ir.FloatingValue:
        column = getattr(mapping, role)
        if column is None:
            return ibis.null("float64")
        if not schema[column].is_numeric():
            raise EngineUnsupported(
                f"{name}: column {column!r} is {schema[column]}, not numbers; "
                "it needs the in-memory reader"
            )
        return source[column].cast("float64")

    quantity, price = number("quantity"), number("price")
    amount = number("amount") if mapping.amount else quantity * price
    columns = {
        "row_id": ibis.literal(0, "int64"),
        "customer_id": text("customer"),
        "invoice": text("invoice"),
        "timestamp": _timestamps(source, mapping.date, schema[mapping.date], name=name),
        "quantity": quantity,
        "price": price,
        "amount": amount,
        "product": text("product"),
        "description": text("description"),
        "country": text("country"),
    }
    originals = [c for c in source.columns if c != COPIES]
    raw = {f"raw_{i}": source[c] for i, c in enumerate(originals)}
    if COPIES in source.columns:
        columns[COPIES] = source[COPIES]
    return source.select(**columns, **raw)


def _trimmed(value: ir.StringValue) -> ir.StringValue:
    """``value.strip()``, called only where a value may need it (a third of the time on DuckDB).

    Ibis trims spaces, tabs, line breaks, vertical tabs and form feeds, all of which sort at or
    before the space: a value needs it when it is empty or starts with such a character (it
    sorts before ``"!"``), or ends with one. ``ends_with`` compares bytes, where the last
    character of ``right(value, 1)`` costs a walk through the text.
    """
    suspect = value < "!"
    for space in WHITESPACE:
        suspect |= value.endswith(space)
    return ibis.ifelse(suspect, value.strip(), value)


def _timestamps(
    source: ir.Table, column: str, dtype: dt_.DataType, *, name: str
) -> ir.TimestampValue:
    value = source[column]
    if dtype.is_timestamp():
        return value.cast("timestamp")
    if dtype.is_date():
        return value.cast("timestamp")
    if dtype.is_string():
        return value.try_cast("timestamp")
    raise EngineUnsupported(
        f"{name}: column {column!r} is {dtype}, not dates; it needs the in-memory reader"
    )


def flagged_lines(
    source: ir.Table, mapping: ColumnMapping, rules: CleaningRules, *, name: str
) -> ir.Table:
    """Every distinct line of a source with its removal reason (an expression, nothing runs).

    Exact copies first collapse into one row with their number in the column
    :data:`~rfm_core.lines.reasons.COPIES` (a hash aggregation that keeps memory bounded, where a
    window over every column would sort the whole log); then :func:`canonical_lines` and
    :func:`rfm_core.lines.cleaning.flag_rows`. Kept lines are those with a null ``drop_reason``.

    Parameters
    ----------
    source : ibis Table
        The file or table.
    mapping : ColumnMapping
        Which column plays which role.
    rules : CleaningRules
        The cleaning rules.
    name : str
        The source's name, for messages.

    Returns
    -------
    ibis Table
        The columns of :func:`canonical_lines` (with :data:`~rfm_core.lines.reasons.COPIES`
        when duplicates are dropped) and those of :func:`~rfm_core.lines.cleaning.flag_rows`.
    """
    integral_text = integral_text_columns(source, mapping)
    if rules.drop_duplicates:
        source = source.group_by(list(source.columns)).agg(**{COPIES: source.count()})
        rules = replace(rules, drop_duplicates=False)
    lines = canonical_lines(source, mapping, name=name, integral_text=integral_text)
    raw = [c for c in lines.columns if c.startswith("raw_")]
    return flag_rows(lines, rules, raw_columns=raw)


# the roles the RFM table and the report need past the collapse of exact copies (the country only
# for a country filter)
RFM_ROLES = ("customer", "invoice", "date", "quantity", "price", "amount")
HASH_COLUMN = "__rfm_other_columns"
SET_COLUMN = "__rfm_grouping_set"
# DuckDB SQL of the 64-bit hash that stands for the columns the RFM does not read; a test swaps it
# for a poor one to show that different rows with the same hash are never taken for copies
OTHER_COLUMNS_HASH = "hash({columns})"


def collapsed_copies(source: ir.Table, keep: Collection[str]) -> tuple[ir.Table, ir.Table | None]:
    """Exact copies collapsed into one row with their number; only the columns ``keep`` stay.

    Two rows are copies when every column is equal. Elsewhere than on DuckDB, all columns are
    grouped. On DuckDB the columns outside ``keep`` (products, descriptions: long text the RFM
    never reads) are grouped by one 64-bit hash of their values instead, which holds a few bytes
    per row where the text would hold dozens; the same aggregation lists the distinct values of
    those columns, and the second table counts the hash values that stand for more than one of
    them. Rows with such a hash could be different rows taken for copies: the result is only
    exact when that count is 0 (:func:`rfm_on_engine` then groups all columns instead). With
    one distinct value per hash, equal keys mean equal rows, exactly as grouping all columns.

    Parameters
    ----------
    source : ibis Table
        The file or table.
    keep : collection of str
        Columns read after the collapse.

    Returns
    -------
    collapsed : ibis Table
        The distinct rows: the columns ``keep`` and :data:`~rfm_core.lines.reasons.COPIES`.
    collisions : ibis Table or None
        One row, ``hash_collisions``: how many distinct values of the other columns share a
        hash with another one. None when every column was grouped.
    """
    kept = [c for c in source.columns if c in keep]
    others = [c for c in source.columns if c not in keep]
    if source._find_backend().name != "duckdb" or not others:
        collapsed = source.group_by(list(source.columns)).agg(**{COPIES: source.count()})
        return collapsed.select(*kept, COPIES), None
    sql = _quoted_names(kept)
    other = _quoted_names(others)
    both = (
        source.alias("__rfm_source")
        .sql(
            f"SELECT {sql}, {HASH_COLUMN}, count(*) AS {COPIES}, "
            f"GROUPING({_quoted_names(kept[:1])}) AS {SET_COLUMN} "
            f"FROM (SELECT *, {OTHER_COLUMNS_HASH.format(columns=other)} AS {HASH_COLUMN} "
            "FROM __rfm_source) "
            f"GROUP BY GROUPING SETS (({sql}, {HASH_COLUMN}), ({HASH_COLUMN}, {other}))"
        )
        .alias("__rfm_collapsed")
    )  # one aggregation for both uses below (a materialised CTE)
    rows = both.filter(both[SET_COLUMN] == 0).select(*kept, COPIES)
    values = both.filter(both[SET_COLUMN] == 1)
    collisions = values.aggregate(hash_collisions=values.count() - values[HASH_COLUMN].nunique())
    return rows, collisions


def _quoted_names(columns: list[str]) -> str:
    return ", ".join('"' + column.replace('"', '""') + '"' for column in columns)


def _line_activity(
    source: ir.Table,
    mapping: ColumnMapping,
    rules: CleaningRules,
    *,
    name: str,
    integral_text: tuple[str, ...],
    hashed: bool,
) -> tuple[ir.Table, ir.Table | None]:
    """:func:`~rfm_core.lines.aggregate.line_activity` of a source, reading only the columns the
    RFM needs past the collapse of copies; the collisions of :func:`collapsed_copies`."""
    roles = (*RFM_ROLES, "country") if rules.countries is not None else RFM_ROLES
    keep = {getattr(mapping, role) for role in roles} - {None}
    collisions = None
    if rules.drop_duplicates:
        if hashed:
            source, collisions = collapsed_copies(source, keep)
        else:
            source = source.group_by(list(source.columns)).agg(**{COPIES: source.count()})
        rules = replace(rules, drop_duplicates=False)
    lines = canonical_lines(source, mapping, name=name, integral_text=integral_text, roles=roles)
    return line_activity(flag_rows(lines, rules, raw_columns=[])), collisions


def rfm_on_engine(
    source: ir.Table,
    *,
    name: str,
    mapping: dict[str, str | None] | ColumnMapping | None = None,
    rules: CleaningRules | None = None,
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS,
    engine: str = "duckdb",
) -> EngineRun:
    """Clean and aggregate a source on its engine; bring back counts and the RFM table.

    One query and one scan of the source: exact copies collapse (:func:`collapsed_copies`),
    every line is flagged with a small reason code, and from
    :func:`~rfm_core.lines.aggregate.line_activity` the engine computes the RFM values, the rows
    per reason and the rows of the customers lost; only these come back, as one table.

    Parameters
    ----------
    source : ibis Table
        The raw lines (:func:`scan_file`, or ``backend.table(name)`` of a warehouse).
    name : str
        Used in messages and reports.
    mapping : ColumnMapping or mapping of role to column, optional
        Detected from a sample of the source when not given; explicit roles win.
    rules : CleaningRules, optional
    segments : tuple of SegmentRule

    Returns
    -------
    EngineRun
    """
    rules = rules or CleaningRules()
    if not isinstance(mapping, ColumnMapping):
        mapping = infer_mapping(sample_of(source, name=name), explicit=mapping)
    if rules.countries is not None and mapping.country is None:
        raise CleaningError("a country filter needs a country column in the mapping")
    results = _fetched_results(source, mapping, rules, name=name)
    totals = results["reasons"].to_pylist()
    rows = {row["reason_code"]: row["rows"] for row in totals}
    by_reason = {reason: rows.get(code, 0) for reason, code in REASON_CODES.items()}
    by_reason["duplicate_row"] = sum(row["duplicates"] for row in totals)
    n_kept = rows.get(KEPT, 0)
    n_in = n_kept + sum(by_reason.values())
    lost = customers_lost(_lost_per_customer(results["lost"]))
    report = removal_report(by_reason, n_in, customers_lost=lost)
    if n_kept == 0:
        raise CleaningError(f"{name}: no line is left after cleaning")
    reference = totals[0]["reference_date"]
    rfm = finish_rfm(results["rfm"], reference, segments)
    notes = (*duplicate_warnings(report, mapping), *rfm.warnings)
    return EngineRun(name, mapping, rules, report, n_in, n_kept, rfm, engine, notes)


def _results(activity: ir.Table, rules: CleaningRules) -> dict[str, ir.Table]:
    """What comes back from the engine, computed there from the activity of the lines: the RFM
    values (``rfm``), the rows per reason with the reference date (``reasons``) and the rows of
    the customers lost (``lost``)."""
    customers = customer_activity(activity)
    if rules.reference_date is not None:
        reference = ibis.literal(rules.reference_date)
    else:  # the day after the last kept purchase
        reference = customers.last_ts.max().date() + ibis.interval(days=1)
    return {
        "rfm": rfm_columns(customers, reference_date=reference),
        "reasons": reason_totals(activity).mutate(reference_date=reference),
        "lost": lost_customer_rows(activity),
    }


def _fetched_results(
    source: ir.Table, mapping: ColumnMapping, rules: CleaningRules, *, name: str
) -> dict[str, pa.Table]:
    """:func:`_results` of the source, in one query; every column grouped when the hash of the
    columns the RFM does not read is not exact for this source (:func:`collapsed_copies`)."""
    backend = source._find_backend()
    integral_text = integral_text_columns(source, mapping)
    for hashed in (True, False):
        activity, collisions = _line_activity(
            source, mapping, rules, name=name, integral_text=integral_text, hashed=hashed
        )
        parts = _results(activity, rules)
        if collisions is not None:
            parts["check"] = collisions
        results = _unstacked(backend.to_pyarrow(_stacked(parts)), parts)
        if collisions is None or not results["check"].column("hash_collisions")[0].as_py():
            break
    return results


PART_COLUMN = "__rfm_part"


def _stacked(parts: dict[str, ir.Table]) -> ir.Table:
    """Several results as one table, so that one query computes them all: each part's rows under
    the columns of every part (null where a part has no such column) and the part's number."""
    types: dict[str, dt_.DataType] = {}
    for table in parts.values():
        for column, dtype in table.schema().items():
            types.setdefault(column, dtype)
    tables = [
        table.select(
            ibis.literal(number, "int8").name(PART_COLUMN),
            *[
                (table[c] if c in table.columns else ibis.null(dtype)).cast(dtype).name(c)
                for c, dtype in types.items()
            ],
        )
        for number, table in enumerate(parts.values())
    ]
    return tables[0].union(*tables[1:], distinct=False) if len(tables) > 1 else tables[0]


def _unstacked(stacked: pa.Table, parts: dict[str, ir.Table]) -> dict[str, pa.Table]:
    """The parts of :func:`_stacked`, each with its own columns (a slice, without a copy, when
    the engine returned its rows together, as DuckDB does)."""
    part = stacked.column(PART_COLUMN)
    found = {}
    for number, (name, table) in enumerate(parts.items()):
        mask = pa.compute.equal(part, number)
        count = pa.compute.sum(mask).as_py() or 0
        first = max(pa.compute.index(part, number).as_py(), 0)
        block = part.slice(first, count)
        together = pa.compute.all(pa.compute.equal(block, number)).as_py() is not False
        rows = stacked.slice(first, count) if together else stacked.filter(mask)
        found[name] = rows.select(table.columns)
    return found


def _lost_per_customer(rows: pa.Table) -> pd.DataFrame:
    """:func:`~rfm_core.lines.aggregate.lost_customer_rows` as
    :func:`~rfm_core.lines.cleaning.customers_lost` reads them: ``rows_<reason>`` per customer,
    none of them with a purchase."""
    names = {code: reason for reason, code in REASON_CODES.items()}
    frame = rows.to_pandas()
    wide = frame.pivot_table(
        index="customer_id", columns="reason_code", values="rows", aggfunc="sum", fill_value=0
    )
    wide = wide.rename(columns=lambda code: f"rows_{names.get(code, 'kept')}")
    wide["purchases"] = 0
    return wide


def distinct_values(
    source: ir.Table, mapping: ColumnMapping, role: str, *, limit: int = 500
) -> list[str]:
    """The distinct trimmed values of a role's column (e.g. countries for the country filter).

    Parameters
    ----------
    source : ibis Table
        The file or table.
    mapping : ColumnMapping
        Which column plays which role.
    role : str
        A text role: ``"customer"``, ``"invoice"``, ``"product"`` or ``"country"``.
    limit : int
        Most values returned.

    Returns
    -------
    list of str
        Sorted, without nulls.
    """
    lines = canonical_lines(source, mapping, name="")
    column = lines[role if role != "customer" else "customer_id"]
    values = lines.select(value=column).filter(column.notnull()).distinct().order_by("value")
    return [str(v) for v in values.limit(limit).to_pyarrow().column("value").to_pylist()]


def customer_orders_on_engine(
    source: ir.Table,
    mapping: ColumnMapping,
    rules: CleaningRules,
    customer_id: str,
) -> pd.DataFrame:
    """One customer's kept orders, read from the source on its engine (oldest first).

    The same columns as :func:`rfm_core.customers.pipeline.customer_orders`. Rules that compare
    customers with each other (the z-score limit) are not re-applied to a single customer's lines.

    Parameters
    ----------
    source : ibis Table
        The file or table.
    mapping : ColumnMapping
        Which column plays which role.
    rules : CleaningRules
        The cleaning rules.
    customer_id : str
        The customer, as in the ``customer_id`` column.

    Returns
    -------
    pandas.DataFrame
        ``order, timestamp, lines, amount, is_return``: one row per invoice (or per timestamp
        without an invoice column); empty when the id has no kept line.
    """
    lines = canonical_lines(source, mapping, name="")
    mine = lines.filter(lines.customer_id == customer_id)
    raw = [c for c in mine.columns if c.startswith("raw_")]
    flags = flag_rows(mine, replace(rules, max_zscore=None), raw_columns=raw)
    kept = flags.filter(flags.drop_reason.isnull())
    return orders_of(kept, backend=source._find_backend())
