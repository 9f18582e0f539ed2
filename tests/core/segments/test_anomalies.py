"""Anomaly detectors against planted truth and hand computations; reasons; the classifier."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from rfm_core.customers.pipeline import run_rfm
from rfm_core.errors import RfmError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.segments.anomalies import (
    ANOMALY_METHODS,
    CATEGORIES,
    CLASSIFIER_NOTE,
    DEFAULT_Z_THRESHOLD,
    AnomalyDetector,
    ClassifierReport,
    classify,
    detect_anomalies,
    detector_agreement,
    explain,
    robust_z,
    train_anomaly_classifier,
)

# generated logs leave few distinct frequency scores: not what these tests are about
pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

N_CUSTOMERS = 2500
KIND_CATEGORY = {
    "whale": "wholesale-like whale",
    "bulk_single_order": "bulk single order",
    "machine_like": "machine-like buying",
}


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The real RFM table of a generated log with 2% planted anomalies, and the truth."""
    log = generate_transactions(N_CUSTOMERS, anomaly_share=0.02, random_state=0)
    data = log.transactions.to_csv(index=False).encode()
    table = run_rfm(load_bytes(data, file_name="log.csv")).rfm.table
    return table, log.customers.reindex(table.index)


@pytest.fixture(scope="module")
def table(planted) -> pd.DataFrame:
    return planted[0]


@pytest.fixture(scope="module")
def truth(planted) -> pd.DataFrame:
    return planted[1]


@pytest.fixture(scope="module")
def default_result(table):
    return detect_anomalies(table, currency="£")


def hand_table(rows: dict[str, tuple[int, int, float]]) -> pd.DataFrame:
    """``{customer: (recency, frequency, monetary)}`` → a minimal RFM table."""
    frame = pd.DataFrame(list(rows.values()), columns=["recency", "frequency", "monetary"])
    frame.index = pd.Index(list(rows), dtype="string", name="customer_id")
    return frame.astype({"recency": "int64", "frequency": "int64", "monetary": "float64"})


# nine ordinary customers: medians recency 50, frequency 3, monetary 25,000
ORDINARY = {
    "a": (10, 1, 15_000.0),
    "b": (20, 2, 18_000.0),
    "c": (30, 2, 20_000.0),
    "d": (40, 3, 22_000.0),
    "e": (50, 3, 25_000.0),
    "f": (60, 3, 28_000.0),
    "g": (70, 4, 30_000.0),
    "h": (80, 4, 33_000.0),
    "i": (90, 5, 35_000.0),
}


# -- planted truth ----------------------------------------------------------------------------


def test_default_detector_finds_planted_anomalies(default_result, truth):
    flagged = default_result.table["anomaly"].to_numpy()
    planted = truth["is_anomaly"].to_numpy()
    hits = int((flagged & planted).sum())
    assert planted.sum() == 50
    assert hits / flagged.sum() >= 0.9  # precision
    assert hits / planted.sum() >= 0.9  # recall


def test_reasons_lead_with_the_planted_feature(default_result, truth):
    rows = default_result.table.join(truth[["anomaly_kind", "anomaly_feature"]])
    caught = rows[rows["anomaly"] & truth["is_anomaly"]]
    assert len(caught) >= 45
    for customer, row in caught.iterrows():
        # features are ordered by how far they push: the planted one comes first
        assert row["anomaly_reason"].startswith(row["anomaly_feature"]), customer


def test_categories_match_planted_kinds(default_result, truth):
    rows = default_result.table.join(truth[["anomaly_kind"]])
    caught = rows[rows["anomaly"] & truth["is_anomaly"]]
    assert set(caught["anomaly_kind"]) == set(KIND_CATEGORY)
    expected = caught["anomaly_kind"].map(KIND_CATEGORY)
    pd.testing.assert_series_equal(caught["anomaly_category"], expected, check_names=False)


def test_machine_like_reason_counts_orders(default_result, truth):
    machine = default_result.table.loc[truth["anomaly_kind"] == "machine_like"]
    reason = machine.loc[machine["anomaly"], "anomaly_reason"].iloc[0]
    assert reason.startswith("frequency ")
    assert " orders vs 2)" in reason  # the median customer placed 2 orders


