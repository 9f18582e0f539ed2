"""Code names → the words a person reads, in one place for every page, table and chart.

Column labels, number kinds, the words of methods, detectors and cleaning reasons, and the
segment colours come from :mod:`rfm_core.labels` (the reports use the same map); this module
adds the words of the app's own choices. Each dict lists its choices in the order widgets offer
them (its keys are the code names the core takes), so that a page passes ``list(LABELS)`` as
options and ``LABELS.get`` as ``format_func``. The choices a page shows as they are (linkages,
scalings, name schemes) are listed here too, so that pages take every choice from this module.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from rfm_core import labels as core
from rfm_core.config import DEFAULT_FEATURES, LINKAGES, NAME_SCHEMES, OPTIONAL_FEATURES, TRANSFORMS
from rfm_core.customers.trends import FREQUENCIES
from rfm_core.ingest.schema import OPTIONAL_ROLES, ROLE_LABELS, ROLES
from rfm_core.labels import (
    CHOICE_LABELS,
    DATE_FORMAT_LABELS,
    METRIC_NOTES,
    REASON_LABELS,
    column_kind,
    column_label,
    segment_colours,
)
from rfm_core.segments.profiles import cluster_title

__all__ = [
    "BACKTEST_METHOD_LABELS",
    "BINNING_LABELS",
    "CHOICE_LABELS",
    "CLV_PARAMETER_LABELS",
    "COHORT_MEASURE_LABELS",
    "COLOUR_BY_LABELS",
    "DATE_FORMAT_LABELS",
    "DATE_ORDER_LABELS",
    "DETECTOR_LABELS",
    "FEATURES",
    "FEATURE_LABELS",
    "FLAG_LABELS",
    "HISTORY_BY_LABELS",
    "LINKAGES",
    "MAPPING_LABELS",
    "METHOD_LABELS",
    "METRIC_NOTES",
    "MOVE_BY_LABELS",
    "NAME_SCHEMES",
    "NO_COLUMN",
    "PERIODS",
    "REASON_LABELS",
    "RETURNS_LABELS",
    "SCORE_BASIS_LABELS",
    "TRANSFORMS",
    "cluster_label",
    "column_kind",
    "column_label",
    "segment_colours",
]

# clustering methods and anomaly detectors, in the core's order (the reports use the same words)
METHOD_LABELS: dict[str, str] = core.METHOD_LABELS
DETECTOR_LABELS: dict[str, str] = core.DETECTOR_LABELS
FEATURES: tuple[str, ...] = (*DEFAULT_FEATURES, *OPTIONAL_FEATURES)
# features read as the columns that hold them
FEATURE_LABELS: dict[str, str] = {feature: column_label(feature) for feature in FEATURES}

# columns of the file, by role; the mapping form's "no column" choice
MAPPING_LABELS: dict[str, str] = {
    role: ROLE_LABELS[role] + (" (optional)" if role in OPTIONAL_ROLES else "") for role in ROLES
}
NO_COLUMN = "—"
DATE_ORDER_LABELS: dict[str, str] = {
    "auto": "detect",
    "dayfirst": "day first (31/12)",
    "monthfirst": "month first (12/31)",
}
RETURNS_LABELS: dict[str, str] = {"drop": "drop them", "net": "net them against purchases"}

PERIODS: tuple[str, ...] = tuple(FREQUENCIES)  # day, week, month: shown as they are
# what the segment history compares (rfm_core.outputs.store.SEGMENT_BY)
HISTORY_BY_LABELS: dict[str, str] = {
    "segment": "The model's segments",
    "rfm_segment": "Rule segments (R, F, M scores)",
}
MOVE_BY_LABELS: dict[str, str] = {
    "rule": "Rule segments",
    "cluster": "Clusters (the fitted model of the Segments page)",
}
COHORT_MEASURE_LABELS: dict[str, str] = {
    "share": "share of the cohort",
    "customers": "customers",
}
COLOUR_BY_LABELS: dict[str, str] = {
    "cluster": "Cluster segment",
    "rfm_segment": "Rule segment",
    "anomaly": "Anomaly",
}
FLAG_LABELS: dict[bool, str] = {True: "anomaly", False: "normal"}
# how the RFM page cuts the scores: the binning methods, then typed cut points ("fixed")
BINNING_LABELS: dict[str, str] = {
    "quantile": "Quantiles (about a fifth of the customers per score)",
    "jenks": "Natural breaks (Jenks, found in the values)",
    "fixed": "Fixed cut points (typed below)",
}
# the segmentations a backtest compares (rfm_core.segments.backtest.METHODS, in its order)
BACKTEST_METHOD_LABELS: dict[str, str] = {
    "rule": "Rule segments",
    "cluster": "Clusters",
    "clv": "CLV deciles",
}
# what each parameter of the lifetime-value models says (rfm_core.customers.clv)
CLV_PARAMETER_LABELS: dict[str, str] = {
    "r": "BG/NBD: shape of the purchase rates across customers",
    "alpha": "BG/NBD: scale of the purchase rates (weeks)",
    "a": "BG/NBD: dropout after a purchase ~ Beta(a, b)",
    "b": "BG/NBD: dropout after a purchase ~ Beta(a, b)",
    "p": "Gamma-Gamma: shape of the value of a purchase day",
    "q": "Gamma-Gamma: spread of the customers' mean spend ~ Gamma(q, γ)",
    "v": "Gamma-Gamma: scale γ of the customers' mean spend (currency)",
}
SCORE_BASIS_LABELS: dict[str, str] = {
    "model": "as among the model's training customers",
    "file": "ranked within the new log",
}


def cluster_label(label: Hashable, names: Mapping[Hashable, str]) -> Hashable:
    """``"Cluster 0 · Champions"`` (or ``"0: <a name the user gave>"``) for a cluster with a
    name, the label itself otherwise (e.g. *new*); see
    :func:`rfm_core.segments.profiles.cluster_title`."""
    return cluster_title(label, names[label]) if label in names else label
