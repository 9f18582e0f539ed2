"""Cleaning rules, each counting the rows it removes.

Every input row ends up either kept or removed under exactly one reason: the first rule, in the
order of :data:`REASONS`, that matches it. The report therefore always satisfies
``rows in = rows kept + Σ rows removed``.

What counts as a purchase
-------------------------
A line with a customer id, a readable date, a positive quantity (when there is a quantity
column), a positive price (or a positive amount) and an invoice number that does not start with
``C``. With ``returns="drop"`` (the default) cancellations and non-positive quantities are
removed. With ``returns="net"`` they are kept as *returns*: their (negative) amounts are
subtracted from the customer's monetary value, but they never count as a purchase for recency or
frequency; the rows of customers who only returned goods are removed under
``return_without_purchase``.

The rules are written once as an Ibis expression (:func:`flag_rows`) and executed by an embedded
DuckDB; the same expression can run on any Ibis backend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfm_core.errors import CleaningError
from rfm_core.ingest.schema import ColumnMapping, Transactions
from rfm_core.lines.aggregate import aggregate_customers
from rfm_core.lines.reasons import (
    BEFORE_DUPLICATES,
    COPIES,
    KEPT,
    REASON_CODES,
    REASONS,
    RETURN_REASONS,
)

__all__ = [
    "CANONICAL_COLUMNS",
    "LINE_COLUMNS",
    "CleaningResult",
    "CleaningRules",
    "clean",
    "customers_lost",
    "duplicate_warnings",
    "flag_rows",
    "kept_and_removed",
    "purchase_condition",
    "reason_name",
    "removal_report",
]

REASON_CODE_TYPE = "int8"

Returns = Literal["drop", "net"]

CANONICAL_COLUMNS = (
    "row_id", "customer_id", "invoice", "timestamp", "quantity", "price", "amount", "product",
    "description", "country",
)  # fmt: skip


@dataclass(frozen=True)
class CleaningRules:
    """Which rows to remove.

    Parameters
    ----------
    returns : {"drop", "net"}
        Drop cancellations and non-positive quantities (default), or keep them as returns netted
        against the customer's purchases.
    drop_duplicates : bool
        Remove exact duplicate rows, keeping the first (default True).
    countries : tuple of str, optional
        Keep only these countries (needs a country column).
    date_from, date_to : datetime.date, optional
        Keep only lines dated within this window (both ends included).
    max_quantity, max_line_amount : float, optional
        Remove lines whose absolute quantity or absolute line amount exceeds the cap.
    max_zscore : float, optional
        Remove every line of customers whose recency, frequency or monetary value lies more than
        this many standard deviations from the mean (computed on the lines kept by the other rules).
    reference_date : datetime.date, optional
        Lines dated after it are removed under ``after_reference_date``; see
        :mod:`rfm_core.customers.rfm`.
    """

    returns: Returns = "drop"
    drop_duplicates: bool = True
    countries: tuple[str, ...] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    max_quantity: float | None = None
    max_line_amount: float | None = None
    max_zscore: float | None = None
    reference_date: dt.date | None = None

    def __post_init__(self) -> None:
        if self.returns not in ("drop", "net"):
            raise CleaningError(f"returns must be 'drop' or 'net', got {self.returns!r}")
        for name in ("max_quantity", "max_line_amount", "max_zscore"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise CleaningError(f"{name} must be positive, got {value!r}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise CleaningError(f"date_from ({self.date_from}) is after date_to ({self.date_to})")


_NO_CANCELLED = pa.table(
    {
        "customer_id": pa.array([], pa.string()),
        "amount": pa.array([], pa.float64()),
        "quantity": pa.array([], pa.float64()),
        "product": pa.array([], pa.string()),
        "description": pa.array([], pa.string()),
    }
)


@dataclass(frozen=True)
class CleaningResult:
    """Kept lines and the account of removed ones.

    Attributes
    ----------
    transactions : pyarrow.Table
        Kept lines, canonical columns (see :data:`CANONICAL_COLUMNS`) plus ``is_return``.
    report : pandas.DataFrame
        One row per reason in rule order, columns ``reason, description, rows, share,
        customers`` (:func:`removal_report`); the sum of ``rows`` plus :attr:`n_kept` equals
        :attr:`n_in`, and ``customers`` counts the customers lost (:func:`customers_lost`).
    n_in, n_kept : int
        Rows read and rows kept.
    rules : CleaningRules
        The rules applied.
    warnings : tuple of str
    cancelled : pyarrow.Table
        ``customer_id, amount, quantity, product, description`` of the removed returns (reasons
        ``cancellation`` and ``non_positive_quantity``): not part of RFM, but a customer whose
        large order was later cancelled is worth a second look (see
        :mod:`rfm_core.segments.anomalies`), and a product's revenue does not count lines later
        cancelled (:func:`rfm_core.customers.trends.top_products`).
    """

    transactions: pa.Table
    report: pd.DataFrame
    n_in: int
    n_kept: int
    rules: CleaningRules
    warnings: tuple[str, ...] = field(default_factory=tuple)
    cancelled: pa.Table = field(default_factory=lambda: _NO_CANCELLED)

    @property
    def n_removed(self) -> int:
        """Rows removed by all rules together."""
        return self.n_in - self.n_kept

    @property
    def n_customers(self) -> int:
        """Distinct customers among the kept lines."""
        return len(pa.compute.unique(self.transactions.column("customer_id")))


def purchase_condition(t: ir.Table) -> ir.BooleanValue:
    """Return the condition of a purchase line (as opposed to a return) on a canonical table.

    A purchase has an invoice not starting with ``C``, a positive (or no) quantity and a positive
    amount.

    Parameters
    ----------
    t : ibis Table
        Canonical lines (``invoice, quantity, amount``).

    Returns
    -------
    ibis boolean expression
    """
    not_cancelled = ~t.invoice.fill_null("").startswith("C")
    positive_quantity = t.quantity.isnull() | (t.quantity > 0)
    return not_cancelled & positive_quantity & (t.amount > 0)


def flag_rows(t: ir.Table, rules: CleaningRules, *, raw_columns: list[str]) -> ir.Table:
    """Add ``reason_code``, ``is_return`` and ``drop_reason`` (null for kept lines) to a canonical
    table.

    Parameters
    ----------
    t : ibis Table
        Canonical columns and the raw columns named in ``raw_columns``.
    rules : CleaningRules
    raw_columns : list of str
        Columns whose equality defines an exact duplicate row.

    Returns
    -------
    ibis Table
        The canonical columns, ``reason_code`` (:data:`~rfm_core.lines.reasons.REASON_CODES`,
        :data:`~rfm_core.lines.reasons.KEPT` for a kept line), ``is_return`` and
        ``drop_reason``. Engines compute and group by the small code; the name is computed only
        where it is read (a written line, a report).
    """
    conditions = _row_conditions(t, rules, raw_columns)
    code = ibis.cases(*[(cond, REASON_CODES[name]) for name, cond in conditions], else_=KEPT)
    # an engine that collapsed exact copies first carries their number along (see
    # rfm_core.customers.engine)
    extra = [COPIES] if COPIES in t.columns else []
    flagged = t.select(*CANONICAL_COLUMNS, *extra, reason_code=code.cast(REASON_CODE_TYPE))
    flagged = flagged.mutate(is_return=~purchase_condition(flagged))
    if rules.returns == "net":
        flagged = _flag_returns_without_purchase(flagged)
    if rules.max_zscore is not None:
        flagged = _flag_zscore_outliers(flagged, rules)
    return flagged.mutate(drop_reason=reason_name(flagged.reason_code))


def reason_name(code: ir.IntegerValue) -> ir.StringValue:
    """The name of a reason code (:data:`~rfm_core.lines.reasons.REASON_CODES`); null when kept.

    Parameters
    ----------
    code : ibis integer expression
        ``reason_code`` of :func:`flag_rows`.

    Returns
    -------
    ibis string expression
    """
    return code.cases(*[(c, name) for name, c in REASON_CODES.items()], else_=ibis.null(str))


def _row_conditions(
    t: ir.Table, rules: CleaningRules, raw_columns: list[str]
) -> list[tuple[str, ir.BooleanValue]]:
    false = ibis.literal(False)
    day = t.timestamp.date()
    conditions: list[tuple[str, ir.BooleanValue]] = [
        ("missing_customer_id", t.customer_id.isnull()),
        ("unparseable_date", t.timestamp.isnull()),
        ("invalid_number", t.amount.isnull() | t.amount.isnan()),
    ]
    if rules.drop_duplicates:
        window = ibis.window(group_by=[t[c] for c in raw_columns], order_by=t.row_id)
        conditions.append(("duplicate_row", ibis.row_number().over(window) > 0))
    if rules.reference_date is not None:
        conditions.append(("after_reference_date", day > rules.reference_date))
    if rules.date_from is not None or rules.date_to is not None:
        outside = false
        if rules.date_from is not None:
            outside = outside | (day < rules.date_from)
        if rules.date_to is not None:
            outside = outside | (day > rules.date_to)
        conditions.append(("outside_date_window", outside))
    if rules.countries is not None:
        conditions.append(
            ("country_excluded", t.country.isnull() | ~t.country.isin(list(rules.countries)))
        )
    if rules.returns == "drop":
        conditions.append(("cancellation", t.invoice.fill_null("").startswith("C")))
        conditions.append(("non_positive_quantity", t.quantity.notnull() & (t.quantity <= 0)))
        conditions.append(("non_positive_price", _non_positive_price(t)))
    else:
        # returns are kept with a negative amount; a zero amount or price is never a purchase
        conditions.append(("non_positive_price", _non_positive_price(t, returns_kept=True)))
    if rules.max_quantity is not None:
        conditions.append(("quantity_cap", t.quantity.abs() > rules.max_quantity))
    if rules.max_line_amount is not None:
        conditions.append(("line_amount_cap", t.amount.abs() > rules.max_line_amount))
    return conditions


def _non_positive_price(t: ir.Table, *, returns_kept: bool = False) -> ir.BooleanValue:
    price_bad = t.price.notnull() & (t.price <= 0)
    amount_bad = (t.amount == 0) if returns_kept else (t.amount <= 0)
    return price_bad | amount_bad


LINE_COLUMNS = (*CANONICAL_COLUMNS[1:], "is_return")
"""The columns of a written line: the canonical columns without the internal ``row_id``."""


def kept_and_removed(flags: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Split flagged lines into the kept lines and the removed lines with their reason.

    Parameters
    ----------
    flags : ibis Table
        :func:`flag_rows` (in memory), or
        :func:`rfm_core.customers.engine.flagged_lines` (on an engine, where exact copies were
        collapsed into one row with their number in
        :data:`~rfm_core.lines.reasons.COPIES`).

    Returns
    -------
    kept : ibis Table
        The kept lines, columns :data:`LINE_COLUMNS`.
    removed : ibis Table
        One row per removed input row, columns :data:`LINE_COLUMNS` and ``drop_reason``; the
        rows of each reason add up to the report's. Collapsed copies are written out again: all
        copies under a reason checked before duplicates, else the first under its reason (none
        when kept) and the others as ``duplicate_row``.
    """
    kept = flags.filter(flags.drop_reason.isnull())
    if "row_id" in flags.columns:
        kept = kept.order_by("row_id")
    kept = kept.select(*LINE_COLUMNS)
    if COPIES not in flags.columns:
        removed = flags.filter(flags.drop_reason.notnull())
        if "row_id" in flags.columns:
            removed = removed.order_by("row_id")
        return kept, removed.select(*LINE_COLUMNS, "drop_reason")
    copies = flags[COPIES].cast("int64")
    early = flags.drop_reason.isin(list(BEFORE_DUPLICATES)).fill_null(False)
    each = flags.mutate(copy=ibis.range(0, copies).unnest(), early=early)
    each = each.filter(each.drop_reason.notnull() | (each.copy > 0))
    own = each.early | (each.copy == 0)  # a kept row's copy 0 was filtered out above
    reason = ibis.ifelse(own, each.drop_reason, ibis.literal("duplicate_row"))
    return kept, each.mutate(drop_reason=reason).select(*LINE_COLUMNS, "drop_reason")


