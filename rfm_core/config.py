"""Names of the choices a user makes, importable without loading scikit-learn.

The command line builds its parser from these before the heavy modules are imported;
:mod:`rfm_core.segments.clustering`, :mod:`rfm_core.segments.anomalies` and
:mod:`rfm_core.segments.features` use the same tuples.
"""

from __future__ import annotations

__all__ = [
    "ANOMALY_METHODS",
    "DEFAULT_FEATURES",
    "LINKAGES",
    "METHODS",
    "NAME_SCHEMES",
    "NOISE_LABEL",
    "OPTIONAL_FEATURES",
    "TRANSFORMS",
]

METHODS: tuple[str, ...] = ("kmeans", "gmm", "bgmm", "dbscan", "hdbscan", "agglomerative")
LINKAGES: tuple[str, ...] = ("ward", "complete", "average", "single")
ANOMALY_METHODS: tuple[str, ...] = ("iforest", "gmm", "lof", "zscore")
TRANSFORMS: tuple[str, ...] = ("log-standard", "minmax", "quantile")
NAME_SCHEMES: tuple[str, ...] = ("lifecycle", "tiers")
NOISE_LABEL: int = -1
"""Cluster label of the customers a density method (DBSCAN, HDBSCAN) puts in no cluster."""
DEFAULT_FEATURES: tuple[str, ...] = ("recency", "frequency", "monetary")
OPTIONAL_FEATURES: tuple[str, ...] = (
    "avg_order_value",
    "tenure_days",
    "mean_days_between_purchases",
)
