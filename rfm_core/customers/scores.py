"""How recency, frequency and monetary values become scores 1–5, the cut points in words, and what
a change of binning does to the rule segments.

Binning (:class:`ScoreBinning`)
-------------------------------
quantile (default)
    :func:`rfm_core.customers.rfm.score`: ``1 + ⌊5 × share of customers with a strictly worse
    value⌋``. Equal values share a score.
jenks (natural breaks)
    Fisher's exact optimal split of the values into five classes: the one with the smallest
    total squared distance of the values to their class mean (Jenks' natural breaks, computed
    exactly, Fisher 1958). Recency is split on its days; frequency and monetary on
    ``log(1 + value)``, because on the values themselves the few largest customers dominate the
    squared distances and the classes only isolate them: on Online Retail (4,338 customers;
    skewness of recency 1.2, frequency 12, monetary 19) raw monetary classes hold 4,120, 187,
    24, 5 and 2 customers and log classes 673, 1,216, 1,264, 945 and 240 (frequency: 3,466 …
    2 raw, 1,493 … 162 on the log); recency, mildly skewed and read in days, keeps its days (cut
    at 47, 118, 205 and 293 days). The split is exact on the
    distinct values weighted by their counts, in ``O(5 · d²)`` time for ``d`` distinct values;
    above :data:`JENKS_MAX_VALUES` distinct values it is computed on a seeded sample of that many
    customers (and a note says so).
fixed cut points
    Four cut points per score, typed by the user; each cut point belongs to the *better* score.
    Recency ``30, 90, 180, 365``: R 5 for a last purchase within 30 days, R 4 for 31–90 days, …,
    R 1 beyond 365 days. Frequency ``2, 3, 5, 10``: F 1 for 1 order, F 2 for 2, F 3 for 3–4, F 4
    for 5–9, F 5 for 10 or more. Monetary ``100, 250, 500, 1000``: M 5 for 1,000 or more.
    A score without cut points uses the binning's method, so recency can be fixed while
    frequency and monetary stay quantiles.

Every binning becomes *score edges* in the format of :func:`rfm_core.customers.rfm.score_edges`
(what a saved model keeps), and :func:`rfm_core.customers.rfm.score_with_edges` scores with
them, so the pipeline, saved models, the command line and the pages score one way.

Cut points in words (:func:`cut_points`, :func:`describe_scores`) read the edges as bounds in
days, orders and money: recency and frequency are whole numbers and monetary is in cents (as the
pipeline computes them), so "R 5: last purchase within 12 days" and "M 5: spent 1,234 or more"
are exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfm_core.customers.rfm import (
    DEFAULT_SEGMENTS,
    SCORED,
    SegmentRule,
    score_edges,
    score_with_edges,
)
from rfm_core.errors import ScoreBinningError

__all__ = [
    "BINNING_METHODS",
    "JENKS_MAX_VALUES",
    "QUANTILES",
    "SCORE_FEATURES",
    "ScoreBinning",
    "Scoring",
    "SegmentChanges",
    "compare_segments",
    "cut_points",
    "describe_scores",
    "natural_breaks",
    "rescore",
]

BINNING_METHODS: tuple[str, ...] = ("quantile", "jenks")
SCORE_FEATURES: tuple[str, ...] = ("recency", "frequency", "monetary")
N_CUTS = 4  # cut points per score: one between each pair of the five scores
JENKS_MAX_VALUES = 50_000
_LOG_SCALED = ("frequency", "monetary")
_COLUMN = {feature: column for column, (feature, _) in SCORED.items()}
_LETTER = {"recency": "R", "frequency": "F", "monetary": "M"}
_EXAMPLE = {
    "recency": "R 5 is the most recent: e.g. 30, 90, 180, 365 days",
    "frequency": "F 5 is the most orders: e.g. 2, 3, 5, 10",
    "monetary": "M 5 is the most spent: e.g. 100, 250, 500, 1000",
}


@dataclass(frozen=True)
class ScoreBinning:
    """How the R, F and M scores are cut (hashable: the app caches on it).

    Parameters
    ----------
    method : {"quantile", "jenks"}
        For the scores without fixed cut points: quantiles (the default, unchanged scores) or
        natural breaks (see the module's definitions).
    recency, frequency, monetary : tuple of float
        Four increasing cut points (0 or more) fixing that score, each belonging to the better
        score; empty to use ``method``.

    Raises
    ------
    ScoreBinningError
        An unknown method, or cut points that are not four increasing numbers of 0 or more.
    """

    method: str = "quantile"
    recency: tuple[float, ...] = ()
    frequency: tuple[float, ...] = ()
    monetary: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in BINNING_METHODS:
            raise ScoreBinningError(
                f"method: {self.method!r} is not a binning; choose {' or '.join(BINNING_METHODS)}"
            )
        for feature in SCORE_FEATURES:
            object.__setattr__(self, feature, _checked_cuts(feature, getattr(self, feature)))

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> ScoreBinning:
        """Read a binning from plain data, such as a JSON file holds.

        Parameters
        ----------
        data : mapping
            ``{"method": "jenks"}``, ``{"recency": [30, 90, 180, 365], ...}`` or both; every key
            optional (an empty mapping is the default binning).

        Returns
        -------
        ScoreBinning

        Raises
        ------
        ScoreBinningError
            An unknown key, a value that is not a list of numbers, or what the class refuses.
        """
        if not isinstance(data, Mapping):
            raise ScoreBinningError(
                f"expected an object with the keys method, {', '.join(SCORE_FEATURES)}; "
                f"got {type(data).__name__}"
            )
        unknown = [key for key in data if key not in ("method", *SCORE_FEATURES)]
        if unknown:
            raise ScoreBinningError(
                f"unknown field {unknown[0]!r}; expected method, {', '.join(SCORE_FEATURES)}"
            )
        cuts = {}
        for feature in SCORE_FEATURES:
            values = data.get(feature)
            values = () if values is None else values
            if isinstance(values, str | bytes) or not isinstance(values, list | tuple):
                raise ScoreBinningError(
                    f"{feature}: expected a list of {N_CUTS} numbers, got {values!r}"
                )
            cuts[feature] = tuple(values)
        method = data.get("method", "quantile")
        return cls(str(method) if method is not None else "quantile", **cuts)

    def to_dict(self) -> dict[str, object]:
        """The binning as :meth:`from_mapping` reads it (JSON-ready).

        Returns
        -------
        dict
            ``method`` and the fixed cut points of each score that has them.
        """
        fixed = {f: [_plain_number(v) for v in getattr(self, f)] for f in self.fixed}
        return {"method": self.method, **fixed}

    @property
    def fixed(self) -> tuple[str, ...]:
        """The scores with fixed cut points.

        Returns
        -------
        tuple of str
        """
        return tuple(feature for feature in SCORE_FEATURES if getattr(self, feature))

    def describe(self) -> str:
        """The binning in words, e.g. "fixed cut points for recency; quantiles for frequency and
        monetary".

        Returns
        -------
        str
        """
        rest = [feature for feature in SCORE_FEATURES if feature not in self.fixed]
        method = "quantiles" if self.method == "quantile" else "natural breaks"
        parts = []
        if self.fixed:
            parts.append(f"fixed cut points for {_joined(self.fixed)}")
        if rest:
            parts.append(method if not self.fixed else f"{method} for {_joined(rest)}")
        return "; ".join(parts)


def _joined(words: tuple[str, ...] | list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _checked_cuts(feature: str, values: object) -> tuple[float, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, list | tuple | np.ndarray):
        raise ScoreBinningError(f"{feature}: expected a list of {N_CUTS} numbers, got {values!r}")
    values = list(values)
    if not values:
        return ()
    if len(values) != N_CUTS:
        raise ScoreBinningError(
            f"{feature}: {N_CUTS} cut points are needed (one between each pair of the five "
            f"scores), got {len(values)}"
        )
    numbers = []
    for value in values:
        is_number = isinstance(value, int | float | np.integer | np.floating)
        if isinstance(value, bool | np.bool_) or not is_number:
            raise ScoreBinningError(f"{feature}: {value!r} is not a number")
        number = float(value)
        if not (math.isfinite(number) and number >= 0):
            raise ScoreBinningError(
                f"{feature}: cut points must be numbers of 0 or more, first bad value {value!r}"
            )
        if numbers and number <= numbers[-1]:
            raise ScoreBinningError(
                f"{feature}: cut points must increase ({_EXAMPLE[feature]}); first bad value "
                f"{_plain_number(number)} after {_plain_number(numbers[-1])}"
            )
        numbers.append(number)
    return tuple(numbers)


QUANTILES = ScoreBinning()
"""The default binning: quantile scores for R, F and M."""


# -- scoring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scoring:
    """A customer table scored with a binning.

    Attributes
    ----------
    table : pandas.DataFrame
        A copy of the RFM table with ``r_score, f_score, m_score`` and ``rfm_segment`` replaced.
    edges : dict
        The score edges (:func:`rfm_core.customers.rfm.score_edges` format): what a saved model
        keeps and :func:`describe_scores` puts in words.
    binning : ScoreBinning
    notes : tuple of str
        What a user should know: scores no customer has, natural breaks on a sample.
    """

    table: pd.DataFrame
    edges: dict[str, tuple[float, ...] | None]
    binning: ScoreBinning
    notes: tuple[str, ...] = ()


def rescore(
    table: pd.DataFrame,
    binning: ScoreBinning | None = None,
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS,
    *,
    random_state: int = 0,
) -> Scoring:
    """Score an RFM table with a binning and assign the rule segments again.

    With the default binning the scores are exactly those of
    :func:`rfm_core.customers.rfm.compute_rfm`.

    Parameters
    ----------
    table : pandas.DataFrame
        An RFM table (``recency``, ``frequency``, ``monetary``); not modified.
    binning : ScoreBinning, optional
        Default: quantiles.
    segments : tuple of SegmentRule
        The rule segments to assign.
    random_state : int
        Seeds the sample natural breaks are computed on when there are more than
        :data:`JENKS_MAX_VALUES` distinct values.

    Returns
    -------
    Scoring

    Raises
    ------
    SegmentDefinitionError
        When ``segments`` do not cover every score cell exactly once.
    """
    binning = binning or QUANTILES
    notes: list[str] = []
    quantile = score_edges(table) if binning.method == "quantile" else None
    edges: dict[str, tuple[float, ...] | None] = {}
    for feature in SCORE_FEATURES:
        column = _COLUMN[feature]
        if feature in binning.fixed:
            edges[column] = _fixed_edges(feature, getattr(binning, feature))
        elif quantile is not None:
            edges[column] = quantile[column]
        else:
            edges[column] = _jenks_edges(table[feature], feature, notes, random_state)
    scored = score_with_edges(table, edges, segments)
    if binning != QUANTILES:
        notes += _empty_scores(scored, edges)
    return Scoring(scored, edges, binning, tuple(notes))


def _fixed_edges(feature: str, cuts: tuple[float, ...]) -> tuple[float, ...]:
    """Edges (larger is better, a value above an edge scores higher) of cut points that belong
    to the better score: the next float below each oriented cut point, so that ``>`` the edge
    is exactly ``≥`` the cut point."""
    _, higher_is_better = SCORED[_COLUMN[feature]]
    oriented = np.asarray(cuts if higher_is_better else [-c for c in cuts], dtype="float64")
    return tuple(float(v) for v in np.sort(np.nextafter(oriented, -np.inf)))


def _jenks_edges(
    values: pd.Series, feature: str, notes: list[str], random_state: int
) -> tuple[float, ...] | None:
    _, higher_is_better = SCORED[_COLUMN[feature]]
    data = values.to_numpy(dtype="float64")
    oriented = data if higher_is_better else -data
    distinct = np.unique(oriented)
    if len(distinct) <= 1:
        return None
    sampled = len(distinct) > JENKS_MAX_VALUES
    if sampled:
        rng = np.random.default_rng(random_state)
        oriented = rng.choice(oriented, size=JENKS_MAX_VALUES, replace=False)
        notes.append(
            f"natural breaks of {feature} were found on a seeded sample of "
            f"{JENKS_MAX_VALUES:,} of {len(data):,} customers (it has {len(distinct):,} "
            "distinct values)"
        )
    breaks = natural_breaks(oriented, log=feature in _LOG_SCALED)
    if len(breaks) < N_CUTS:
        notes.append(
            f"{feature} has only {len(breaks) + 1} distinct values: "
            f"{_LETTER[feature]} takes {len(breaks) + 1} scores"
        )
    return tuple(float(v) for v in breaks)


def _empty_scores(table: pd.DataFrame, edges: Mapping[str, tuple | None]) -> list[str]:
    notes = []
    for feature in SCORE_FEATURES:
        column = _COLUMN[feature]
        if edges[column] is None:
            continue
        present = set(table[column].unique().tolist())
        missing = [s for s in range(1, len(edges[column]) + 2) if s not in present]
        if missing:
            shown = " or ".join(f"{_LETTER[feature]} {s}" for s in missing)
            notes.append(f"no customer has {shown} with these cut points")
    return notes


def natural_breaks(
    values: np.ndarray | pd.Series, *, classes: int = 5, log: bool = False
) -> np.ndarray:
    """Jenks' natural breaks of ``values``, computed exactly (Fisher 1958).

    The values are split into ``classes`` intervals of the sorted values so that the total
    squared distance of the values to their class mean is the smallest possible (on
    ``sign(x)·log(1 + |x|)`` when ``log``). Equal values always share a class: the dynamic
    programme runs on the ``d`` distinct values weighted by their counts, in ``O(classes · d²)``
    time, with the leftmost optimal split of each prefix (monotone in the prefix, which the
    search uses to skip splits that cannot be optimal).

    Parameters
    ----------
    values : numpy.ndarray or pandas.Series
        Finite numbers.
    classes : int
        At most this many classes (fewer when there are fewer distinct values).
    log : bool
        Split on ``sign(x)·log(1 + |x|)`` (heavy-tailed values).

    Returns
    -------
    numpy.ndarray
        The largest value of each class but the last, increasing: a value ``> breaks[i]`` is
        in class ``i + 1`` or above.
    """
    distinct, counts = np.unique(np.asarray(values, dtype="float64"), return_counts=True)
    scale = np.sign(distinct) * np.log1p(np.abs(distinct)) if log else distinct
    ends = _fisher_ends(scale, counts.astype("float64"), min(classes, len(distinct)))
    return distinct[np.asarray(ends[:-1], dtype=np.int64) - 1]


def _fisher_ends(x: np.ndarray, weights: np.ndarray, classes: int) -> list[int]:
    """Exclusive end positions of the optimal classes of sorted ``x`` (weighted)."""
    d = len(x)
    if classes <= 1:
        return [d]
    x = x - np.average(x, weights=weights)  # centred: fewer digits lost in s2 − s1² / n
    sums = (
        np.concatenate([[0.0], np.cumsum(weights)]),
        np.concatenate([[0.0], np.cumsum(weights * x)]),
        np.concatenate([[0.0], np.cumsum(weights * x * x)]),
    )
    cost = _within(sums, np.zeros(d, dtype=np.int64), np.arange(1, d + 1))  # x[:e] in 1 class
    starts: list[np.ndarray] = []
    for layer in range(2, classes + 1):
        # the last layer only needs the whole range; the others every prefix long enough
        ends = np.arange(layer, d + 1) if layer < classes else np.array([d])
        best, start_of = _best_splits(cost, sums, ends, layer)
        cost = np.full(d, np.inf)
        cost[ends - 1] = best
        starts.append(np.zeros(d, dtype=np.int64))
        starts[-1][ends - 1] = start_of
    result, end = [d], d
    for start_of in reversed(starts):
        end = int(start_of[end - 1])
        result.append(end)
    return sorted(result)


def _within(sums: tuple[np.ndarray, ...], start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Weighted squared deviation from its mean of the class ``x[start:end]`` (``start < end``)."""
    n_sum, s1, s2 = sums
    n = n_sum[end] - n_sum[start]
    s = s1[end] - s1[start]
    return (s2[end] - s2[start]) - s * s / n


def _best_splits(
    cost: np.ndarray, sums: tuple[np.ndarray, ...], ends: np.ndarray, layer: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each prefix ``x[:end]``, the cheapest split into ``layer`` classes: its cost and the
    start of its last class.

    The leftmost best start never decreases as the prefix grows (the squared deviation of an
    interval satisfies the quadrangle inequality), so the prefixes are solved by divide and
    conquer: the middle prefix of a range first, then each half searching only on its side of
    that start. Each round of halving looks at about ``d`` candidate starts in all, in one
    vectorised step: ``O(d log d)`` per layer.
    """
    best = np.empty(len(ends))
    start_of = np.empty(len(ends), dtype=np.int64)
    # open ranges of prefixes (positions first..last in ends) and their candidate starts low..high
    first, last = np.array([0]), np.array([len(ends) - 1])
    low, high = np.array([layer - 1]), np.array([int(ends[-1]) - 1])
    while len(first):
        middle = (first + last) // 2
        end = ends[middle]
        counts = np.minimum(high, end - 1) - low + 1
        owner = np.repeat(np.arange(len(middle)), counts)
        offsets = np.cumsum(counts) - counts
        start = low[owner] + np.arange(counts.sum()) - offsets[owner]
        value = cost[start - 1] + _within(sums, start, end[owner])
        smallest = np.minimum.reduceat(value, offsets)
        hits = np.flatnonzero(value == smallest[owner])
        _, leftmost = np.unique(owner[hits], return_index=True)
        chosen = start[hits[leftmost]]
        best[middle], start_of[middle] = smallest, chosen
        left, right = middle > first, middle < last
        first = np.concatenate([first[left], middle[right] + 1])
        last = np.concatenate([middle[left] - 1, last[right]])
        low, high = (
            np.concatenate([low[left], chosen[right]]),
            np.concatenate([chosen[left], high[right]]),
        )
    return best, start_of


# -- cut points in words ------------------------------------------------------------------------


def cut_points(edges: Mapping[str, tuple[float, ...] | None]) -> dict[str, tuple[float, ...]]:
    """The score edges as cut points in days, orders and money, each belonging to the better
    score (the format of :class:`ScoreBinning`'s fixed cut points).

    Recency and frequency are read as whole numbers, monetary in cents: R ≥ s for recency ≤ the
    cut point, F and M ≥ s for values ≥ it.

    Parameters
    ----------
    edges : mapping
        :attr:`Scoring.edges` or :func:`rfm_core.customers.rfm.score_edges`.

    Returns
    -------
    dict
        ``recency, frequency, monetary`` → their cut points, increasing (empty when every
        customer had the same value). Ties can make two cut points equal; such cut points are
        not accepted as fixed ones.
    """
    result: dict[str, tuple[float, ...]] = {}
    for feature in SCORE_FEATURES:
        column = _COLUMN[feature]
        cut = edges.get(column)
        if cut is None:
            result[feature] = ()
        elif feature == "recency":
            result[feature] = tuple(sorted(float(math.ceil(-e) - 1) for e in cut))
        elif feature == "frequency":
            result[feature] = tuple(float(math.floor(e) + 1) for e in cut)
        else:
            result[feature] = tuple(_next_cent(e) for e in cut)
    return result


def _next_cent(edge: float) -> float:
    """The smallest amount in cents strictly above ``edge``."""
    cents = math.floor(edge * 100) + 1
    while cents / 100 <= edge:
        cents += 1
    while (cents - 1) / 100 > edge:
        cents -= 1
    return cents / 100


def describe_scores(
    edges: Mapping[str, tuple[float, ...] | None], table: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every score level in words: "R 5: last purchase within 12 days", "F 1: 1 order",
    "M 5: spent 1,234 or more".

    Parameters
    ----------
    edges : mapping
        :attr:`Scoring.edges` or :func:`rfm_core.customers.rfm.score_edges`.
    table : pandas.DataFrame, optional
        The customers scored with ``edges``: adds how many have each score.

    Returns
    -------
    pandas.DataFrame
        One row per score and level, R then F then M, 5 first: ``score`` ("R 5"), ``meaning``
        ("last purchase within 12 days"), then with a table ``customers`` and ``share``.
    """
    rows = []
    bounds = cut_points(edges)
    for feature in SCORE_FEATURES:
        cuts = bounds[feature]
        for level in range(5, 0, -1):
            rows.append((f"{_LETTER[feature]} {level}", _meaning(feature, cuts, level)))
    frame = pd.DataFrame(rows, columns=["score", "meaning"])
    if table is not None:
        counts = []
        for feature in SCORE_FEATURES:
            column = table[_COLUMN[feature]].value_counts()
            counts += [int(column.get(level, 0)) for level in range(5, 0, -1)]
        frame["customers"] = counts
        frame["share"] = frame["customers"] / max(len(table), 1)
    return frame


def _meaning(feature: str, cuts: tuple[float, ...], level: int) -> str:
    """What score ``level`` means given the cut points of ``feature``."""
    if not cuts:
        return f"every customer (all have the same {feature})" if level == 3 else "no customers"
    if level > len(cuts) + 1:
        return f"no customers (only {len(cuts) + 1} classes)"
    if feature == "recency":
        # R ≥ s ⇔ recency ≤ cuts[top − s], the cut points increasing
        top = len(cuts) + 1
        high = cuts[top - level] if level > 1 else None
        low = cuts[top - level - 1] + 1 if level < top else None
        return _days(low, high)
    # F, M ≥ s ⇔ value ≥ cuts[s − 2]
    low = cuts[level - 2] if level > 1 else None
    above = cuts[level - 1] if level <= len(cuts) else None
    if feature == "frequency":
        return _orders(low, None if above is None else above - 1)
    return _spent(low, above)


def _days(low: float | None, high: float | None) -> str:
    if (low is not None and high is not None and low > high) or (high is not None and high < 0):
        return "no customers (two cut points meet)"
    if low is None and high == 0:
        return "last purchase on the reference date"
    if low is None:
        return f"last purchase within {_whole(high)} {_plural(high, 'day')}"
    if high is None:
        return f"last purchase {_whole(low)} or more days ago"
    if low == high:
        return f"last purchase {_whole(low)} {_plural(low, 'day')} ago"
    return f"last purchase {_whole(low)}–{_whole(high)} days ago"


def _orders(low: float | None, high: float | None) -> str:
    if (low is not None and high is not None and low > high) or (high is not None and high < 1):
        return "no customers (two cut points meet)"
    if low is None:
        return "1 order" if high == 1 else f"up to {_whole(high)} orders"
    if high is None:
        return f"{_whole(low)} or more orders"
    if low == high:
        return f"{_whole(low)} {_plural(low, 'order')}"
    return f"{_whole(low)}–{_whole(high)} orders"


def _spent(low: float | None, above: float | None) -> str:
    if (low is not None and above is not None and low >= above) or (
        above is not None and above <= 0
    ):
        return "no customers (two cut points meet)"
    if low is None:
        return f"spent less than {_money(above)}"
    if above is None:
        return f"spent {_money(low)} or more"
    high = round(above - 0.01, 2)
    if float(low).is_integer() and high.is_integer():
        return f"spent {_money(low)}–{_money(high)}"
    return f"spent {low:,.2f}–{high:,.2f}"  # one with cents: both with cents


def _whole(value: float) -> str:
    return f"{int(value):,}"


def _plural(value: float, word: str) -> str:
    return word if value == 1 else f"{word}s"


def _money(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


# -- what a change does --------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentChanges:
    """How many customers two assignments put in different segments.

    Attributes
    ----------
    customers : int
        Customers compared.
    changed : int
        Customers whose segment differs.
    moves : pandas.DataFrame
        ``segment_from, segment_to, customers``: one row per pair of different segments with
        customers, most customers first.
    """

    customers: int
    changed: int
    moves: pd.DataFrame


def compare_segments(before: pd.Series, after: pd.Series) -> SegmentChanges:
    """Count the customers whose segment differs between two assignments.

    Parameters
    ----------
    before, after : pandas.Series
        Segment of every customer (index ``customer_id``), e.g. ``rfm_segment`` under the
        current binning and under a candidate one; the same customers, in any order.

    Returns
    -------
    SegmentChanges

    Raises
    ------
    ScoreBinningError
        When the two series do not hold the same customers.
    """
    if len(before) != len(after) or not before.index.sort_values().equals(
        after.index.sort_values()
    ):
        raise ScoreBinningError("the two assignments must hold the same customers")
    after = after.reindex(before.index)
    frame = pd.DataFrame(
        {"segment_from": before.astype(str).to_numpy(), "segment_to": after.astype(str).to_numpy()}
    )
    moved = frame[frame["segment_from"] != frame["segment_to"]]
    moves = (
        moved.groupby(["segment_from", "segment_to"], sort=False)
        .size()
        .rename("customers")
        .reset_index()
        .sort_values(["customers", "segment_from", "segment_to"], ascending=[False, True, True])
        .reset_index(drop=True)
    )
    return SegmentChanges(len(frame), len(moved), moves)