def _flag_returns_without_purchase(t: ir.Table) -> ir.Table:
    kept = t.filter(t.reason_code == KEPT)
    buyers = kept.filter(~kept.is_return)
    return _flag_customers(t, buyers, "return_without_purchase", listed=False)


def _flag_zscore_outliers(t: ir.Table, rules: CleaningRules) -> ir.Table:
    kept = t.filter(t.reason_code == KEPT)
    reference = kept.filter(~kept.is_return).timestamp.max().date() + ibis.interval(days=1)
    if rules.reference_date is not None:
        reference = ibis.literal(rules.reference_date)
    per_customer = aggregate_customers(kept, reference_date=reference)
    features = ("recency", "frequency", "monetary")
    # mean and spread as a one-row table joined to every customer (rather than window
    # functions, which not every engine compiles on an aggregated table)
    stats = per_customer.aggregate(
        **{f"mean_{c}": per_customer[c].cast("float64").mean() for c in features},
        **{f"std_{c}": per_customer[c].cast("float64").std(how="pop") for c in features},
    )
    scored = per_customer.cross_join(stats)
    outlier = ibis.literal(False)
    for column in features:
        std = scored[f"std_{column}"]
        deviation = scored[column].cast("float64") - scored[f"mean_{column}"]
        z = (deviation / ibis.ifelse(std > 0, std, 1.0)).abs()
        outlier = outlier | (z > rules.max_zscore)
    outliers = scored.filter(outlier)
    return _flag_customers(t, outliers, "customer_zscore_outlier", listed=True)


