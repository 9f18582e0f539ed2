"""What a person reads instead of a code name: labels, number formats and segment colours.

One map for the app's tables and charts and for the reports (HTML report, workbook), so that a
column reads the same everywhere. CSV files keep the code names as headers (programs read them,
and a label may change); the app shows the code name in each column's tooltip.

- :func:`column_label`: ``"share_customers"`` → ``"Share of customers"``. Names that are not
  listed are built from their parts (``median_recency`` → ``"Median recency (days)"``,
  ``monetary_to`` → ``"To: total spend"``, ``p_cluster_2`` → ``"Probability of segment 2"``),
  and anything else at least loses its underscores.
- :func:`column_kind`: what a column holds (:data:`KINDS`), which fixes how it is written:
  money with thousands separators and 2 decimals (0 once typical amounts reach
  :data:`WHOLE_MONEY_FROM`), shares as percentages with 1 decimal, days and counts whole,
  ratios (orders per customer, mean orders) with 1 decimal, statistics with 2 (whole once they
  reach :data:`WHOLE_MONEY_FROM` too).
- :func:`format_value`, :func:`format_money`, :func:`format_share`: the same rules as text, for
  metrics, captions, hover text and reports.
- :func:`segment_colours`: one colour per segment name, the same on every chart and page.

This module is a base layer: it imports nothing from the rest of the package, and the other
layers' code names it lists are checked against them by tests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real

__all__ = [
    "CHOICE_LABELS",
    "COLUMN_LABELS",
    "DATE_FORMAT_LABELS",
    "DETECTOR_LABELS",
    "KINDS",
    "METHOD_LABELS",
    "METRIC_NOTES",
    "REASON_LABELS",
    "SEGMENT_COLOURS",
    "SEGMENT_PALETTE",
    "SETTING_LABELS",
    "WHOLE_MONEY_FROM",
    "column_kind",
    "column_label",
    "currency_prefix",
    "decimals_for",
    "format_money",
    "format_share",
    "format_value",
    "log_tick_text",
    "log_ticks",
    "lower_first",
    "segment_colours",
    "with_currency",
]

KINDS = ("money", "share", "days", "count", "score", "ratio", "statistic", "date", "text", "flag")
WHOLE_MONEY_FROM = 1_000  # a column whose typical size reaches this shows no cents

# code name → (label, kind); every table of the app, the workbook and the HTML report
_COLUMNS: dict[str, tuple[str, str]] = {
    # one row per customer
    "customer_id": ("Customer", "text"),
    "recency": ("Recency (days)", "days"),
    "frequency": ("Orders", "count"),
    "monetary": ("Total spend", "money"),
    "r_score": ("R score", "score"),
    "f_score": ("F score", "score"),
    "m_score": ("M score", "score"),
    "rfm_score": ("RFM score", "score"),
    "rfm_segment": ("Rule segment", "text"),
    "first_purchase": ("First purchase", "date"),
    "last_purchase": ("Last purchase", "date"),
    "tenure_days": ("Customer for (days)", "days"),
    "avg_order_value": ("Average order value", "money"),
    "mean_days_between_purchases": ("Days between orders", "days"),
    "cancelled_amount": ("Cancelled or returned", "money"),
    "cluster": ("Segment number", "count"),
    "segment_name": ("Segment", "text"),
    "segment": ("Segment", "text"),
    "name": ("Name", "text"),
    "assigned_after_fit": ("Left out of the fit", "flag"),
    "anomaly": ("Anomaly", "flag"),
    "anomaly_score": ("Anomaly score", "statistic"),
    "anomaly_reason": ("Why it stands out", "text"),
    "anomaly_category": ("Kind of anomaly", "text"),
    # per segment, country, product or period
    "customers": ("Customers", "count"),
    "share_customers": ("Share of customers", "share"),
    "revenue": ("Revenue", "money"),
    "share_revenue": ("Share of revenue", "share"),
    "orders": ("Orders", "count"),
    "orders_per_customer": ("Orders per customer", "ratio"),
    "quantity": ("Units", "count"),
    "country": ("Country", "text"),
    "product": ("Product", "text"),
    "description": ("Description", "text"),
    "definition": ("Definition", "text"),
    "period": ("Period", "date"),
    "cohort": ("First order in", "text"),
    # lines
    "invoice": ("Invoice", "text"),
    "timestamp": ("Date and time", "date"),
    "price": ("Unit price", "money"),
    "amount": ("Amount", "money"),
    "is_return": ("Return", "flag"),
    "order": ("Order", "text"),
    "lines": ("Lines", "count"),
    # cleaning
    "reason": ("Reason", "text"),
    "cleaning_rule": ("Removed because", "text"),
    "rows": ("Rows", "count"),
    "share": ("Share of rows", "share"),
    "customers_lost": ("Customers lost", "count"),
    # movement between two dates
    "moved": ("Moved", "text"),
    "lapsed": ("Lapsed", "flag"),
    "cluster_moved": ("Segment moved", "text"),
    # choosing k
    "k": ("Segments (k)", "count"),
    "inertia": ("Inertia", "statistic"),
    "silhouette": ("Silhouette", "statistic"),
    "calinski_harabasz": ("Calinski–Harabasz", "statistic"),
    "davies_bouldin": ("Davies–Bouldin", "statistic"),
    "aic": ("AIC", "statistic"),
    "bic": ("BIC", "statistic"),
    "stability": ("Stability", "statistic"),
    "smallest_share": ("Smallest segment", "share"),
    "recommended": ("Recommended", "flag"),
    # the decision-tree rules and the anomaly classifier
    "rule": ("Rule", "text"),
    "precision": ("Precision", "share"),
    "recall": ("Recall", "share"),
    "split": ("Customers held out", "text"),
    "accuracy": ("Accuracy", "share"),
    "f1": ("F1 (precision and recall together)", "share"),
    "support": ("Customers", "count"),
    "positives": ("Flagged among them", "count"),
    # actions
    "goal": ("Goal", "text"),
    "action": ("Action", "text"),
    "channel": ("Channel", "text"),
    # lifetime value (rfm_core.customers.clv)
    "x": ("Repeat purchase days", "count"),
    "t_x_weeks": ("Weeks to the last purchase", "ratio"),
    "T_weeks": ("Weeks as a customer", "ratio"),
    "monetary_value": ("Mean repeat purchase", "money"),
    "p_alive": ("Chance still active", "share"),
    "expected_purchases": ("Expected purchases", "statistic"),
    "expected_avg_value": ("Expected value per purchase", "money"),
    "clv": ("Lifetime value", "money"),
    "clv_note": ("Note", "text"),
    "clv_sum": ("Lifetime value", "money"),
    "clv_median": ("Median lifetime value", "money"),
    "share_clv": ("Share of lifetime value", "share"),
    "described": ("With a prediction", "count"),
    "expected_purchases_sum": ("Expected purchases", "statistic"),
    "expected_purchases_median": ("Median expected purchases", "statistic"),
    "p_alive_median": ("Median chance still active", "share"),
    "expected_avg_value_median": ("Median expected value per purchase", "money"),
    "actual_value": ("Actual value", "money"),
    "expected_holdout_purchases": ("Expected purchases in the holdout", "statistic"),
    # the backtest (rfm_core.segments.backtest)
    "best_group": ("Best group", "text"),
    "best_group_share": ("Its share of customers", "share"),
    "repeat_lift": ("Lift: bought again (×)", "ratio"),
    "revenue_lift": ("Lift: revenue per customer (×)", "ratio"),
    "concordance": ("Concordance (decides)", "share"),
    "spearman": ("Rank correlation (Spearman)", "statistic"),
    "predicted_purchases": ("Purchases predicted", "statistic"),
    "actual_purchases": ("Purchases made", "statistic"),
    "bought_again": ("Bought again", "share"),
    "revenue_per_customer": ("Revenue per customer", "money"),
    "purchases_per_customer": ("Purchases per customer", "statistic"),
    "predicted_purchases_per_customer": ("Predicted purchases per customer", "statistic"),
    "predicted_revenue_per_customer": ("Predicted revenue per customer", "money"),
    # the rule segments' score ranges
    "r_min": ("R from", "score"),
    "r_max": ("R to", "score"),
    "f_min": ("F from", "score"),
    "f_max": ("F to", "score"),
    "m_min": ("M from", "score"),
    "m_max": ("M to", "score"),
}
COLUMN_LABELS: dict[str, str] = {name: label for name, (label, _) in _COLUMNS.items()}

_PREFIXES = {"mean_": "Mean", "median_": "Median"}
_SUFFIXES = {"_from": "From", "_to": "To"}
_SNAKE = re.compile(r"[_\s]+")

# clustering methods and anomaly detectors (rfm_core.config.METHODS, .ANOMALY_METHODS, in order)
METHOD_LABELS: dict[str, str] = {
    "kmeans": "K-means",
    "gmm": "Gaussian mixture",
    "bgmm": "Bayesian Gaussian mixture",
    "dbscan": "DBSCAN",
    "hdbscan": "HDBSCAN",
    "agglomerative": "Agglomerative (hierarchical)",
}
DETECTOR_LABELS: dict[str, str] = {
    "iforest": "Isolation forest",
    "gmm": "Gaussian mixture density",
    "lof": "Local outlier factor",
    "zscore": "Robust z-score (median / MAD)",
}
# how the dates of the file were read (rfm_core.ingest.schema.DateParse.format)
DATE_FORMAT_LABELS: dict[str, str] = {
    "native": "as the dates stored in the file",
    "iso": "as year-month-day (2024-01-31)",
    "dayfirst": "day first (31/01/2024)",
    "monthfirst": "month first (01/31/2024)",
    "excel_serial": "as Excel day numbers",
    "yyyymmdd": "as YYYYMMDD (20240131)",
    "mixed": "in several formats",
}
# why a line was removed (rfm_core.lines.reasons.REASONS, in its order)
REASON_LABELS: dict[str, str] = {
    "missing_customer_id": "No customer id",
    "unparseable_date": "Date not readable",
    "invalid_number": "Number not readable",
    "duplicate_row": "Duplicate row",
    "after_reference_date": "After the reference date",
    "outside_date_window": "Outside the date window",
    "country_excluded": "Country left out",
    "cancellation": "Cancellation",
    "non_positive_quantity": "Quantity zero or negative",
    "non_positive_price": "Price zero or negative",
    "quantity_cap": "Quantity above the cap",
    "line_amount_cap": "Line amount above the cap",
    "return_without_purchase": "Return without a purchase",
    "customer_zscore_outlier": "Customer far from the others",
}
# the settings a report lists: cleaning rules, segmentation and anomaly settings
SETTING_LABELS: dict[str, str] = {
    # rfm_core.lines.cleaning.CleaningRules
    "returns": "cancellations and returns",
    "drop_duplicates": "drop exact duplicate rows",
    "countries": "countries kept",
    "date_from": "first day kept",
    "date_to": "last day kept",
    "max_quantity": "cap on |quantity| per line",
    "max_line_amount": "cap on |line amount|",
    "max_zscore": "drop customers with a z-score above",
    "reference_date": "reference date",
    # rfm_core.segments.segmentation.SegmentationSettings
    "method": "method",
    "n_clusters": "number of segments",
    "features": "features",
    "transform": "scaling",
    "k_min": "smallest k compared",
    "k_max": "largest k compared",
    "business_range": "segments a team can act on",
    "linkage": "linkage (agglomerative)",
    "eps": "radius eps (DBSCAN)",
    "min_samples": "minimum samples (DBSCAN, HDBSCAN)",
    "min_cluster_size": "minimum segment size (HDBSCAN)",
    "exclude_anomalies": "fitted without the anomalies",
    "name_scheme": "names",
    "random_state": "random seed",
    # the anomaly detector (rfm_core.outputs.reports.RunReport.anomaly)
    "contamination": "share of customers flagged",
}
# other values a table or a chart shows as they are stored
CHOICE_LABELS: dict[str, str] = {
    "drop": "dropped",
    "net": "netted against purchases",
    "log-standard": "log, then standardized",
    "minmax": "min–max",
    "quantile": "quantiles",
    "lifecycle": "lifecycle names",
    "tiers": "tiers (Platinum … Iron)",
    "validation": "validation",
    "test": "test",
}
# one line a person needs to read each metric of the model-selection charts
METRIC_NOTES: dict[str, str] = {
    "inertia": "Lower is tighter, but it always falls as k grows: look for where the curve bends.",
    "silhouette": "Higher is better: customers sit closer to their own segment than to the next "
    "one (1 = perfectly apart, 0 = on the border).",
    "calinski_harabasz": "Higher is better: segments are far apart compared with how spread "
    "out each one is.",
    "davies_bouldin": "Lower is better: each segment is small compared with the distance to "
    "its most similar segment.",
    "aic_bic": "Lower is better: a Gaussian mixture with k parts explains the customers well "
    "without needless parts (BIC penalises extra parts more).",
    "stability": "Higher is better: refits on other samples put the same customers together "
    "(1 = always).",
}


def column_label(name: object) -> str:
    """The words a person reads for the column ``name``.

    Parameters
    ----------
    name : object
        A column or index name (``None`` gives ``""``); numbers are returned as text.

    Returns
    -------
    str
        The listed label, or one built from the name's parts, or the name without underscores
        (first letter upper case). Never contains an underscore.
    """
    if name is None:
        return ""
    text = str(name)
    if text in COLUMN_LABELS:
        return COLUMN_LABELS[text]
    for prefix, word in _PREFIXES.items():
        if text.startswith(prefix) and text.removeprefix(prefix) in COLUMN_LABELS:
            return f"{word} {lower_first(COLUMN_LABELS[text.removeprefix(prefix)])}"
    for suffix, word in _SUFFIXES.items():
        base = text.removesuffix(suffix)
        if text.endswith(suffix) and base in COLUMN_LABELS:
            return f"{word}: {lower_first(COLUMN_LABELS[base])}"
    if text.startswith("p_cluster_"):
        return f"Probability of segment {text.removeprefix('p_cluster_')}"
    words = _SNAKE.sub(" ", text).strip()
    return words[:1].upper() + words[1:] if words else text


def column_kind(name: object) -> str:
    """What the column ``name`` holds: one of :data:`KINDS` (``"text"`` when unknown).

    Parameters
    ----------
    name : object

    Returns
    -------
    str
        Means and medians of counts are ``"ratio"``; ``p_cluster_*`` are ``"share"``.
    """
    text = str(name)
    if text in _COLUMNS:
        return _COLUMNS[text][1]
    for prefix in _PREFIXES:
        base = text.removeprefix(prefix)
        if text.startswith(prefix) and base in _COLUMNS:
            kind = _COLUMNS[base][1]
            return "ratio" if kind in ("count", "score") else kind
    for suffix in _SUFFIXES:
        base = text.removesuffix(suffix)
        if text.endswith(suffix) and base in _COLUMNS:
            return _COLUMNS[base][1]
    if text.startswith("p_cluster_"):
        return "share"
    return "text"


def decimals_for(kind: str, values: Iterable[float] = ()) -> int:
    """Decimals shown for numbers of ``kind``.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    values : iterable of float
        The numbers shown together (a column): money and statistics drop their decimals when
        the median absolute value reaches :data:`WHOLE_MONEY_FROM`.

    Returns
    -------
    int
        Money 2 or 0, shares 1 (as percentages), ratios 1, statistics 2 (0 when large),
        everything else 0.
    """
    if kind in ("money", "statistic"):
        sizes = sorted(abs(float(v)) for v in values if _finite(v))
        typical = sizes[len(sizes) // 2] if sizes else 0.0
        return 0 if typical >= WHOLE_MONEY_FROM else 2
    return {"share": 1, "ratio": 1}.get(kind, 0)


def currency_prefix(currency: str) -> str:
    """``currency`` as written before an amount: ``"£"``, ``"$"``, ``"CHF "``; ``""`` for none.

    Parameters
    ----------
    currency : str
        A symbol or a code, as the user typed it (surrounding spaces are dropped).

    Returns
    -------
    str
        A code or anything ending in a letter gets a space after it.
    """
    symbol = (currency or "").strip()
    return f"{symbol} " if symbol and symbol[-1].isalpha() else symbol


def with_currency(label: str, currency: str) -> str:
    """A money label with its currency: ``"Revenue (£)"``; ``label`` itself without currency.

    Parameters
    ----------
    label : str
    currency : str

    Returns
    -------
    str
    """
    symbol = (currency or "").strip()
    return f"{label} ({symbol})" if symbol else label


def format_money(value: float, *, currency: str = "", decimals: int | None = None) -> str:
    """``"£1,234.56"``, ``"-£12.00"``, ``"CHF 1,235"``; ``""`` for a missing value.

    Parameters
    ----------
    value : float
    currency : str, default ""
    decimals : int, optional
        Default: :func:`decimals_for` of ``value`` alone (2 below
        :data:`WHOLE_MONEY_FROM`, else 0).

    Returns
    -------
    str
    """
    if not _finite(value):
        return ""
    places = decimals_for("money", [value]) if decimals is None else decimals
    sign = "-" if value < 0 and round(abs(value), places) != 0 else ""
    return f"{sign}{currency_prefix(currency)}{abs(value):,.{places}f}"


def format_share(value: float, *, decimals: int = 1) -> str:
    """A share (0.123) as ``"12.3%"``; ``"<0.1%"`` for a positive share that would read 0;
    ``""`` for a missing value.

    Rounded half away from zero on the exact value of the float, as the browser's table cells
    round (``Intl.NumberFormat``), so that a chart's label and the table beside it agree:
    0.0195, stored as 0.019499999…, reads 1.9% in both (Python's ``f"{0.0195:.1%}"`` multiplies
    by 100 first and gives 2.0%).

    Parameters
    ----------
    value : float
    decimals : int, default 1

    Returns
    -------
    str
    """
    if not _finite(value):
        return ""
    smallest = 10.0 ** -(decimals + 2)
    if 0 < value < smallest / 2:
        return f"<{smallest:.{decimals}%}"
    percent = (Decimal(value) * 100).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return f"{percent + 0:.{decimals}f}%"  # + 0: no "-0.0%"


def format_value(
    value: object, kind: str, *, currency: str = "", decimals: int | None = None
) -> str:
    """One value written by the rules of its kind (see the module docstring).

    Parameters
    ----------
    value : object
        A number, a date, a flag or text; missing values (None, NaN, NA) give ``""``.
    kind : str
        One of :data:`KINDS`.
    currency : str, default ""
        For money.
    decimals : int, optional
        Instead of the kind's (for money and statistics: of the column, see
        :func:`decimals_for`).

    Returns
    -------
    str
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or _is_na(value):
        return ""
    if isinstance(value, bool) or type(value).__name__ in ("bool", "bool_"):  # numpy's too
        return "yes" if value else "no"
    if not isinstance(value, Real):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return ""
    if kind == "money":
        return format_money(number, currency=currency, decimals=decimals)
    if kind == "share":
        return format_share(number, decimals=1 if decimals is None else decimals)
    places = decimals_for(kind, [number]) if decimals is None else decimals
    return f"{number:,.{places}f}"


