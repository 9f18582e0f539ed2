"""The four detectors: planted truth, thresholds, estimator behaviour, agreement, errors."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from rfm_core.errors import RfmError
from rfm_core.segments.anomalies import (
    ANOMALY_METHODS,
    CATEGORIES,
    DEFAULT_Z_THRESHOLD,
    AnomalyDetector,
    detect_anomalies,
    detector_agreement,
    explain,
)
from tests.core.segments.anomalies.anomaly_tables import ORDINARY, hand_table

# generated logs leave few distinct frequency scores: not what these tests are about
pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


# -- planted truth ----------------------------------------------------------------------------


def test_default_detector_finds_planted_anomalies(default_result, truth):
    flagged = default_result.table["anomaly"].to_numpy()
    planted = truth["is_anomaly"].to_numpy()
    hits = int((flagged & planted).sum())
    assert planted.sum() == 50
    assert hits / flagged.sum() >= 0.9  # precision
    assert hits / planted.sum() >= 0.9  # recall


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


def test_agreement_reports_each_detector_without_changing_the_flags(table):
    heard: list[tuple[float, str]] = []
    methods = ("zscore", "iforest")
    quiet = detector_agreement(table, methods=methods, contamination=0.04)
    told = detector_agreement(
        table, methods=methods, contamination=0.04, progress=lambda d, t: heard.append((d, t))
    )
    pd.testing.assert_frame_equal(told.flags, quiet.flags)
    assert heard == [
        (0.0, "Robust z-score (median / MAD) (1 of 2)"),
        (0.5, "Isolation forest (2 of 2)"),
        (1.0, "done"),
    ]


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
    with pytest.raises(RfmError, match="methods are repeated"):
        detector_agreement(table, methods=("lof", "lof"))
    with pytest.raises(RfmError, match="method must be one of"):
        detector_agreement(table, methods=("lof", "dbscan"))
    with pytest.raises(RfmError, match="no column 'monetary'"):
        AnomalyDetector().fit(table.drop(columns="monetary"))


# -- logs where most customers buy once -----------------------------------------------------


@pytest.fixture(scope="module")
def once_buyers() -> pd.DataFrame:
    """Customers of a CDNOW-shaped log: about 60% order once, early; frequency's MAD is 0."""
    from rfm_core.customers.pipeline import run_rfm
    from rfm_core.ingest.io import load_bytes
    from rfm_core.ingest.synthetic import generate_cdnow_like

    log = generate_cdnow_like(4000, random_state=2).to_csv(index=False).encode()
    table = run_rfm(load_bytes(log, file_name="cdnow.csv")).rfm.table
    assert (table["frequency"] == 1).mean() > 0.5
    return table


@pytest.mark.parametrize("method", ANOMALY_METHODS)
@pytest.mark.parametrize("share", [0.01, 0.02, 0.05])
def test_no_detector_flags_more_than_twice_its_share_when_most_buy_once(once_buyers, method, share):
    options = {"density_percentile": 100 * share} if method == "gmm" else {}
    result = detect_anomalies(once_buyers, method=method, contamination=share, **options)
    assert result.n_flagged <= 2 * share * len(once_buyers)
    assert result.n_flagged >= 1


def test_zscore_says_why_it_flags_fewer_than_lie_beyond_its_cut(once_buyers):
    result = detect_anomalies(once_buyers, method="zscore")
    detector = result.detector
    # the cut-off alone puts a large share beyond 3.5 (the narrow mode of one-time buyers)
    assert detector.beyond_cut_ > 0.1 * len(once_buyers)
    assert result.n_flagged <= math.ceil(0.02 * len(once_buyers))
    assert detector.threshold_ > DEFAULT_Z_THRESHOLD
    assert detector.tied_features_ == ("frequency",)
    assert any(n.startswith("frequency: more than half the customers") for n in result.notes)
    assert f"{detector.beyond_cut_:,} customers lie more than 3.5" in result.notes[-1]
    assert f"only the {result.n_flagged:,} most extreme are flagged" in result.notes[-1]
    # predict agrees with the raised threshold
    np.testing.assert_array_equal(detector.predict(once_buyers), detector.flags_)


def test_zscore_cap_flags_the_most_extreme_by_hand():
    # twelve customers beyond the cut-off among 100: a share of 5% flags the five strongest
    ordinary = {f"c{i}": (30 + i % 5, 2 + i % 3, 100.0 + 10 * (i % 7)) for i in range(88)}
    outliers = {f"w{i}": (30, 3, 10_000.0 * (i + 1)) for i in range(12)}
    table = hand_table({**ordinary, **outliers})
    capped = AnomalyDetector(method="zscore", contamination=0.05).fit(table)
    assert capped.beyond_cut_ == 12
    assert capped.flags_.sum() == 5
    assert table.index[capped.flags_].tolist() == [f"w{i}" for i in range(7, 12)]
    loose = AnomalyDetector(method="zscore", contamination=0.2).fit(table)
    assert loose.flags_.sum() == 12
    assert loose.threshold_ == DEFAULT_Z_THRESHOLD
    assert detect_anomalies(table, method="zscore", contamination=0.2).notes == ()


def test_reasons_reworded_in_a_currency_equal_those_detected_in_it(table, default_result):
    plain = detect_anomalies(table)
    assert "£" not in "".join(plain.table["anomaly_reason"])
    reworded = plain.reworded(table, currency="£")
    pd.testing.assert_frame_equal(reworded.table, default_result.table)
    assert reworded.detector is plain.detector and reworded.n_flagged == plain.n_flagged