def _flag_customers(t: ir.Table, customers: ir.Table, reason: str, *, listed: bool) -> ir.Table:
    """Give ``reason`` to the kept lines of the customers in ``customers`` (or not in it)."""
    marks = customers.select("customer_id").distinct().mutate(listed=ibis.literal(True))
    joined = t.left_join(marks, "customer_id").select(t, "listed")
    hit = (joined.reason_code == KEPT) & (
        joined.listed.notnull() if listed else joined.listed.isnull()
    )
    code = ibis.ifelse(hit, REASON_CODES[reason], joined.reason_code).cast(REASON_CODE_TYPE)
    return joined.mutate(reason_code=code).drop("listed")


def clean(
    transactions: Transactions,
    rules: CleaningRules | None = None,
    *,
    backend: ibis.BaseBackend | None = None,
) -> CleaningResult:
    """Apply the cleaning rules and account for every row.

    Parameters
    ----------
    transactions : Transactions
        Output of :func:`rfm_core.ingest.schema.prepare_transactions`.
    rules : CleaningRules, optional
        Defaults to ``CleaningRules()``.
    backend : ibis backend, optional
        Where to run the expression; a fresh in-memory DuckDB by default.

    Returns
    -------
    CleaningResult

    Raises
    ------
    CleaningError
        When a rule needs a column the file does not have, or no line is left.
    """
    rules = rules or CleaningRules()
    if rules.countries is not None and transactions.mapping.country is None:
        raise CleaningError("a country filter needs a country column in the mapping")
    con = backend or ibis.duckdb.connect()
    flags = flag_rows(
        ibis.memtable(transactions.table), rules, raw_columns=transactions.raw_column_names
    )
    # only the verdict per row travels back; the lines themselves are filtered in Arrow,
    # which avoids converting every text column out of the engine
    verdict = con.to_pyarrow(flags.select("row_id", "drop_reason", "is_return"))
    kept, cancelled, counts, lost = _apply_verdict(transactions.table, verdict)
    report = removal_report(counts, transactions.n_rows, customers_lost=lost)
    result = CleaningResult(
        kept,
        report,
        transactions.n_rows,
        kept.num_rows,
        rules,
        (*_warnings(transactions), *duplicate_warnings(report, transactions.mapping)),
        cancelled,
    )
    if result.n_kept == 0:
        top = report.sort_values("rows", ascending=False).iloc[0]
        raise CleaningError(
            f"{transactions.file_name}: no line is left after cleaning; "
            f"{top['rows']:,} of {result.n_in:,} rows were removed as {top['reason']!r} "
            f"({top['description']})"
        )
    return result