def log_tick_text(value: float) -> str:
    """The label of a power of ten on a log axis: ``0.01``, ``1``, ``100``, ``1k``, ``10M``.

    Parameters
    ----------
    value : float
        A positive power of ten.

    Returns
    -------
    str
    """
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def log_ticks(values: Iterable[float]) -> dict[str, list]:
    """Ticks of a log axis at the powers of ten only, labelled by :func:`log_tick_text`.

    Parameters
    ----------
    values : iterable of float
        What the axis shows; values that are not positive and finite are left out.

    Returns
    -------
    dict
        ``tickvals`` and ``ticktext`` for plotly (both empty without a positive value), from the
        power of ten at or below the smallest value to the one at or above the largest: never
        the 2 and 5 between decades that plotly draws by default.
    """
    positive = [float(v) for v in values if _finite(v) and float(v) > 0]
    if not positive:
        return {"tickvals": [], "ticktext": []}
    low = math.floor(math.log10(min(positive)))
    high = max(math.ceil(math.log10(max(positive))), low + 1)
    powers = [10.0**exponent for exponent in range(low, high + 1)]
    return {"tickvals": powers, "ticktext": [log_tick_text(p) for p in powers]}


# -- colours ----------------------------------------------------------------------------------

# Okabe & Ito's colour-blind-safe palette first (without its yellow, too light on white), then
# Paul Tol's muted scheme; each colour differs in lightness or hue for the common deficiencies
SEGMENT_PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#332288",  # indigo
    "#882255",  # wine
    "#44AA99",  # teal
    "#999933",  # olive
    "#AA4499",  # purple
    "#117733",  # green
    "#DDCC77",  # sand
    "#6699CC",  # light blue
)
_NO_SEGMENT = "#BBBBBB"  # noise, unassigned, not yet a customer: grey, never a segment's colour
# the names the rule segments and the cluster names use, each with its own colour; the same
# name gets the same colour whether it is a rule segment or a cluster
SEGMENT_COLOURS: dict[str, str] = {
    "Champions": "#0072B2",
    "Platinum": "#0072B2",
    "Loyal": "#56B4E9",
    "Gold": "#E69F00",
    "Potential Loyalist": "#009E73",
    "Potential Loyalists": "#009E73",
    "Silver": "#56B4E9",
    "New": "#CC79A7",
    "Promising": "#44AA99",
    "Regulars": "#AA4499",
    "Need Attention": "#E69F00",
    "Bronze": "#D55E00",
    "About to Sleep": "#DDCC77",
    "Can't Lose Them": "#882255",
    "At Risk": "#D55E00",
    "Hibernating": "#999933",
    "Iron": "#332288",
    "Lost": "#332288",
    "Unassigned": _NO_SEGMENT,
    "(not yet a customer)": _NO_SEGMENT,
    "anomaly": "#D55E00",
    "normal": "#B0B8C4",
}


