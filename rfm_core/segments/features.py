"""Customer feature matrices for segmentation and anomaly detection.

Every model in :mod:`rfm_core.segments.clustering` and :mod:`rfm_core.segments.anomalies` sees the
customers through the same two steps, so that a segment and an anomaly flag are computed on the same
numbers:

1. :func:`feature_frame` picks columns of the RFM table (:mod:`rfm_core.customers.rfm`) as float64.
   ``mean_days_between_purchases`` is empty for customers with one purchase; it is filled with the
   customer's ``tenure_days`` (days since that purchase): they have gone at least that long
   without coming back, which keeps them on the "rarely buys" side of the axis.
2. :func:`make_transform` returns an unfitted scikit-learn transformer:

   ``log-standard`` (default)
       ``sign(x)·log1p(|x|)`` then standard scaling. RFM values are heavily right-skewed (a few
       customers spend thousands of times the median); on the log scale distances compare
       ratios, which is what a marketer means by "twice as often".
   ``minmax``
       Rescale each feature to [0, 1] (keeps the skew: outliers dominate).
   ``quantile``
       Each value replaced by its rank share in [0, 1] (uniform output; robust to outliers,
       close to the 1–5 RFM scores but without the binning).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    QuantileTransformer,
    StandardScaler,
)

from rfm_core.config import DEFAULT_FEATURES, OPTIONAL_FEATURES, TRANSFORMS
from rfm_core.errors import RfmError

__all__ = [
    "DEFAULT_FEATURES",
    "FEATURE_LABELS",
    "OPTIONAL_FEATURES",
    "TRANSFORMS",
    "Transform",
    "feature_frame",
    "make_transform",
    "signed_log1p",
    "transformed_features",
]

Transform = Literal["log-standard", "minmax", "quantile"]
FEATURE_LABELS: dict[str, str] = {
    "recency": "Recency (days)",
    "frequency": "Frequency (orders)",
    "monetary": "Monetary",
    "avg_order_value": "Average order value",
    "tenure_days": "Tenure (days)",
    "mean_days_between_purchases": "Days between purchases",
}


def _check_features(features: Sequence[str]) -> tuple[str, ...]:
    features = tuple(features)
    if not features:
        raise RfmError("choose at least one feature")
    allowed = (*DEFAULT_FEATURES, *OPTIONAL_FEATURES)
    unknown = [name for name in features if name not in allowed]
    if unknown:
        raise RfmError(f"unknown feature {unknown[0]!r}; choose from {', '.join(allowed)}")
    if len(set(features)) != len(features):
        raise RfmError(f"features are repeated: {', '.join(features)}")
    return features


def feature_frame(
    rfm_table: pd.DataFrame, *, features: Sequence[str] = DEFAULT_FEATURES
) -> pd.DataFrame:
    """Select the model features of each customer.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        :attr:`rfm_core.customers.rfm.RfmResult.table` (index ``customer_id``), or any frame with
        the feature columns.
    features : sequence of str
        Columns among :data:`DEFAULT_FEATURES` and :data:`OPTIONAL_FEATURES`.

    Returns
    -------
    pandas.DataFrame
        float64, same index, columns ``features``, no missing values.

    Raises
    ------
    RfmError
        No feature, an unknown or repeated one, a column the table lacks, or missing values.
    """
    features = _check_features(features)
    missing = [name for name in features if name not in rfm_table.columns]
    if missing:
        raise RfmError(f"the customer table has no column {missing[0]!r}")
    frame = rfm_table.loc[:, list(features)].astype("float64")
    if "mean_days_between_purchases" in frame:
        gap = frame["mean_days_between_purchases"]
        if "tenure_days" in rfm_table.columns:
            fill = rfm_table["tenure_days"].astype("float64")
        else:
            fill = rfm_table["recency"].astype("float64")
        frame["mean_days_between_purchases"] = gap.fillna(fill)
    if frame.isna().to_numpy().any():
        column = frame.columns[frame.isna().any()][0]
        raise RfmError(f"feature {column!r} has missing values")
    return frame


def signed_log1p(values: np.ndarray) -> np.ndarray:
    """``sign(x)·log1p(|x|)``: a log scale that also accepts zero and negative values.

    Parameters
    ----------
    values : numpy.ndarray
        Any real numbers (or anything NumPy turns into an array of them).

    Returns
    -------
    numpy.ndarray
        Same shape; 0 stays 0 and the sign is kept.
    """
    return np.sign(values) * np.log1p(np.abs(values))


def make_transform(*, transform: Transform = "log-standard", random_state: int = 0) -> Pipeline:
    """Return an unfitted transformer from features to model space.

    Parameters
    ----------
    transform : {"log-standard", "minmax", "quantile"}
    random_state : int
        Used by the quantile transform's subsampling on large tables.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; outputs pandas frames.

    Raises
    ------
    RfmError
        An unknown transform.
    """
    if transform == "log-standard":
        steps = [
            ("log", FunctionTransformer(signed_log1p, feature_names_out="one-to-one")),
            ("scale", StandardScaler()),
        ]
    elif transform == "minmax":
        steps = [("scale", MinMaxScaler())]
    elif transform == "quantile":
        steps = [
            ("rank", QuantileTransformer(n_quantiles=1000, random_state=random_state)),
        ]
    else:
        raise RfmError(f"unknown transform {transform!r}; choose from {', '.join(TRANSFORMS)}")
    return Pipeline(steps).set_output(transform="pandas")


def transformed_features(
    rfm_table: pd.DataFrame,
    *,
    features: Sequence[str] = DEFAULT_FEATURES,
    transform: Transform = "log-standard",
    random_state: int = 0,
) -> pd.DataFrame:
    """Feature frame in model space (fitted on these customers).

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        :attr:`rfm_core.customers.rfm.RfmResult.table`, or any frame with the feature columns.
    features : sequence of str
        As for :func:`feature_frame`.
    transform : {"log-standard", "minmax", "quantile"}
        As for :func:`make_transform`.
    random_state : int
        As for :func:`make_transform`.

    Returns
    -------
    pandas.DataFrame
        float64, index ``customer_id``, columns ``features``.

    Raises
    ------
    RfmError
        What :func:`feature_frame` and :func:`make_transform` refuse.
    """
    frame = feature_frame(rfm_table, features=features)
    pipeline = make_transform(transform=transform, random_state=random_state)
    return pipeline.fit_transform(frame).astype("float64")
