"""What each segment is: profiles, names, actions and the rules that describe it.

Every function takes the RFM table (:attr:`rfm_core.customers.rfm.RfmResult.table`, index
``customer_id``) and the segment of each customer as a pandas Series indexed by the same
customers (any order). Segments are cluster numbers (``-1`` marks noise, customers no cluster
took) or any other labels, for instance the planted groups of :mod:`rfm_core.ingest.synthetic`.

Definitions
-----------
revenue
    Sum of ``monetary`` over the segment's customers.
share of customers, share of revenue
    The segment's customers (revenue) divided by all customers' (all revenue).
snake plot value
    The mean, over the segment's customers, of a feature's z-score ``(x − mean) / std`` computed
    over all customers (population standard deviation; 0 for a constant feature). Frequency,
    monetary and average order value are heavy-tailed, so they are z-scored on
    ``sign(x)·log1p(|x|)`` instead of ``x``: a handful of big spenders would otherwise push every
    other segment to the same value.
cluster names
    Every generated name has the form ``"Cluster 2 · <name>"``, so that a cluster is never
    mistaken for a rule segment (column ``rfm_segment``, names without the prefix). *lifecycle*
    names a cluster after the rule segment of its *median customer*: the cluster's median
    recency, frequency and monetary value, scored with the same score edges as every customer
    (:func:`rfm_core.customers.rfm.score_with_edges`) and assigned by the same rules. The name it
    borrows is therefore always one whose R, F and M ranges its own medians satisfy; two clusters
    whose medians fall in the same rule segment share its name (their numbers tell them apart,
    cluster 0 being the most valuable). *tiers* ranks the clusters (below) and names them
    Platinum … Iron; a tier that is also the name of a rule segment the cluster's medians do not
    fall in reads "Gold tier". A user's renames replace the generated names as they are.
ranks of a segment (tiers)
    Among the segments (noise excluded), a *soft rank* of the mean recency (lower is better),
    mean frequency and mean monetary value: the share of the other segments it beats, where on
    the ``sign(x)·log1p(|x|)`` scale a lead of ``d`` counts as ``clip(0.5 + d / (2·log 2), 0, 1)``
    of a win, so that a factor of two is a clear win and near-equal means (1.5 orders against 1.6)
    are nearly a tie instead of a full rank apart. 0 is the worst, 1 the best. Tiers are
    therefore relative: the best of three weak segments is still "Gold".
rule precision, recall
    A rule covers the customers whose features satisfy it. Precision: share of them in the
    rule's segment. Recall: share of the segment's customers that the rule covers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from rfm_core.config import NAME_SCHEMES, NOISE_LABEL
from rfm_core.customers.rfm import DEFAULT_SEGMENTS, SegmentRule, score_with_edges
from rfm_core.errors import ProfileError, RfmError
from rfm_core.segments.checks import check_number
from rfm_core.segments.embedding import sample_customers
from rfm_core.segments.features import DEFAULT_FEATURES, FEATURE_LABELS, feature_frame, signed_log1p

__all__ = [
    "ACTION_COLUMNS",
    "CLUSTER_PREFIX",
    "LOG_SCALED_FEATURES",
    "NAME_SCHEMES",
    "PROFILE_FEATURES",
    "TIER_NAMES",
    "UNASSIGNED",
    "ProfileError",
    "SegmentRules",
    "cluster_name",
    "cluster_title",
    "crosswalk",
    "default_actions",
    "feature_importances",
    "name_segments",
    "profile_segments",
    "rename_segments",
    "segment_rules",
    "snake_plot_data",
]

PROFILE_FEATURES: tuple[str, ...] = (
    "recency",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "mean_days_between_purchases",
)
LOG_SCALED_FEATURES: tuple[str, ...] = ("frequency", "monetary", "avg_order_value")
UNASSIGNED = "Unassigned"

# every generated cluster name starts with "Cluster <label> · ": never a rule segment's form
CLUSTER_PREFIX = "Cluster"
_GENERATED = re.compile(rf"^{CLUSTER_PREFIX} \S+ · (?P<base>.+?)(?: tier)?$")
TIER_NAMES: tuple[str, ...] = ("Platinum", "Gold", "Silver", "Bronze", "Iron")
# the tiers used for k segments: three tiers read Gold / Silver / Bronze, not Platinum / Gold / …
_TIERS_FOR_K: dict[int, tuple[str, ...]] = {
    1: ("Gold",),
    2: ("Gold", "Silver"),
    3: ("Gold", "Silver", "Bronze"),
    4: TIER_NAMES[:4],
    5: TIER_NAMES,
}

ACTION_COLUMNS: tuple[str, ...] = ("segment", "name", "goal", "action", "channel")
_ACTIONS: dict[str, tuple[str, str, str]] = {
    "Champions": (
        "Keep them delighted",
        "VIP programme: early access, loyalty rewards, ask for reviews and referrals",
        "Personal e-mail, account manager",
    ),
    "Loyal": (
        "Grow their spend",
        "Upsell higher-value products, loyalty points, invitations to the VIP programme",
        "E-mail, app",
    ),
    "Potential Loyalist": (
        "Turn them into loyal customers",
        "Membership or subscription offer, personalised recommendations",
        "E-mail, app",
    ),
    "New": (
        "Get the second order",
        "Onboarding series, welcome discount on the next order",
        "E-mail sequence",
    ),
    "Promising": (
        "Build the relationship",
        "Brand story, free shipping or a small gift on the second order",
        "E-mail, retargeting",
    ),
    "Need Attention": (
        "Re-engage before they drift",
        "Limited-time offer based on past purchases",
        "E-mail, SMS",
    ),
    "About to Sleep": (
        "Wake them before they lapse",
        "Popular products and a time-limited discount, recommendations from past purchases",
        "E-mail",
    ),
    "At Risk": (
        "Win them back",
        "Win-back offer, personal message, ask what went wrong",
        "E-mail, direct mail",
    ),
    "Can't Lose Them": (
        "Win back the big spenders",
        "Personal call or letter, generous win-back offer, exclusive preview",
        "Phone, direct mail",
    ),
    "Hibernating": (
        "Reactivate cheaply",
        "Reactivation campaign with a popular product or seasonal offer",
        "E-mail",
    ),
    "Lost": (
        "Reactivate or let go",
        "One last reactivation offer, then stop paid contact",
        "E-mail",
    ),
    "Platinum": (
        "Retain the most valuable",
        "VIP programme, dedicated service, exclusive events",
        "Account manager, personal e-mail",
    ),
    "Gold": (
        "Move up a tier",
        "Upsell and loyalty rewards with a path to the top tier",
        "E-mail, app",
    ),
    "Silver": (
        "Raise frequency and basket",
        "Cross-sell, bundles, points multipliers",
        "E-mail",
    ),
    "Bronze": (
        "Build the habit",
        "Second-order incentives, onboarding content",
        "E-mail",
    ),
    "Iron": (
        "Reactivate at low cost",
        "Low-cost reactivation offer, then reduce contact",
        "E-mail",
    ),
    UNASSIGNED: (
        "Look closer",
        "Review individually: unusual customers the clustering did not place",
        "Analyst review",
    ),
}
_DEFAULT_ACTION = (
    "Define a goal",
    "Review the profile and test a targeted offer",
    "E-mail",
)
_FEATURE_UNITS = {
    "recency": "days",
    "frequency": "orders",
    "tenure_days": "days",
    "mean_days_between_purchases": "days",
}
_RULE_LABELS = {
    "recency": "Recency",
    "frequency": "Frequency",
    "monetary": "Monetary",
    "avg_order_value": "Average order value",
    "tenure_days": "Tenure",
    "mean_days_between_purchases": "Days between purchases",
}


# -- labels ------------------------------------------------------------------------------------


def _is_noise(label: Hashable) -> bool:
    is_integer = isinstance(label, int | np.integer) and not isinstance(label, bool)
    return is_integer and label == NOISE_LABEL


def _plain(label: Hashable) -> Hashable:
    """numpy scalars → Python scalars, so that dictionary keys print and compare plainly."""
    return label.item() if isinstance(label, np.generic) else label


def _segment_order(labels: Sequence[Hashable]) -> list[Hashable]:
    """Distinct labels sorted, noise (−1) last."""
    distinct = list(dict.fromkeys(_plain(v) for v in labels))
    try:
        ordered = sorted(distinct)
    except TypeError:  # mixed label types: order by their text
        ordered = sorted(distinct, key=str)
    return [v for v in ordered if not _is_noise(v)] + [v for v in ordered if _is_noise(v)]


def _aligned(reference: pd.Index, labels: pd.Series, *, what: str = "labels") -> pd.Series:
    """Return ``labels`` in the order of ``reference``, checking that both hold the same ids."""
    if not isinstance(labels, pd.Series):
        raise ProfileError(f"{what} must be a pandas Series, got {type(labels).__name__}")
    if not labels.index.equals(reference):
        if len(labels) != len(reference) or not labels.index.is_unique:
            raise ProfileError(
                f"{what} must give one value per customer: {len(labels):,} values for "
                f"{len(reference):,} customers"
            )
        unknown = labels.index[~labels.index.isin(reference)]
        if len(unknown):
            raise ProfileError(f"{what} name customer {unknown[0]!r}, who is not in the table")
        labels = labels.reindex(reference)
    if labels.isna().any():
        raise ProfileError(
            f"{what} are missing for {int(labels.isna().sum()):,} customers, first: "
            f"{labels.index[labels.isna()][0]!r}"
        )
    return labels.rename("segment")


def _columns(rfm_table: pd.DataFrame, features: Sequence[str]) -> tuple[str, ...]:
    features = tuple(features)
    if not features:
        raise ProfileError("choose at least one feature")
    missing = [f for f in features if f not in rfm_table.columns]
    if missing:
        raise ProfileError(f"the customer table has no column {missing[0]!r}")
    text = [f for f in features if not pd.api.types.is_numeric_dtype(rfm_table[f])]
    if text:
        raise ProfileError(f"feature {text[0]!r} is not numeric")
    return features


def rename_segments(
    names: Mapping[Hashable, str], renames: Mapping[Hashable, str]
) -> dict[Hashable, str]:
    """Return ``names`` with some segments renamed by the user.

    Names are stripped of surrounding spaces; two names that differ only in case are the same
    name.

    Parameters
    ----------
    names : mapping
        Segment label → name, e.g. :func:`name_segments`.
    renames : mapping
        Segment label → the user's name, for some of the labels of ``names``.

    Returns
    -------
    dict
        Label → name, every label of ``names`` in its order; ``names`` is not modified.

    Raises
    ------
    ProfileError
        An unknown segment, an empty name, or two segments with the same name.
    """
    result = dict(names)
    for label, name in renames.items():
        if label not in result:
            raise ProfileError(f"cannot rename segment {label!r}: there is no such segment")
        text = "" if name is None else str(name).strip()
        if not text:
            raise ProfileError(f"segment {label!r} needs a non-empty name")
        result[label] = text
    taken: dict[str, Hashable] = {}
    for label, name in result.items():
        if name.casefold() in taken:
            raise ProfileError(
                f"segments {taken[name.casefold()]!r} and {label!r} are both named {name!r}"
            )
        taken[name.casefold()] = label
    return result


# -- profiles ----------------------------------------------------------------------------------


def profile_segments(
    rfm_table: pd.DataFrame,
    labels: pd.Series,
    *,
    features: Sequence[str] = PROFILE_FEATURES,
) -> pd.DataFrame:
    """Describe each segment: size, revenue and the mean and median of each feature.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        Index ``customer_id``; needs ``monetary`` and the ``features`` columns.
    labels : pandas.Series
        Segment of every customer of the table, indexed by ``customer_id``.
    features : sequence of str
        Numeric columns to summarise. Missing values are skipped: ``mean_days_between_purchases``
        is summarised over the customers with at least two purchases (NaN when none has).

    Returns
    -------
    pandas.DataFrame
        Index ``segment`` (sorted, noise −1 last); columns ``customers`` (int64),
        ``share_customers``, ``revenue``, ``share_revenue``, then ``mean_<f>``, ``median_<f>``
        for each feature (float64).

    Raises
    ------
    ProfileError
        Labels that are not one per customer of the table, or a missing or non-numeric column.
    """
    segments = _aligned(rfm_table.index, labels)
    features = _columns(rfm_table, features)
    _columns(rfm_table, ("monetary",))
    values = rfm_table[list(dict.fromkeys([*features, "monetary"]))].astype("float64")
    grouped = values.groupby(segments.to_numpy(), sort=False)
    order = _segment_order(segments.unique())
    customers = grouped.size().astype("int64")
    revenue = grouped["monetary"].sum()
    total_revenue = float(values["monetary"].sum())
    means, medians = grouped[list(features)].mean(), grouped[list(features)].median()
    columns: dict[str, pd.Series] = {
        "customers": customers,
        "share_customers": customers / len(values),
        "revenue": revenue,
        "share_revenue": revenue / total_revenue if total_revenue else revenue * 0.0,
    }
    for feature in features:
        columns[f"mean_{feature}"] = means[feature]
        columns[f"median_{feature}"] = medians[feature]
    profile = pd.DataFrame(columns).loc[order]
    profile.index = pd.Index(order, name="segment")
    return profile


def snake_plot_data(
    rfm_table: pd.DataFrame,
    labels: pd.Series,
    *,
    features: Sequence[str] = DEFAULT_FEATURES,
) -> pd.DataFrame:
    """Mean standardized feature per segment, for a snake plot.

    Parameters
    ----------
    rfm_table, labels
        As for :func:`profile_segments`.
    features : sequence of str
        :data:`LOG_SCALED_FEATURES` are z-scored on ``sign(x)·log1p(|x|)``, the others on ``x``
        (see the module's definitions). Missing values are skipped.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per segment and feature (segments sorted, noise last; features in
        the given order): ``segment, feature, value``.

    Raises
    ------
    ProfileError
        As for :func:`profile_segments`.
    """
    segments = _aligned(rfm_table.index, labels)
    features = _columns(rfm_table, features)
    order = _segment_order(segments.unique())
    groups = segments.to_numpy()
    means = {
        feature: pd.Series(
            _z_scores(rfm_table[feature].to_numpy("float64", na_value=np.nan), feature)
        )
        .groupby(groups, sort=False)
        .mean()
        for feature in features
    }
    rows = [(label, f, float(means[f][label])) for label in order for f in features]
    return pd.DataFrame(rows, columns=["segment", "feature", "value"])


def _z_scores(values: np.ndarray, feature: str) -> np.ndarray:
    scaled = signed_log1p(values) if feature in LOG_SCALED_FEATURES else values
    std = np.nanstd(scaled)
    if not std > 0:
        return np.where(np.isnan(scaled), np.nan, 0.0)
    return (scaled - np.nanmean(scaled)) / std


# -- names and actions -------------------------------------------------------------------------


def _ranks(profile: pd.DataFrame) -> pd.DataFrame:
    """Recency, frequency, monetary and value ranks of each segment, 0 (worst) … 1 (best)."""
    needed = {"r": "mean_recency", "f": "mean_frequency", "m": "mean_monetary"}
    missing = [c for c in needed.values() if c not in profile.columns]
    if missing:
        raise ProfileError(f"the profile has no column {missing[0]!r} (see profile_segments)")
    means = profile[list(needed.values())].astype("float64")
    if means.isna().any().any():
        raise ProfileError("the profile has missing mean recency, frequency or monetary values")
    ranks = pd.DataFrame(
        {
            axis: _soft_rank(means[column].to_numpy(), higher_is_better=axis != "r")
            for axis, column in needed.items()
        },
        index=profile.index,
    )
    ranks["v"] = (ranks["f"] + ranks["m"]) / 2
    return ranks


def _soft_rank(means: np.ndarray, *, higher_is_better: bool) -> np.ndarray:
    """Share of the other segments each one beats, near ties counting half (module docstring)."""
    if len(means) == 1:
        return np.array([0.5])
    scale = signed_log1p(means) * (1 if higher_is_better else -1)
    wins = np.clip(0.5 + (scale[:, None] - scale[None, :]) / (2 * math.log(2)), 0, 1)
    np.fill_diagonal(wins, 0)
    return wins.sum(axis=1) / (len(means) - 1)


def name_segments(
    profile: pd.DataFrame,
    score_edges: Mapping[str, tuple[float, ...] | None],
    *,
    scheme: str = "lifecycle",
    segments: Sequence[SegmentRule] = DEFAULT_SEGMENTS,
) -> dict[Hashable, str]:
    """Give each segment a name of the form "Cluster 2 · At Risk" (see the module's definitions).

    Parameters
    ----------
    profile : pandas.DataFrame
        :func:`profile_segments` output (needs ``median_recency``, ``median_frequency``,
        ``median_monetary``, and for tiers ``mean_recency``, ``mean_frequency``,
        ``mean_monetary``), index = segment labels.
    score_edges : mapping
        The score edges the customers were scored with (``Scoring.edges`` of
        :mod:`rfm_core.customers.scores`, or :func:`rfm_core.customers.rfm.score_edges` for
        quantiles): the medians are scored with the same ones.
    scheme : {"lifecycle", "tiers"}
        ``lifecycle``: the rule segment of the cluster's median customer. ``tiers``: segments
        ordered by mean rank of recency, frequency and monetary (ties to the higher monetary
        mean), named Platinum, Gold, Silver, Bronze, Iron (Gold, Silver, Bronze for three
        segments; with more than five, consecutive segments share a tier).
    segments : sequence of SegmentRule
        The rule segments the customers are assigned by.

    Returns
    -------
    dict
        Segment label → name, in profile order; unique names; noise (−1) is "Unassigned".

    Raises
    ------
    ProfileError
        An unknown scheme, a segment listed twice, or missing mean or median recency,
        frequency or monetary columns or values.
    """
    if scheme not in NAME_SCHEMES:
        raise ProfileError(f"unknown name scheme {scheme!r}; choose from {', '.join(NAME_SCHEMES)}")
    labels = [_plain(v) for v in profile.index]
    if len(set(labels)) != len(labels):
        raise ProfileError("the profile lists a segment twice")
    table = profile.set_axis(pd.Index(labels, dtype=object))
    kept = [label for label in labels if not _is_noise(label)]
    names: dict[Hashable, str] = {}
    if kept:
        borrowed = _median_rule_segments(table.loc[kept], score_edges, segments)
        if scheme == "lifecycle":
            chosen = borrowed
        else:
            ranks = _ranks(table.loc[kept])
            ranks["monetary"] = table.loc[kept, "mean_monetary"].astype("float64")
            rule_names = {rule.name.casefold() for rule in segments}
            chosen = {
                label: f"{tier} tier"
                if tier.casefold() in rule_names and tier != borrowed[label]
                else tier
                for label, tier in _tier_names(ranks).items()
            }
        names = {label: cluster_name(label, chosen[label]) for label in kept}
    return {label: UNASSIGNED if _is_noise(label) else names[label] for label in labels}


def cluster_name(label: Hashable, name: str) -> str:
    """The generated name of a cluster: ``"Cluster 2 · At Risk"``.

    Parameters
    ----------
    label : hashable
        The cluster's label.
    name : str
        What it is called.

    Returns
    -------
    str
    """
    return f"{CLUSTER_PREFIX} {label} · {name}"


def cluster_title(label: Hashable, name: str) -> str:
    """How a cluster is listed beside others: its name when the name already says its number
    (``"Cluster 2 · At Risk"``), else ``"2: <name>"`` (a name the user gave).

    Parameters
    ----------
    label : hashable
        The cluster's label.
    name : str
        Its name.

    Returns
    -------
    str
    """
    if str(name).startswith(f"{CLUSTER_PREFIX} {label} · "):
        return str(name)
    return f"{label}: {name}"


def _median_rule_segments(
    profile: pd.DataFrame,
    score_edges: Mapping[str, tuple[float, ...] | None],
    segments: Sequence[SegmentRule],
) -> dict[Hashable, str]:
    """The rule segment of each segment's median customer (medians scored with the edges)."""
    columns = {f: f"median_{f}" for f in ("recency", "frequency", "monetary")}
    missing = [c for c in columns.values() if c not in profile.columns]
    if missing:
        raise ProfileError(f"the profile has no column {missing[0]!r} (see profile_segments)")
    medians = profile[list(columns.values())].astype("float64")
    if medians.isna().any().any():
        raise ProfileError("the profile has missing median recency, frequency or monetary values")
    median_customers = medians.set_axis(list(columns), axis=1)
    scored = score_with_edges(median_customers, dict(score_edges), tuple(segments))
    return {label: str(name) for label, name in scored["rfm_segment"].items()}


def _best_first(ranks: pd.DataFrame, score: pd.Series) -> list[Hashable]:
    """Labels by descending score, ties to the higher monetary mean, then to the earlier label."""
    table = pd.DataFrame({"score": score, "monetary": ranks["monetary"]})
    table["position"] = np.arange(len(table))
    table = table.sort_values(["score", "monetary", "position"], ascending=[False, False, True])
    return list(table.index)


def _tier_names(ranks: pd.DataFrame) -> dict[Hashable, str]:
    order = _best_first(ranks, ranks[["r", "f", "m"]].mean(axis=1))
    k = len(order)
    if k in _TIERS_FOR_K:
        return dict(zip(order, _TIERS_FOR_K[k], strict=True))
    # more segments than tiers: consecutive segments share a tier
    return {label: TIER_NAMES[position * len(TIER_NAMES) // k] for position, label in
            enumerate(order)}  # fmt: skip


def default_actions(names: Mapping[Hashable, str]) -> pd.DataFrame:
    """Suggested goal, action and channel for each named segment (an editable starting point).

    A generated name ("Cluster 2 · At Risk", "Cluster 0 · Gold tier") gets the actions of the
    name it carries, a name with a numeric suffix ("At Risk 2") those of its base name; a name
    the user invented gets a generic row to fill in.

    Parameters
    ----------
    names : mapping
        Segment label → name, e.g. :func:`name_segments` or
        :meth:`rfm_core.segments.segmentation.SegmentationResult.names_with`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ACTION_COLUMNS`, one row per segment in the order of ``names``.
    """
    rows = []
    for label, name in names.items():
        generated = _GENERATED.match(str(name))
        base = generated["base"] if generated else re.sub(r" \d+$", "", str(name))
        rows.append((label, name, *_ACTIONS.get(base, _DEFAULT_ACTION)))
    return pd.DataFrame(rows, columns=list(ACTION_COLUMNS))


# -- what separates the segments -------------------------------------------------------------


def _training_set(
    rfm_table: pd.DataFrame,
    labels: pd.Series,
    features: Sequence[str],
) -> tuple[pd.DataFrame, pd.Series]:
    """Features (missing gaps filled as in :func:`rfm_core.segments.features.feature_frame`) and
    labels of the customers in a segment (noise left out); at least two segments."""
    segments = _aligned(rfm_table.index, labels)
    try:
        frame = feature_frame(rfm_table, features=features)
    except RfmError as exc:
        raise ProfileError(str(exc)) from exc
    codes, uniques = pd.factorize(segments)
    kept = ~np.array([_is_noise(_plain(u)) for u in uniques], dtype=bool)[codes]
    frame, segments = frame[kept], segments[kept]
    if segments.nunique() < 2:
        raise ProfileError(
            f"at least two segments are needed to tell them apart, got {segments.nunique()}"
        )
    return frame, segments


def _fit_sample(
    frame: pd.DataFrame, segments: pd.Series, *, sample_limit: int | None, random_state: int
) -> tuple[pd.DataFrame, pd.Series, bool]:
    check_number(
        sample_limit, "sample_limit", integer=True, minimum=2, optional=True, error=ProfileError
    )
    if sample_limit is None or len(frame) <= sample_limit:
        return frame, segments, False
    keep = sample_customers(
        frame.index, size=sample_limit, random_state=random_state, stratify=segments
    )
    return frame.loc[keep], segments.loc[keep], True


def _codes(segments: pd.Series) -> tuple[np.ndarray, list[Hashable]]:
    """Position of each customer's segment in the sorted segment order, and that order."""
    order = _segment_order(segments.unique())
    return _codes_in(segments, order), order


def _codes_in(segments: pd.Series, order: list[Hashable]) -> np.ndarray:
    codes, uniques = pd.factorize(segments)
    position = {label: i for i, label in enumerate(order)}
    return np.array([position[_plain(u)] for u in uniques], dtype=np.int64)[codes]


def feature_importances(
    rfm_table: pd.DataFrame,
    labels: pd.Series,
    *,
    features: Sequence[str] = DEFAULT_FEATURES,
    random_state: int = 0,
    sample_limit: int | None = 50_000,
    n_estimators: int = 100,
) -> pd.Series:
    """How much each feature separates the segments, from a random forest.

    A seeded :class:`~sklearn.ensemble.RandomForestClassifier` (``max_depth=8``, enough to
    separate segments, bounded so that it stays fast) learns the segment of each customer from
    the features; importance is its mean decrease in impurity (shares summing to 1). Noise
    customers are left out; above ``sample_limit`` customers a stratified seeded sample is used.

    Parameters
    ----------
    rfm_table, labels
        As for :func:`profile_segments`; noise customers are left out.
    features : sequence of str
        As for :func:`segment_rules`.
    random_state : int
        Seeds the sample and the forest.
    sample_limit : int or None
        Fit on a stratified seeded sample of this many customers when there are more.
    n_estimators : int
        Trees in the forest, at least 1.

    Returns
    -------
    pandas.Series
        ``importance`` indexed by ``feature``, sorted descending.

    Raises
    ------
    ProfileError
        Labels that do not match the table, fewer than two segments, an unknown feature or an
        invalid option.
    """
    check_number(n_estimators, "n_estimators", integer=True, minimum=1, error=ProfileError)
    frame, segments = _training_set(rfm_table, labels, features)
    frame, segments, _ = _fit_sample(
        frame, segments, sample_limit=sample_limit, random_state=random_state
    )
    codes, _ = _codes(segments)
    forest = RandomForestClassifier(
        n_estimators=n_estimators, max_depth=8, random_state=random_state, n_jobs=1
    ).fit(frame.to_numpy(), codes)
    importance = pd.Series(
        forest.feature_importances_, index=pd.Index(frame.columns, name="feature")
    )
    return importance.sort_values(ascending=False, kind="stable").rename("importance")


@dataclass(frozen=True)
class SegmentRules:
    """A shallow decision tree's description of the segments.

    Attributes
    ----------
    rules : pandas.DataFrame
        One row per rule: ``segment, name, rule`` (a sentence), ``customers`` (covered),
        ``precision``, ``recall`` (see the module's definitions); segments in order, the rules of
        a segment by customers covered, descending.
    accuracy : float
        Share of the customers (noise left out) whose segment the tree predicts.
    max_depth : int
    sampled : bool
        Whether the tree was fitted on a sample; coverage and accuracy are always measured on
        every customer.
    unexplained : tuple
        Segments that no rule predicts (too small or too mixed for a tree of this depth).
    """

    rules: pd.DataFrame
    accuracy: float
    max_depth: int
    sampled: bool
    unexplained: tuple[Hashable, ...] = ()


def segment_rules(
    rfm_table: pd.DataFrame,
    labels: pd.Series,
    *,
    names: Mapping[Hashable, str] | None = None,
    features: Sequence[str] = DEFAULT_FEATURES,
    max_depth: int = 3,
    random_state: int = 0,
    sample_limit: int | None = 100_000,
) -> SegmentRules:
    """Describe the segments in plain sentences with a shallow decision tree.

    A seeded :class:`~sklearn.tree.DecisionTreeClassifier` is fitted on the *unscaled* features,
    so that its thresholds read in days, orders and money. Small segments easily end up without
    a leaf of their own, so three trees are fitted, with segments weighted equally, by
    ``1/√size`` and by ``1/size``; the one that leaves the fewest segments without a rule is
    kept, then the one with the highest mean recall over segments, then the most accurate.

    Sibling leaves that predict the same segment are merged; each remaining leaf is one rule.
    Its conditions on a feature are merged into one bound or range and listed in the order the
    tree tests them: ``"Frequency ≥ 6 orders and Recency ≤ 30 days → Champions"``.
    Whole-number features (recency, frequency, tenure) read as whole numbers (a split at 5.5
    orders gives "≤ 5" and "≥ 6"; "≤ 1 order" when nobody has fewer reads "= 1 order"); other
    values are rounded to three significant digits ("≥ 1,230", "< 1,230").

    Parameters
    ----------
    rfm_table, labels
        As for :func:`profile_segments`; noise customers are left out.
    names : mapping, optional
        Segment label → name used in the sentences (default: the label itself, or
        "Segment <n>" for numbers).
    features : sequence of str
        Among :data:`rfm_core.segments.features.DEFAULT_FEATURES` and ``OPTIONAL_FEATURES``;
        ``mean_days_between_purchases`` is filled as in
        :func:`rfm_core.segments.features.feature_frame`.
    max_depth : int
        1 to 6: deeper trees are more accurate but no longer readable.
    random_state : int
    sample_limit : int or None
        Fit on a stratified seeded sample of this many customers when there are more.

    Returns
    -------
    SegmentRules

    Raises
    ------
    ProfileError
        Labels that do not match the table, fewer than two segments, an unknown feature or an
        invalid option.
    """
    check_number(max_depth, "max_depth", integer=True, minimum=1, maximum=6, error=ProfileError)
    frame, segments = _training_set(rfm_table, labels, features)
    sample, sample_segments, sampled = _fit_sample(
        frame, segments, sample_limit=sample_limit, random_state=random_state
    )
    codes, order = _codes(segments)
    tree = _fit_tree(sample.to_numpy(), _codes_in(sample_segments, order), max_depth, random_state)
    nodes = _rule_nodes(tree)
    values = frame.to_numpy()
    covered_by = _leaf_to_rule(tree, nodes)[tree.apply(values)]
    columns = list(frame.columns)
    formats = {f: _BoundFormat.of(frame[f], whole=_is_whole(rfm_table[f])) for f in columns}
    rows = []
    for node, (segment, conditions) in nodes.items():
        covered = covered_by == node
        hits = int((codes[covered] == segment).sum())
        name = _display_name(order[segment], names)
        rows.append(
            {
                "segment": order[segment],
                "name": name,
                "rule": f"{_sentence(conditions, columns, formats)} → {name}",
                "customers": int(covered.sum()),
                "precision": hits / covered.sum() if covered.any() else math.nan,
                "recall": hits / int((codes == segment).sum()),
                "_order": segment,
            }
        )
    rules = pd.DataFrame(rows).sort_values(
        ["_order", "customers"], ascending=[True, False], kind="stable"
    )
    predicted = {segment for segment, _ in nodes.values()}
    return SegmentRules(
        rules=rules.drop(columns="_order").reset_index(drop=True),
        accuracy=float((tree.predict(values) == codes).mean()),
        max_depth=max_depth,
        sampled=sampled,
        unexplained=tuple(label for i, label in enumerate(order) if i not in predicted),
    )


def _fit_tree(
    values: np.ndarray, codes: np.ndarray, max_depth: int, random_state: int
) -> DecisionTreeClassifier:
    """The tree, among three segment weightings, that gives a rule to most segments, then has
    the highest mean recall over segments, then the highest accuracy."""
    counts = np.bincount(codes)
    best, best_key = None, None
    for power in (0.0, 0.5, 1.0):
        weight = np.where(counts > 0, np.maximum(counts, 1) ** -power, 0.0)[codes]
        weight *= len(codes) / weight.sum()  # mean weight 1, as the tree's tolerances expect
        tree = DecisionTreeClassifier(max_depth=max_depth, random_state=random_state)
        tree.fit(values, codes, sample_weight=weight)
        explained = len({segment for segment, _ in _rule_nodes(tree).values()})
        hit = tree.predict(values) == codes
        recall = (
            np.bincount(codes, weights=hit, minlength=counts.size)[counts > 0] / counts[counts > 0]
        )
        key = (explained, float(recall.mean()), float(hit.mean()))
        if best_key is None or key > best_key:
            best, best_key = tree, key
    return best


def _display_name(label: Hashable, names: Mapping[Hashable, str] | None) -> str:
    if names is not None and label in names:
        return str(names[label])
    if isinstance(label, int | np.integer):
        return f"Segment {label}"
    return str(label)


def _is_whole(column: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(column):
        return True
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    return bool(values.size) and bool(np.all(values == np.round(values)))


_Condition = tuple[int, str, float]  # feature position, "le" or "gt", threshold


def _rule_nodes(tree: DecisionTreeClassifier) -> dict[int, tuple[int, list[_Condition]]]:
    """Nodes whose whole subtree predicts one segment, with that segment and their path."""
    t = tree.tree_
    predicted = tree.classes_[np.argmax(t.value[:, 0, :], axis=1)]

    def _only_class(node: int) -> int | None:
        left, right = t.children_left[node], t.children_right[node]
        if left == -1:
            return int(predicted[node])
        a, b = _only_class(left), _only_class(right)
        return a if a is not None and a == b else None

    found: dict[int, tuple[int, list[_Condition]]] = {}

    def _walk(node: int, path: list[_Condition]) -> None:
        single = _only_class(node)
        if single is not None:
            found[node] = (single, path)
            return
        feature, threshold = int(t.feature[node]), float(t.threshold[node])
        _walk(t.children_left[node], [*path, (feature, "le", threshold)])
        _walk(t.children_right[node], [*path, (feature, "gt", threshold)])

    _walk(0, [])
    return found


def _leaf_to_rule(tree: DecisionTreeClassifier, nodes: Mapping[int, object]) -> np.ndarray:
    """For every node id, the rule node at or above it."""
    t = tree.tree_
    owner = np.full(t.node_count, -1, dtype=np.int64)
    stack = [(0, -1)]
    while stack:
        node, rule = stack.pop()
        rule = node if node in nodes else rule
        owner[node] = rule
        if t.children_left[node] != -1:
            stack += [(t.children_left[node], rule), (t.children_right[node], rule)]
    return owner


@dataclass(frozen=True)
class _BoundFormat:
    """How to write bounds on one feature: its label, unit, kind and observed range."""

    feature: str
    whole: bool
    smallest: float
    largest: float

    @classmethod
    def of(cls, values: pd.Series, *, whole: bool) -> _BoundFormat:
        """How to write bounds on the feature ``values`` holds.

        Parameters
        ----------
        values : pandas.Series
            One feature of every customer, named after the feature.
        whole : bool
            The feature takes whole numbers only (days, orders).

        Returns
        -------
        _BoundFormat
        """
        return cls(str(values.name), whole, float(values.min()), float(values.max()))

    def text(self, low: float | None, high: float | None) -> str:
        """``low < x ≤ high`` (either bound may be None) in words.

        Parameters
        ----------
        low, high : float or None
            Thresholds of the tree; None leaves that side open.

        Returns
        -------
        str
            E.g. ``"Frequency ≥ 6 orders"``, ``"Monetary 120–1,230"``.
        """
        label = _RULE_LABELS.get(self.feature, FEATURE_LABELS.get(self.feature, self.feature))
        unit = _FEATURE_UNITS.get(self.feature, "")
        if self.whole:
            first = None if low is None else math.floor(low) + 1
            last = None if high is None else math.floor(high)
            if first is None and last is not None and last <= self.smallest:
                first = last
            if last is None and first is not None and first >= self.largest:
                last = first
            if first is not None and first == last:
                return f"{label} = {first:,}{_unit(unit, first)}"
            if first is not None and last is not None:
                return f"{label} {first:,}–{last:,}{_unit(unit, last)}"
            if first is not None:
                return f"{label} ≥ {first:,}{_unit(unit, first)}"
            return f"{label} ≤ {last:,}{_unit(unit, last)}"
        low_text, high_text = _rounded_pair(low, high)
        if low_text is not None and high_text is not None:
            return f"{label} {low_text}–{high_text}{_unit(unit, 2)}"
        if low_text is not None:
            return f"{label} ≥ {low_text}{_unit(unit, 2)}"
        return f"{label} < {high_text}{_unit(unit, 2)}"


def _sentence(
    conditions: list[_Condition], features: list[str], formats: Mapping[str, _BoundFormat]
) -> str:
    if not conditions:
        return "All customers"
    bounds: dict[int, list[float | None]] = {}
    for feature, side, threshold in conditions:
        low, high = bounds.setdefault(feature, [None, None])
        if side == "gt":
            bounds[feature][0] = threshold if low is None else max(low, threshold)
        else:
            bounds[feature][1] = threshold if high is None else min(high, threshold)
    return " and ".join(formats[features[f]].text(low, high) for f, (low, high) in bounds.items())


def _unit(unit: str, value: float) -> str:
    if not unit:
        return ""
    return f" {unit[:-1]}" if value == 1 else f" {unit}"


def _rounded_pair(low: float | None, high: float | None) -> tuple[str | None, str | None]:
    """Both bounds to three significant digits, more when that would make them equal."""
    digits = 3
    while True:
        low_text = None if low is None else _significant(low, digits)
        high_text = None if high is None else _significant(high, digits)
        if low_text is None or high_text is None or low_text != high_text or digits >= 12:
            return low_text, high_text
        digits += 1


def _significant(value: float, digits: int) -> str:
    if value == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, decimals)
    return f"{rounded:,.{max(decimals, 0)}f}"


# -- rule segments × clusters ------------------------------------------------------------------


def crosswalk(
    rule_segments: pd.Series,
    clusters: pd.Series,
    *,
    names: Mapping[Hashable, str] | None = None,
    order: Sequence[str] | None = None,
    normalize: bool = False,
) -> pd.DataFrame:
    """Count customers by rule-based segment and cluster.

    Parameters
    ----------
    rule_segments : pandas.Series
        ``rfm_segment`` of each customer (index ``customer_id``).
    clusters : pandas.Series
        Cluster label (or any label) of the same customers, in any order.
    names : mapping, optional
        Label → name shown as the column header (e.g. "Cluster 0 · Champions"); columns stay in
        label order whatever the names.
    order : sequence of str, optional
        Rule segments in the order of their rules (default: that of
        :data:`rfm_core.customers.rfm.DEFAULT_SEGMENTS`); others follow alphabetically.
    normalize : bool
        Divide each row by its total: the share of a rule segment's customers in each cluster.

    Returns
    -------
    pandas.DataFrame
        Index ``rfm_segment``; columns = clusters by label (numbers in numeric order, noise
        last), named by ``names``; int64 counts, or float64 shares when ``normalize``. Empty rows
        and columns are left out.

    Raises
    ------
    ProfileError
        Either series is not one value per customer of ``rule_segments``.
    """
    segments = _aligned(rule_segments.index, rule_segments, what="rule segments")
    clusters = _aligned(rule_segments.index, clusters, what="clusters")
    known = list(order) if order is not None else [rule.name for rule in DEFAULT_SEGMENTS]
    present = set(segments.astype(str))
    rows = [n for n in known if n in present] + sorted(present - set(known))
    columns = _segment_order(clusters.unique())
    table = pd.crosstab(segments.astype(str).to_numpy(), clusters.to_numpy())
    table = table.reindex(index=rows, columns=columns).fillna(0).astype("int64")
    if names is not None:
        table.columns = [names.get(label, label) for label in columns]
    table.index.name, table.columns.name = "rfm_segment", "cluster"
    if normalize:
        return table.div(table.sum(axis=1), axis=0)
    return table
