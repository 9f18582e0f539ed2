"""Seeded synthetic retail transaction logs with known customer groups and planted anomalies.

The generator feeds the tests, the demo dataset and the benchmarks. It draws customers from
latent groups (by default :data:`GROUPS`, well separated in log recency/frequency/monetary space;
any number of :data:`LIFECYCLE_GROUPS` or any mapping of :class:`GroupSpec`, spread toward each
other by ``overlap``), plants a share of anomalous customers (:data:`ANOMALIES`) far from every
group, and adds the mess of a real export (:data:`MESS_RATES`): rows without a customer,
cancellations, exact duplicate rows and zero-price rows. The mess never changes the ground
truth: a cleaner that drops missing customer ids, cancellations and non-positive quantities,
non-positive prices and exact duplicates recovers exactly the purchases the truth describes.

Everything is vectorised with numpy: one million customers (about 13 million rows) take
seconds, not minutes. Text columns are built as Arrow strings, never as Python objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray

__all__ = [
    "ANOMALIES",
    "ANOMALY_GROUP",
    "CDNOW_COLUMNS",
    "GROUPS",
    "LIFECYCLE_GROUPS",
    "MESS_RATES",
    "TRANSACTION_COLUMNS",
    "AnomalySpec",
    "GroupSpec",
    "SyntheticLog",
    "european_csv",
    "generate_bgnbd_transactions",
    "generate_cdnow_like",
    "generate_transactions",
    "lifecycle_groups",
]


@dataclass(frozen=True)
class GroupSpec:
    """Purchase behaviour of one latent customer group.

    Day parameters describe a one-year log ending on ``end``; logs of another length scale them
    proportionally, so that the groups keep their shape.

    Attributes
    ----------
    share : float
        Relative share of the (non-anomalous) customers in this group.
    recency_days : tuple of int
        Inclusive range of days between the last order and ``end`` (0: ordered on ``end``).
    orders : tuple of int
        Inclusive range of the number of orders (invoices) per customer.
    history_days : tuple of int
        Inclusive range of days between the first and the last order.
    lines_per_order : float
        Mean number of lines (distinct products) per invoice, at least 1.
    units_per_line : float
        Mean quantity per line, at least 1.
    price_level : float
        Multiplier applied to catalogue prices.
    """

    share: float
    recency_days: tuple[int, int]
    orders: tuple[int, int]
    history_days: tuple[int, int]
    lines_per_order: float
    units_per_line: float
    price_level: float


@dataclass(frozen=True)
class AnomalySpec:
    """Behaviour of one kind of planted anomalous customer.

    Attributes
    ----------
    feature : str
        The RFM feature (``"recency"``, ``"frequency"`` or ``"monetary"``) on which the customer
        is an outlier.
    behaviour : GroupSpec
        Purchase behaviour; ``share`` is the relative share among anomalous customers.
    evenly_spaced : bool
        Whether orders follow each other at a fixed interval (a script, not a person).
    """

    feature: str
    behaviour: GroupSpec
    evenly_spaced: bool = False


@dataclass(frozen=True)
class SyntheticLog:
    """A generated transaction log and the truth behind it.

    Attributes
    ----------
    transactions : pandas.DataFrame
        The log as a user would upload it, columns :data:`TRANSACTION_COLUMNS`, sorted by
        ``InvoiceDate`` then ``InvoiceNo``.
    customers : pandas.DataFrame
        Ground truth, one row per customer, indexed by ``customer_id`` (same dtype as the
        ``CustomerID`` column): ``group``, ``is_anomaly``, ``anomaly_kind``, ``anomaly_feature``
        (both ``""`` for normal customers) and the true ``recency`` (days from the last clean
        purchase date to the day after ``end``), ``frequency`` (distinct clean purchase invoices)
        and ``monetary`` (sum of quantity times unit price over clean purchase rows).
    mess : dict of str to int
        Number of injected rows of each kind of mess, keyed like :data:`MESS_RATES`.
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    mess: dict[str, int]


GROUPS: dict[str, GroupSpec] = {
    "champions": GroupSpec(0.07, (0, 10), (20, 45), (270, 364), 2.0, 30.0, 1.6),
    "loyal": GroupSpec(0.13, (7, 30), (6, 12), (150, 330), 2.0, 8.0, 1.0),
    "new": GroupSpec(0.25, (0, 20), (1, 2), (0, 10), 2.0, 6.0, 1.0),
    "at_risk": GroupSpec(0.20, (120, 180), (4, 8), (60, 150), 1.8, 7.0, 1.0),
    "lost": GroupSpec(0.35, (220, 330), (1, 2), (0, 30), 1.5, 7.0, 1.0),
}

LIFECYCLE_GROUPS: dict[str, GroupSpec] = {
    "champions": GROUPS["champions"],
    "new": GROUPS["new"],
    "lost": GROUPS["lost"],
    "loyal": GROUPS["loyal"],
    "at_risk": GROUPS["at_risk"],
    "hibernating": GroupSpec(0.15, (60, 110), (2, 3), (20, 90), 1.3, 4.0, 0.8),
    "cant_lose": GroupSpec(0.06, (150, 240), (15, 30), (200, 300), 2.0, 20.0, 1.3),
    "big_spenders": GroupSpec(0.06, (20, 120), (1, 3), (0, 60), 4.0, 40.0, 2.0),
}
"""Eight lifecycle groups, in the order :func:`lifecycle_groups` takes them.

The first five are :data:`GROUPS`. *Hibernating* customers last bought two to four months ago,
two or three small orders; *can't lose* customers bought often and much, but not for five to
eight months; *big spenders* placed one to three large orders. Each differs from every other
group on at least one of log recency, log frequency and log spend per order.
"""

ANOMALIES: dict[str, AnomalySpec] = {
    "whale": AnomalySpec("monetary", GroupSpec(1.0, (0, 60), (4, 10), (60, 240), 6.0, 600.0, 3.0)),
    "bulk_single_order": AnomalySpec(
        "monetary", GroupSpec(1.0, (0, 300), (1, 1), (0, 0), 12.0, 6000.0, 2.0)
    ),
    "machine_like": AnomalySpec(
        "frequency",
        GroupSpec(1.0, (0, 2), (120, 240), (330, 364), 1.0, 2.0, 1.0),
        evenly_spaced=True,
    ),
}