# -- result shape -----------------------------------------------------------------------------


def test_result_table_is_aligned_and_complete(default_result, table):
    result = default_result
    assert result.table.index.equals(table.index)
    assert list(result.table.columns) == [
        "anomaly",
        "anomaly_score",
        "anomaly_reason",
        "anomaly_category",
    ]
    assert result.table["anomaly"].dtype == bool
    assert result.table["anomaly_score"].dtype == "float64"
    assert result.n_flagged == int(result.table["anomaly"].sum()) == 50
    assert result.method == "iforest"
    flagged = result.table["anomaly"]
    assert (result.table.loc[flagged, "anomaly_reason"] != "").all()
    assert (result.table.loc[~flagged, "anomaly_reason"] == "").all()
    assert (result.table.loc[~flagged, "anomaly_category"] == "").all()
    assert set(result.table["anomaly_category"]) <= set(CATEGORIES)
    assert (result.table.loc[flagged, "anomaly_score"] > result.threshold).all()
    assert (result.table.loc[~flagged, "anomaly_score"] <= result.threshold).all()
    strangest = result.flagged
    assert strangest["anomaly_score"].is_monotonic_decreasing


def test_inputs_are_not_mutated(table):
    before = table.copy()
    result = detect_anomalies(table, method="zscore")
    explain(table, result.table["anomaly"])
    pd.testing.assert_frame_equal(table, before)


# -- thresholds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "options", "expected"),
    [
        ("iforest", {"contamination": 0.02}, 50),
        ("iforest", {"contamination": 0.05}, 125),
        ("lof", {"contamination": 0.04}, 100),
        ("gmm", {}, 75),  # density below the 3rd percentile
        ("gmm", {"density_percentile": 5.0}, 125),
        # contamination does not govern gmm
        ("gmm", {"contamination": 0.1}, 75),
    ],
)
def test_share_flagged(table, method, options, expected):
    detector = AnomalyDetector(method=method, **options).fit(table)
    assert detector.flags_.sum() == expected
    assert detector.threshold_ == pytest.approx(np.quantile(detector.scores_, 1 - expected / 2500))


def test_zscore_scores_are_the_largest_robust_z_by_hand():
    table = hand_table({**ORDINARY, "j": (45, 3, 25_000.0), "whale": (40, 3, 1_200_000.0)})
    detector = AnomalyDetector(method="zscore").fit(table)
    # by hand for the whale, on log1p(monetary) of the eleven customers: the median is 25k;
    # sorted |deviations| 0, 0, 28k, 22k, 30k, 20k, ...: the MAD (6th) is log1p(25k) − log1p(20k)
    mad = math.log1p(25_000) - math.log1p(20_000)
    z_whale = (math.log1p(1_200_000) - math.log1p(25_000)) / (1.4826 * mad)
    assert detector.scores_[-1] == pytest.approx(z_whale)
    assert detector.threshold_ == DEFAULT_Z_THRESHOLD == 3.5
    assert detector.flags_.tolist() == [False] * 10 + [True]
    higher = AnomalyDetector(method="zscore", z_threshold=z_whale + 0.01).fit(table)
    assert not higher.flags_.any()


def test_robust_z_by_hand():
    recency = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90])
    # median log1p(50); the MAD is the 5th smallest deviation, log1p(80) − log1p(50)
    scale = 1.4826 * (math.log1p(80) - math.log1p(50))
    z = robust_z(np.array([320, 50, 10]), recency)
    expected = [(math.log1p(v) - math.log1p(50)) / scale for v in (320, 50, 10)]
    np.testing.assert_allclose(z, expected)


def test_robust_z_falls_back_to_mean_absolute_deviation():
    reference = np.array([1, 1, 1, 1, 2])  # MAD 0
    mean_deviation = (math.log1p(2) - math.log1p(1)) / 5
    z = robust_z(np.array([2]), reference)
    assert z[0] == pytest.approx((math.log1p(2) - math.log1p(1)) / (1.2533 * mean_deviation))
    constant = robust_z(np.array([3, 3, 4]), np.array([3, 3, 3]))
    assert constant.tolist() == [0.0, 0.0, math.inf]


