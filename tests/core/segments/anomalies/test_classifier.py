"""The classifier that imitates a detector: metrics on held-out customers, sampling, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from rfm_core.errors import RfmError
from rfm_core.segments.anomalies import (
    CLASSIFIER_NOTE,
    ClassifierReport,
    classify,
    train_anomaly_classifier,
)
from tests.core.segments.anomalies.anomaly_tables import hand_table

# generated logs leave few distinct frequency scores: not what these tests are about
pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


# -- classifier -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classifier(table, default_result) -> ClassifierReport:
    return train_anomaly_classifier(table, default_result.table["anomaly"])


def test_classifier_metrics(classifier):
    metrics = classifier.metrics
    assert list(metrics.index) == ["validation", "test"]
    assert list(metrics.columns) == [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "support",
        "positives",
    ]
    scores = metrics[["accuracy", "precision", "recall", "f1"]].to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    # 20% of 2,500 customers each, stratified: 10 of the 50 flagged in each
    assert metrics["support"].tolist() == [500, 500]
    assert metrics["positives"].tolist() == [10, 10]
    assert "not ground truth" in classifier.note
    assert classifier.note == CLASSIFIER_NOTE
    assert classifier.features == ("recency", "frequency", "monetary")
    step_names = [name for name, _ in classifier.pipeline.steps]
    assert step_names[-2:] == ["smote", "model"]


def test_classifier_reproduces_the_detector(classifier, table, default_result, truth):
    flags = default_result.table["anomaly"].to_numpy()
    predicted = classify(classifier, table)
    assert predicted.dtype == bool
    assert (predicted & flags).sum() / flags.sum() >= 0.8
    assert classifier.metrics.loc["test", "recall"] >= 0.8
    # a bare pipeline works too, and survives pickling (it goes into the saved bundle)
    restored = pickle.loads(pickle.dumps(classifier.pipeline))
    np.testing.assert_array_equal(classify(restored, table), predicted)
    # new customers: a planted-like whale and an ordinary one
    new = hand_table({"w": (20, 8, 250_000.0), "o": (100, 2, 60.0)})
    assert classify(classifier, new).tolist() == [True, False]


def test_classifier_keeps_every_flagged_customer_when_sampling(table, default_result):
    report = train_anomaly_classifier(table, default_result.table["anomaly"], sample_limit=400)
    assert report.metrics["support"].tolist() == [500, 500]  # held-out splits are not sampled
    assert report.metrics.loc["test", "recall"] >= 0.8


# -- errors -----------------------------------------------------------------------------------


def test_classifier_errors(table):
    few = np.zeros(len(table), dtype=bool)
    few[:3] = True
    with pytest.raises(RfmError, match=r"at least 6 flagged .* got 3 flagged of 2500"):
        train_anomaly_classifier(table, few)
    enough = np.zeros(len(table), dtype=bool)
    enough[:50] = True
    with pytest.raises(RfmError, match=r"test_size must be in \(0, 0.5\], got 0.9"):
        train_anomaly_classifier(table, enough, test_size=0.9)
    with pytest.raises(RfmError, match=r"at most 0\.8, got 0\.9"):
        train_anomaly_classifier(table, enough, test_size=0.45, validation_size=0.45)


def test_classifier_reports_progress_without_changing_the_model(classifier, table, default_result):
    heard: list[tuple[float, str]] = []
    told = train_anomaly_classifier(
        table, default_result.table["anomaly"], progress=lambda d, t: heard.append((d, t))
    )
    pd.testing.assert_frame_equal(told.metrics, classifier.metrics)
    x = table[list(classifier.features)]
    np.testing.assert_array_equal(
        told.pipeline.predict_proba(x), classifier.pipeline.predict_proba(x)
    )
    shares = [done for done, _ in heard]
    assert shares[0] == 0.0 and shares[-1] == 1.0 and shares == sorted(shares)
    # two models, each reporting every boosting stage
    assert len(heard) > 2 * classifier.pipeline.named_steps["model"].n_estimators
    assert any("training + validation" in text for _, text in heard)