ANOMALY_GROUP = "anomaly"
"""Value of ``customers["group"]`` for planted anomalous customers."""

MESS_RATES: dict[str, float] = {
    "missing_customer_id": 0.10,
    "cancellations": 0.015,
    "duplicate_rows": 0.005,
    "zero_price": 0.002,
}
"""Injected rows of each kind of mess, as a share of the clean purchase rows."""

TRANSACTION_COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)

_REFERENCE_SPAN_DAYS = 364
_MINUTES_PER_DAY = 1440
_OPENING_MINUTE = 8 * 60
_OPENING_LENGTH_MINUTES = 12 * 60
_MAX_LINES_PER_ORDER = 40
_CANCELLATION_DELAY_MINUTES = (_MINUTES_PER_DAY, 7 * _MINUTES_PER_DAY)
_ANONYMOUS_LINES_PER_ORDER = 3.0
_ANONYMOUS_UNITS_PER_LINE = 4.0
_FREE_UNITS_PER_LINE = 2.0

_N_PRODUCTS = 2000
_ADJECTIVES = (
    "VINTAGE", "RETRO", "SMALL", "LARGE", "JUMBO", "MINI", "HANGING", "FRENCH", "REGENCY",
    "PAPER", "GLASS", "WOODEN", "ENAMEL", "CERAMIC", "KNITTED", "FELT", "ANTIQUE", "SCANDINAVIAN",
    "PAISLEY", "FLORAL", "BAROQUE", "RUSTIC", "SPOTTY", "STRIPY",
)  # fmt: skip
_COLOURS = (
    "WHITE", "RED", "PINK", "BLUE", "GREEN", "IVORY", "BLACK", "CREAM", "SILVER", "GOLD",
    "PASTEL", "ROSE",
)  # fmt: skip
_NOUNS = (
    "HEART T-LIGHT HOLDER", "LUNCH BAG", "CAKE CASES", "TEA CUP AND SAUCER", "DOORSTOP",
    "PHOTO FRAME", "BUNTING", "CANDLE", "NOTEBOOK", "JAM JAR", "MUG", "CUSHION COVER",
    "WALL CLOCK", "PURSE", "STORAGE TIN", "DOORMAT", "METAL SIGN", "BASKET", "LANTERN", "PLATE",
    "BOWL", "GIFT BOX", "CHARM", "GARLAND", "WRAP",
)  # fmt: skip
_COUNTRIES = (
    "United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium",
    "Switzerland", "Portugal", "Australia", "Norway", "Italy",
)  # fmt: skip
_COUNTRY_WEIGHTS = (
    0.89, 0.025, 0.022, 0.018, 0.008, 0.007, 0.006, 0.006, 0.005, 0.005, 0.004, 0.004,
)  # fmt: skip

_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str"
_ID_TEXT = pd.StringDtype("pyarrow")  # "string": missing ids are pd.NA
_LINE_PURCHASE, _LINE_FREE, _LINE_ANONYMOUS, _LINE_CREDIT, _LINE_DUPLICATE = range(5)


@dataclass(frozen=True)
class _Catalogue:
    stock_codes: pa.Array
    descriptions: pa.Array
    prices: np.ndarray
    popularity_cdf: np.ndarray


@dataclass(frozen=True)
class _Customers:
    profile: np.ndarray  # index into _profiles(groups)
    country: np.ndarray
    groups: Mapping[str, GroupSpec] = field(default_factory=lambda: GROUPS)
    spread: _Spread | None = None  # None: no overlap


@dataclass(frozen=True)
class _Spread:
    """Per-customer log-normal factors of ``overlap`` (1 for anomalies)."""

    recency: np.ndarray
    orders: np.ndarray
    spend: np.ndarray


@dataclass(frozen=True)
class _Invoices:
    customer: np.ndarray  # -1: no customer id
    minute: np.ndarray  # minutes since the start of the log
    country: np.ndarray
    is_cancellation: np.ndarray


@dataclass(frozen=True)
class _Lines:
    invoice: np.ndarray
    position: np.ndarray  # order of the line within its invoice
    product: np.ndarray
    quantity: np.ndarray
    price: np.ndarray
    kind: np.ndarray


