"""The Segmenter: label order, sampling of large tables, predict, pickling, parameter errors."""

from __future__ import annotations

import io
import math

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from rfm_core.errors import RfmError
from rfm_core.segments.clustering import (
    BGMM_WEIGHT_THRESHOLD,
    METHODS,
    Segmenter,
)
from rfm_core.segments.clustering import segmenter as segmenter_module
from tests.core.segments.clustering.planted_groups import PLANTED_GROUPS

# generated logs leave few distinct frequency scores; that warning is tested in test_rfm
pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


def three_groups(per_group: int = 40, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """A hand-made RFM table of three obvious groups, rows shuffled, and the true value rank.

    Rank 0: bought last week, ~30 orders, ~5,000 spent; rank 1: two months ago, ~5 orders, ~500;
    rank 2: ten months ago, one order, ~30.
    """
    rng = np.random.default_rng(seed)
    groups = [
        ((1, 10), (25, 35), (4000, 6000)),
        ((50, 70), (4, 7), (400, 600)),
        ((280, 320), (1, 2), (20, 40)),
    ]
    recency, frequency, monetary = (
        np.concatenate([draw(*group[i], per_group) for group in groups])
        for i, draw in enumerate((rng.integers, rng.integers, rng.uniform))
    )
    rank = np.repeat([0, 1, 2], per_group)
    order = rng.permutation(rank.size)
    frame = pd.DataFrame(
        {"recency": recency[order], "frequency": frequency[order], "monetary": monetary[order]},
        index=pd.Index([f"c{i:03d}" for i in range(rank.size)], dtype="string", name="customer_id"),
    )
    return frame, rank[order]


# -- planted truth -----------------------------------------------------------------------------


def test_cluster_zero_is_champions_and_last_is_lost(planted):
    table, truth = planted
    labels = Segmenter(n_clusters=PLANTED_GROUPS).fit(table).labels_
    majority = pd.Series(truth.to_numpy()).groupby(labels).agg(lambda g: g.mode()[0])
    assert majority[0] == "champions"
    assert majority[PLANTED_GROUPS - 1] == "lost"


@pytest.mark.parametrize("method", ["kmeans", "gmm", "bgmm", "agglomerative"])
def test_label_order_follows_value_on_hand_made_groups(method):
    frame, rank = three_groups()
    labels = Segmenter(method=method, n_clusters=3).fit(frame).labels_
    np.testing.assert_array_equal(labels, rank)


def test_centers_are_member_means_ordered_by_value_score(table):
    segmenter = Segmenter(n_clusters=PLANTED_GROUPS).fit(table)
    space = segmenter.transform_features(table)
    by_hand = space.groupby(segmenter.labels_).mean()
    np.testing.assert_allclose(segmenter.centers_.to_numpy(), by_hand.to_numpy())
    centers = segmenter.centers_
    value = (-centers["recency"] + centers["frequency"] + centers["monetary"]) / 3
    assert value.is_monotonic_decreasing and value.is_unique


@pytest.mark.parametrize("method", METHODS)
def test_same_input_and_seed_give_identical_labels(table, method):
    first = Segmenter(method=method, n_clusters=PLANTED_GROUPS, sample_limit=500).fit(table)
    second = Segmenter(method=method, n_clusters=PLANTED_GROUPS, sample_limit=500).fit(table.copy())
    np.testing.assert_array_equal(first.labels_, second.labels_)
    if first.probabilities_ is not None:
        np.testing.assert_array_equal(first.probabilities_, second.probabilities_)


def test_fit_does_not_modify_the_table(table):
    before = table.copy()
    Segmenter(method="hdbscan", sample_limit=300).fit(table)
    pd.testing.assert_frame_equal(table, before)


# -- large tables: fit on a sample, assign the rest --------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_sample_and_assign_labels_every_customer(planted, method):
    table, truth = planted
    segmenter = Segmenter(method=method, n_clusters=PLANTED_GROUPS, sample_limit=300).fit(table)
    assert segmenter.fitted_on_sample_
    assert segmenter.sample_size_ == (1500 if method == "kmeans" else 300)
    assert segmenter.labels_.shape == (len(table),)
    assert segmenter.labels_.max() == segmenter.n_clusters_ - 1
    if method not in ("dbscan", "hdbscan"):
        assert (segmenter.labels_ >= 0).all()
    if method in ("kmeans", "agglomerative"):
        assert adjusted_rand_score(truth, segmenter.labels_) >= 0.9


def test_small_tables_are_fitted_whole(table):
    segmenter = Segmenter(method="agglomerative", n_clusters=PLANTED_GROUPS).fit(table)
    assert not segmenter.fitted_on_sample_
    assert segmenter.sample_size_ == len(table)


def test_matrix_linkages_are_capped_single_is_not(table, monkeypatch):
    monkeypatch.setattr(segmenter_module, "MATRIX_SAMPLE_LIMIT", 300)
    ward = Segmenter(method="agglomerative", linkage="ward").fit(table)
    single = Segmenter(method="agglomerative", linkage="single").fit(table)
    assert (ward.fitted_on_sample_, ward.sample_size_) == (True, 300)
    assert (single.fitted_on_sample_, single.sample_size_) == (False, len(table))


def test_hdbscan_default_min_cluster_size_is_two_percent(table):
    segmenter = Segmenter(method="hdbscan", min_samples=10).fit(table)
    assert segmenter.min_cluster_size_ == max(10, math.ceil(0.02 * len(table)))


# -- predict, probabilities, pickling ----------------------------------------------------------


def test_kmeans_predict_on_new_rows_equals_fitted_labels(table):
    segmenter = Segmenter(n_clusters=PLANTED_GROUPS).fit(table)
    rows = np.random.default_rng(3).permutation(len(table))[:300]
    new_customers = table.iloc[rows]
    np.testing.assert_array_equal(segmenter.predict(new_customers), segmenter.labels_[rows])
    np.testing.assert_array_equal(segmenter.predict(table), segmenter.labels_)
    assert segmenter.predict_proba(table) is None


@pytest.mark.parametrize("method", ["agglomerative", "hdbscan", "dbscan"])
def test_predict_of_assigned_customers_equals_their_labels(table, method):
    segmenter = Segmenter(method=method, n_clusters=PLANTED_GROUPS, sample_limit=300).fit(table)
    np.testing.assert_array_equal(segmenter.predict(table), segmenter.labels_)


@pytest.mark.parametrize("method", ["gmm", "bgmm"])
def test_mixture_probabilities_follow_label_order(table, method):
    segmenter = Segmenter(method=method, n_clusters=PLANTED_GROUPS).fit(table)
    proba = segmenter.probabilities_
    assert proba.shape == (len(table), PLANTED_GROUPS)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), segmenter.labels_)
    np.testing.assert_allclose(segmenter.predict_proba(table), proba)
    np.testing.assert_array_equal(segmenter.predict(table), segmenter.labels_)