# -- explanations -----------------------------------------------------------------------------


def test_explain_exact_sentence_for_a_whale():
    table = hand_table({**ORDINARY, "whale": (40, 3, 1_200_000.0)})
    flags = pd.Series([False] * 9 + [True], index=table.index)
    words = explain(table, flags, features=("frequency", "monetary"), currency="£")
    assert words.loc["whale", "anomaly_reason"] == (
        "monetary 48× the median (£1.2M vs £25k), frequency typical"
    )
    assert words.loc["whale", "anomaly_category"] == "wholesale-like whale"
    assert (words.drop(index="whale") == "").all().all()
    assert list(words.columns) == ["anomaly_reason", "anomaly_category"]
    assert words.index.equals(table.index)


def test_explain_recency_in_days_and_bulk_order():
    table = hand_table({**ORDINARY, "bulk": (320, 1, 200_000.0)})
    flags = np.array([False] * 9 + [True])
    words = explain(table, flags)
    # robust z by hand (log1p scale, 1.4826 × MAD of the nine others): monetary
    # log(8)/(1.4826·log(25/20)) = 6.3, recency 2.7, frequency log(2/4)/(1.4826·log(5/4)) = −2.1
    assert words.loc["bulk", "anomaly_reason"] == (
        "monetary 8× the median (200k vs 25k), last purchase 320 days ago vs median 50, "
        "frequency 1/3 of the median (1 order vs 3)"
    )
    assert words.loc["bulk", "anomaly_category"] == "bulk single order"


def test_explain_machine_like_and_tiny_spender():
    table = hand_table({**ORDINARY, "bot": (2, 300, 30_000.0), "tiny": (50, 3, 2.5)})
    flags = pd.Series(table.index.isin(["bot", "tiny"]), index=table.index)
    words = explain(table, flags, currency="$")
    assert words.loc["bot", "anomaly_reason"].startswith("frequency 100× the median (300 orders")
    # 300 orders of $100 each, against a median order of 25,000 / 3: many small orders
    assert words.loc["bot", "anomaly_category"] == "machine-like buying"
    assert words.loc["tiny", "anomaly_reason"] == (
        "monetary 1/10,000 of the median ($2.50 vs $25k), recency typical, frequency typical"
    )
    assert words.loc["tiny", "anomaly_category"] == "tiny spender"


def test_explain_large_order_later_cancelled():
    table = hand_table({**ORDINARY, "12346": (40, 1, 77_183.6)})
    table["cancelled_amount"] = [0.0] * 8 + [-5_000.0, -77_183.6]  # returns carry minus signs
    flags = pd.Series(table.index.isin(["i", "12346"]), index=table.index)
    words = explain(table, flags, currency="£")
    assert words.loc["12346", "anomaly_category"] == "possible data error"
    assert words.loc["12346", "anomaly_reason"].startswith(
        "large order later cancelled (£77k cancelled of £77k bought), "
    )
    # £5k cancelled of £35k bought is under half: not a data error
    assert words.loc["i", "anomaly_category"] != "possible data error"
    # without the column the rule is skipped
    plain = explain(table.drop(columns="cancelled_amount"), flags)
    assert plain.loc["12346", "anomaly_category"] == "bulk single order"


def test_explain_small_cancellations_and_net_returns():
    table = hand_table({**ORDINARY, "small": (30, 1, 6.2), "net": (30, 2, 0.0)})
    table["cancelled_amount"] = [0.0] * 9 + [-6.2, 0.0]
    words = explain(table, np.array([False] * 9 + [True, True]), currency="£")
    assert words["anomaly_category"].tolist()[-2:] == ["possible data error"] * 2
    # £6.20 is below the median spend (£25k): not a "large order"
    assert words.loc["small", "anomaly_reason"].startswith(
        "most purchases later cancelled (£6.20 cancelled of £6.20 bought), monetary 1/4,032 of"
    )
    assert words.loc["net", "anomaly_reason"].startswith(
        "returns exceed purchases (monetary £0.00), monetary £0.00 vs median £25k"
    )