def _apply_verdict(
    lines: pa.Table, verdict: pa.Table
) -> tuple[pa.Table, pa.Table, dict[str, int], dict[str, int]]:
    """Return the kept lines in input order (with ``is_return``), the removed returns, the
    count of rows per reason and the customers lost per reason."""
    order = np.argsort(verdict.column("row_id").to_numpy())
    reason = verdict.column("drop_reason").take(order)
    is_return = verdict.column("is_return").take(order)
    kept = lines.select(list(CANONICAL_COLUMNS)).append_column("is_return", is_return)
    counts = pc.value_counts(reason.drop_null()).to_pylist()
    returned = pc.is_in(reason, pa.array(RETURN_REASONS))
    cancelled = lines.select(_NO_CANCELLED.column_names).filter(returned)
    return (
        kept.filter(pc.is_null(reason)),
        cancelled.cast(_NO_CANCELLED.schema),
        {c["values"]: int(c["counts"]) for c in counts},
        customers_lost(_rows_per_customer(lines.column("customer_id"), reason, is_return)),
    )


def _rows_per_customer(
    customer_id: pa.ChunkedArray, reason: pa.Array, is_return: pa.Array
) -> pd.DataFrame:
    """``purchases`` (kept purchase lines) and ``rows_<reason>`` per customer id (not null)."""
    frame = pa.table(
        {
            "customer_id": customer_id,
            "reason": pc.fill_null(reason, "kept"),
            "purchase": pc.and_(pc.is_null(reason), pc.invert(is_return)).cast(pa.int64()),
        }
    ).filter(pc.is_valid(customer_id))
    counts = frame.group_by(["customer_id", "reason"]).aggregate(
        [("purchase", "sum"), ("purchase", "count")]
    )
    table = counts.to_pandas()
    rows = table.pivot(index="customer_id", columns="reason", values="purchase_count")
    per_customer = rows.rename(columns=lambda r: f"rows_{r}").fillna(0)
    per_customer["purchases"] = table.groupby("customer_id")["purchase_sum"].sum()
    return per_customer


