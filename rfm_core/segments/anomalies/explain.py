"""Why a flagged customer stands out, in words, and what kind of anomaly it is.

Reasons and categories (:func:`explain`)
----------------------------------------
Each flagged customer's features are compared with the median of a reference group (by default
the customers that are not flagged) through a robust z on the ``log1p`` scale (as for
``zscore``). Features with ``|z| ≥`` :data:`TYPICAL_Z` are described with their value and the
reference median ("monetary 48× the median (£1.2M vs £25k)", "last purchase 320 days ago vs
median 50"); the others are "typical". Features are listed by ``|z|``, the strongest push first.
The category is the first rule that applies, in this order:

``possible data error``
    The table has a ``cancelled_amount`` column (value of the customer's cancelled or returned
    lines, removed by cleaning; its sign is ignored) and it is at least :data:`CANCELLED_SHARE`
    (50%) of ``monetary`` (what the customer bought). The reason starts with "large order later
    cancelled (£77k cancelled of £77k bought)", or "most purchases later cancelled" when the
    cancelled amount is below the reference median spend. Or ``monetary`` ≤ 0: "returns exceed
    purchases". Without the column the cancellation rule is skipped.
``bulk single order``
    One order (``frequency == 1``) and spend (monetary or average order value) pushes the
    customer out upwards.
``machine-like buying``
    Frequency pushes the customer out upwards while the average order value is at most the
    reference median: many small orders, as a script or an automatic re-order places them.
``wholesale-like whale``
    Spend (monetary or average order value) pushes the customer out upwards, over several orders.
``tiny spender``
    Spend pushes the customer out downwards (e.g. a sample or test order of a few pence).
``unusual combination``
    Flagged, but none of the rules above applies: the detector reacted to the combination. The
    reason then reads "no single feature stands out: " followed by every feature with its
    value and the median, strongest first.

Normal customers get ``""`` as reason and category. Rules only look at spend and frequency when
they are among the features the detector used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rfm_core.config import DEFAULT_FEATURES
from rfm_core.errors import RfmError
from rfm_core.segments.features import feature_frame, signed_log1p

__all__ = ["CANCELLED_SHARE", "CATEGORIES", "TYPICAL_Z", "explain", "robust_z"]

DATA_ERROR = "possible data error"
BULK_ORDER = "bulk single order"
MACHINE_LIKE = "machine-like buying"
WHALE = "wholesale-like whale"
TINY_SPENDER = "tiny spender"
UNUSUAL = "unusual combination"
CATEGORIES: tuple[str, ...] = (
    DATA_ERROR,
    BULK_ORDER,
    MACHINE_LIKE,
    WHALE,
    TINY_SPENDER,
    UNUSUAL,
    "",
)
"""Values of ``anomaly_category``, in rule order; ``""`` for customers that are not flagged."""

TYPICAL_Z = 2.0
CANCELLED_SHARE = 0.5

_MAD_TO_SIGMA = 1.4826  # 1 / Φ⁻¹(3/4): MAD of a normal distribution → its standard deviation
_MEAN_AD_TO_SIGMA = 1.2533  # √(π/2): mean absolute deviation of a normal → its sd
_SPEND = ("monetary", "avg_order_value")
_NO_SINGLE_FEATURE = "no single feature stands out"


# -- robust z -------------------------------------------------------------------------------


def _robust_center_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column median and robust scale (1.4826·MAD, else 1.2533·mean |x − median|)."""
    center = np.median(x, axis=0)
    deviation = np.abs(x - center)
    scale = _MAD_TO_SIGMA * np.median(deviation, axis=0)
    fallback = _MEAN_AD_TO_SIGMA * deviation.mean(axis=0)
    return center, np.where(scale > 0, scale, fallback)


