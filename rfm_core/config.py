"""Names of the choices a user makes, importable without loading scikit-learn.

The command line builds its parser from these before the heavy modules are imported;
:mod:`rfm_core.segments.clustering`, :mod:`rfm_core.segments.anomalies` and
:mod:`rfm_core.segments.features` use the same tuples.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "ANOMALY_METHODS",
    "DEFAULT_FEATURES",
    "DEFAULT_STORE",
    "LINKAGES",
    "METHODS",
    "NAME_SCHEMES",
    "NOISE_LABEL",
    "OPTIONAL_FEATURES",
    "SEGMENT_BY",
    "STORE_ENV",
    "TRANSFORMS",
    "store_url",
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

STORE_ENV = "RFM_STORE"
"""Environment variable naming the run store (a DuckDB file or a ``postgresql://`` URL)."""
DEFAULT_STORE = Path(__file__).resolve().parents[1] / "data" / "runs.duckdb"
"""The run store when :data:`STORE_ENV` is not set."""
SEGMENT_BY: tuple[str, ...] = ("segment", "rfm_segment")
"""What a customer's segment history follows: the clusters or the rule segments."""


def store_url(environ: Mapping[str, str] = os.environ) -> str:
    """The store of this installation: ``RFM_STORE``, else :data:`DEFAULT_STORE`.

    Parameters
    ----------
    environ : mapping of str to str
        Where ``RFM_STORE`` is read (default: the process's environment).

    Returns
    -------
    str
        A path of a DuckDB file, a ``duckdb://`` URL or a ``postgresql://`` URL.
    """
    return environ.get(STORE_ENV, "").strip() or str(DEFAULT_STORE)