def lifecycle_groups(k: int) -> dict[str, GroupSpec]:
    """The first ``k`` of :data:`LIFECYCLE_GROUPS`.

    ``k = 3`` gives champions, new and lost customers; 4 adds loyal, 5 at risk (these five are
    :data:`GROUPS`, in another order), 6 hibernating, 7 can't lose them, 8 big spenders.

    Parameters
    ----------
    k : int
        Number of groups, 1 to 8.

    Returns
    -------
    dict of str to GroupSpec

    Raises
    ------
    ValueError
        If ``k`` is not a whole number in 1..8.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"groups must be a mapping or an integer, got {k!r}")
    if not 1 <= k <= len(LIFECYCLE_GROUPS):
        raise ValueError(f"groups must be a number in 1..{len(LIFECYCLE_GROUPS)}, got {k}")
    return dict(list(LIFECYCLE_GROUPS.items())[:k])


def generate_transactions(
    n_customers: int = 2000,
    *,
    anomaly_share: float = 0.02,
    start: str = "2023-01-01",
    end: str = "2023-12-31",
    mess: bool = True,
    groups: Mapping[str, GroupSpec] | int | None = None,
    overlap: float = 0.0,
    random_state: int | np.random.Generator | None = 0,
) -> SyntheticLog:
    """Generate a retail transaction log with known customer groups and planted anomalies.

    **Overlap.** With ``overlap`` = σ > 0, each normal customer's drawn behaviour is multiplied
    by three independent log-normal factors exp(σ·Z), Z standard normal: the days from the last
    order to the end of the log, counted from the day after it (``1 + days``), the number of
    orders (rounded, at least 1) and the price level (spend per order). In log recency,
    frequency and monetary value — the model space of the segmentation — each group's cloud is
    therefore widened by Gaussian noise of standard deviation σ, and a share of customers moves
    between neighbouring groups. σ = 0 draws nothing and gives exactly the log of earlier
    releases. How well k-means told the true k recovers the groups at each σ ("clear" to
    "heavy") is measured by ``python -m bench.segments_family`` (``bench/RESULTS.md``).
    Anomalous customers are never spread.

    Parameters
    ----------
    n_customers : int, default 2000
        Number of customers, each with at least one clean purchase. Ids are 5-digit strings
        from ``"10001"``; more than 89,999 customers get longer ids of constant width.
    anomaly_share : float, default 0.02
        Share of anomalous customers, in [0, 0.5]. Rounded, but at least one anomaly when the
        share is positive and there are 50 customers or more. Kinds (:data:`ANOMALIES`) are
        allotted in equal parts.
    start, end : str, default "2023-01-01", "2023-12-31"
        First and last day of the log (inclusive); times of day are ignored.
    mess : bool, default True
        Whether to inject rows without customer id, cancellations, exact duplicates and
        zero-price rows (:data:`MESS_RATES`).
    groups : mapping of str to GroupSpec, int or None, default None
        The latent groups: None for :data:`GROUPS`, a number k for :func:`lifecycle_groups`
        (k), or any mapping of names to behaviours (names other than ``"anomaly"``).
    overlap : float, default 0.0
        Log-scale spread σ of the groups, at least 0 (see above).
    random_state : int, numpy.random.Generator or None, default 0
        Seed or generator; the same seed and arguments give identical frames. A generator
        passed in is advanced.

    Returns
    -------
    SyntheticLog
        The transactions, the per-customer truth and the mess counts.

    Raises
    ------
    ValueError
        If ``n_customers`` < 1, ``anomaly_share`` is outside [0, 0.5], ``end`` precedes
        ``start``, ``groups`` is empty or names a group ``"anomaly"``, or ``overlap`` < 0.

    Examples
    --------
    >>> log = generate_transactions(500, random_state=1)
    >>> list(log.transactions.columns) == list(TRANSACTION_COLUMNS)
    True
    >>> int(log.customers["is_anomaly"].sum())
    10
    """
    first_day, span_days = _parse_period(start, end)
    _check_counts(n_customers, anomaly_share)
    latent = _check_groups(groups, overlap)
    rng = np.random.default_rng(random_state)
    catalogue = _make_catalogue(rng)
    customers = _draw_customers(n_customers, anomaly_share, rng, groups=latent)
    if overlap > 0:  # drawn only then, so that σ = 0 keeps the random stream of earlier releases
        customers = _spread(customers, overlap, rng)
    invoices, lines, mess_counts = _shop_log(customers, catalogue, span_days, rng, mess=mess)
    truth = _truth(customers, invoices, lines, span_days)
    invoices, lines = _with_mess(invoices, lines, mess_counts, span_days, rng)
    transactions = _transactions_frame(invoices, lines, catalogue, first_day, n_customers)
    return SyntheticLog(transactions, truth, mess_counts)


def generate_bgnbd_transactions(
    n_customers: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    p: float,
    q: float,
    v: float,
    weeks: float = 78.0,
    acquisition_weeks: float = 12.0,
    start: str = "1997-01-01",
    random_state: int | np.random.Generator | None = 0,
) -> SyntheticLog:
    """Generate a log from the BG/NBD purchase and Gamma-Gamma spend processes.

    Time runs in weeks from ``start`` (midnight). Each customer makes a first purchase at a
    uniform time in the first ``acquisition_weeks``, then, while alive, repeat purchases at the
    times of a Poisson process of rate ``λ ~ Gamma(r, alpha)`` (``alpha`` in weeks); after each
    repeat purchase they drop out for good with probability ``p ~ Beta(a, b)`` (Fader, Hardie &
    Lee 2005). Every purchase is worth ``Gamma(p, ν)`` with ``ν ~ Gamma(q, v)`` per customer
    (the Gamma-Gamma model), rounded to cents (at least 0.01). The log ends after ``weeks``.

    With CDNOW's parameters (r 0.243, alpha 4.414, a 0.793, b 2.426, p 6.25, q 3.74, v 15.44;
    12 weeks of acquisition, 78 weeks in all) this is a log of the shape of the CDNOW sample.

    Parameters
    ----------
    n_customers : int
        Customers, ids as in :func:`generate_transactions`.
    r, alpha, a, b : float
        BG/NBD parameters, positive.
    p, q, v : float
        Gamma-Gamma parameters, positive (``v`` is the papers' γ).
    weeks : float, default 78
        Length of the log.
    acquisition_weeks : float, default 12
        First purchases fall in ``[0, acquisition_weeks)``; at most ``weeks``.
    start : str, default "1997-01-01"
        First day of the log.
    random_state : int, numpy.random.Generator or None, default 0

    Returns
    -------
    SyntheticLog
        ``transactions``: one line per purchase, columns :data:`TRANSACTION_COLUMNS`
        (quantity 1, the value as unit price, one invoice per purchase), sorted by date.
        ``customers``: per customer ``first_purchase`` (timestamp), ``purchase_rate`` (λ, per
        week), ``dropout_probability`` (p), ``spend_rate`` (ν), ``repeat_purchases`` (in the
        whole log) and ``dropped_out`` (whether they dropped out within the log). ``mess`` is
        empty.

    Raises
    ------
    ValueError
        For a non-positive parameter or count, or ``acquisition_weeks`` outside (0, weeks].
    """
    _check_counts(n_customers, 0.0)
    values = {"r": r, "alpha": alpha, "a": a, "b": b, "p": p, "q": q, "v": v, "weeks": weeks}
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not 0 < acquisition_weeks <= weeks:
        raise ValueError(f"acquisition_weeks must be in (0, weeks], got {acquisition_weeks!r}")
    rng = np.random.default_rng(random_state)
    first = rng.uniform(0.0, acquisition_weeks, n_customers)
    rate = rng.gamma(r, 1.0 / alpha, n_customers)
    dropout = rng.beta(a, b, n_customers)
    spend_rate = rng.gamma(q, 1.0 / v, n_customers)
    # repeat purchases: the first min(K, J) of K Poisson arrivals in the rest of the log, where
    # J ~ Geometric(p) is the repeat purchase after which the customer drops out
    arrivals = rng.poisson(rate * (weeks - first))
    last_repeat = rng.geometric(np.clip(dropout, 1e-12, 1.0))
    kept = np.minimum(arrivals, last_repeat)
    owner = np.repeat(np.arange(n_customers), arrivals)
    moment = first[owner] + rng.uniform(0.0, 1.0, owner.size) * (weeks - first[owner])
    order = np.lexsort((moment, owner))
    owner, moment = owner[order], moment[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
    repeat = rank < kept[owner]
    customer = np.concatenate([np.arange(n_customers), owner[repeat]])
    week = np.concatenate([first, moment[repeat]])
    value = np.maximum(np.round(rng.gamma(p, 1.0 / spend_rate[customer]), 2), 0.01)
    first_day = np.datetime64(pd.Timestamp(start).normalize().date(), "m")
    minutes = np.floor(week * 7 * _MINUTES_PER_DAY).astype(np.int64)
    chronological = np.lexsort((customer, minutes))
    customer, minutes, value = customer[chronological], minutes[chronological], value[chronological]
    n_lines = customer.size
    width = len(str(n_lines)) + 1  # 10**(width-1) + n_lines keeps width digits
    columns = {
        "InvoiceNo": _text(_decimal_text(10 ** (width - 1) + np.arange(n_lines), width)),
        "StockCode": _text(pa.array(["CD"] * n_lines, pa.large_string())),
        "Description": _text(pa.array(["COMPACT DISC"] * n_lines, pa.large_string())),
        "Quantity": np.ones(n_lines, dtype=np.int64),
        "InvoiceDate": (first_day + minutes.astype("timedelta64[m]")).astype("datetime64[us]"),
        "UnitPrice": value,
        "CustomerID": _customer_ids(customer, n_customers),
        "Country": _text(pa.array([_COUNTRIES[0]] * n_lines, pa.large_string())),
    }
    transactions = pd.DataFrame(columns, copy=False)
    truth = pd.DataFrame(
        {
            "first_purchase": first_day
            + np.floor(first * 7 * _MINUTES_PER_DAY).astype("timedelta64[m]"),
            "purchase_rate": rate,
            "dropout_probability": dropout,
            "spend_rate": spend_rate,
            "repeat_purchases": kept,
            "dropped_out": last_repeat <= arrivals,
        },
        index=pd.Index(_customer_ids(np.arange(n_customers), n_customers), name="customer_id"),
    )
    truth["first_purchase"] = truth["first_purchase"].astype("datetime64[us]")
    return SyntheticLog(transactions, truth, {})


def _shop_log(
    customers: _Customers,
    catalogue: _Catalogue,
    span_days: int,
    rng: np.random.Generator,
    *,
    mess: bool,
) -> tuple[_Invoices, _Lines, dict[str, int]]:
    """Invoices and lines before credit notes and duplicates, and the mess to inject.

    Customers' invoices come first, in customer order, then the invoices without customer id;
    zero-price lines ride along in customers' invoices.
    """
    orders = _schedule_orders(customers, span_days, rng)
    n_orders = orders.customer.size
    line_counts = _draw_line_counts(
        customers.profile[orders.customer], rng, groups=customers.groups
    )
    mess_counts = _mess_counts(int(line_counts.sum()), enabled=mess)
    free_counts = np.bincount(
        rng.integers(0, n_orders, mess_counts["zero_price"]), minlength=n_orders
    )
    anonymous = _anonymous_invoices(mess_counts["missing_customer_id"], span_days, rng)
    invoices = _concat_invoices(orders, anonymous.invoices)
    lines = _shop_lines(
        invoices, customers, catalogue, line_counts, free_counts, anonymous.line_counts, rng
    )
    return invoices, lines, mess_counts


def _parse_period(start: str, end: str) -> tuple[np.datetime64, int]:
    first = pd.Timestamp(start).normalize()
    last = pd.Timestamp(end).normalize()
    if last < first:
        raise ValueError(f"end ({end}) precedes start ({start})")
    return np.datetime64(first.date(), "m"), (last - first).days


def _check_counts(n_customers: int, anomaly_share: float) -> None:
    if isinstance(n_customers, bool) or not isinstance(n_customers, int | np.integer):
        raise ValueError(f"n_customers must be an integer, got {n_customers!r}")
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}")
    if not 0.0 <= anomaly_share <= 0.5:
        raise ValueError(f"anomaly_share must be in [0, 0.5], got {anomaly_share}")


def _check_groups(groups: Mapping[str, GroupSpec] | int | None, overlap: float) -> dict:
    if isinstance(overlap, bool) or not isinstance(overlap, int | float) or not overlap >= 0:
        raise ValueError(f"overlap must be a number ≥ 0, got {overlap!r}")
    if groups is None:
        return GROUPS
    if not isinstance(groups, Mapping):
        return lifecycle_groups(groups)
    if not groups:
        raise ValueError("groups is empty; give at least one GroupSpec")
    if ANOMALY_GROUP in groups:
        raise ValueError(f"a group may not be named {ANOMALY_GROUP!r}: that marks anomalies")
    return dict(groups)


def _spread(customers: _Customers, overlap: float, rng: np.random.Generator) -> _Customers:
    normal = customers.profile < len(customers.groups)
    factors = np.where(normal, np.exp(overlap * rng.standard_normal((3, normal.size))), 1.0)
    return replace(customers, spread=_Spread(*factors))


def _profiles(groups: Mapping[str, GroupSpec] = GROUPS) -> list[GroupSpec]:
    return [*groups.values(), *(spec.behaviour for spec in ANOMALIES.values())]


def _profile_column(name: str, groups: Mapping[str, GroupSpec] = GROUPS) -> np.ndarray:
    return np.array([getattr(profile, name) for profile in _profiles(groups)])


def _anomaly_count(n_customers: int, anomaly_share: float) -> int:
    count = math.floor(anomaly_share * n_customers + 0.5)
    if anomaly_share > 0 and n_customers >= 50:
        count = max(count, 1)
    return min(count, n_customers - 1)


def _allocate(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``shares`` (largest remainder)."""
    exact = total * shares / shares.sum()
    counts = np.floor(exact).astype(np.int64)
    by_remainder = np.argsort(-(exact - counts), kind="stable")
    counts[by_remainder[: total - counts.sum()]] += 1
    return counts


def _draw_customers(
    n_customers: int,
    anomaly_share: float,
    rng: np.random.Generator,
    *,
    groups: Mapping[str, GroupSpec] = GROUPS,
) -> _Customers:
    n_anomalies = _anomaly_count(n_customers, anomaly_share)
    group_shares = np.array([spec.share for spec in groups.values()])
    kind_shares = np.array([spec.behaviour.share for spec in ANOMALIES.values()])
    counts = np.concatenate(
        [_allocate(n_customers - n_anomalies, group_shares), _allocate(n_anomalies, kind_shares)]
    )
    profile = rng.permutation(np.repeat(np.arange(counts.size), counts))
    country = rng.choice(len(_COUNTRIES), size=n_customers, p=np.array(_COUNTRY_WEIGHTS))
    return _Customers(profile=profile, country=country.astype(np.int16), groups=groups)


def _make_catalogue(rng: np.random.Generator) -> _Catalogue:
    numbers = rng.choice(np.arange(10_000, 100_000), size=_N_PRODUCTS, replace=False)
    suffixes = np.where(
        rng.random(_N_PRODUCTS) < 0.15, rng.choice(list("ABCDEFGLMNPS"), _N_PRODUCTS), ""
    )
    stock_codes = [f"{number}{suffix}" for number, suffix in zip(numbers, suffixes, strict=True)]
    shape = (len(_ADJECTIVES), len(_COLOURS), len(_NOUNS))
    combos = rng.choice(math.prod(shape), size=_N_PRODUCTS, replace=False)
    descriptions = [
        f"{_ADJECTIVES[a]} {_COLOURS[c]} {_NOUNS[n]}"
        for a, c, n in zip(*np.unravel_index(combos, shape), strict=True)
    ]
    prices = np.maximum(np.round(rng.lognormal(np.log(2.1), 0.5, _N_PRODUCTS), 2), 0.1)
    popularity = 1.0 / (np.arange(_N_PRODUCTS) + 20.0) ** 0.9
    return _Catalogue(
        stock_codes=pa.array(stock_codes, pa.large_string()),
        descriptions=pa.array(descriptions, pa.large_string()),
        prices=prices,
        popularity_cdf=np.cumsum(popularity) / popularity.sum(),
    )


def _ranges(counts: np.ndarray) -> np.ndarray:
    """Return ``0..count-1`` for each count, concatenated."""
    ends = np.cumsum(counts)
    return np.arange(ends[-1] if ends.size else 0) - np.repeat(ends - counts, counts)


def _draw_days(
    profile: np.ndarray,
    span_days: int,
    rng: np.random.Generator,
    *,
    groups: Mapping[str, GroupSpec] = GROUPS,
    recency_factor: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the first and last order day (days since start) of each customer."""
    scale = span_days / _REFERENCE_SPAN_DAYS
    recency = _profile_column("recency_days", groups)[profile]
    history = _profile_column("history_days", groups)[profile]
    days = rng.integers(recency[:, 0], recency[:, 1] + 1)
    if recency_factor is not None:
        days = np.maximum((1 + days) * recency_factor - 1, 0)
    before_end = np.floor(days * scale).astype(np.int64)
    active = np.floor(rng.integers(history[:, 0], history[:, 1] + 1) * scale).astype(np.int64)
    before_end = np.minimum(before_end, span_days)
    first_before_end = np.minimum(before_end + active, span_days)
    return span_days - first_before_end, span_days - before_end


def _schedule_orders(customers: _Customers, span_days: int, rng: np.random.Generator) -> _Invoices:
    profile, groups, spread = customers.profile, customers.groups, customers.spread
    order_range = _profile_column("orders", groups)[profile]
    n_orders = rng.integers(order_range[:, 0], order_range[:, 1] + 1)
    if spread is not None:
        n_orders = np.maximum(np.round(n_orders * spread.orders), 1).astype(np.int64)
    first_day, last_day = _draw_days(
        profile,
        span_days,
        rng,
        groups=groups,
        recency_factor=None if spread is None else spread.recency,
    )
    customer = np.repeat(np.arange(profile.size), n_orders)
    rank = _ranges(n_orders)
    free_minute = _free_order_minutes(first_day[customer], last_day[customer], rank, rng)
    evenly = np.array([False] * len(groups) + [spec.evenly_spaced for spec in ANOMALIES.values()])
    spaced_minute = _evenly_spaced_minutes(first_day, last_day, n_orders)
    minute = np.where(evenly[profile][customer], spaced_minute, free_minute)
    return _Invoices(
        customer=customer,
        minute=minute,
        country=customers.country[customer],
        is_cancellation=np.zeros(customer.size, dtype=bool),
    )


def _free_order_minutes(
    first_day: np.ndarray, last_day: np.ndarray, rank: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Place orders on random days between first and last day, pinning the two ends."""
    day = rng.integers(first_day, last_day + 1)
    day = np.where(rank == 0, last_day, np.where(rank == 1, first_day, day))
    return _opening_minutes(day, rng)


def _opening_minutes(day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    minute_of_day = _OPENING_MINUTE + rng.integers(0, _OPENING_LENGTH_MINUTES, day.size)
    return day * _MINUTES_PER_DAY + minute_of_day


def _evenly_spaced_minutes(
    first_day: np.ndarray, last_day: np.ndarray, n_orders: np.ndarray
) -> np.ndarray:
    window_start = first_day * _MINUTES_PER_DAY + _OPENING_MINUTE
    window_length = (last_day - first_day) * _MINUTES_PER_DAY + _OPENING_LENGTH_MINUTES
    interval = np.maximum(window_length // n_orders, 1)
    return np.repeat(window_start, n_orders) + _ranges(n_orders) * np.repeat(interval, n_orders)


def _draw_line_counts(
    order_profile: np.ndarray,
    rng: np.random.Generator,
    *,
    groups: Mapping[str, GroupSpec] = GROUPS,
) -> np.ndarray:
    mean = _profile_column("lines_per_order", groups)[order_profile]
    return np.minimum(1 + rng.poisson(mean - 1.0), _MAX_LINES_PER_ORDER)


def _mess_counts(n_purchase_lines: int, *, enabled: bool) -> dict[str, int]:
    return {
        kind: math.floor(rate * n_purchase_lines + 0.5) if enabled else 0
        for kind, rate in MESS_RATES.items()
    }


@dataclass(frozen=True)
class _Anonymous:
    invoices: _Invoices
    line_counts: np.ndarray


def _anonymous_invoices(n_lines: int, span_days: int, rng: np.random.Generator) -> _Anonymous:
    """Extra invoices without customer id holding exactly ``n_lines`` lines."""
    counts = 1 + rng.poisson(_ANONYMOUS_LINES_PER_ORDER - 1.0, n_lines)
    counts = np.minimum(counts, _MAX_LINES_PER_ORDER)
    ends = np.cumsum(counts)
    n_invoices = int(np.searchsorted(ends, n_lines)) + 1 if n_lines else 0
    counts = counts[:n_invoices]
    if n_invoices:
        counts[-1] -= ends[n_invoices - 1] - n_lines
    day = rng.integers(0, span_days + 1, n_invoices)
    country = rng.choice(len(_COUNTRIES), size=n_invoices, p=np.array(_COUNTRY_WEIGHTS))
    invoices = _Invoices(
        customer=np.full(n_invoices, -1, dtype=np.int64),
        minute=_opening_minutes(day, rng),
        country=country.astype(np.int16),
        is_cancellation=np.zeros(n_invoices, dtype=bool),
    )
    return _Anonymous(invoices=invoices, line_counts=counts)


def _concat_invoices(first: _Invoices, second: _Invoices) -> _Invoices:
    return _Invoices(
        *(np.concatenate([getattr(first, f.name), getattr(second, f.name)]) for f in fields(first))
    )


def _concat_lines(*parts: _Lines) -> _Lines:
    return _Lines(
        *(np.concatenate([getattr(part, f.name) for part in parts]) for f in fields(_Lines))
    )


def _shop_lines(
    invoices: _Invoices,
    customers: _Customers,
    catalogue: _Catalogue,
    line_counts: np.ndarray,
    free_counts: np.ndarray,
    anonymous_counts: np.ndarray,
    rng: np.random.Generator,
) -> _Lines:
    """Lines of customer invoices (purchases then free items) and of anonymous invoices."""
    n_orders = line_counts.size
    counts = np.concatenate([line_counts + free_counts, anonymous_counts])
    invoice = np.repeat(np.arange(counts.size), counts)
    position = _ranges(counts)
    paid = np.concatenate([line_counts, np.full(anonymous_counts.size, np.iinfo(np.int64).max)])
    kind = np.where(position < paid[invoice], _LINE_PURCHASE, _LINE_FREE).astype(np.int8)
    kind[invoice >= n_orders] = _LINE_ANONYMOUS
    product = _distinct_products(invoice, counts, catalogue, rng)
    # anonymous lines index customer -1 here; their units and prices are overridden below
    line_customer = invoices.customer[invoice]
    line_profile = customers.profile[line_customer]
    units = _line_units(kind, line_profile, groups=customers.groups)
    price_level = _profile_column("price_level", customers.groups)[line_profile]
    if customers.spread is not None:
        price_level = price_level * customers.spread.spend[line_customer]
    price = np.where(kind == _LINE_ANONYMOUS, 1.0, price_level) * catalogue.prices[product]
    price = np.where(kind == _LINE_FREE, 0.0, np.maximum(np.round(price, 2), 0.01))
    return _Lines(
        invoice=invoice,
        position=position,
        product=product,
        quantity=(1 + rng.poisson(units - 1.0)).astype(np.int64),
        price=price,
        kind=kind,
    )


def _line_units(
    kind: np.ndarray,
    line_profile: np.ndarray,
    *,
    groups: Mapping[str, GroupSpec] = GROUPS,
) -> np.ndarray:
    units = _profile_column("units_per_line", groups)[line_profile]
    units = np.where(kind == _LINE_FREE, _FREE_UNITS_PER_LINE, units)
    return np.where(kind == _LINE_ANONYMOUS, _ANONYMOUS_UNITS_PER_LINE, units)


def _draw_products(size: int, catalogue: _Catalogue, rng: np.random.Generator) -> np.ndarray:
    drawn = np.searchsorted(catalogue.popularity_cdf, rng.random(size), side="right")
    return np.minimum(drawn, _N_PRODUCTS - 1).astype(np.int32)


def _distinct_products(
    invoice: np.ndarray, counts: np.ndarray, catalogue: _Catalogue, rng: np.random.Generator
) -> np.ndarray:
    """Draw products by popularity, redrawing until no invoice holds a product twice."""
    product = _draw_products(invoice.size, catalogue, rng)
    invoice_start = np.cumsum(counts) - counts
    checked = np.arange(invoice.size)
    while checked.size:
        repeated = checked[_repeated_positions(invoice[checked], product[checked])]
        product[repeated] = _draw_products(repeated.size, catalogue, rng)
        clashing = np.unique(invoice[repeated])
        checked = np.repeat(invoice_start[clashing], counts[clashing]) + _ranges(counts[clashing])
    return product


def _repeated_positions(invoice: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Positions of lines whose product already appears earlier in the same invoice."""
    key = invoice.astype(np.int64) * _N_PRODUCTS + product
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    return order[1:][sorted_key[1:] == sorted_key[:-1]]


def _truth(
    customers: _Customers, invoices: _Invoices, lines: _Lines, span_days: int
) -> pd.DataFrame:
    """Per-customer truth: latent group, planted anomaly and RFM of the clean purchases."""
    n_customers = customers.profile.size
    purchase = lines.kind == _LINE_PURCHASE
    line_customer = invoices.customer[lines.invoice[purchase]]
    amount = lines.quantity[purchase] * lines.price[purchase]
    monetary = np.round(np.bincount(line_customer, weights=amount, minlength=n_customers), 2)
    bought = invoices.customer >= 0
    frequency = np.bincount(invoices.customer[bought], minlength=n_customers)
    # purchase invoices come grouped by customer, and every customer has at least one
    last_minute = np.maximum.reduceat(invoices.minute[bought], np.cumsum(frequency) - frequency)
    recency = span_days + 1 - last_minute // _MINUTES_PER_DAY
    groups = customers.groups
    names = np.array([*groups, *(ANOMALY_GROUP for _ in ANOMALIES)], dtype=object)
    kinds = np.array([*("" for _ in groups), *ANOMALIES], dtype=object)
    features = np.array(["" for _ in groups] + [s.feature for s in ANOMALIES.values()], object)
    profile = customers.profile
    frame = pd.DataFrame(
        {
            "group": pd.array(names[profile], dtype=_TEXT),
            "is_anomaly": profile >= len(groups),
            "anomaly_kind": pd.array(kinds[profile], dtype=_TEXT),
            "anomaly_feature": pd.array(features[profile], dtype=_TEXT),
            "recency": recency.astype(np.int64),
            "frequency": frequency.astype(np.int64),
            "monetary": monetary,
        },
        index=pd.Index(_customer_ids(np.arange(n_customers), n_customers), name="customer_id"),
    )
    return frame


@dataclass(frozen=True)
class _Cancellations:
    invoices: _Invoices
    lines: _Lines


def _cancellations(
    invoices: _Invoices, lines: _Lines, n_lines: int, span_days: int, rng: np.random.Generator
) -> _Cancellations:
    """Cancel ``n_lines`` purchase lines a few days later, one credit note per invoice."""
    candidates = np.flatnonzero(lines.kind == _LINE_PURCHASE)
    cancelled = np.sort(rng.choice(candidates, size=n_lines, replace=False))
    original, credit_note = np.unique(lines.invoice[cancelled], return_inverse=True)
    bought = invoices.minute[original]
    credit_invoices = _Invoices(
        customer=invoices.customer[original],
        minute=bought + _cancellation_delays(bought, span_days, rng),
        country=invoices.country[original],
        is_cancellation=np.ones(original.size, dtype=bool),
    )
    credit_lines = _Lines(
        invoice=invoices.customer.size + credit_note,
        position=_ranges(np.bincount(credit_note, minlength=original.size)),
        product=lines.product[cancelled],
        quantity=-lines.quantity[cancelled],
        price=lines.price[cancelled],
        kind=np.full(n_lines, _LINE_CREDIT, dtype=np.int8),
    )
    return _Cancellations(invoices=credit_invoices, lines=credit_lines)


def _cancellation_delays(
    bought: np.ndarray, span_days: int, rng: np.random.Generator
) -> np.ndarray:
    """Minutes from purchase to cancellation, never past the end of the log."""
    delay = rng.integers(*_CANCELLATION_DELAY_MINUTES, bought.size)
    room = (span_days + 1) * _MINUTES_PER_DAY - 1 - bought
    # shrink rather than clip, so that late cancellations do not pile up on the last minute
    shrunk = np.floor(rng.random(bought.size) * (room + 1)).astype(np.int64)
    return np.where(delay <= room, delay, shrunk)


def _duplicates(lines: _Lines, n_lines: int, rng: np.random.Generator) -> _Lines:
    candidates = np.flatnonzero(lines.kind == _LINE_PURCHASE)
    copied = np.sort(rng.choice(candidates, size=n_lines, replace=False))
    copies = _Lines(*(getattr(lines, f.name)[copied] for f in fields(_Lines)))
    copies.kind[:] = _LINE_DUPLICATE
    return copies


def _with_mess(
    invoices: _Invoices,
    lines: _Lines,
    mess_counts: dict[str, int],
    span_days: int,
    rng: np.random.Generator,
) -> tuple[_Invoices, _Lines]:
    """Add credit notes and duplicate rows to the shop's invoices and lines."""
    cancellations = _cancellations(invoices, lines, mess_counts["cancellations"], span_days, rng)
    duplicates = _duplicates(lines, mess_counts["duplicate_rows"], rng)
    return (
        _concat_invoices(invoices, cancellations.invoices),
        _concat_lines(lines, cancellations.lines, duplicates),
    )


def _invoice_numbers(invoices: _Invoices) -> tuple[np.ndarray, int]:
    """Number invoices in chronological order, credit notes after purchases of the same minute.

    Returns the numbers and their number of digits, shared by all so that their string order
    is their numeric order.
    """
    n_invoices = invoices.minute.size
    width = 6
    while n_invoices > 5 * 10 ** (width - 1):
        width += 1
    chronological = np.argsort(invoices.minute * 2 + invoices.is_cancellation, kind="stable")
    numbers = np.empty(n_invoices, dtype=np.int64)
    numbers[chronological] = 5 * 10 ** (width - 1) + np.arange(n_invoices)
    return numbers, width


def _row_order(lines: _Lines, invoice_numbers: np.ndarray) -> np.ndarray:
    """Order rows by invoice number then line position, a duplicate right after its original."""
    positions = int(lines.position.max(initial=0)) + 1
    key = invoice_numbers[lines.invoice] * positions + lines.position
    key = key * 2 + (lines.kind == _LINE_DUPLICATE)
    return np.argsort(key)  # keys are unique, so any sort gives the same order


def _customer_id_width(n_customers: int) -> int:
    """Digits of the ids ``10**(width - 1) + 1 ..``: 5 while they fit, more beyond."""
    width = 5
    while 10 ** (width - 1) + n_customers >= 10**width:
        width += 1
    return width


def _customer_ids(customer: np.ndarray, n_customers: int) -> ExtensionArray:
    """Ids of customers by index; index -1 becomes NA."""
    width = _customer_id_width(n_customers)
    digits = _decimal_text(10 ** (width - 1) + 1 + customer, width, missing=customer < 0)
    return pd.array(digits, dtype=_ID_TEXT)


def _decimal_text(
    numbers: np.ndarray,
    width: int,
    *,
    credit: np.ndarray | None = None,
    missing: np.ndarray | None = None,
) -> pa.LargeStringArray:
    """Write ``width``-digit numbers straight into Arrow string buffers.

    ``credit`` rows get a ``"C"`` prefix, ``missing`` rows are null. Ten million Python string
    objects would cost gigabytes; these buffers cost ``width`` bytes plus an offset per row.
    """
    n_rows = numbers.size
    prefixed = np.zeros(n_rows, dtype=bool) if credit is None else credit
    present = np.ones(n_rows, dtype=bool) if missing is None else ~missing
    # one fixed-width slot per row: the optional "C", then the digits; unused bytes are dropped
    slots = np.empty((n_rows, width + 1), dtype=np.uint8)
    slots[:, 0] = ord("C")
    rest = numbers.copy()
    for place in range(width, 0, -1):
        slots[:, place] = rest % 10 + ord("0")
        rest //= 10
    used = np.ones_like(slots, dtype=bool)
    used[:, 0] = prefixed
    used[~present] = False
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(used.sum(axis=1), out=offsets[1:])
    validity = None if missing is None else pa.py_buffer(np.packbits(present, bitorder="little"))
    return pa.LargeStringArray.from_buffers(
        n_rows, pa.py_buffer(offsets), pa.py_buffer(slots[used]), validity
    )


def _transactions_frame(
    invoices: _Invoices,
    lines: _Lines,
    catalogue: _Catalogue,
    first_day: np.datetime64,
    n_customers: int,
) -> pd.DataFrame:
    numbers, width = _invoice_numbers(invoices)
    row_order = _row_order(lines, numbers)
    invoice = lines.invoice[row_order]
    product = pa.array(lines.product[row_order])
    moment = first_day + invoices.minute[invoice].astype("timedelta64[m]")
    countries = pa.array(_COUNTRIES, pa.large_string())
    invoice_no = _decimal_text(numbers[invoice], width, credit=invoices.is_cancellation[invoice])
    columns = {
        "InvoiceNo": _text(invoice_no),
        "StockCode": _text(catalogue.stock_codes.take(product)),
        "Description": _text(catalogue.descriptions.take(product)),
        "Quantity": lines.quantity[row_order],
        "InvoiceDate": moment.astype("datetime64[us]"),
        "UnitPrice": lines.price[row_order],
        "CustomerID": _customer_ids(invoices.customer[invoice], n_customers),
        "Country": _text(countries.take(pa.array(invoices.country[invoice]))),
    }
    return pd.DataFrame(columns, copy=False)


def _text(values: pa.Array) -> ExtensionArray:
    return pd.array(values, dtype=_TEXT)


# -- logs shaped like other real exports --------------------------------------------------------

CDNOW_COLUMNS = ("Customer", "Order Date", "Items", "Sales ($)")


def generate_cdnow_like(n_customers: int, *, random_state: int = 0) -> pd.DataFrame:
    """A log shaped like the CDNOW music-store log: one line per order, most customers buy once.

    Columns :data:`CDNOW_COLUMNS`: integer customer ids, the order's date (ISO text, no time), the
    number of units (``Items``: small integers, 1 most often) and the order's value. Nothing
    says which order a line belongs to (no invoice column). About 60% of the customers order
    once, over eighteen months from 1997-01-01; about 1% of the customers have only orders of
    value 0, about 1% of the lines are zero-value lines of other customers, and about 0.5% of
    the lines are repeated exactly (a customer ordering the same items for the same amount twice
    on one day: a real repeat order that only the missing invoice number could tell apart).

    Parameters
    ----------
    n_customers : int
        Customers to generate (at least 10).
    random_state : int
        Seed.

    Returns
    -------
    pandas.DataFrame
        One row per order line, sorted by customer then date.
    """
    if n_customers < 10:
        raise ValueError(f"n_customers must be at least 10, got {n_customers}")
    rng = np.random.default_rng(random_state)
    once = rng.random(n_customers) < 0.6
    orders = np.where(once, 1, 1 + rng.geometric(0.3, n_customers))
    customer = np.repeat(np.arange(1, n_customers + 1), orders)
    first = np.repeat(rng.integers(0, 90, n_customers), orders)
    later = rng.integers(0, 545, customer.size)
    starts = np.r_[0, np.cumsum(orders)[:-1]]
    is_first = np.zeros(customer.size, dtype=bool)
    is_first[starts] = True
    day = np.where(is_first, first, np.maximum(first, later))
    items = np.minimum(rng.geometric(0.45, customer.size), 99)
    sales = np.round(items * rng.lognormal(np.log(14.0), 0.5, customer.size), 2)
    zero_customers = rng.random(n_customers) < 0.01
    sales[zero_customers[customer - 1] | (rng.random(customer.size) < 0.01)] = 0.0
    repeated = rng.random(customer.size) < 0.005
    frame = pd.DataFrame(
        {
            "Customer": np.r_[customer, customer[repeated]],
            "Order Date": np.r_[day, day[repeated]],
            "Items": np.r_[items, items[repeated]].astype("int64"),
            "Sales ($)": np.r_[sales, sales[repeated]],
        }
    ).sort_values(["Customer", "Order Date"], kind="stable", ignore_index=True)
    dates = np.datetime64("1997-01-01") + frame["Order Date"].to_numpy().astype("timedelta64[D]")
    frame["Order Date"] = pd.Series(dates).dt.strftime("%Y-%m-%d")
    return frame


def european_csv(transactions: pd.DataFrame) -> bytes:
    """Write an Online Retail layout log as a European Excel export writes it.

    Fields separated by ``;``, decimal commas, day-first dates (``31.12.2010 08:26``), and the
    customer ids of a float column (ids with missing values are floats in a spreadsheet) written
    with a decimal comma: ``17850,0``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Columns :data:`TRANSACTION_COLUMNS` (:attr:`SyntheticLog.transactions`).

    Returns
    -------
    bytes
        The CSV file, UTF-8.
    """
    frame = transactions.loc[:, list(TRANSACTION_COLUMNS)].copy()
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"]).dt.strftime("%d.%m.%Y %H:%M")
    ids = pd.to_numeric(frame["CustomerID"], errors="coerce").astype("float64")
    frame["CustomerID"] = ids.map(lambda v: "" if np.isnan(v) else f"{v:.1f}".replace(".", ","))
    frame["UnitPrice"] = frame["UnitPrice"].map(lambda v: f"{v:.2f}".replace(".", ","))
    return frame.to_csv(sep=";", index=False).encode("utf-8")