def _z(x: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    diff = x - center
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / scale
    # a constant reference column: equal values are typical, any other value infinitely far
    constant = np.where(diff == 0, 0.0, np.copysign(np.inf, diff))
    return np.where(scale > 0, z, constant)


def robust_z(values: np.ndarray | pd.Series, reference: np.ndarray | pd.Series) -> np.ndarray:
    """Robust z of ``values`` on the ``log1p`` scale relative to ``reference``.

    ``z = (g(x) − median g(r)) / s`` with ``g(v) = sign(v)·log1p(|v|)`` and ``s`` = 1.4826 ×
    the median absolute deviation of ``g(r)`` (1.2533 × the mean absolute deviation when the MAD
    is 0). When ``s`` is 0 too, a value equal to the median has z 0 and any other ±inf.

    Parameters
    ----------
    values : numpy.ndarray or pandas.Series
        The values to place, e.g. one feature of the flagged customers.
    reference : numpy.ndarray or pandas.Series
        The values that define "typical" (their median and spread), not empty.

    Returns
    -------
    numpy.ndarray of float64
        Same length as ``values``.
    """
    ref = signed_log1p(np.asarray(reference, dtype="float64")).reshape(-1, 1)
    center, scale = _robust_center_scale(ref)
    x = signed_log1p(np.asarray(values, dtype="float64")).reshape(-1, 1)
    return _z(x, center, scale)[:, 0]


# -- explanations ---------------------------------------------------------------------------

_NAMES = {
    "recency": "recency",
    "frequency": "frequency",
    "monetary": "monetary",
    "avg_order_value": "average order value",
    "tenure_days": "tenure",
    "mean_days_between_purchases": "days between purchases",
}


def explain(
    rfm_table: pd.DataFrame,
    flags: pd.Series | np.ndarray,
    *,
    features: Sequence[str] = DEFAULT_FEATURES,
    reference: pd.DataFrame | None = None,
    currency: str = "",
) -> pd.DataFrame:
    """Say in words why each flagged customer stands out, and what kind of anomaly it is.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        One row per customer with the feature columns; ``frequency`` and ``monetary`` feed the
        category rules, ``cancelled_amount`` (optional) the data-error rule.
    flags : pandas.Series or numpy.ndarray of bool
        Which customers are flagged: a Series with the table's index (aligned by label) or an
        array in row order.
    features : sequence of str
        Features to describe, as given to the detector.
    reference : pandas.DataFrame, optional
        Customers whose medians define "typical"; default: the customers of ``rfm_table`` that
        are not flagged (all of them when every customer is flagged).
    currency : str, default ""
        Prefix of money amounts, e.g. ``"£"``.

    Returns
    -------
    pandas.DataFrame
        Same index and order as ``rfm_table``; columns ``anomaly_reason`` and
        ``anomaly_category`` (see the module docstring), ``""`` for customers not flagged.

    Raises
    ------
    RfmError
        Flags that are not booleans or not one per customer, a missing feature column, or an
        empty reference.

    Examples
    --------
    A customer who spent £1.2M over 3 orders, among customers who spend about £25k in 3 orders,
    gets ``"monetary 48× the median (£1.2M vs £25k), frequency typical"`` and the category
    ``"wholesale-like whale"``.
    """
    flagged = _flag_array(rfm_table, flags)
    values = feature_frame(rfm_table, features=features)
    if reference is None:
        reference = rfm_table.loc[~flagged] if (~flagged).any() else rfm_table
    ref_values = feature_frame(reference, features=features)
    if len(ref_values) == 0:
        raise RfmError("the reference customers are empty")
    rows = np.flatnonzero(flagged)
    picked = values.to_numpy()[rows]
    z = np.column_stack(
        [robust_z(picked[:, j], ref_values[name]) for j, name in enumerate(values.columns)]
    )
    facts = _category_facts(rfm_table, reference, rows)
    categories = _categories(dict(zip(values.columns, z.T, strict=True)), facts)
    notes = _data_error_notes(facts, categories, currency)
    medians = ref_values.median().to_numpy()
    # strongest push first; a stable sort keeps the feature order among equals
    order = np.argsort(-np.abs(z), axis=1, kind="stable")
    reasons = []
    for i in range(len(rows)):
        # no feature stands out on its own: show the numbers of all of them anyway
        unusual = categories[i] == UNUSUAL
        parts = [
            _describe(values.columns[j], picked[i, j], medians[j], z[i, j], currency, force=unusual)
            for j in order[i]
        ]
        if unusual:
            reasons.append(f"{_NO_SINGLE_FEATURE}: {', '.join(parts)}")
        else:
            reasons.append(", ".join([notes[i], *parts] if notes[i] else parts))
    reason = np.full(len(rfm_table), "", dtype=object)
    category = np.full(len(rfm_table), "", dtype=object)
    reason[rows] = reasons
    category[rows] = categories
    return pd.DataFrame(
        {"anomaly_reason": reason, "anomaly_category": category}, index=rfm_table.index
    ).astype("str")


def _flag_array(rfm_table: pd.DataFrame, flags: pd.Series | np.ndarray) -> np.ndarray:
    if isinstance(flags, pd.Series):
        missing = ~rfm_table.index.isin(flags.index)
        if missing.any():
            raise RfmError(f"flags has no value for customer {rfm_table.index[missing][0]!r}")
        flags = flags.reindex(rfm_table.index)
    array = np.asarray(flags)
    if array.shape != (len(rfm_table),):
        raise RfmError(
            f"flags must have one value per customer ({len(rfm_table)}), got shape {array.shape}"
        )
    if array.dtype != bool:
        raise RfmError(f"flags must be booleans, got dtype {array.dtype}")
    return array


def _category_facts(
    rfm_table: pd.DataFrame, reference: pd.DataFrame, rows: np.ndarray
) -> dict[str, np.ndarray]:
    """Raw values the category rules need, for the flagged rows (NaN when a column is absent)."""
    n = len(rows)

    def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(frame), np.nan)
        return frame[name].to_numpy(dtype="float64")

    frequency = _column(rfm_table, "frequency")[rows]
    monetary = _column(rfm_table, "monetary")[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        aov = monetary / frequency
        ref_aov = _column(reference, "monetary") / _column(reference, "frequency")
    finite = ref_aov[np.isfinite(ref_aov)]
    return {
        "frequency": frequency,
        "monetary": monetary,
        "aov": aov,
        "median_aov": np.full(n, np.median(finite) if finite.size else np.nan),
        "median_monetary": np.full(n, np.nanmedian(_column(reference, "monetary"))),
        # returned lines carry negative amounts
        "cancelled": np.abs(_column(rfm_table, "cancelled_amount")[rows]),
    }


def _categories(z: dict[str, np.ndarray], fact: dict[str, np.ndarray]) -> np.ndarray:
    """Category of each flagged customer: the first rule that applies (module docstring)."""
    n = len(fact["monetary"])
    spend = [z[name] for name in _SPEND if name in z]
    spend_high = np.max(spend, axis=0) if spend else np.zeros(n)
    spend_low = np.min(spend, axis=0) if spend else np.zeros(n)
    frequency_z = z.get("frequency", np.zeros(n))
    with np.errstate(invalid="ignore"):
        rules = [
            _cancelled_mostly(fact) | (fact["monetary"] <= 0),
            (fact["frequency"] == 1) & (spend_high >= TYPICAL_Z),
            (frequency_z >= TYPICAL_Z) & (fact["aov"] <= fact["median_aov"]),
            spend_high >= TYPICAL_Z,
            spend_low <= -TYPICAL_Z,
        ]
    chosen = np.select(rules, [DATA_ERROR, BULK_ORDER, MACHINE_LIKE, WHALE, TINY_SPENDER], UNUSUAL)
    return chosen.astype(object)


def _cancelled_mostly(fact: dict[str, np.ndarray]) -> np.ndarray:
    monetary = fact["monetary"]
    with np.errstate(invalid="ignore"):
        return (monetary > 0) & (fact["cancelled"] >= CANCELLED_SHARE * monetary)


def _data_error_notes(
    fact: dict[str, np.ndarray], categories: np.ndarray, currency: str
) -> list[str]:
    """What makes a possible data error, said first in its reason; ``""`` for other rows."""
    cancelled = _cancelled_mostly(fact)
    notes = []
    for i, category in enumerate(categories):
        bought = _money(fact["monetary"][i], currency)
        if category != DATA_ERROR:
            notes.append("")
        elif cancelled[i]:
            amount = _money(fact["cancelled"][i], currency)
            what = (
                "large order later cancelled"
                if fact["cancelled"][i] >= fact["median_monetary"][i]
                else "most purchases later cancelled"
            )
            notes.append(f"{what} ({amount} cancelled of {bought} bought)")
        else:
            notes.append(f"returns exceed purchases (monetary {bought})")
    return notes


def _describe(
    name: str, value: float, median: float, z: float, currency: str, *, force: bool = False
) -> str:
    """One feature of one customer in words; "typical" unless it pushes or ``force``."""
    label = _NAMES[name]
    if abs(z) < TYPICAL_Z and not force:
        return f"{label} typical"
    if name == "recency":
        return f"last purchase {_days(value)} ago vs median {_number(median)}"
    if name == "tenure_days":
        return f"first purchase {_days(value)} ago vs median {_number(median)}"
    if name == "mean_days_between_purchases":
        return f"{_number(value)} days between purchases vs median {_number(median)}"
    if name == "frequency":
        shown = f"{_number(value)} order{'' if value == 1 else 's'} vs {_number(median)}"
    else:
        shown = f"{_money(value, currency)} vs {_money(median, currency)}"
    if value <= 0 or median <= 0:
        return f"{label} {shown.replace(' vs ', ' vs median ')}"
    return f"{label} {_ratio(value / median)} ({shown})"


def _ratio(ratio: float) -> str:
    """``48× the median``, ``2.5× the median``, ``1/20 of the median``, ``about the median``."""
    if 0.95 <= ratio < 1.05:
        return "about the median"
    if ratio >= 1:
        return f"{_trim(ratio)}× the median"
    if 1 / ratio >= 2:
        return f"1/{round(1 / ratio):,} of the median"
    return f"{ratio:.1f}× the median"


def _trim(value: float) -> str:
    text = f"{value:,.0f}" if value >= 10 else f"{value:.1f}"
    return text.removesuffix(".0")


def _days(value: float) -> str:
    return f"{_number(value)} day{'' if value == 1 else 's'}"


def _number(value: float) -> str:
    """Whole numbers as such, others with one decimal."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _money(value: float, currency: str) -> str:
    """Compact amount: ``1.2M``, ``25k``, ``4.3k``, ``650``, ``3.20``."""
    sign, size = ("-" if value < 0 else ""), abs(value)
    if size >= 1e6:
        text = f"{size / 1e6:.1f}".removesuffix(".0") + "M"
    elif size >= 1e4:
        text = f"{size / 1e3:.0f}k"
    elif size >= 1e3:
        text = f"{size / 1e3:.1f}".removesuffix(".0") + "k"
    elif size >= 10:
        text = f"{size:.0f}"
    else:
        text = f"{size:.2f}"
    return f"{sign}{currency}{text}"
