"""A classifier that imitates a detector, so that new customers can be flagged without it.

An imbalanced-learn pipeline ``transform → SMOTE → GradientBoostingClassifier`` learns the
detector's flags so that new customers can be flagged without refitting. It reproduces the
detector; it is not ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

if TYPE_CHECKING:
    from imblearn.pipeline import Pipeline as ImbPipeline

from rfm_core.config import DEFAULT_FEATURES
from rfm_core.errors import RfmError
from rfm_core.segments.anomalies.explain import _flag_array
from rfm_core.segments.checks import check_number
from rfm_core.segments.features import feature_frame, make_transform
from rfm_core.segments.progress import Progress, part_of, reporter
from rfm_core.segments.sampling import sample_rows

__all__ = [
    "CLASSIFIER_NOTE",
    "METRIC_COLUMNS",
    "MIN_FLAGGED_FOR_CLASSIFIER",
    "ClassifierReport",
    "classify",
    "train_anomaly_classifier",
]

MIN_FLAGGED_FOR_CLASSIFIER = 6
METRIC_COLUMNS = ("accuracy", "precision", "recall", "f1", "support", "positives")
CLASSIFIER_NOTE = (
    "This classifier reproduces the anomaly detector's flags; it is not ground truth. Its "
    "accuracy, precision, recall and F1 measure how well it imitates the detector on customers "
    "it did not see, not whether those customers are truly anomalous. Retrain it whenever the "
    "detector or its settings change."
)


@dataclass(frozen=True)
class ClassifierReport:
    """A classifier that imitates a detector, and how well it does on held-out customers.

    Attributes
    ----------
    pipeline : imblearn.pipeline.Pipeline
        Fitted ``transform → SMOTE → GradientBoostingClassifier`` on the feature frame
        (:func:`rfm_core.segments.features.feature_frame`); SMOTE only acts while fitting.
    metrics : pandas.DataFrame
        Index ``("validation", "test")``; columns :data:`METRIC_COLUMNS`: accuracy, precision,
        recall and F1 of the flagged class, ``support`` (customers in the split) and
        ``positives`` (flagged customers in the split).
    note : str
        :data:`CLASSIFIER_NOTE`: it reproduces the detector's flags; it is not ground truth.
    features : tuple of str
    """

    pipeline: Any
    metrics: pd.DataFrame
    note: str
    features: tuple[str, ...]


def train_anomaly_classifier(
    rfm_table: pd.DataFrame,
    flags: pd.Series | np.ndarray,
    *,
    features: Sequence[str] = DEFAULT_FEATURES,
    test_size: float = 0.2,
    validation_size: float = 0.2,
    random_state: int = 0,
    sample_limit: int = 200_000,
    progress: Progress | None = None,
) -> ClassifierReport:
    """Train a classifier on a detector's flags so that new customers can be flagged.

    The customers are split, stratified by flag, into train, validation (``validation_size``
    of all) and test (``test_size`` of all). A model fitted on train is scored on validation;
    the returned model is refitted on train + validation and scored on test, which no model
    ever saw. SMOTE oversamples the flagged customers of the fitting set to parity, with
    ``k_neighbors = min(5, flagged in it − 1)``. When a fitting set holds more than
    ``sample_limit`` customers, every flagged customer is kept and the others are sampled
    (seeded) to fill the limit: gradient boosting on a million rows takes minutes. Validation
    and test are never sampled.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
    flags : pandas.Series or numpy.ndarray of bool
        The detector's flags (e.g. ``AnomalyResult.table["anomaly"]``).
    features : sequence of str
    test_size, validation_size : float
        Shares of all customers, each in (0, 0.5], together at most 0.8.
    random_state : int
    sample_limit : int
    progress : callable, optional
        Hears ``(share done, words)`` as each of the two models learns, stage by stage of the
        gradient boosting (:mod:`rfm_core.segments.progress`); the models do not depend on it.

    Returns
    -------
    ClassifierReport

    Raises
    ------
    RfmError
        Fewer than :data:`MIN_FLAGGED_FOR_CLASSIFIER` flagged or not-flagged customers, or
        invalid sizes.
    """
    for name, value in (("test_size", test_size), ("validation_size", validation_size)):
        check_number(value, name, minimum=0, maximum=0.5, include_boundaries="right")
    if test_size + validation_size > 0.8:
        raise RfmError(
            f"test_size + validation_size must be at most 0.8, got {test_size + validation_size:g}"
        )
    check_number(
        sample_limit,
        "sample_limit",
        integer=True,
        minimum=100,
        message=f"sample_limit must be an integer of at least 100, got {sample_limit!r}",
    )
    y = _flag_array(rfm_table, flags)
    x = feature_frame(rfm_table, features=features)
    n_flagged, n_normal = int(y.sum()), int((~y).sum())
    if min(n_flagged, n_normal) < MIN_FLAGGED_FOR_CLASSIFIER:
        raise RfmError(
            f"the classifier needs at least {MIN_FLAGGED_FOR_CLASSIFIER} flagged and "
            f"{MIN_FLAGGED_FOR_CLASSIFIER} not flagged customers, got {n_flagged} flagged of "
            f"{len(y)}; raise the share flagged"
        )
    rows = np.arange(len(y))
    fit_rows, test_rows = train_test_split(
        rows, test_size=test_size, stratify=y, random_state=random_state
    )
    train_rows, validation_rows = train_test_split(
        fit_rows,
        test_size=validation_size / (1 - test_size),
        stratify=y[fit_rows],
        random_state=random_state,
    )
    report = reporter(progress)
    first = _fit_classifier(
        x, y, train_rows, random_state=random_state, limit=sample_limit,
        progress=part_of(report, 0.0, 0.5), doing="learning on the training split",
    )  # fmt: skip
    final = _fit_classifier(
        x, y, fit_rows, random_state=random_state, limit=sample_limit,
        progress=part_of(report, 0.5, 1.0), doing="learning again on training + validation",
    )  # fmt: skip
    report(1.0, "scoring the held-out customers")
    metrics = pd.DataFrame(
        [_metrics(first, x, y, validation_rows), _metrics(final, x, y, test_rows)],
        index=pd.Index(["validation", "test"], name="split"),
        columns=list(METRIC_COLUMNS),
    ).astype({"support": "int64", "positives": "int64"})
    return ClassifierReport(
        pipeline=final, metrics=metrics, note=CLASSIFIER_NOTE, features=tuple(features)
    )


def _fit_classifier(
    x: pd.DataFrame,
    y: np.ndarray,
    rows: np.ndarray,
    *,
    random_state: int,
    limit: int,
    progress: Progress,
    doing: str,
) -> ImbPipeline:
    # imported here: imbalanced-learn takes about a second to import, and only training needs it
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import Pipeline as ImbPipeline

    rows = _keep_flagged_sample(rows, y, limit, random_state)
    n_flagged = int(y[rows].sum())
    if n_flagged < 2:
        raise RfmError(
            f"only {n_flagged} flagged customer(s) fall in the training split; "
            "raise the share flagged"
        )
    # imbalanced-learn refuses a nested Pipeline: splice the transform's steps in
    transform = make_transform(transform="log-standard", random_state=random_state)
    model = GradientBoostingClassifier(random_state=random_state)
    pipeline = ImbPipeline(
        [
            *transform.steps,
            ("smote", SMOTE(k_neighbors=min(5, n_flagged - 1), random_state=random_state)),
            ("model", model),
        ]
    )
    progress(0.0, doing)

    def stage_done(stage: int, estimator: Any, state: dict) -> bool:
        """Gradient boosting's monitor: report each stage learned, never stop early."""
        progress((stage + 1) / model.n_estimators, doing)
        return False

    return pipeline.fit(x.iloc[rows], y[rows], model__monitor=stage_done)