def customers_lost(per_customer: pd.DataFrame) -> dict[str, int]:
    """Customers lost by cleaning, each under one reason.

    A customer is **lost** when they have rows (an id) but no kept purchase: they are in the
    file and not in the RFM table. Each lost customer is counted under the reason that removed
    most of their rows, exact duplicates left aside (a copy never loses anyone: the row it
    copies was removed for a reason of its own); on a tie, the earlier rule in the order of
    :data:`~rfm_core.lines.reasons.REASONS` (a customer with one cancelled and one zero-price
    line counts as a ``cancellation``). The counts add up to the customers lost.

    Parameters
    ----------
    per_customer : pandas.DataFrame
        One row per customer id: ``purchases`` (kept purchases: lines, orders or a frequency,
        only zero matters) and ``rows_<reason>`` counts (missing reasons removed none), as
        :func:`rfm_core.lines.aggregate.lost_customer_rows` gives them (one column per reason).

    Returns
    -------
    dict of str to int
        Reason → customers lost under it (reasons that lost nobody are left out).
    """
    lost = per_customer[per_customer["purchases"].fillna(0) == 0]
    if lost.empty:
        return {}
    causes = [reason for reason in REASONS if reason != "duplicate_row"]
    rows = lost.reindex(columns=[f"rows_{r}" for r in causes], fill_value=0).fillna(0).to_numpy()
    first_largest = rows.argmax(axis=1)  # argmax returns the first maximum: the earlier rule
    reasons = np.asarray(causes)[first_largest]
    values, counts = np.unique(reasons, return_counts=True)
    return {str(v): int(c) for v, c in zip(values, counts, strict=True)}