def test_bgmm_effective_components_count_weights_above_threshold(table):
    segmenter = Segmenter(method="bgmm", n_clusters=10).fit(table)
    weights = segmenter.estimator_.weights_
    assert segmenter.n_effective_components_ == int((weights >= BGMM_WEIGHT_THRESHOLD).sum())
    assert segmenter.n_effective_components_ <= 10
    assert segmenter.n_clusters_ <= 10


@pytest.mark.parametrize("method", METHODS)
def test_pickle_round_trip_predicts_the_same(table, method):
    segmenter = Segmenter(method=method, n_clusters=PLANTED_GROUPS, sample_limit=400).fit(table)
    buffer = io.BytesIO()
    joblib.dump(segmenter, buffer)
    buffer.seek(0)
    restored = joblib.load(buffer)
    np.testing.assert_array_equal(restored.labels_, segmenter.labels_)
    np.testing.assert_array_equal(restored.predict(table.iloc[:200]), segmenter.labels_[:200])


def test_clone_keeps_parameters_and_drops_the_fit(table):
    segmenter = Segmenter(method="gmm", n_clusters=3, features=("recency", "monetary")).fit(table)
    copy = clone(segmenter)
    assert copy.get_params() == segmenter.get_params()
    assert not hasattr(copy, "labels_")
    np.testing.assert_array_equal(copy.fit_predict(table), segmenter.labels_)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_clusters": 1}, "n_clusters must be ≥ 2, got 1"),
        ({"n_clusters": 2.5}, "n_clusters must be an integer, got 2.5"),
        ({"method": "spectral"}, "method must be one of kmeans, .*, got 'spectral'"),
        ({"linkage": "median"}, "linkage must be one of ward, .*, got 'median'"),
        ({"eps": -0.1}, "eps must be a positive number or None, got -0.1"),
        ({"min_samples": 1}, "min_samples must be ≥ 2, got 1"),
        ({"sample_limit": 5}, "sample_limit must be ≥ 10, got 5"),
        ({"features": ("recency", "age")}, "unknown feature 'age'"),
        ({"transform": "log"}, "unknown transform 'log'"),
        ({"n_clusters": 2000}, "kmeans needs at least n_clusters \\+ 1 = 2001 customers"),
    ],
)
def test_segmenter_errors_name_parameter_and_value(table, params, message):
    with pytest.raises(RfmError, match=message):
        Segmenter(**params).fit(table)
