"""Flagged lines → activity per customer and reason → one row per customer: what engines run.

Ibis expressions. :func:`line_activity` reads the flagged lines once and keeps, per customer,
removal reason (a small code, :data:`~rfm_core.lines.reasons.REASON_CODES`) and kind of line
(purchase or return), the dates, orders, money and rows; it is the only step that sees every line,
and a large log is read once for both the RFM table and the cleaning report. On its result —
about one row per customer — :func:`customer_activity` and :func:`rfm_columns` give the RFM values,
:func:`reason_totals` the rows removed per reason and :func:`lost_customer_rows` the rows of the
customers that cleaning loses. Money is summed exactly as whole ten-thousandths of the currency
(:data:`MONEY_UNITS`), so no engine or row order changes a cent. Recency, frequency and monetary
are defined in :mod:`rfm_core.customers.rfm`.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from rfm_core.lines.reasons import (
    BEFORE_DUPLICATES,
    COPIES,
    KEPT,
    REASON_CODES,
    RETURN_REASONS,
)

__all__ = [
    "MONEY_UNITS",
    "aggregate_customers",
    "customer_activity",
    "line_activity",
    "lost_customer_rows",
    "money_units",
    "reason_totals",
    "rfm_columns",
]

_EARLY = [REASON_CODES[reason] for reason in BEFORE_DUPLICATES]
_RETURNS = [REASON_CODES[reason] for reason in RETURN_REASONS]


def line_activity(flags: ir.Table) -> ir.Table:
    """Aggregate flagged lines per customer, reason and kind of line, in one pass.

    Parameters
    ----------
    flags : ibis Table
        Lines with ``customer_id, invoice, timestamp, amount, is_return, reason_code``
        (:func:`rfm_core.lines.cleaning.flag_rows`), and :data:`~rfm_core.lines.reasons.COPIES`
        when an engine collapsed exact copies into one row.

    Returns
    -------
    ibis Table
        One row per ``customer_id`` (null included), ``reason_code`` and ``is_return``:
        ``first_ts, last_ts``; ``orders``, the distinct orders (invoices, or timestamps without
        an invoice column) of kept purchases; ``units`` and ``abs_units``, the amounts and
        absolute amounts in :data:`MONEY_UNITS`; ``lines``, the distinct rows, and ``copies``,
        the input rows they stand for (``lines`` when nothing was collapsed).
    """
    purchase = (flags.reason_code == KEPT) & ~flags.is_return
    order_key = ibis.coalesce(flags.invoice, flags.timestamp.cast("string"))
    units = money_units(flags.amount)
    copies = flags[COPIES].cast("int64").sum() if COPIES in flags.columns else flags.count()
    return flags.group_by("customer_id", "reason_code", "is_return").agg(
        first_ts=flags.timestamp.min(),
        last_ts=flags.timestamp.max(),
        orders=order_key.nunique(where=purchase),
        units=units.sum(),
        abs_units=units.abs().sum(),
        lines=flags.count(),
        copies=copies.cast("int64"),
    )


def customer_activity(activity: ir.Table) -> ir.Table:
    """One row per customer of :func:`line_activity`: the inputs of :func:`rfm_columns`.

    Parameters
    ----------
    activity : ibis Table
        :func:`line_activity`.

    Returns
    -------
    ibis Table
        One row per customer id (null included): ``first_ts, last_ts`` and ``frequency`` of the
        kept purchases, ``units`` (kept amounts), ``netted`` (kept returns) and ``removed``
        (returns removed by cleaning) in :data:`MONEY_UNITS`.
    """
    kept = activity.reason_code == KEPT
    purchase = kept & ~activity.is_return
    return activity.group_by("customer_id").agg(
        first_ts=activity.first_ts.min(where=purchase),
        last_ts=activity.last_ts.max(where=purchase),
        frequency=activity.orders.sum(where=purchase).fill_null(0),
        units=activity.units.sum(where=kept),
        netted=activity.abs_units.sum(where=kept & activity.is_return),
        removed=activity.abs_units.sum(where=activity.reason_code.isin(_RETURNS)),
    )


def _rows(activity: ir.Table) -> ir.IntegerValue:
    """Input rows a reason removed: every copy under a reason checked before duplicates, else
    one per distinct row (the other copies are duplicates)."""
    return ibis.ifelse(activity.reason_code.isin(_EARLY), activity.copies, activity.lines)


def reason_totals(activity: ir.Table) -> ir.Table:
    """Rows per reason code, and the exact copies removed as duplicates.

    Parameters
    ----------
    activity : ibis Table
        :func:`line_activity`.

    Returns
    -------
    ibis Table
        One row per ``reason_code`` present (:data:`~rfm_core.lines.reasons.KEPT` for the kept
        lines): ``rows`` and ``duplicates``, the extra copies of its distinct rows that count as
        ``duplicate_row`` (none for the reasons that remove every copy).
    """
    early = activity.reason_code.isin(_EARLY)
    return activity.group_by("reason_code").agg(
        rows=_rows(activity).sum().cast("int64"),
        duplicates=ibis.ifelse(early, 0, activity.copies - activity.lines).sum().cast("int64"),
    )


def lost_customer_rows(activity: ir.Table) -> ir.Table:
    """The rows of the customers (with an id) that have no kept purchase, per reason.

    Parameters
    ----------
    activity : ibis Table
        :func:`line_activity`.

    Returns
    -------
    ibis Table
        ``customer_id, reason_code, rows`` (rows as in :func:`reason_totals`), for the
        customers :func:`rfm_core.lines.cleaning.customers_lost` accounts for.
    """
    purchase = (activity.reason_code == KEPT) & ~activity.is_return & (activity.orders > 0)
    buyers = activity.filter(purchase).select("customer_id")
    others = activity.filter(activity.customer_id.notnull()).anti_join(buyers, "customer_id")
    return others.group_by("customer_id", "reason_code").agg(rows=_rows(others).sum())


def rfm_columns(activity: ir.Table, *, reference_date: dt.date | ir.DateValue) -> ir.Table:
    """Turn :func:`customer_activity` into RFM values for customers with a kept purchase.

    Parameters
    ----------
    activity : ibis Table
        :func:`customer_activity`.
    reference_date : date or ibis date expression
        The day the observation ends: recency and tenure count whole days up to it.

    Returns
    -------
    ibis Table
        ``customer_id, recency, frequency, monetary, first_purchase, last_purchase,
        tenure_days, avg_order_value, mean_days_between_purchases, cancelled_amount``
        (monetary not yet clipped).
    """
    reference = (
        ibis.literal(reference_date) if isinstance(reference_date, dt.date) else reference_date
    )
    a = activity.filter(activity.customer_id.notnull() & (activity.frequency > 0))
    monetary = a.units.fill_null(0).cast("float64") / MONEY_UNITS
    returned = a.netted.fill_null(0) + a.removed.fill_null(0)
    first, last = a.first_ts.date(), a.last_ts.date()
    span = last.delta(first, unit="day")
    return a.select(
        "customer_id",
        recency=reference.delta(last, unit="day"),
        frequency=a.frequency,
        monetary=monetary.round(2),
        first_purchase=first,
        last_purchase=last,
        tenure_days=reference.delta(first, unit="day"),
        avg_order_value=_per_order(a.units.fill_null(0), a.frequency),
        mean_days_between_purchases=ibis.ifelse(
            a.frequency > 1, span / (a.frequency - 1), ibis.null("float64")
        ),
        cancelled_amount=(returned.cast("float64") / MONEY_UNITS).round(2),
    )


def _per_order(units: ir.IntegerValue, orders: ir.IntegerValue) -> ir.FloatingValue:
    """Money per order in whole cents, ties rounded away from zero, in integer arithmetic.

    Rounding the float quotient is not the same on every engine at a tie (36.675 is a hair below
    in binary: DuckDB gives 36.67, Spark rounds its decimal text to 36.68); on whole
    ten-thousandths and orders the cent is exact everywhere.
    """
    per_cent = orders * (MONEY_UNITS // 100)  # ten-thousandths per cent, times the orders
    cents = (units.abs() * 2 + per_cent) // (per_cent * 2)
    return ibis.ifelse(units < 0, -cents, cents).cast("float64") / 100


def aggregate_customers(
    t: ir.Table,
    *,
    reference_date: dt.date | ir.DateValue,
    cancelled: ir.Table | None = None,
) -> ir.Table:
    """Per-customer RFM values of kept lines: :func:`line_activity`, :func:`customer_activity`
    then :func:`rfm_columns`.

    Parameters
    ----------
    t : ibis Table
        Kept lines with columns ``customer_id, invoice, timestamp, amount, is_return``.
    reference_date : date or ibis date expression
    cancelled : ibis Table, optional
        Removed returns, ``customer_id, amount`` (:attr:`CleaningResult.cancelled`).

    Returns
    -------
    ibis Table
        The columns of :func:`rfm_columns`, one row per customer with a kept purchase.
    """
    columns = ["customer_id", "invoice", "timestamp", "amount", "is_return"]
    lines = t.select(*columns, reason_code=ibis.literal(KEPT, "int8"))
    if cancelled is not None:
        removed = cancelled.select(
            "customer_id",
            invoice=ibis.null(t.invoice.type()),
            timestamp=ibis.null(t.timestamp.type()),
            amount=cancelled.amount.cast(t.amount.type()),
            is_return=ibis.literal(True),
            reason_code=ibis.literal(_RETURNS[0], "int8"),
        )
        lines = lines.union(removed)
    return rfm_columns(customer_activity(line_activity(lines)), reference_date=reference_date)


MONEY_UNITS = 10_000  # line amounts are summed as whole ten-thousandths of the currency


def money_units(amount: ir.FloatingValue) -> ir.IntegerValue:
    """Line amounts as integers, so that sums are exact and the same in any order or engine.

    Parameters
    ----------
    amount : ibis float expression
        Line amounts in currency.

    Returns
    -------
    ibis integer expression
        The amounts in :data:`MONEY_UNITS` per currency unit, rounded.
    """
    return (amount * MONEY_UNITS).round().cast("int64")