def duplicate_warnings(report: pd.DataFrame, mapping: ColumnMapping) -> tuple[str, ...]:
    """Say that exact copies may be real repeat orders when nothing numbers the orders.

    Without an invoice column two orders of the same items, for the same amount, by one
    customer on one day (a date without a time) are identical rows: removing exact duplicates
    may remove real orders.

    Parameters
    ----------
    report : pandas.DataFrame
        :func:`removal_report`.
    mapping : ColumnMapping
        The file's roles.

    Returns
    -------
    tuple of str
        One warning when the file has no invoice column and rows were removed as
        ``duplicate_row``; empty otherwise.
    """
    removed = int(report.set_index("reason").loc["duplicate_row", "rows"])
    if mapping.invoice is not None or removed == 0:
        return ()
    return (
        f"the file has no invoice column, so the {removed:,} rows removed as exact duplicates "
        "may be real repeat orders (same customer, date, items and amount); keep them by "
        "switching off the removal of exact duplicates (--keep-duplicates)",
    )


def removal_report(
    by_reason: dict[str, int], n_in: int, *, customers_lost: dict[str, int] | None = None
) -> pd.DataFrame:
    """The cleaning report: one row per removal reason, in rule order.

    Parameters
    ----------
    by_reason : dict of str to int
        Rows removed per reason (missing reasons removed none).
    n_in : int
        Rows read.
    customers_lost : dict of str to int, optional
        Customers lost per reason (:func:`customers_lost`); none by default.

    Returns
    -------
    pandas.DataFrame
        ``reason, description, rows, share`` (share of the rows read) and ``customers``
        (customers lost under the reason: in the file, with no kept purchase).
    """
    lost = customers_lost or {}
    rows = [
        {
            "reason": reason,
            "description": text,
            "rows": int(by_reason.get(reason, 0)),
            "customers": int(lost.get(reason, 0)),
        }
        for reason, text in REASONS.items()
    ]
    report = pd.DataFrame(rows, columns=["reason", "description", "rows", "customers"])
    report.insert(3, "share", report["rows"] / n_in if n_in else 0.0)
    return report


def _warnings(transactions: Transactions) -> tuple[str, ...]:
    messages = []
    dates = transactions.dates
    if dates.n_bad:
        messages.append(
            f"column {transactions.mapping.date!r}: {dates.n_bad:,} values are not dates, "
            f"first: {dates.bad_examples[0]!r}"
        )
    if dates.ambiguous:
        messages.append(
            f"column {transactions.mapping.date!r}: every date fits both day-first and "
            f"month-first order; read as {dates.format}. Choose the order if that is wrong."
        )
    future = _future_dates(transactions.table.column("timestamp"))
    if future:
        messages.append(
            f"column {transactions.mapping.date!r}: {future[0]:,} lines are dated in the future "
            f"(latest {future[1]}); they count unless a reference date leaves them out"
        )
    for column, parsed in transactions.number_issues.items():
        messages.append(
            f"column {column!r}: {parsed.n_bad:,} values are not numbers, "
            f"first: {parsed.bad_examples[0]!r}"
        )
    return tuple(messages)


def _future_dates(timestamps: pa.ChunkedArray) -> tuple[int, dt.date] | None:
    """Count the lines dated after today and return the latest date, if there are any."""
    now = pa.scalar(dt.datetime.now(), pa.timestamp("us"))
    ahead = timestamps.filter(pc.greater(timestamps, now))
    if len(ahead) == 0:
        return None
    return len(ahead), pc.max(ahead).as_py().date()
