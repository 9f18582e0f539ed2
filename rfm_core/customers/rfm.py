"""Per-customer Recency, Frequency and Monetary values, scores and rule-based segments.

Definitions (computed on the lines kept by :mod:`rfm_core.lines.cleaning`)
-------------------------------------------------------------------
reference date
    The day the observation period ends. Default: the day after the last purchase date in the
    cleaned data, so that the most recent customer has recency 1. A user-set date removes the
    lines dated after it (reason ``after_reference_date``).
purchase
    A kept line that is not a return (see :mod:`rfm_core.lines.cleaning`).
recency
    Whole days from the date of the customer's last purchase to the reference date (≥ 0).
frequency
    Distinct invoices with a purchase; without an invoice column, distinct purchase timestamps.
monetary
    Sum of the line amounts of the customer's kept lines, rounded to cents. Line amounts are
    summed exactly, as whole ten-thousandths, so that no engine or row order changes a cent.
    With returns netted, returns are subtracted; a customer who returned more than they bought
    gets 0 (with a warning).
first_purchase, last_purchase
    Dates of the first and last purchase.
tenure_days
    Whole days from the first purchase to the reference date.
avg_order_value
    ``monetary / frequency`` to the cent (a half cent rounds away from zero, the same on
    every engine).
mean_days_between_purchases
    ``(last_purchase − first_purchase) / (frequency − 1)`` in days; empty for one purchase.
cancelled_amount
    Value of the customer's cancelled or returned lines, as a positive number: the removed ones
    (``returns="drop"``) and the netted ones (``returns="net"``). Not part of RFM; it tells a
    real big spender from a huge order that was later cancelled.

Scores
------
Each score is ``1 + floor(5 × share of customers with a strictly worse value)``: lower recency,
higher frequency and higher monetary are better. Customers with equal values always share a score,
the result never depends on row order, and every score lies in 1–5. When ties leave fewer than five
distinct scores a warning says so (frequency on small logs typically does); when every customer has
the same value, everyone gets the middle score 3. Other binnings (natural breaks, fixed cut points)
and the cut points in words are in :mod:`rfm_core.customers.scores`; they score through
:func:`score_with_edges` too.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from rfm_core.errors import SegmentDefinitionError
from rfm_core.lines.aggregate import aggregate_customers
from rfm_core.lines.cleaning import CleaningResult

__all__ = [
    "DEFAULT_SEGMENTS",
    "EXTRA_FEATURES",
    "RFM_COLUMNS",
    "SCORED",
    "SEGMENT_TABLE_COLUMNS",
    "RangeSelection",
    "RfmResult",
    "SegmentRule",
    "assign_segments",
    "compute_rfm",
    "default_reference_date",
    "finish_rfm",
    "relabel",
    "score",
    "score_edges",
    "score_with_edges",
    "segment_summary",
    "segments_from_frame",
    "segments_to_frame",
    "select_range",
    "validate_segments",
]

RFM_COLUMNS = ("recency", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_segment")
EXTRA_FEATURES = (
    "first_purchase", "last_purchase", "tenure_days", "avg_order_value",
    "mean_days_between_purchases", "cancelled_amount",
)  # fmt: skip


@dataclass(frozen=True)
class SegmentRule:
    """A named segment: the customers whose scores fall in every range (inclusive)."""

    name: str
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int] = (1, 5)
    description: str = ""


# a partition of the 5 × 5 recency × frequency grid (monetary left free), as widely used in
# RFM practice; edit freely, validate_segments() checks that every cell has exactly one segment
DEFAULT_SEGMENTS: tuple[SegmentRule, ...] = (
    SegmentRule("Champions", (5, 5), (4, 5), description="bought recently, buy often"),
    SegmentRule("Loyal", (3, 4), (4, 5), description="buy often, fairly recently"),
    SegmentRule("Potential Loyalist", (4, 5), (2, 3), description="recent, a few orders"),
    SegmentRule("New", (5, 5), (1, 1), description="first order, very recent"),
    SegmentRule("Promising", (4, 4), (1, 1), description="one recent order"),
    SegmentRule("Need Attention", (3, 3), (3, 3), description="average on both"),
    SegmentRule("About to Sleep", (3, 3), (1, 2), description="few orders, fading"),
    SegmentRule("Can't Lose Them", (1, 2), (5, 5), description="best buyers, gone quiet"),
    SegmentRule("At Risk", (1, 2), (3, 4), description="used to buy often, long ago"),
    SegmentRule("Hibernating", (2, 2), (1, 2), description="few orders, long ago"),
    SegmentRule("Lost", (1, 1), (1, 2), description="few orders, longest ago"),
)


@dataclass(frozen=True)
class RfmResult:
    """The per-customer table and how it was computed.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``customer_id`` (text, sorted); columns :data:`RFM_COLUMNS` then
        :data:`EXTRA_FEATURES`.
    reference_date : datetime.date
    warnings : tuple of str
    """

    table: pd.DataFrame
    reference_date: dt.date
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return len(self.table)


def default_reference_date(cleaned: CleaningResult) -> dt.date:
    """Return the day after the last purchase date of the kept lines.

    Parameters
    ----------
    cleaned : CleaningResult
        The kept lines (returns are not purchases).

    Returns
    -------
    datetime.date
    """
    table = cleaned.transactions
    mask = pa.compute.invert(table.column("is_return"))
    last = pa.compute.max(pa.compute.filter(table.column("timestamp"), mask)).as_py()
    return last.date() + dt.timedelta(days=1)


def compute_rfm(
    cleaned: CleaningResult,
    *,
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS,
    backend: ibis.BaseBackend | None = None,
) -> RfmResult:
    """Compute the RFM table of the kept lines.

    Parameters
    ----------
    cleaned : CleaningResult
        Output of :func:`rfm_core.lines.cleaning.clean`. Its rules' ``reference_date`` is used when
        set, otherwise :func:`default_reference_date`.
    segments : tuple of SegmentRule
        Rule-based segments; validated with :func:`validate_segments`.
    backend : ibis backend, optional
        Where to run the aggregation; a fresh in-memory DuckDB by default.

    Returns
    -------
    RfmResult
    """
    validate_segments(segments)
    reference = cleaned.rules.reference_date or default_reference_date(cleaned)
    con = backend or ibis.duckdb.connect()
    lines = ibis.memtable(cleaned.transactions)
    cancelled = ibis.memtable(cleaned.cancelled)
    expr = aggregate_customers(lines, reference_date=reference, cancelled=cancelled)
    expr = expr.order_by("customer_id")
    return finish_rfm(con.to_pyarrow(expr), reference, segments)


def finish_rfm(
    per_customer: pa.Table,
    reference: dt.date,
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS,
) -> RfmResult:
    """Turn the aggregation's result into the RFM table: scores, rule segments, types.

    Parameters
    ----------
    per_customer : pyarrow.Table
        The result of :func:`aggregate_customers`, on any engine.
    reference : datetime.date
    segments : tuple of SegmentRule

    Returns
    -------
    RfmResult
        Customers sorted by id.
    """
    # sorted in Arrow (a third of the time pandas takes on a million string ids); the same
    # order, by code point
    per_customer = per_customer.sort_by("customer_id")
    table = per_customer.to_pandas().set_index("customer_id").sort_index()
    table.index = table.index.astype("string")
    notes: list[str] = []
    negative = table["monetary"] < 0
    if negative.any():
        notes.append(
            f"{int(negative.sum()):,} customers returned more than they bought in the period; "
            "their monetary value is set to 0"
        )
        table.loc[negative, ["monetary", "avg_order_value"]] = 0.0
    for column in ("recency", "frequency", "tenure_days"):
        table[column] = table[column].astype("int64")
    for column in ("first_purchase", "last_purchase"):
        if not pa.types.is_date32(per_customer.schema.field(column).type):
            table[column] = pd.to_datetime(table[column]).dt.date  # (Arrow gives dates as dates)
    scores, score_notes = _scores(table)
    table = pd.concat([table, scores], axis=1)
    table["rfm_segment"] = assign_segments(table, segments)
    return RfmResult(table[[*RFM_COLUMNS, *EXTRA_FEATURES]], reference, (*notes, *score_notes))


def score(values: pd.Series, *, higher_is_better: bool = True, bins: int = 5) -> pd.Series:
    """Score values 1..``bins``: ``1 + floor(bins × share of strictly worse values)``.

    Parameters
    ----------
    values : pandas.Series
    higher_is_better : bool
        False for recency (fewer days is better).
    bins : int

    Returns
    -------
    pandas.Series of int8, same index. When every value is the same there is nothing to rank:
    every customer gets the middle score.
    """
    oriented = values.to_numpy(dtype="float64", na_value=np.nan)
    if not higher_is_better:
        oriented = -oriented
    distinct, which, counts = np.unique(oriented, return_inverse=True, return_counts=True)
    if len(distinct) <= 1:
        return pd.Series((bins + 1) // 2, index=values.index, dtype="int8")
    # how many customers are strictly worse: those with a smaller value (what a rank with ties
    # at their lowest gives, less one)
    worse = (np.cumsum(counts) - counts)[which].astype("float64")
    worse[np.isnan(oriented)] = np.nan
    scores = (1 + np.floor(bins * worse / len(oriented))).clip(1, bins)
    return pd.Series(scores, index=values.index).astype("int8")


# score column → (the value it scores, whether higher is better): fewer days since the last
# purchase is better
SCORED: dict[str, tuple[str, bool]] = {
    "r_score": ("recency", False),
    "f_score": ("frequency", True),
    "m_score": ("monetary", True),
}


def score_edges(table: pd.DataFrame, *, bins: int = 5) -> dict[str, tuple[float, ...] | None]:
    """The thresholds that reproduce a table's R, F and M scores on any other customers.

    :func:`score` gives a value ``1 + floor(bins × c / n)``, where ``c`` counts the ``n``
    customers with a strictly worse value. That is at least ``s`` exactly when ``c ≥ k_s =
    ceil((s − 1) n / bins)``, i.e. when the value is better than the ``k_s``-th worst one. The
    ``bins − 1`` such values per score are its edges: :func:`score_with_edges` then scores the
    same customers exactly as :func:`score` did, and new customers as if they were ranked among
    these (without changing anyone's score). ``None`` when every value was the same (everyone
    got the middle score).

    Parameters
    ----------
    table : pandas.DataFrame
        An RFM table (``recency``, ``frequency``, ``monetary``).
    bins : int

    Returns
    -------
    dict
        ``{"r_score": edges, "f_score": edges, "m_score": edges}``, each edges a tuple of
        ``bins − 1`` values oriented so that larger is better (recency negated).
    """
    edges: dict[str, tuple[float, ...] | None] = {}
    for column, (feature, higher_is_better) in SCORED.items():
        values = table[feature].to_numpy(dtype="float64")
        oriented = np.sort(values if higher_is_better else -values)
        n = len(oriented)
        if n == 0 or oriented[0] == oriented[-1]:
            edges[column] = None
            continue
        ranks = [-(-(s - 1) * n // bins) for s in range(2, bins + 1)]  # ceil, in integers
        edges[column] = tuple(float(oriented[k - 1]) for k in ranks)
    return edges


def score_with_edges(
    table: pd.DataFrame,
    edges: dict[str, tuple[float, ...] | None],
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS,
    *,
    bins: int = 5,
) -> pd.DataFrame:
    """Score an RFM table with saved :func:`score_edges` and assign the rule segments again.

    Parameters
    ----------
    table : pandas.DataFrame
        An RFM table (``recency``, ``frequency``, ``monetary``).
    edges : dict
        :func:`score_edges` of the customers the scores are relative to; a score without edges
        is the middle one.
    segments : tuple of SegmentRule
        The rule segments (default :data:`DEFAULT_SEGMENTS`).
    bins : int
        Number of scores, as when the edges were computed.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with ``r_score, f_score, m_score`` and ``rfm_segment`` replaced.
    """
    out = table.copy()
    for column, (feature, higher_is_better) in SCORED.items():
        values = out[feature].to_numpy(dtype="float64")
        oriented = values if higher_is_better else -values
        cut = edges.get(column)
        if cut is None:
            scores = np.full(len(out), (bins + 1) // 2)
        else:
            scores = 1 + (oriented[:, None] > np.asarray(cut)[None, :]).sum(axis=1)
        out[column] = scores.astype("int8")
    out["rfm_segment"] = assign_segments(out, segments)
    return out


def _scores(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    scores = pd.DataFrame(
        {
            "r_score": score(table["recency"], higher_is_better=False),
            "f_score": score(table["frequency"]),
            "m_score": score(table["monetary"]),
        },
        index=table.index,
    )
    notes = []
    for column, feature in zip(scores, ("recency", "frequency", "monetary"), strict=True):
        used = int(np.count_nonzero(np.bincount(scores[column].to_numpy())))
        if used < 5:
            notes.append(
                f"{column}: ties leave only {used} distinct score(s) of 5 "
                f"(many customers share the same {feature})"
            )
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=3)
    return scores, notes


def validate_segments(segments: tuple[SegmentRule, ...] | list[SegmentRule]) -> None:
    """Check that the segments cover every (r, f, m) score cell exactly once.

    Parameters
    ----------
    segments : tuple or list of SegmentRule
        The rule segments.

    Raises
    ------
    SegmentDefinitionError
        Naming an uncovered cell or a cell claimed by two segments.
    """
    owner = _cell_owners(segments)
    uncovered = np.argwhere(owner == -1)
    if len(uncovered):
        r, f, m = (int(v) + 1 for v in uncovered[0])
        raise SegmentDefinitionError(
            f"{len(uncovered)} score cells have no segment, first: r={r}, f={f}, m={m}"
        )


def _cell_owners(segments: tuple[SegmentRule, ...] | list[SegmentRule]) -> np.ndarray:
    owner = np.full((5, 5, 5), -1, dtype=np.int16)
    for index, rule in enumerate(segments):
        for name, (low, high) in (("r", rule.r), ("f", rule.f), ("m", rule.m)):
            if not 1 <= low <= high <= 5:
                raise SegmentDefinitionError(
                    f"segment {rule.name!r}: {name} range {(low, high)} must lie within 1..5"
                )
        cells = owner[rule.r[0] - 1 : rule.r[1], rule.f[0] - 1 : rule.f[1],
                      rule.m[0] - 1 : rule.m[1]]  # fmt: skip
        taken = np.argwhere(cells != -1)
        if len(taken):
            r, f, m = (int(v) + 1 for v in taken[0] + [rule.r[0] - 1, rule.f[0] - 1, rule.m[0] - 1])
            other = segments[int(cells[tuple(taken[0])])].name
            raise SegmentDefinitionError(
                f"segments {other!r} and {rule.name!r} both claim r={r}, f={f}, m={m}"
            )
        cells[...] = index
    return owner


def assign_segments(
    scores: pd.DataFrame, segments: tuple[SegmentRule, ...] | list[SegmentRule] = DEFAULT_SEGMENTS
) -> pd.Series:
    """Return each customer's segment name from ``r_score``, ``f_score`` and ``m_score``.

    Parameters
    ----------
    scores : pandas.DataFrame
        With the columns ``r_score``, ``f_score`` and ``m_score`` (1 to 5).
    segments : tuple or list of SegmentRule
        The rule segments (default :data:`DEFAULT_SEGMENTS`).

    Returns
    -------
    pandas.Series
        ``rfm_segment`` (string), on the index of ``scores``.

    Raises
    ------
    SegmentDefinitionError
        When ``segments`` do not cover every score cell exactly once.
    """
    validate_segments(segments)
    owner = _cell_owners(segments)
    names = np.array([rule.name for rule in segments], dtype=object)
    r, f, m = (scores[c].to_numpy(dtype=np.int64) - 1 for c in ("r_score", "f_score", "m_score"))
    return pd.Series(names[owner[r, f, m]], index=scores.index, name="rfm_segment", dtype="string")


SEGMENT_TABLE_COLUMNS = (
    "name",
    "r_min",
    "r_max",
    "f_min",
    "f_max",
    "m_min",
    "m_max",
    "description",
)


def segments_to_frame(segments: tuple[SegmentRule, ...] | list[SegmentRule]) -> pd.DataFrame:
    """Return segment definitions as an editable table (one row per segment).

    Parameters
    ----------
    segments : tuple or list of SegmentRule
        The rule segments.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`SEGMENT_TABLE_COLUMNS`: name, the low and high R, F and M scores,
        description.
    """
    rows = [(rule.name, *rule.r, *rule.f, *rule.m, rule.description) for rule in segments]
    return pd.DataFrame(rows, columns=list(SEGMENT_TABLE_COLUMNS))


def segments_from_frame(frame: pd.DataFrame) -> tuple[SegmentRule, ...]:
    """Read segment definitions back from a table such as :func:`segments_to_frame` returns.

    Parameters
    ----------
    frame : pandas.DataFrame
        The columns of :data:`SEGMENT_TABLE_COLUMNS` (``description`` may be missing).

    Returns
    -------
    tuple of SegmentRule
        In the order of the rows.

    Raises
    ------
    SegmentDefinitionError
        A missing column, a row without a name or with a non-integer bound, or definitions that
        do not cover every score cell exactly once.
    """
    missing = [c for c in SEGMENT_TABLE_COLUMNS[:-1] if c not in frame.columns]
    if missing:
        raise SegmentDefinitionError(f"segment table lacks the columns {missing}")
    rules = []
    for position, row in enumerate(frame.itertuples(index=False), start=1):
        name = "" if pd.isna(row.name) else str(row.name).strip()
        if not name:
            raise SegmentDefinitionError(f"segment row {position} has no name")
        bounds = [_whole_bound(name, c, getattr(row, c)) for c in SEGMENT_TABLE_COLUMNS[1:-1]]
        description = getattr(row, "description", "")
        rules.append(
            SegmentRule(
                name, (bounds[0], bounds[1]), (bounds[2], bounds[3]), (bounds[4], bounds[5]),
                "" if pd.isna(description) else str(description),
            )
        )  # fmt: skip
    segments = tuple(rules)
    validate_segments(segments)
    return segments


def _whole_bound(name: str, column: str, value: object) -> int:
    """A score bound of a segment table: a whole number (range checked by the rules)."""
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not number.is_integer():
        raise SegmentDefinitionError(
            f"segment {name!r}: {column} must be a whole number from 1 to 5, got {value!r}"
        )
    return int(number)


def relabel(table: pd.DataFrame, segments: tuple[SegmentRule, ...]) -> pd.DataFrame:
    """Return a copy of an RFM table with ``rfm_segment`` assigned by other segment rules.

    Parameters
    ----------
    table : pandas.DataFrame
        An RFM table with its scores.
    segments : tuple of SegmentRule
        The rule segments to assign.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    SegmentDefinitionError
        When ``segments`` do not cover every score cell exactly once.
    """
    return table.assign(rfm_segment=assign_segments(table, segments))


def segment_summary(table: pd.DataFrame, segments: tuple[SegmentRule, ...]) -> pd.DataFrame:
    """Return one row per segment that has customers, in the order of ``segments``.

    Parameters
    ----------
    table : pandas.DataFrame
        An RFM table with ``rfm_segment``.
    segments : tuple of SegmentRule
        The rule segments the table was labelled with.

    Returns
    -------
    pandas.DataFrame
        ``rfm_segment, customers, share_customers, revenue, share_revenue, median_recency,
        median_frequency, definition`` (the score ranges and description in words).
    """
    grouped = table.groupby("rfm_segment", observed=True)
    summary = pd.DataFrame(
        {
            "customers": grouped.size(),
            "revenue": grouped["monetary"].sum(),
            "median_recency": grouped["recency"].median(),
            "median_frequency": grouped["frequency"].median(),
        }
    )
    order = [rule.name for rule in segments if rule.name in summary.index]
    summary = summary.loc[order]
    summary.insert(1, "share_customers", summary["customers"] / max(len(table), 1))
    total = table["monetary"].sum()
    summary.insert(3, "share_revenue", summary["revenue"] / total if total else 0.0)
    summary["definition"] = [_describe(rule) for rule in segments if rule.name in summary.index]
    return summary.rename_axis("rfm_segment").reset_index()


def _describe(rule: SegmentRule) -> str:
    def span(name: str, bounds: tuple[int, int]) -> str:
        low, high = bounds
        return f"{name} {low}" if low == high else f"{name} {low}–{high}"

    parts = [span("R", rule.r), span("F", rule.f)]
    if rule.m != (1, 5):
        parts.append(span("M", rule.m))
    text = ", ".join(parts)
    return f"{text}: {rule.description}" if rule.description else text


@dataclass(frozen=True)
class RangeSelection:
    """The customers whose R, F and M lie in given ranges (see :func:`select_range`).

    Attributes
    ----------
    count : int
        Customers in range.
    revenue_share : float
        Their share of the total monetary value (0 when the total is 0).
    top : pandas.DataFrame
        The ``top`` rows of the selection with the largest monetary value, largest first.
    mask : numpy.ndarray
        Boolean, one per row of the table.
    """

    count: int
    revenue_share: float
    top: pd.DataFrame
    mask: np.ndarray


def select_range(
    table: pd.DataFrame,
    *,
    recency: tuple[float, float],
    frequency: tuple[float, float],
    monetary: tuple[float, float],
    top: int = 2_000,
) -> RangeSelection:
    """Select the customers inside inclusive R, F and M ranges (the RFM sliders).

    Plain NumPy on the columns and a partial sort for the largest rows: ~20 ms for a million
    customers, where the pandas ``between`` / ``nlargest`` chain took ~100 ms.

    Parameters
    ----------
    table : pandas.DataFrame
        An RFM table.
    recency, frequency, monetary : tuple of float
        Inclusive ``(low, high)`` bounds.
    top : int
        Most rows kept in :attr:`RangeSelection.top`.

    Returns
    -------
    RangeSelection
    """
    monetary_values = table["monetary"].to_numpy(dtype=float)
    mask = _inside(table["recency"].to_numpy(), recency)
    mask &= _inside(table["frequency"].to_numpy(), frequency)
    mask &= _inside(monetary_values, monetary)
    rows = np.flatnonzero(mask)
    values = monetary_values[rows]
    if len(rows) > top:
        keep = np.argpartition(-values, top - 1)[:top]
        rows, values = rows[keep], values[keep]
    rows = rows[np.argsort(-values, kind="stable")]
    total = float(monetary_values.sum())
    share = float(monetary_values[mask].sum()) / total if total > 0 else 0.0
    return RangeSelection(int(mask.sum()), share, table.iloc[rows], mask)


def _inside(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    low, high = bounds
    return (values >= low) & (values <= high)