def _keep_flagged_sample(
    rows: np.ndarray, y: np.ndarray, limit: int, random_state: int
) -> np.ndarray:
    """All of ``rows`` if within ``limit``, else every flagged row plus sampled others."""
    if len(rows) <= limit:
        return rows
    flagged, others = rows[y[rows]], rows[~y[rows]]
    picked = sample_rows(len(others), limit=max(limit - len(flagged), 0), random_state=random_state)
    kept = others if picked is None else others[picked]
    return np.sort(np.concatenate([flagged, kept]))


def _metrics(pipeline: ImbPipeline, x: pd.DataFrame, y: np.ndarray, rows: np.ndarray) -> list:
    truth = y[rows]
    predicted = pipeline.predict(x.iloc[rows]).astype(bool)
    return [
        accuracy_score(truth, predicted),
        precision_score(truth, predicted, zero_division=0),
        recall_score(truth, predicted, zero_division=0),
        f1_score(truth, predicted, zero_division=0),
        len(rows),
        int(truth.sum()),
    ]


def classify(report_or_pipeline: ClassifierReport | Any, rfm_table: pd.DataFrame) -> np.ndarray:
    """Flag new customers with a trained classifier, without refitting any detector.

    Parameters
    ----------
    report_or_pipeline : ClassifierReport or fitted pipeline
        A bare pipeline must have been fitted on a feature frame (its ``feature_names_in_``
        name the features).
    rfm_table : pandas.DataFrame
        One row per customer with the features the classifier was trained on.

    Returns
    -------
    numpy.ndarray of bool
        One flag per row of ``rfm_table``.
    """
    if isinstance(report_or_pipeline, ClassifierReport):
        pipeline, features = report_or_pipeline.pipeline, report_or_pipeline.features
    else:
        pipeline = report_or_pipeline
        check_is_fitted(pipeline)
        features = tuple(pipeline.feature_names_in_)
    x = feature_frame(rfm_table, features=features)
    return np.asarray(pipeline.predict(x)).astype(bool)