def test_explain_against_an_explicit_reference():
    table = hand_table({"x": (40, 3, 250_000.0)})
    reference = hand_table(ORDINARY)
    words = explain(table, np.array([True]), features=("monetary",), reference=reference)
    assert words.loc["x", "anomaly_reason"] == "monetary 10× the median (250k vs 25k)"


def test_unusual_combination_when_no_feature_stands_out():
    table = hand_table({**ORDINARY, "odd": (45, 3, 26_000.0)})
    words = explain(table, np.array([False] * 9 + [True]))
    assert words.loc["odd", "anomaly_category"] == "unusual combination"
    # |z| by hand: recency log(46/51)/(1.4826·log(81/51)) = −0.15, monetary 0.12, frequency 0
    assert words.loc["odd", "anomaly_reason"] == (
        "no single feature stands out: last purchase 45 days ago vs median 50, "
        "monetary about the median (26k vs 25k), frequency about the median (3 orders vs 3)"
    )


# -- estimator behaviour ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ANOMALY_METHODS)
def test_determinism(table, method):
    first = AnomalyDetector(method=method, random_state=3).fit(table)
    second = AnomalyDetector(method=method, random_state=3).fit(table)
    np.testing.assert_array_equal(first.scores_, second.scores_)
    np.testing.assert_array_equal(first.flags_, second.flags_)


def test_seed_matters_for_the_forest(table):
    first = AnomalyDetector(random_state=0).fit(table)
    other = AnomalyDetector(random_state=1).fit(table)
    assert not np.array_equal(first.scores_, other.scores_)


@pytest.mark.parametrize("method", ["iforest", "gmm", "zscore"])
def test_predict_on_new_rows_equals_flags_on_fit_rows(table, method):
    detector = AnomalyDetector(method=method).fit(table)
    np.testing.assert_array_equal(detector.predict(table), detector.flags_)
    shuffled = table.sample(frac=1.0, random_state=1)
    positions = table.index.get_indexer(shuffled.index)
    np.testing.assert_array_equal(detector.predict(shuffled), detector.flags_[positions])
    subset = table.iloc[::7]
    np.testing.assert_allclose(detector.score_samples(subset), detector.scores_[::7])


def test_lof_samples_above_the_limit_and_scores_new_customers(table):
    detector = AnomalyDetector(method="lof", sample_limit=500).fit(table)
    assert detector.n_samples_fit_ == 500
    assert detector.scores_.shape == (len(table),)
    assert np.isfinite(detector.scores_).all()
    assert detector.flags_.sum() == 50
    new = hand_table({"new": (5, 400, 5_000_000.0), "plain": (50, 2, 60.0)})
    assert detector.predict(new).tolist() == [True, False]
    # customers outside the sample were scored as new customers; the 500 in it by their own
    # LOF, which leaves them out of their neighbours (scored as new, they count themselves)
    as_new = np.isclose(detector.score_samples(table), detector.scores_, rtol=1e-12, atol=0)
    assert as_new.sum() == len(table) - 500
    assert AnomalyDetector(method="lof").fit(table).n_samples_fit_ == len(table)


@pytest.mark.parametrize("method", ANOMALY_METHODS)
def test_pickle_round_trip(table, method):
    detector = AnomalyDetector(method=method, sample_limit=1000).fit(table)
    restored = pickle.loads(pickle.dumps(detector))
    sample = table.iloc[:300]
    np.testing.assert_array_equal(restored.score_samples(sample), detector.score_samples(sample))
    assert restored.threshold_ == detector.threshold_


def test_sklearn_conventions(table):
    detector = AnomalyDetector(method="gmm", density_percentile=4.0, random_state=5)
    assert detector.get_params()["density_percentile"] == 4.0
    assert not hasattr(detector, "scores_")  # __init__ only stores
    copy = clone(detector)
    assert copy.get_params() == detector.get_params()
    assert detector.fit(table) is detector


