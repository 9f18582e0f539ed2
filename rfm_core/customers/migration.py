"""What changed between two dates: segment migration, and monthly acquisition cohorts.

Snapshots
---------
A *snapshot at date D* is the RFM table computed as if the log ended on D: the cleaning rules are
applied with ``reference_date = D`` (:class:`rfm_core.lines.cleaning.CleaningRules`), which removes
every line dated after D (reason ``after_reference_date``) and measures recency from D. Lines
dated on D itself are included (a purchase on D has recency 0). Nothing dated after D is read, so
a snapshot never sees the future; the other rules (returns, caps, z-score limit) apply to what was
known on D. It is one run of the usual pipeline (:func:`rfm_core.lines.cleaning.clean` and
:func:`rfm_core.customers.rfm.compute_rfm` in memory,
:func:`rfm_core.customers.engine.rfm_on_engine` on an engine): scores are ranks among the customers
known on D.

Migration
---------
:func:`migrate` takes a snapshot at ``date_from`` and one at ``date_to`` and compares every
customer's rule segment (and, given a fitted :class:`rfm_core.segments.clustering.Segmenter`,
cluster: both snapshots are scored by the same model with ``predict``, never refitted).

new customer
    No purchase up to ``date_from``, at least one up to ``date_to`` (segment_from is empty; it
    appears as :data:`NEW_CUSTOMER` in the matrices).
rank of rule segments
    The order of the segment rules is their rank, best first. For
    :data:`rfm_core.customers.rfm.DEFAULT_SEGMENTS`: Champions, Loyal, Potential Loyalist, New,
    Promising, Need Attention, About to Sleep, Can't Lose Them, At Risk, Hibernating, Lost —
    segments of recent buyers (R score 3–5) before the lapsing ones (R 1–2), and within each, more
    orders first. Clusters are ranked by label: 0 is the most valuable; noise (−1) has no rank.
moved
    ``new``; ``worse`` when the segment at ``date_to`` ranks below the one at ``date_from``;
    ``better`` when above; ``same`` otherwise (moves from or to noise count as ``same``).
lapsed
    A customer present on ``date_from`` with no purchase after it up to ``date_to`` (their last
    purchase is the same in both snapshots).
transition matrix
    Customers by segment at ``date_from`` (rows, new customers first) and at ``date_to``
    (columns); the revenue matrix sums their monetary value at ``date_to``.

Default dates: the last purchase date of the data and 90 days earlier. Both dates must lie within
the data (first to last purchase date), ``date_from`` strictly before ``date_to``.

Cohorts
-------
:func:`cohort_retention` groups customers by the month of their first order (their cohort) and
counts, for n = 0, 1, 2, … months later, how many of them ordered in that month; the share is that
count divided by the cohort's size (month 0 is always 100 %). Months after the end of the data are
empty, not zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from rfm_core.config import NOISE_LABEL
from rfm_core.customers.rfm import DEFAULT_SEGMENTS, RfmResult, SegmentRule, compute_rfm
from rfm_core.customers.scores import QUANTILES, ScoreBinning, rescore
from rfm_core.errors import MigrationError, RfmError
from rfm_core.ingest.schema import ColumnMapping, Transactions
from rfm_core.lines.cleaning import CleaningRules, clean

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "MOVES",
    "NEW_CUSTOMER",
    "Cohorts",
    "Migration",
    "cohort_retention",
    "data_range",
    "default_dates",
    "migrate",
    "snapshot",
]

DEFAULT_WINDOW_DAYS = 90
NEW_CUSTOMER = "(not yet a customer)"
MOVES: tuple[str, ...] = ("new", "better", "same", "worse")
CUSTOMER_COLUMNS = ("recency", "frequency", "monetary", "last_purchase")


# -- snapshots ---------------------------------------------------------------------------------


def _rfm(
    data: Transactions | ir.Table,
    rules: CleaningRules,
    segments: tuple[SegmentRule, ...],
    mapping: ColumnMapping | dict[str, str | None] | None,
    name: str,
) -> RfmResult:
    """The usual pipeline, in memory (prepared transactions) or on the engine of a source."""
    if isinstance(data, Transactions):
        backend = ibis.duckdb.connect()
        cleaned = clean(data, rules, backend=backend)
        return compute_rfm(cleaned, segments=segments, backend=backend)
    if isinstance(data, ir.Table):
        from rfm_core.customers.engine import rfm_on_engine

        return rfm_on_engine(data, name=name, mapping=mapping, rules=rules, segments=segments).rfm
    raise RfmError(f"expected prepared transactions or an Ibis table, got {type(data).__name__}")


def snapshot(
    data: Transactions | ir.Table,
    *,
    date: dt.date,
    rules: CleaningRules | None = None,
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS,
    mapping: ColumnMapping | dict[str, str | None] | None = None,
    name: str = "source",
    binning: ScoreBinning | None = None,
) -> RfmResult:
    """RFM table as of ``date``, computed from the lines dated up to it (included) only.

    Parameters
    ----------
    data : Transactions or ibis Table
        Prepared transactions (:func:`rfm_core.customers.pipeline.prepare`; the in-memory path) or
        the raw lines on an engine (:func:`rfm_core.customers.engine.open_file`, a warehouse table).
    date : datetime.date
        The snapshot's reference date: later lines are removed, recency is counted from it.
    rules : CleaningRules, optional
        The other cleaning rules; their ``reference_date`` is replaced by ``date``.
    segments : tuple of SegmentRule
    mapping : ColumnMapping or mapping of role to column, optional
        Roles of an engine source's columns (detected when not given).
    name : str
        The source's name in messages (engine only).
    binning : ScoreBinning, optional
        How the scores are cut (:mod:`rfm_core.customers.scores`; default quantiles). Quantiles
        and natural breaks are those of the customers known on ``date``.

    Returns
    -------
    RfmResult
        ``reference_date == date``.
    """
    rules = replace(rules or CleaningRules(), reference_date=date)
    result = _rfm(data, rules, segments, mapping, name)
    if binning is None or binning == QUANTILES:
        return result
    scoring = rescore(result.table, binning, segments)
    return replace(result, table=scoring.table, warnings=(*result.warnings, *scoring.notes))


def data_range(rfm_table: pd.DataFrame) -> tuple[dt.date, dt.date]:
    """First and last purchase date among the customers of an RFM table.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        With the columns ``first_purchase`` and ``last_purchase``.

    Returns
    -------
    first, last : datetime.date
        The earliest first purchase and the latest last purchase.

    Raises
    ------
    MigrationError
        The table has no customers.
    """
    if rfm_table.empty:
        raise MigrationError("there are no customers, hence no dates to compare")
    return rfm_table["first_purchase"].min(), rfm_table["last_purchase"].max()


def default_dates(
    first: dt.date, last: dt.date, *, days: int = DEFAULT_WINDOW_DAYS
) -> tuple[dt.date, dt.date]:
    """The default dates of a migration: ``days`` before the last date, and the last date.

    Parameters
    ----------
    first, last : datetime.date
        The range of the data (:func:`data_range`).
    days : int
        How far before ``last`` the first snapshot is taken (never before ``first``).

    Returns
    -------
    date_from, date_to : datetime.date
    """
    return max(first, last - dt.timedelta(days=days)), last


def _check_dates(date_from: dt.date, date_to: dt.date, first: dt.date, last: dt.date) -> None:
    if not date_from < date_to:
        raise MigrationError(f"date_from ({date_from}) must be before date_to ({date_to})")
    if date_from < first:
        raise MigrationError(
            f"date_from ({date_from}) is before the first purchase in the data ({first}): "
            "nobody is a customer yet"
        )
    if date_to > last:
        raise MigrationError(f"date_to ({date_to}) is after the last purchase in the data ({last})")


# -- migration ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    """How customers moved between segments from one date to another.

    Attributes
    ----------
    date_from, date_to : datetime.date
    customers : pandas.DataFrame
        Index ``customer_id`` (sorted): every customer of the ``date_to`` snapshot. Columns
        ``segment_from`` (empty for new customers), ``segment_to``, ``moved`` (one of
        :data:`MOVES`), ``lapsed`` (bool), ``recency_from``, ``recency_to``,
        ``frequency_from``, ``frequency_to``, ``monetary_from``, ``monetary_to``, and with a
        segmenter ``cluster_from`` (Int64, empty for new customers), ``cluster_to``,
        ``cluster_moved``.
    counts, revenue : pandas.DataFrame
        Transition matrices of rule segments: rows ``segment_from`` (:data:`NEW_CUSTOMER`
        first, then every segment in rank order), columns ``segment_to`` (every segment).
        ``revenue`` sums ``monetary_to``.
    cluster_counts, cluster_revenue : pandas.DataFrame or None
        The same for clusters (rows and columns: labels 0, 1, …, noise −1 last), with a
        segmenter.
    rank : tuple of str
        Rule segments from best to worst.
    notes : tuple of str
    """

    date_from: dt.date
    date_to: dt.date
    customers: pd.DataFrame
    counts: pd.DataFrame
    revenue: pd.DataFrame
    rank: tuple[str, ...]
    cluster_counts: pd.DataFrame | None = None
    cluster_revenue: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def new_customers(self) -> pd.DataFrame:
        """Customers whose first purchase falls after ``date_from``."""
        return self.customers[self.customers["moved"] == "new"]

    @property
    def worse(self) -> pd.DataFrame:
        """Customers whose rule segment at ``date_to`` ranks below the one at ``date_from``."""
        return self.customers[self.customers["moved"] == "worse"]

    @property
    def lapsed(self) -> pd.DataFrame:
        """Customers present on ``date_from`` who did not buy again up to ``date_to``."""
        return self.customers[self.customers["lapsed"]]

    def transitions(self, *, clusters: bool = False) -> pd.DataFrame:
        """The non-empty cells of the transition matrices in long form, in the matrices' order.

        Parameters
        ----------
        clusters : bool
            The clusters' matrices instead of the rule segments'.

        Returns
        -------
        pandas.DataFrame
            ``segment_from, segment_to, customers, revenue``.

        Raises
        ------
        MigrationError
            Clusters asked for, and the migration was computed without a segmenter.
        """
        counts, revenue = (
            (self.cluster_counts, self.cluster_revenue) if clusters else (self.counts, self.revenue)
        )
        if counts is None or revenue is None:
            raise MigrationError("this migration was computed without a segmenter")
        long = counts.stack().rename("customers").to_frame()
        long["revenue"] = revenue.stack()
        long.index.names = ["segment_from", "segment_to"]
        return long[long["customers"] > 0].reset_index()

    def moved_to(self, segment_from: str, segments_to: list[str] | tuple[str, ...]) -> int:
        """How many customers of ``segment_from`` at ``date_from`` are in ``segments_to`` at
        ``date_to``.

        Parameters
        ----------
        segment_from : str
            A rule segment at the first date.
        segments_to : list or tuple of str
            Rule segments at the second date.

        Returns
        -------
        int
        """
        customers = self.customers
        hit = (customers["segment_from"] == segment_from) & customers["segment_to"].isin(
            list(segments_to)
        )
        return int(hit.fillna(False).sum())


def _joined(before: RfmResult, after: RfmResult) -> pd.DataFrame:
    """One row per customer of either snapshot with both sides' values."""
    columns = ["rfm_segment", *CUSTOMER_COLUMNS]
    joined = pd.merge(
        before.table[columns], after.table[columns], how="outer", left_index=True,
        right_index=True, suffixes=("_from", "_to"),
    )  # fmt: skip
    return joined.rename(
        columns={"rfm_segment_from": "segment_from", "rfm_segment_to": "segment_to"}
    )