def segment_colours(names: Iterable[object]) -> dict[str, str]:
    """One colour per segment name, the same on every chart.

    Parameters
    ----------
    names : iterable
        Segment names (rule segments, cluster names, or labels such as ``"0: Champions"``), in
        the order they are shown; repeats are ignored.

    Returns
    -------
    dict of str to str
        Name (as text) → ``#rrggbb``. Known names (:data:`SEGMENT_COLOURS`, also after a
        ``"0: "`` prefix) keep their colour; a generated cluster name (``"Cluster 2 · At
        Risk"``) takes the palette colour of its number, so that two clusters borrowing one
        rule name still differ; other names take the colours of :data:`SEGMENT_PALETTE` that no
        shown name uses yet, in order (then repeat).
    """
    shown = list(dict.fromkeys(str(name) for name in names))
    colours = {
        name: SEGMENT_COLOURS[_bare(name)] for name in shown if _bare(name) in SEGMENT_COLOURS
    }
    for name in shown:
        if name not in colours and (match := _CLUSTER_NAME.match(name)):
            colours[name] = SEGMENT_PALETTE[int(match["number"]) % len(SEGMENT_PALETTE)]
    free = [c for c in SEGMENT_PALETTE if c not in colours.values()] or list(SEGMENT_PALETTE)
    others = [name for name in shown if name not in colours]
    for i, name in enumerate(others):
        colours[name] = free[i % len(free)]
    return {name: colours[name] for name in shown}


_CLUSTER_NAME = re.compile(r"^Cluster (?P<number>\d+) · ")


def _bare(name: str) -> str:
    """``"0: Champions"`` → ``"Champions"``; other names as they are."""
    head, sep, tail = name.partition(": ")
    return tail if sep and head.lstrip("-").isdigit() else name


def lower_first(text: str) -> str:
    """A label inside a sentence: ``"Recency (days)"`` → ``"recency (days)"``; ``"RFM score"``
    and ``"F score"`` stay as they are.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    return text if text[:2].isupper() or len(text) < 2 else text[0].lower() + text[1:]


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _is_na(value: object) -> bool:
    # pandas.NA and NaT without importing pandas: both refuse to be truthy or compare
    return type(value).__name__ in ("NAType", "NaTType")
