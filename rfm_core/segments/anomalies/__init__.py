"""Anomalous customers: four detectors, reasons in words, and a classifier that imitates them.

Flagged customers are only marked, never dropped. The package is split by concern; everything
public is importable from here:

:mod:`~rfm_core.segments.anomalies.detector`
    :class:`AnomalyDetector` (``iforest``, ``gmm``, ``lof``, ``zscore``), :func:`detect_anomalies`
    (flags, scores and reasons in one :class:`AnomalyResult`) and :func:`detector_agreement`.
:mod:`~rfm_core.segments.anomalies.explain`
    :func:`explain`: why each flagged customer stands out, in words, and its category
    (:data:`CATEGORIES`); :func:`robust_z`, the scale the reasons use.
:mod:`~rfm_core.segments.anomalies.classifier`
    :func:`train_anomaly_classifier` (SMOTE + gradient boosting, :class:`ClassifierReport`) and
    :func:`classify`: new customers flagged without refitting a detector.
"""

from __future__ import annotations

from rfm_core.config import ANOMALY_METHODS
from rfm_core.segments.anomalies.classifier import (
    CLASSIFIER_NOTE,
    METRIC_COLUMNS,
    MIN_FLAGGED_FOR_CLASSIFIER,
    ClassifierReport,
    classify,
    train_anomaly_classifier,
)
from rfm_core.segments.anomalies.detector import (
    DEFAULT_CONTAMINATION,
    DEFAULT_DENSITY_PERCENTILE,
    DEFAULT_Z_THRESHOLD,
    GMM_COMPONENTS,
    IFOREST_MAX_SAMPLES,
    IFOREST_N_ESTIMATORS,
    MIN_COMPONENT_WEIGHT,
    MIN_CUSTOMERS,
    AnomalyAgreement,
    AnomalyDetector,
    AnomalyResult,
    detect_anomalies,
    detector_agreement,
    detector_notes,
    share_options,
)
from rfm_core.segments.anomalies.explain import (
    CANCELLED_SHARE,
    CATEGORIES,
    TYPICAL_Z,
    explain,
    robust_z,
)

__all__ = [
    "ANOMALY_METHODS",
    "CANCELLED_SHARE",
    "CATEGORIES",
    "CLASSIFIER_NOTE",
    "DEFAULT_CONTAMINATION",
    "DEFAULT_DENSITY_PERCENTILE",
    "DEFAULT_Z_THRESHOLD",
    "GMM_COMPONENTS",
    "IFOREST_MAX_SAMPLES",
    "IFOREST_N_ESTIMATORS",
    "METRIC_COLUMNS",
    "MIN_COMPONENT_WEIGHT",
    "MIN_CUSTOMERS",
    "MIN_FLAGGED_FOR_CLASSIFIER",
    "TYPICAL_Z",
    "AnomalyAgreement",
    "AnomalyDetector",
    "AnomalyResult",
    "ClassifierReport",
    "classify",
    "detect_anomalies",
    "detector_agreement",
    "detector_notes",
    "explain",
    "robust_z",
    "share_options",
    "train_anomaly_classifier",
]
