"""What the kept lines say over time and per segment: trends, breakdowns, KPIs, Pareto curve.

The trend functions are Ibis expressions over the kept lines (the ``customer_id, invoice,
timestamp, amount, is_return, product, country`` columns of :mod:`rfm_core.lines.cleaning`), run on
the backend given: an embedded DuckDB over the Arrow lines for uploads (:func:`kept_lines`), or
the engine holding a large file (:func:`kept_lines_on_engine`). Only small tables come back, one
row per period, country or product.

Definitions
-----------
revenue
    Sum of the kept line amounts, summed exactly in whole ten-thousandths and rounded to cents.
    With returns netted (``returns="net"``) the negative amounts of kept returns reduce it, in the
    period (country, product) of the return line; with the default ``returns="drop"`` returns were
    removed by cleaning and never count.
order
    A distinct invoice of a customer with a purchase line (without an invoice column: a distinct
    purchase timestamp), as for frequency in :mod:`rfm_core.customers.rfm`. An order belongs to the
    period of its first line.
active customers
    Customers with at least one order starting in the period.
new and returning customers (per month)
    A customer is *new* in the month of their first order and *returning* in any later month in
    which they order. New revenue is the amount of the lines dated in the customer's first month;
    returning revenue is the rest, so both add up to the month's revenue.
periods
    ``day``, ``week`` (starting on Monday) or ``month`` (starting on the 1st); every period from
    the first to the last one is listed, with zeros where nothing happened.

Per-segment KPIs (:func:`segment_kpis`) and the Pareto curve (:func:`pareto_curve`) are computed
on the RFM table (one row per customer) and work for rule segments and clusters alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from rfm_core.config import NOISE_LABEL
from rfm_core.customers.engine import flagged_lines
from rfm_core.errors import RfmError
from rfm_core.ingest.schema import ColumnMapping
from rfm_core.lines.aggregate import MONEY_UNITS, money_units
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.lines.reasons import KEPT, REASON_CODES, RETURN_REASONS

__all__ = [
    "FREQUENCIES",
    "KEPT_COLUMNS",
    "PARETO_SHARES",
    "RETURNED_COLUMNS",
    "EngineLines",
    "Pareto",
    "activity_trend",
    "clean_lines_on_engine",
    "kept_lines",
    "kept_lines_on_engine",
    "new_vs_returning",
    "pareto_curve",
    "returned_lines",
    "returned_lines_on_engine",
    "revenue_by_country",
    "segment_kpis",
    "top_products",
]

# period name → Ibis truncation unit and the pandas frequency of the same calendar
FREQUENCIES: dict[str, tuple[str, str]] = {
    "day": ("D", "D"),
    "week": ("W", "W-MON"),
    "month": ("M", "MS"),
}
PARETO_SHARES: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2, 0.5)


# -- the kept lines ----------------------------------------------------------------------------


def kept_lines(result) -> ir.Table:
    """The kept lines of an in-memory pipeline result as an Ibis table (run it on DuckDB).

    Parameters
    ----------
    result : RfmPipelineResult
        :func:`rfm_core.customers.pipeline.run_rfm`; an :class:`rfm_core.customers.engine.EngineRun`
        has no lines in memory: use :func:`kept_lines_on_engine` on its source.

    Returns
    -------
    ibis Table
        An in-memory table of the kept lines.

    Raises
    ------
    RfmError
        The result's lines stayed on an engine.
    """
    if result.lines is None:
        raise RfmError("the kept lines of this file stay on the engine; use kept_lines_on_engine")
    return ibis.memtable(result.lines)


def kept_lines_on_engine(
    source: ir.Table, mapping: ColumnMapping, rules: CleaningRules | None = None, *, name: str = ""
) -> ir.Table:
    """The kept lines of a source, as an expression on its engine (nothing is computed yet).

    The same steps as :func:`rfm_core.customers.engine.rfm_on_engine`: exact copies collapse into
    one row first (so that a large log is never sorted), then
    :func:`rfm_core.lines.cleaning.flag_rows` (:func:`rfm_core.customers.engine.flagged_lines`).

    Parameters
    ----------
    source : ibis Table
        The file or table on its engine.
    mapping : ColumnMapping
        Which column plays which role.
    rules : CleaningRules, optional
        The cleaning rules (default: the default rules).
    name : str
        The source's name, for messages.

    Returns
    -------
    ibis Table
        The kept lines (those with a null ``drop_reason``).
    """
    flags = flagged_lines(source, mapping, rules or CleaningRules(), name=name)
    return flags.filter(flags.drop_reason.isnull())


def returned_lines(result) -> ir.Table:
    """The returns that cleaning removed (cancellations, non-positive quantities) of an
    in-memory pipeline result, as an Ibis table (run it on DuckDB).

    Parameters
    ----------
    result : RfmPipelineResult
        :func:`rfm_core.customers.pipeline.run_rfm`.

    Returns
    -------
    ibis Table
        ``customer_id, amount, quantity, product, description``
        (:attr:`rfm_core.lines.cleaning.CleaningResult.cancelled`).
    """
    return ibis.memtable(result.cleaning.cancelled)


def returned_lines_on_engine(
    source: ir.Table, mapping: ColumnMapping, rules: CleaningRules | None = None, *, name: str = ""
) -> ir.Table:
    """The returns that cleaning removes from a source, as an expression on its engine.

    Parameters
    ----------
    source : ibis Table
        The file or table on its engine.
    mapping : ColumnMapping
        Which column plays which role.
    rules : CleaningRules, optional
        The cleaning rules (default: the default rules).
    name : str
        The source's name, for messages.

    Returns
    -------
    ibis Table
        The lines removed as ``cancellation`` or ``non_positive_quantity``, with the columns of
        :func:`returned_lines`.
    """
    flags = flagged_lines(source, mapping, rules or CleaningRules(), name=name)
    removed = flags.filter(flags.drop_reason.isin(list(RETURN_REASONS)))
    return removed.select(*RETURNED_COLUMNS)


# what the line-level functions read of the kept lines (trends, breakdowns, cohorts, lifetime
# value, backtest) and of the removed returns (:func:`top_products`)
KEPT_COLUMNS: tuple[str, ...] = (
    "customer_id", "invoice", "timestamp", "quantity", "amount", "is_return", "product",
    "description", "country",
)  # fmt: skip
RETURNED_COLUMNS: tuple[str, ...] = ("customer_id", "amount", "quantity", "product", "description")
_CODE = "reason_code"


@dataclass(frozen=True)
class EngineLines:
    """The kept lines and the removed returns of a source, cleaned once into a temporary table of
    its engine (:func:`clean_lines_on_engine`).

    Attributes
    ----------
    kept : ibis Table
        The kept lines, columns :data:`KEPT_COLUMNS`: what :func:`kept_lines_on_engine` gives.
    returned : ibis Table
        The returns cleaning removed, columns :data:`RETURNED_COLUMNS`: what
        :func:`returned_lines_on_engine` gives.
    backend : ibis backend
        The engine holding the table; both tables run there.
    table_name : str
        The temporary table (both are filters of it).
    """

    kept: ir.Table
    returned: ir.Table
    backend: ibis.BaseBackend
    table_name: str

    def release(self) -> None:
        """Drop the temporary table (its memory is the engine's again); the tables stop working."""
        self.backend.drop_table(self.table_name, force=True)


def clean_lines_on_engine(
    source: ir.Table, mapping: ColumnMapping, rules: CleaningRules | None = None, *, name: str = ""
) -> EngineLines:
    """Clean a source once on its engine; its kept lines and removed returns read the result.

    :func:`kept_lines_on_engine` and :func:`returned_lines_on_engine` are expressions over the
    raw source: every query on them collapses exact copies and flags every line again. Here one
    pass (:func:`rfm_core.customers.engine.flagged_lines`) writes the kept lines and the removed
    returns, with only the columns the line-level functions read, into one temporary table of
    the source's engine, with each line's reason code; the kept lines and the returns are two
    filters of it, with the same rows and values as those two expressions.

    Parameters
    ----------
    source : ibis Table
        The file or table on its engine (DuckDB: a temporary table lives as long as the
        connection, in its memory, spilled to disk past its memory limit).
    mapping : ColumnMapping
        Which column plays which role.
    rules : CleaningRules, optional
        The cleaning rules (default: the default rules).
    name : str
        The source's name, for messages.

    Returns
    -------
    EngineLines
        The two tables and the engine; :meth:`EngineLines.release` drops the table.
    """
    flags = flagged_lines(source, mapping, rules or CleaningRules(), name=name)
    returns = [REASON_CODES[reason] for reason in RETURN_REASONS]
    wanted = flags.filter(flags[_CODE].isin([KEPT, *returns]))
    backend = source._find_backend()
    table_name = f"rfm_clean_lines_{uuid.uuid4().hex}"
    table = backend.create_table(table_name, wanted.select(*KEPT_COLUMNS, _CODE), temp=True)
    # the types as the expressions have them (DuckDB reads a timestamp back with its scale)
    schema = flags.schema()

    def typed(rows: ir.Table, columns: tuple[str, ...]) -> ir.Table:
        return rows.select(*[rows[c].cast(schema[c]).name(c) for c in columns])

    kept = typed(table.filter(table[_CODE] == KEPT), KEPT_COLUMNS)
    returned = typed(table.filter(table[_CODE].isin(returns)), RETURNED_COLUMNS)
    return EngineLines(kept, returned, backend, table_name)


def _money(units: pd.Series) -> pd.Series:
    return (units.fillna(0).astype("float64") / MONEY_UNITS).round(2)


def _order(lines: ir.Table) -> ir.StringValue:
    """What names an order within a customer: its invoice, else its timestamp."""
    return ibis.coalesce(lines.invoice, lines.timestamp.cast("string"))


def _orders(kept: ir.Table) -> ir.Table:
    """One row per order: ``customer_id, order, timestamp`` (of its first line)."""
    purchases = kept.filter(~kept.is_return)
    return purchases.group_by(customer_id=purchases.customer_id, order=_order(purchases)).agg(
        timestamp=purchases.timestamp.min()
    )


def _first_months(kept: ir.Table, unit: str) -> ir.Table:
    """``customer_id, first_month``: the month of each customer's first order.

    An order starts at its first line, so the first order starts at the customer's first
    purchase line: one pass over the lines, no orders to form.
    """
    purchases = kept.filter(~kept.is_return)
    return purchases.group_by("customer_id").agg(
        first_month=_period(purchases.timestamp.min(), unit)
    )


def _unit(freq: str) -> tuple[str, str]:
    if freq not in FREQUENCIES:
        raise RfmError(f"unknown period {freq!r}; choose from {', '.join(FREQUENCIES)}")
    return FREQUENCIES[freq]


def _period(timestamp: ir.TimestampValue, unit: str) -> ir.DateValue:
    return timestamp.truncate(unit).date()


def _fetch(expr: ir.Table, backend: ibis.BaseBackend) -> pd.DataFrame:
    return backend.to_pyarrow(expr).to_pandas()


def _calendar(frame: pd.DataFrame, pandas_freq: str) -> pd.DataFrame:
    """Every period from the first to the last, zeros where nothing happened."""
    if frame.empty:
        return frame
    frame = frame.assign(period=pd.to_datetime(frame["period"])).set_index("period").sort_index()
    periods = pd.date_range(frame.index.min(), frame.index.max(), freq=pandas_freq)
    return frame.reindex(periods, fill_value=0).rename_axis("period").reset_index()


# -- trends ------------------------------------------------------------------------------------


def activity_trend(
    kept: ir.Table, *, backend: ibis.BaseBackend, freq: str = "month"
) -> pd.DataFrame:
    """Revenue, orders and active customers per day, week or month.

    Parameters
    ----------
    kept : ibis Table
        Kept lines (:func:`kept_lines`, :func:`kept_lines_on_engine`).
    backend : ibis backend
        Where to run the expression.
    freq : {"day", "week", "month"}

    Returns
    -------
    pandas.DataFrame
        ``period`` (start of the period, datetime64), ``revenue`` (float64), ``orders``,
        ``customers`` (int64); every period from the first to the last.
    """
    unit, pandas_freq = _unit(freq)
    revenue = kept.group_by(period=_period(kept.timestamp, unit)).agg(
        units=money_units(kept.amount).sum()
    )
    orders = _orders(kept)
    active = orders.group_by(period=_period(orders.timestamp, unit)).agg(
        orders=orders.count(), customers=orders.customer_id.nunique()
    )
    frame = _fetch(revenue, backend).merge(_fetch(active, backend), on="period", how="outer")
    frame = pd.DataFrame(
        {
            "period": frame["period"],
            "revenue": _money(frame["units"]),
            "orders": frame["orders"].fillna(0).astype("int64"),
            "customers": frame["customers"].fillna(0).astype("int64"),
        }
    )
    return _calendar(frame, pandas_freq)


def new_vs_returning(kept: ir.Table, *, backend: ibis.BaseBackend) -> pd.DataFrame:
    """New and returning customers per month, and the revenue of each (see the definitions).

    Parameters
    ----------
    kept : ibis Table
        Kept lines (:func:`kept_lines`, :func:`kept_lines_on_engine`).
    backend : ibis backend
        Where to run the expression.

    Returns
    -------
    pandas.DataFrame
        ``period`` (first day of the month), ``new_customers``, ``returning_customers`` (int64),
        ``new_revenue``, ``returning_revenue`` (float64); every month from the first to the last.
        ``new_customers + returning_customers`` equals the month's active customers of
        :func:`activity_trend`, and the two revenues add up to its revenue.
    """
    unit, pandas_freq = _unit("month")
    orders = _orders(kept)
    first = _first_months(kept, unit)
    active = orders.select("customer_id", month=_period(orders.timestamp, unit)).distinct()
    active = active.join(first, "customer_id")
    is_new = active.month == active.first_month
    customers = active.group_by(period=active.month).agg(
        new_customers=is_new.cast("int64").sum(),
        returning_customers=(~is_new).cast("int64").sum(),
    )
    lines = kept.mutate(month=_period(kept.timestamp, unit)).left_join(first, "customer_id")
    in_first = (lines.month == lines.first_month).fill_null(False)
    units = money_units(lines.amount)
    revenue = lines.group_by(period=lines.month).agg(
        new_units=units.sum(where=in_first), returning_units=units.sum(where=~in_first)
    )
    frame = _fetch(customers, backend).merge(_fetch(revenue, backend), on="period", how="outer")
    frame = pd.DataFrame(
        {
            "period": frame["period"],
            "new_customers": frame["new_customers"].fillna(0).astype("int64"),
            "returning_customers": frame["returning_customers"].fillna(0).astype("int64"),
            "new_revenue": _money(frame["new_units"]),
            "returning_revenue": _money(frame["returning_units"]),
        }
    )
    return _calendar(frame, pandas_freq)


def _breakdown(kept: ir.Table, column: str, *, backend: ibis.BaseBackend) -> pd.DataFrame | None:
    """Revenue, orders and customers per value of a text column; None when it is always empty."""
    value = kept[column]
    lines = kept.filter(value.notnull())
    # group-bys, one level each (value, customer, order → value, customer → value), instead of
    # distinct counts of orders and customers per value
    has_quantity = "quantity" in lines.columns
    per_order = lines.group_by(value=value, customer_id=lines.customer_id, order=_order(lines)).agg(
        units=money_units(lines.amount).sum(),
        purchase=(~lines.is_return).any().cast("int64"),
        **({"quantity": lines.quantity.sum()} if has_quantity else {}),
    )
    per_customer = per_order.group_by("value", "customer_id").agg(
        units=per_order.units.sum(),
        orders=per_order.purchase.sum(),
        **({"quantity": per_order.quantity.sum()} if has_quantity else {}),
    )
    stats = {
        "units": per_customer.units.sum(),
        "orders": per_customer.orders.sum(),
        "customers": per_customer.count(),
    }
    if has_quantity:
        stats["quantity"] = per_customer.quantity.sum()
    by_value = per_customer.group_by(**{column: per_customer.value}).agg(**stats)
    frame = _fetch(by_value, backend)
    if frame.empty:
        return None
    total = _fetch(kept.aggregate(units=money_units(kept.amount).sum()), backend)["units"].iloc[0]
    frame["revenue"] = _money(frame["units"])
    frame["share_revenue"] = frame["units"] / total if total else 0.0
    frame["orders"] = frame["orders"].astype("int64")
    frame["customers"] = frame["customers"].astype("int64")
    columns = [column, "revenue", "share_revenue", "orders", "customers"]
    if "quantity" in frame.columns and frame["quantity"].notna().any():
        columns.append("quantity")
    ordered = frame.sort_values(["units", column], ascending=[False, True], ignore_index=True)
    return ordered[columns]


def revenue_by_country(kept: ir.Table, *, backend: ibis.BaseBackend) -> pd.DataFrame | None:
    """Revenue, its share, orders and customers per country, largest revenue first.

    Parameters
    ----------
    kept : ibis Table
        Kept lines (:func:`kept_lines`, :func:`kept_lines_on_engine`).
    backend : ibis backend
        Where to run the expression.

    Returns
    -------
    pandas.DataFrame or None
        ``country, revenue, share_revenue, orders, customers, quantity`` (``quantity`` only when
        the log has quantities); None when the log has no country column (no country value).
        ``share_revenue`` is the part of all kept revenue, lines without a country included.
    """
    return _breakdown(kept, "country", backend=backend)


def top_products(
    kept: ir.Table,
    *,
    backend: ibis.BaseBackend,
    n: int = 10,
    returned: ir.Table | None = None,
) -> pd.DataFrame | None:
    """The ``n`` products with the largest revenue (ties by product), with their share of it.

    A product is its code (``product``) when the log has one, else its description. Lines later
    cancelled do not count: each customer's removed returns of a product
    (:func:`returned_lines`) are taken off that customer's purchases of it, never below zero, so
    a large order cancelled the next day does not make a top product.

    Parameters
    ----------
    kept : ibis Table
        Kept lines (:func:`kept_lines`, :func:`kept_lines_on_engine`).
    backend : ibis backend
        Where to run the expression.
    n : int
        How many products (at least 1).
    returned : ibis Table, optional
        The removed returns (:func:`returned_lines`, :func:`returned_lines_on_engine`); with
        ``returns="net"`` the kept lines hold the returns themselves and nothing is removed.

    Returns
    -------
    pandas.DataFrame or None
        ``product``, ``description`` (the product's most frequent description, when the log
        has both), ``revenue`` (net of cancelled lines), ``share_revenue`` (of the net revenue of
        all products), ``orders, customers`` (of the kept lines) and ``quantity`` (net, when the
        log has quantities); None when the log has neither a product nor a description column.
    """
    if n < 1:
        raise RfmError(f"n must be at least 1, got {n}")
    key = "product"
    frame = _breakdown(kept, key, backend=backend)
    if frame is None and "description" in kept.columns:
        key = "description"
        frame = _breakdown(kept, key, backend=backend)
    if frame is None:
        return None
    if returned is not None:
        frame = _net_of_returns(frame, kept, returned, key, backend=backend)
    top = frame.head(n).reset_index(drop=True)
    if key == "product" and "description" in kept.columns:
        names = _descriptions(kept, top["product"].tolist(), backend=backend)
        top.insert(1, "description", top["product"].map(names).astype(object))
    return top.rename(columns={key: "product"})


def _net_of_returns(
    frame: pd.DataFrame, kept: ir.Table, returned: ir.Table, key: str, *, backend
) -> pd.DataFrame:
    """Take each customer's removed returns of a product off their purchases of it (≥ 0)."""
    bought = kept.filter(kept[key].notnull() & ~kept.is_return)
    bought = bought.mutate(key=bought[key])
    back = returned.filter(returned[key].notnull())
    back = back.group_by(customer_id=back.customer_id, key=back[key]).agg(
        back_units=money_units(back.amount).abs().sum(), back_quantity=back.quantity.abs().sum()
    )
    # only the (customer, product) pairs with returns, or with a negative amount or quantity, take
    # anything off (least(units, 0) of the others is 0): group those lines alone, not every pair
    pairs = ["customer_id", "key"]
    negative = bought.filter((bought.amount < 0) | (bought.quantity < 0)).select(*pairs)
    wanted = back.select(*pairs).union(negative, distinct=True)
    bought = bought.semi_join(wanted, pairs)
    per_customer = bought.group_by(*pairs).agg(
        units=money_units(bought.amount).sum(), quantity=bought.quantity.sum()
    )
    joined = per_customer.left_join(back, ["customer_id", "key"])
    taken = ibis.least(joined.units, joined.back_units.fill_null(0))
    taken_quantity = ibis.least(joined.quantity, joined.back_quantity.fill_null(0))
    netted = _fetch(
        joined.group_by(key=joined.key).agg(taken=taken.sum(), taken_quantity=taken_quantity.sum()),
        backend,
    )
    netted = netted.set_index("key").reindex(frame[key]).fillna(0)
    units = frame["revenue"].to_numpy() * MONEY_UNITS - netted["taken"].to_numpy()
    out = frame.assign(revenue=(units / MONEY_UNITS).round(2))
    total = units.sum()
    out["share_revenue"] = units / total if total else 0.0
    if "quantity" in out.columns:
        out["quantity"] = out["quantity"] - netted["taken_quantity"].to_numpy()
    ordered = out.assign(_units=units).sort_values(
        ["_units", key], ascending=[False, True], ignore_index=True
    )
    return ordered.drop(columns="_units")


def _descriptions(kept: ir.Table, products: list[str], *, backend) -> dict[str, str]:
    """The most frequent description of each product (ties: the first in sort order)."""
    lines = kept.filter(kept.product.isin(products) & kept.description.notnull())
    counts = _fetch(lines.group_by("product", "description").agg(lines_=lines.count()), backend)
    counts = counts.sort_values(["product", "lines_", "description"], ascending=[True, False, True])
    return counts.drop_duplicates("product").set_index("product")["description"].to_dict()


# -- per segment -------------------------------------------------------------------------------


def _aligned_labels(rfm_table: pd.DataFrame, labels: pd.Series) -> pd.Series:
    if not isinstance(labels, pd.Series):
        raise RfmError(f"labels must be a pandas Series, got {type(labels).__name__}")
    aligned = labels.reindex(rfm_table.index)
    if len(labels) != len(rfm_table) or aligned.isna().any():
        missing = int(aligned.isna().sum())
        raise RfmError(
            f"labels must give one segment per customer: {len(labels):,} labels for "
            f"{len(rfm_table):,} customers ({missing:,} customers without a label)"
        )
    return aligned


def _label_order(labels: pd.Series, order: Sequence[Hashable] | None) -> list[Hashable]:
    present = list(dict.fromkeys(labels.tolist()))
    if order is not None:
        first = [label for label in order if label in set(present)]
        return first + sorted((v for v in present if v not in set(first)), key=str)
    try:
        ordered = sorted(present)
    except TypeError:
        ordered = sorted(present, key=str)
    noise = [v for v in ordered if isinstance(v, int | np.integer) and v == NOISE_LABEL]
    return [v for v in ordered if v not in noise] + noise


def segment_kpis(
    rfm_table: pd.DataFrame,
    labels: pd.Series,
    *,
    order: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Size and value of each segment (rule segments or clusters).

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        :attr:`rfm_core.customers.rfm.RfmResult.table` (``recency, frequency, monetary``).
    labels : pandas.Series
        Segment of every customer, indexed by ``customer_id`` (e.g. ``table["rfm_segment"]`` or
        :attr:`rfm_core.segments.segmentation.SegmentationResult.labels`).
    order : sequence, optional
        Segments in this order first (e.g. the rule table's order), the others after them;
        default: sorted, noise (−1) last.

    Returns
    -------
    pandas.DataFrame
        Index ``segment``; columns ``customers`` (int64), ``share_customers``, ``revenue``
        (sum of monetary), ``share_revenue``, ``orders`` (sum of frequency, int64),
        ``avg_order_value`` (revenue / orders of the segment), ``orders_per_customer``,
        ``median_recency`` (days). Customers and revenue add up to the table's totals.
    """
    segments = _aligned_labels(rfm_table, labels)
    values = rfm_table[["recency", "frequency", "monetary"]]
    grouped = values.groupby(segments.to_numpy(), sort=False)
    customers = grouped.size().astype("int64")
    revenue = grouped["monetary"].sum()
    orders = grouped["frequency"].sum().astype("int64")
    total = float(values["monetary"].sum())
    kpis = pd.DataFrame(
        {
            "customers": customers,
            "share_customers": customers / len(values),
            "revenue": revenue.round(2),
            "share_revenue": revenue / total if total else revenue * 0.0,
            "orders": orders,
            "avg_order_value": (revenue / orders.where(orders > 0)).round(2),
            "orders_per_customer": orders / customers,
            "median_recency": grouped["recency"].median().astype("float64"),
        }
    )
    labels_in_order = _label_order(segments, order)
    kpis = kpis.loc[labels_in_order]
    kpis.index = pd.Index(labels_in_order, name="segment")
    return kpis


@dataclass(frozen=True)
class Pareto:
    """Concentration of revenue on the best customers.

    Attributes
    ----------
    curve : pandas.DataFrame
        ``share_customers`` (top x of the customers by monetary, from 0 to 1) and
        ``share_revenue`` (their part of the revenue, from 0 to 1); at most ``max_points`` rows,
        from (0, 0) to (1, 1).
    points : pandas.DataFrame
        Index ``top_share`` (:data:`PARETO_SHARES`); ``customers`` (how many customers that
        is, rounded up) and ``share_revenue``.
    n_customers : int
    revenue : float
    """

    curve: pd.DataFrame
    points: pd.DataFrame
    n_customers: int
    revenue: float

    def share_of(self, top_share: float) -> float:
        """Share of revenue of the top ``top_share`` of customers (one of the points).

        Parameters
        ----------
        top_share : float
            One of :data:`PARETO_SHARES`, e.g. ``0.2`` for the top 20 %.

        Returns
        -------
        float
            From 0 to 1.
        """
        return float(self.points.loc[top_share, "share_revenue"])


def pareto_curve(
    rfm_table: pd.DataFrame,
    *,
    shares: Sequence[float] = PARETO_SHARES,
    max_points: int = 1001,
) -> Pareto:
    """Share of revenue brought by the top x % of customers (ranked by monetary value).

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        Needs ``monetary``.
    shares : sequence of float
        The top shares to report as points (each in (0, 1]).
    max_points : int
        Points of the curve (the browser gets no more): customers at evenly spaced shares.

    Returns
    -------
    Pareto

    Raises
    ------
    RfmError
        When there are no customers or no revenue to share.
    """
    monetary = np.sort(rfm_table["monetary"].to_numpy(dtype="float64"))[::-1]
    total = float(monetary.sum())
    n = len(monetary)
    if n == 0 or not total > 0:
        raise RfmError("a Pareto curve needs customers with revenue")
    if any(not 0 < share <= 1 for share in shares):
        raise RfmError(f"Pareto shares must lie in (0, 1], got {list(shares)}")
    cumulative = np.concatenate([[0.0], np.cumsum(monetary)]) / total
    counts = np.arange(n + 1) if n + 1 <= max_points else np.unique(
        np.round(np.linspace(0, n, max_points)).astype(int)
    )  # fmt: skip
    curve = pd.DataFrame({"share_customers": counts / n, "share_revenue": cumulative[counts]})
    top = np.ceil(np.asarray(shares, dtype="float64") * n - 1e-9).astype(int).clip(1, n)
    points = pd.DataFrame(
        {"customers": top, "share_revenue": cumulative[top]},
        index=pd.Index(list(shares), name="top_share"),
    )
    return Pareto(curve, points, n, round(total, 2))