def _moves(start: pd.Series, end: pd.Series, rank: dict) -> pd.Series:
    """``new``, ``better``, ``same`` or ``worse`` from the ranks of two labels."""
    start_rank = start.map(rank).astype("Float64")
    end_rank = end.map(rank).astype("Float64")
    moved = pd.Series("same", index=start.index, dtype="string")
    moved[(end_rank > start_rank).fillna(False)] = "worse"
    moved[(end_rank < start_rank).fillna(False)] = "better"
    moved[start.isna()] = "new"
    return moved


def _matrices(
    start: pd.Series, end: pd.Series, monetary: pd.Series, labels: list
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers and their revenue by label at each date (new customers: the first row)."""
    frame = pd.DataFrame(
        {
            "start": start.astype(object).where(start.notna(), NEW_CUSTOMER),
            "end": end.astype(object),
            "customers": 1,
            "revenue": monetary,
        }
    )
    grouped = frame.groupby(["start", "end"], sort=False)[["customers", "revenue"]].sum()
    tables = []
    for column in ("customers", "revenue"):
        table = grouped[column].unstack("end", fill_value=0)
        table = table.reindex(index=[NEW_CUSTOMER, *labels], columns=labels, fill_value=0)
        table.index.name, table.columns.name = "segment_from", "segment_to"
        tables.append(table)
    counts, revenue = tables
    return counts.astype("int64"), revenue.astype("float64").round(2)


def _cluster_order(*labels: pd.Series) -> list[int]:
    present = sorted({int(v) for series in labels for v in series.dropna()})
    return [v for v in present if v != NOISE_LABEL] + [v for v in present if v == NOISE_LABEL]


def migrate(
    data: Transactions | ir.Table,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    rules: CleaningRules | None = None,
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS,
    mapping: ColumnMapping | dict[str, str | None] | None = None,
    segmenter=None,
    span: tuple[dt.date, dt.date] | None = None,
    name: str = "source",
    binning: ScoreBinning | None = None,
) -> Migration:
    """Compare every customer's segment at two dates (see the module's definitions).

    Parameters
    ----------
    data : Transactions or ibis Table
        As for :func:`snapshot`.
    date_from, date_to : datetime.date, optional
        Default: 90 days before the last purchase date, and the last purchase date.
    rules : CleaningRules, optional
        The cleaning rules of both snapshots (their ``reference_date`` is each snapshot's date).
    segments : tuple of SegmentRule
        Rule segments; their order is their rank, best first.
    mapping : ColumnMapping or mapping of role to column, optional
        Engine sources only.
    segmenter : rfm_core.segments.clustering.Segmenter, optional
        A fitted model: both snapshots are scored with its ``predict`` (no refit).
    span : (datetime.date, datetime.date), optional
        First and last purchase date of the data under ``rules`` (:func:`data_range` of the
        full RFM table, when the caller has it); computed otherwise (one more aggregation).
    name : str
        The source's name in messages (engine only).
    binning : ScoreBinning, optional
        How both snapshots' scores are cut (see :func:`snapshot`).

    Returns
    -------
    Migration

    Raises
    ------
    MigrationError
        When ``date_from`` is not before ``date_to`` or a date lies outside the data.
    """
    rules = rules or CleaningRules()
    if span is None:
        span = data_range(_rfm(data, rules, segments, mapping, name).table)
    default_from, default_to = default_dates(*span)
    date_from = default_from if date_from is None else date_from
    date_to = default_to if date_to is None else date_to
    _check_dates(date_from, date_to, *span)
    options = {
        "rules": rules, "segments": segments, "mapping": mapping, "name": name, "binning": binning
    }  # fmt: skip
    before = snapshot(data, date=date_from, **options)
    after = snapshot(data, date=date_to, **options)
    rank = tuple(rule.name for rule in segments)
    customers, notes = _customers(before, after, rank)
    counts, revenue = _matrices(
        customers["segment_from"], customers["segment_to"], customers["monetary_to"], list(rank)
    )
    result = Migration(date_from, date_to, customers, counts, revenue, rank, notes=notes)
    if segmenter is not None:
        result = _with_clusters(result, before, after, segmenter)
    return result


def _customers(
    before: RfmResult, after: RfmResult, rank: tuple[str, ...]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Both snapshots side by side, one row per customer of the later one."""
    joined = _joined(before, after)
    notes = []
    gone = joined["segment_to"].isna()
    if gone.any():
        notes.append(
            f"{int(gone.sum()):,} customers of {before.reference_date} are not in the snapshot "
            f"of {after.reference_date} (a cleaning rule such as the z-score limit removed "
            "them); they are left out"
        )
        joined = joined[~gone]
    customers = pd.DataFrame(index=joined.index.astype("string").rename("customer_id"))
    customers["segment_from"] = joined["segment_from"].astype("string").to_numpy()
    customers["segment_to"] = joined["segment_to"].astype("string").to_numpy()
    positions = {name: position for position, name in enumerate(rank)}
    customers["moved"] = _moves(customers["segment_from"], customers["segment_to"], positions)
    same_last = joined["last_purchase_from"] == joined["last_purchase_to"]
    customers["lapsed"] = same_last.to_numpy(dtype=bool)
    for column in ("recency", "frequency", "monetary"):
        for side in ("from", "to"):
            customers[f"{column}_{side}"] = joined[f"{column}_{side}"].to_numpy()
    for column in ("recency_from", "frequency_from", "recency_to", "frequency_to"):
        customers[column] = customers[column].astype("Int64")
    return customers.sort_index(), tuple(notes)


def _with_clusters(result: Migration, before: RfmResult, after: RfmResult, segmenter) -> Migration:
    customers = result.customers.copy()
    start = pd.Series(segmenter.predict(before.table), index=before.table.index.astype("string"))
    end = pd.Series(segmenter.predict(after.table), index=after.table.index.astype("string"))
    customers["cluster_from"] = start.reindex(customers.index).astype("Int64")
    customers["cluster_to"] = end.reindex(customers.index).astype("Int64")
    order = _cluster_order(customers["cluster_from"], customers["cluster_to"])
    rank = {label: label for label in order if label != NOISE_LABEL}
    customers["cluster_moved"] = _moves(customers["cluster_from"], customers["cluster_to"], rank)
    counts, revenue = _matrices(
        customers["cluster_from"], customers["cluster_to"], customers["monetary_to"], order
    )
    return replace(result, customers=customers, cluster_counts=counts, cluster_revenue=revenue)


# -- cohorts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cohorts:
    """Monthly acquisition cohorts and how many of each bought again, month by month.

    Attributes
    ----------
    counts : pandas.DataFrame
        Index ``cohort`` (``YYYY-MM`` of the first order), columns ``month`` 0, 1, …: customers
        of the cohort with an order n months after their first month (Int64; empty after the
        end of the data).
    share : pandas.DataFrame
        ``counts`` divided by the cohort's size (float64; NaN after the end of the data).
    sizes : pandas.Series
        Customers per cohort.
    """

    counts: pd.DataFrame
    share: pd.DataFrame
    sizes: pd.Series

    def retention(self, months: int = 1) -> float | None:
        """Share of the customers who ordered again ``months`` after their first month.

        Only the cohorts whose month ``months`` lies within the data count, in the numerator
        and in the denominator: a cohort acquired in the last month cannot have come back yet.

        Parameters
        ----------
        months : int
            Months after the first month (1: the next month).

        Returns
        -------
        float or None
            Σ customers back in that month / Σ cohort sizes, over the observed cohorts; None
            when no cohort is observed that long.
        """
        if months not in self.counts.columns:
            return None
        observed = self.counts[months].notna()
        if not observed.any():
            return None
        return float(self.counts.loc[observed, months].sum() / self.sizes[observed].sum())


def cohort_retention(kept: ir.Table, *, backend: ibis.BaseBackend) -> Cohorts:
    """Share of each monthly cohort buying in each later month (see the module's definitions).

    Parameters
    ----------
    kept : ibis Table
        Kept lines (:func:`rfm_core.customers.trends.kept_lines` or
        :func:`rfm_core.customers.trends.kept_lines_on_engine`).
    backend : ibis backend

    Returns
    -------
    Cohorts
    """
    purchases = kept.filter(~kept.is_return)
    month = purchases.timestamp.truncate("M").date()
    index = month.year() * 12 + month.month() - 1
    active = purchases.select(customer_id=purchases.customer_id, month=index).distinct()
    first = active.group_by("customer_id").agg(first=active.month.min())
    joined = active.join(first, "customer_id")
    cells = joined.group_by(cohort=joined.first, month=joined.month - joined.first).agg(
        customers=joined.count()
    )
    frame = backend.to_pyarrow(cells).to_pandas()
    if frame.empty:
        raise RfmError("no purchase is left to group into cohorts")
    last = int((frame["cohort"] + frame["month"]).max())
    cohorts = range(int(frame["cohort"].min()), last + 1)
    months = range(0, last - cohorts.start + 1)
    counts = frame.pivot_table(index="cohort", columns="month", values="customers",
                               aggfunc="sum", fill_value=0)  # fmt: skip
    counts = counts.reindex(index=list(cohorts), columns=list(months), fill_value=0)
    observed = np.add.outer(np.asarray(cohorts), np.asarray(months)) <= last
    counts = counts.astype("Int64").where(observed)
    sizes = counts[0].astype("int64")
    has_cohort = sizes > 0
    counts, sizes = counts[has_cohort], sizes[has_cohort]
    labels = pd.Index([f"{c // 12:04d}-{c % 12 + 1:02d}" for c in counts.index], name="cohort")
    counts.index, sizes.index = labels, labels
    counts.columns = pd.Index(list(months), name="month")
    share = counts.astype("Float64").div(sizes, axis=0).astype("float64")
    return Cohorts(counts, share, sizes.rename("customers"))