def test_optional_features(table):
    result = detect_anomalies(table, features=("frequency", "monetary", "avg_order_value"))
    assert result.n_flagged == 50
    reasons = result.table.loc[result.table["anomaly"], "anomaly_reason"]
    assert reasons.str.contains("average order value").all()


# -- agreement --------------------------------------------------------------------------------


def test_detector_agreement(table, truth):
    agreement = detector_agreement(table)
    flags = agreement.flags
    assert list(flags.columns) == list(ANOMALY_METHODS)
    assert flags.index.equals(table.index)
    # gmm flags the same 2% as iforest and lof here; zscore keeps its own threshold
    assert flags[["iforest", "gmm", "lof"]].sum().tolist() == [50, 50, 50]
    pairwise = agreement.pairwise
    np.testing.assert_allclose(np.diag(pairwise), 1.0)
    np.testing.assert_allclose(pairwise.to_numpy(), pairwise.to_numpy().T)
    both = int((flags["iforest"] & flags["gmm"]).sum())
    either = int((flags["iforest"] | flags["gmm"]).sum())
    assert pairwise.loc["iforest", "gmm"] == pytest.approx(both / either)
    assert agreement.counts.index.tolist() == [0, 1, 2, 3, 4]
    assert agreement.counts.sum() == len(table)
    assert agreement.counts.tolist() == np.bincount(flags.sum(axis=1), minlength=5).tolist()
    # planted anomalies are far from every group: most of them are flagged by several methods
    several = flags.sum(axis=1) >= 2
    assert several[truth["is_anomaly"]].mean() >= 0.9


def test_agreement_of_a_subset_of_methods(table):
    agreement = detector_agreement(table, methods=("zscore", "iforest"), contamination=0.04)
    assert list(agreement.pairwise.index) == ["zscore", "iforest"]
    assert agreement.flags["iforest"].sum() == 100
    assert agreement.counts.index.tolist() == [0, 1, 2]


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


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"contamination": 0.7}, r"contamination must be in \(0, 0.5\], got 0.7"),
        ({"contamination": 0}, r"contamination must be in \(0, 0.5\], got 0"),
        ({"method": "svm"}, "method must be one of iforest, gmm, lof, zscore, got 'svm'"),
        ({"transform": "log"}, "transform must be one of .*, got 'log'"),
        ({"density_percentile": 60}, r"density_percentile must be in \(0, 50\], got 60"),
        ({"z_threshold": -1}, "z_threshold must be a positive number, got -1"),
        ({"n_neighbors": 0}, "n_neighbors must be an integer of at least 1, got 0"),
        ({"sample_limit": 2.5}, "sample_limit must be an integer of at least 10, got 2.5"),
        ({"features": ("recency", "age")}, "unknown feature 'age'"),
    ],
)
def test_invalid_parameters(table, options, message):
    with pytest.raises(RfmError, match=message):
        AnomalyDetector(**options).fit(table)


def test_other_errors(table, default_result):
    with pytest.raises(RfmError, match="at least 10 customers, got 3"):
        AnomalyDetector().fit(table.iloc[:3])
    with pytest.raises(RfmError, match="unknown option 'neighbours'"):
        detect_anomalies(table, neighbours=5)
    with pytest.raises(RfmError, match="one value per customer"):
        explain(table, np.zeros(5, dtype=bool))
    with pytest.raises(RfmError, match="must be booleans"):
        explain(table, np.zeros(len(table)))
    with pytest.raises(RfmError, match="no value for customer"):
        explain(table, default_result.table["anomaly"].iloc[1:])
    with pytest.raises(RfmError, match="methods are repeated"):
        detector_agreement(table, methods=("lof", "lof"))
    with pytest.raises(RfmError, match="method must be one of"):
        detector_agreement(table, methods=("lof", "dbscan"))
    with pytest.raises(RfmError, match="no column 'monetary'"):
        AnomalyDetector().fit(table.drop(columns="monetary"))


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
