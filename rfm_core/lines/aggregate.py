"""Kept lines → one row per customer: the aggregation every engine runs.

One Ibis expression (:func:`customer_activity` then :func:`rfm_columns`) turns flagged lines
into per-customer purchase dates, order counts and money, and counts every removal reason in the
same scan, so a large log is read once for both the RFM table and the cleaning report. Money
is summed exactly as whole ten-thousandths of the currency (:data:`MONEY_UNITS`), so no engine
or row order changes a cent. Recency, frequency and monetary are defined in
:mod:`rfm_core.customers.rfm`.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from rfm_core.lines.reasons import BEFORE_DUPLICATES, COPIES, REASONS, RETURN_REASONS

__all__ = [
    "MONEY_UNITS",
    "aggregate_customers",
    "customer_activity",
    "money_units",
    "rfm_columns",
]


def customer_activity(flags: ir.Table) -> ir.Table:
    """Aggregate flagged lines per customer in one pass (one Ibis expression).

    Parameters
    ----------
    flags : ibis Table
        Lines with ``customer_id, invoice, timestamp, amount, is_return, drop_reason``
        (:func:`rfm_core.lines.cleaning.flag_rows`); ``drop_reason`` is null for kept lines.

    Returns
    -------
    ibis Table
        One row per customer id (null included): ``first_ts, last_ts`` and ``frequency`` of the
        kept purchases, ``units`` (kept amounts), ``netted`` (kept returns) and ``removed``
        (returns removed by cleaning) in :data:`MONEY_UNITS`, and ``rows_kept`` plus one
        ``rows_<reason>`` count per removal reason, so that a single scan of a large log gives
        both the RFM table and the cleaning report.
    """
    # Two steps: first per customer, reason and kind of line (a few groups per customer, with
    # plain aggregates), then per customer. On a 13-million-line log this is twice as fast as
    # one step with a filtered aggregate per reason, and gives the same numbers: every line of
    # a customer's kept purchases falls in one first-step group.
    kept = flags.drop_reason.isnull()
    units = money_units(flags.amount)
    order_key = ibis.coalesce(flags.invoice, flags.timestamp.cast("string"))
    copied = COPIES in flags.columns
    steps = {
        "first_ts": flags.timestamp.min(),
        "last_ts": flags.timestamp.max(),
        "orders": order_key.nunique(where=kept & ~flags.is_return),
        "units": units.sum(),
        "abs_units": units.abs().sum(),
        "lines": flags.count(),
    }
    if copied:
        steps["copies"] = flags[COPIES].cast("int64").sum()
    g = flags.group_by("customer_id", "drop_reason", "is_return").agg(**steps)

    kept = g.drop_reason.isnull()
    purchase = kept & ~g.is_return
    reasons = {f"rows_{reason}": g.lines.sum(where=g.drop_reason == reason) for reason in REASONS}
    if copied:
        # exact copies were collapsed into one row: the extra copies of a row count under the
        # reason that removes all copies, or else as duplicate_row (see rfm_core.customers.engine)
        early = g.drop_reason.isin(list(BEFORE_DUPLICATES)).fill_null(False)
        for reason in BEFORE_DUPLICATES:
            reasons[f"rows_{reason}"] = g.copies.sum(where=g.drop_reason == reason)
        reasons["rows_duplicate_row"] = (g.copies - g.lines).sum(where=~early)
    counts = {name: value.fill_null(0) for name, value in reasons.items()}
    return g.group_by("customer_id").agg(
        first_ts=g.first_ts.min(where=purchase),
        last_ts=g.last_ts.max(where=purchase),
        frequency=g.orders.sum(where=purchase).fill_null(0),
        units=g.units.sum(where=kept),
        netted=g.abs_units.sum(where=kept & g.is_return),
        removed=g.abs_units.sum(where=g.drop_reason.isin(list(RETURN_REASONS))),
        rows_kept=g.lines.sum(where=kept).fill_null(0),
        **counts,
    )


def rfm_columns(activity: ir.Table, *, reference_date: dt.date | ir.DateValue) -> ir.Table:
    """Turn :func:`customer_activity` into RFM values for customers with a kept purchase.

    Parameters
    ----------
    activity : ibis Table
        :func:`customer_activity` of the flagged lines.
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
        avg_order_value=(monetary / a.frequency).round(2),
        mean_days_between_purchases=ibis.ifelse(
            a.frequency > 1, span / (a.frequency - 1), ibis.null("float64")
        ),
        cancelled_amount=(returned.cast("float64") / MONEY_UNITS).round(2),
    )


def aggregate_customers(
    t: ir.Table,
    *,
    reference_date: dt.date | ir.DateValue,
    cancelled: ir.Table | None = None,
) -> ir.Table:
    """Per-customer RFM values of kept lines: :func:`customer_activity` then :func:`rfm_columns`.

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
    lines = t.select(*columns, drop_reason=ibis.null("string"))
    if cancelled is not None:
        removed = cancelled.select(
            "customer_id",
            invoice=ibis.null(t.invoice.type()),
            timestamp=ibis.null(t.timestamp.type()),
            amount=cancelled.amount.cast(t.amount.type()),
            is_return=ibis.literal(True),
            drop_reason=ibis.literal(RETURN_REASONS[0]),
        )
        lines = lines.union(removed)
    return rfm_columns(customer_activity(lines), reference_date=reference_date)


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
