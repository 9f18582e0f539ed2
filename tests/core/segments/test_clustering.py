"""Segmentation models, choice of k and stability, checked against planted groups and by hand."""

from __future__ import annotations

import io
import math

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy.cluster import hierarchy
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score, silhouette_samples

from rfm_core.customers.pipeline import run_rfm
from rfm_core.errors import RfmError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.segments import clustering
from rfm_core.segments.clustering import (
    BGMM_WEIGHT_THRESHOLD,
    METHODS,
    ClusteringError,
    Segmenter,
    dendrogram,
    k_distance,
    locate_elbow,
    recommend_k,
    select_k,
    silhouette_profile,
    stability,
)
from rfm_core.segments.features import transformed_features

# generated logs leave few distinct frequency scores; that warning is tested in test_rfm
pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

PLANTED_GROUPS = 5  # champions, loyal, new, at_risk, lost


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, pd.Series]:
    """RFM table of a generated log of 2,000 customers in 5 well-separated groups, and truth."""
    log = generate_transactions(2000, anomaly_share=0.0, random_state=0)
    data = log.transactions.to_csv(index=False).encode()
    table = run_rfm(load_bytes(data, file_name="log.csv")).rfm.table
    truth = log.customers["group"].reindex(table.index)
    assert truth.notna().all()
    return table, truth


@pytest.fixture(scope="module")
def table(planted) -> pd.DataFrame:
    return planted[0]


@pytest.fixture(scope="module")
def selection(table):
    return select_k(table)


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


def test_recommended_configuration_recovers_planted_groups(planted, selection):
    table, truth = planted
    assert selection.recommended_k == PLANTED_GROUPS
    segmenter = Segmenter(method="kmeans", n_clusters=selection.recommended_k).fit(table)
    assert adjusted_rand_score(truth, segmenter.labels_) >= 0.9


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
    monkeypatch.setattr(clustering, "MATRIX_SAMPLE_LIMIT", 300)
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


# -- DBSCAN radius -----------------------------------------------------------------------------


def test_k_distance_and_dbscan_by_hand():
    # min-max scaling divides by 128, so the model-space gaps are exactly 1/128
    amounts = [*range(10), 128]
    frame = pd.DataFrame(
        {"monetary": np.array(amounts, dtype="float64")},
        index=pd.Index([f"c{i}" for i in range(11)], dtype="string", name="customer_id"),
    )
    options = {"features": ("monetary",), "transform": "minmax", "min_samples": 2}
    curve = k_distance(frame, **options)
    np.testing.assert_allclose(curve.distances, [1 / 128] * 10 + [119 / 128])
    assert curve.suggested_eps == pytest.approx(1 / 128)
    assert not curve.sampled
    segmenter = Segmenter(method="dbscan", **options).fit(frame)
    assert segmenter.eps_ == pytest.approx(1 / 128)
    np.testing.assert_array_equal(segmenter.labels_, [0] * 10 + [-1])


def test_dbscan_default_eps_is_the_k_distance_knee(table):
    curve = k_distance(table, min_samples=10, sample_limit=800)
    segmenter = Segmenter(method="dbscan", min_samples=10, sample_limit=800).fit(table)
    assert curve.sampled and curve.distances.size == 800
    assert np.all(np.diff(curve.distances) >= 0)
    assert segmenter.eps_ == curve.suggested_eps
    assert segmenter.n_clusters_ >= 2


# -- elbow and recommendation by hand ----------------------------------------------------------


def test_locate_elbow_finds_the_obvious_knee():
    assert locate_elbow(range(2, 11), [100, 50, 20, 18, 16, 14, 12, 10, 8]) == 4


@pytest.mark.parametrize(
    "inertia",
    [[100, 90, 80, 70, 60], [10, 20, 30, 40, 50], [5, 5, 5, 5, 5]],
    ids=["straight", "rising", "flat"],
)
def test_locate_elbow_without_a_bend(inertia):
    assert locate_elbow(range(2, 7), inertia) is None


def test_locate_elbow_needs_three_points_and_matching_lengths():
    assert locate_elbow([2, 3], [10, 5]) is None
    with pytest.raises(ClusteringError, match="differ in length"):
        locate_elbow([2, 3, 4], [10, 5])


def hand_table(**extra: list[float]) -> pd.DataFrame:
    """k = 2..6: silhouette, Calinski–Harabasz and Davies–Bouldin best at 2 overall but at 4
    within 3..6; inertia bends at 4 (normalised gaps 0, .26, .40, .21, 0)."""
    columns = {
        "inertia": [100, 60, 30, 25, 22],
        "silhouette": [0.60, 0.40, 0.45, 0.35, 0.30],
        "calinski_harabasz": [100, 90, 95, 80, 70],
        "davies_bouldin": [0.5, 0.9, 0.7, 0.95, 1.0],
        **extra,
    }
    return pd.DataFrame(columns, index=pd.Index(range(2, 7), name="k"))


def test_recommend_k_stays_in_the_business_range():
    k, reason = recommend_k(hand_table(), business_range=(3, 6))
    assert k == 4
    assert reason.startswith("k = 4: inside the business range 3–6")
    assert "best mean rank (1.0 among 4 candidates) over 4 criteria" in reason


def test_recommend_k_drops_unstable_k():
    stability_values = [0.99, 0.95, 0.50, 0.95, 0.95]
    k, reason = recommend_k(hand_table(stability=stability_values), business_range=(3, 6))
    # without 4: k = 3 is best on every index and as close to the elbow (4) as 5
    assert k == 3
    assert "unstable" in reason and "k = 4 (0.50)" in reason


def test_recommend_k_keeps_all_when_none_is_stable():
    k, reason = recommend_k(hand_table(stability=[0.5] * 5), business_range=(3, 6))
    assert k == 4
    assert "No candidate is stable" in reason


def test_recommend_k_outside_k_values_uses_all_k():
    k, reason = recommend_k(hand_table(), business_range=(8, 10))
    assert k in range(2, 7)
    assert "no k evaluated lies in the business range 8–10, so among all k (2–6)" in reason


def test_recommend_k_ties_go_to_silhouette_then_smaller_k():
    even = pd.DataFrame(
        {"silhouette": [0.5, 0.5], "calinski_harabasz": [12, 10], "davies_bouldin": [0.6, 0.5]},
        index=pd.Index([3, 4], name="k"),
    )
    assert recommend_k(even)[0] == 3
    # silhouette and stability favour 4, the two other indices 3: equal mean ranks
    split = pd.DataFrame(
        {
            "silhouette": [0.50, 0.51],
            "calinski_harabasz": [12, 10],
            "davies_bouldin": [0.5, 0.6],
            "stability": [0.90, 0.95],
        },
        index=pd.Index([3, 4], name="k"),
    )
    assert recommend_k(split)[0] == 4


def test_recommend_k_mentions_weak_structure():
    _, reason = recommend_k(hand_table(), business_range=(3, 6))
    assert "Structure is weak (silhouette 0.45" in reason


# -- select_k ----------------------------------------------------------------------------------


def test_select_k_table_matches_hand_computation(table, selection):
    assert list(selection.table.index) == list(range(2, 11))
    assert selection.table.index.name == "k"
    expected_columns = [
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "aic",
        "bic",
        "stability",
        "smallest_share",
    ]
    assert list(selection.table.columns) == expected_columns
    assert not selection.silhouette_sampled
    assert selection.silhouette_sample_size == selection.n_customers == len(table)
    x = transformed_features(table).to_numpy()
    labels = Segmenter(n_clusters=PLANTED_GROUPS).fit(table).labels_
    centers = np.array([x[labels == c].mean(axis=0) for c in range(PLANTED_GROUPS)])
    row = selection.table.loc[PLANTED_GROUPS]
    assert row["inertia"] == pytest.approx(((x - centers[labels]) ** 2).sum(), rel=1e-9)
    assert row["silhouette"] == pytest.approx(silhouette_samples(x, labels).mean(), abs=1e-9)
    assert row["smallest_share"] == pytest.approx(np.bincount(labels).min() / len(table))
    assert selection.elbow_k == locate_elbow(range(2, 11), selection.table["inertia"])
    assert (selection.table["bic"] > selection.table["aic"]).all()


def test_select_k_samples_silhouette_above_the_limit(table):
    sampled = select_k(table, k_values=[3, 5], silhouette_limit=400, mixtures=False)
    assert sampled.silhouette_sampled and sampled.silhouette_sample_size == 400
    assert sampled.table["aic"].isna().all() and sampled.mixture_sample_size == 0
    assert sampled.table.loc[5, "silhouette"] > sampled.table.loc[3, "silhouette"]


def test_select_k_fits_kmeans_on_a_sample_like_segmenter(table):
    sampled = select_k(table, k_values=[5], fit_limit=500, mixtures=False, stability_runs=0)
    segmenter = Segmenter(n_clusters=5, sample_limit=100).fit(table)
    assert sampled.fit_sample_size == segmenter.sample_size_ == 500
    x = segmenter.transform_features(table).to_numpy()
    centers = segmenter.estimator_.cluster_centers_
    by_hand = ((x - centers[segmenter.estimator_.predict(x)]) ** 2).sum()
    assert sampled.table.loc[5, "inertia"] == pytest.approx(by_hand, rel=1e-9)
    assert sampled.table["stability"].isna().all()


# -- silhouette, dendrogram, stability ---------------------------------------------------------


def test_silhouette_profile_equals_scikit_learn(table):
    labels = Segmenter(n_clusters=PLANTED_GROUPS).fit(table).labels_
    profile = silhouette_profile(table, labels)
    x = transformed_features(table).to_numpy()
    np.testing.assert_allclose(
        profile.samples["silhouette"].to_numpy(), silhouette_samples(x, labels), atol=1e-9
    )
    assert profile.average == pytest.approx(profile.samples["silhouette"].mean())
    assert not profile.sampled
    assert profile.samples.index.equals(table.index)


def test_silhouette_profile_leaves_out_noise_and_samples(table):
    labels = Segmenter(n_clusters=PLANTED_GROUPS).fit(table).labels_.copy()
    labels[:100] = -1
    profile = silhouette_profile(table, labels, sample_limit=500)
    assert profile.sampled and len(profile.samples) == 500
    assert (profile.samples["cluster"] >= 0).all()
    assert profile.samples.index.isin(table.index[100:]).all()


def test_dendrogram_cut_recovers_planted_groups(planted):
    table, truth = planted
    tree = dendrogram(table, linkage="ward", sample_limit=600)
    assert tree.sampled and tree.method == "ward"
    assert tree.linkage_matrix.shape == (599, 4)
    cut = hierarchy.fcluster(tree.linkage_matrix, t=PLANTED_GROUPS, criterion="maxclust")
    sample_truth = truth.loc[list(tree.customer_ids)]
    assert adjusted_rand_score(sample_truth, cut) >= 0.9


def test_stability_of_planted_groups_is_high_and_segmenter_untouched(table):
    segmenter = Segmenter(n_clusters=PLANTED_GROUPS)
    result = stability(table, segmenter, n_runs=3, subsample=0.7)
    assert result.n_runs == len(result.scores) == 3 and result.subsample == 0.7
    assert result.minimum >= 0.95 and result.mean >= result.minimum
    assert not hasattr(segmenter, "labels_")


def test_stability_is_low_when_any_split_is_as_good():
    # customers spread evenly over a disc: every diameter halves it equally well
    rng = np.random.default_rng(0)
    angle, radius = rng.uniform(0, 2 * np.pi, 600), np.sqrt(rng.uniform(size=600))
    frame = pd.DataFrame(
        {"recency": 1 + radius * np.cos(angle), "monetary": 1 + radius * np.sin(angle)},
        index=pd.Index([f"c{i}" for i in range(600)], dtype="string", name="customer_id"),
    )
    segmenter = Segmenter(n_clusters=2, features=("recency", "monetary"), transform="minmax")
    assert stability(frame, segmenter, n_runs=4).mean < 0.7


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


def test_select_k_errors(table):
    with pytest.raises(ClusteringError, match=r"k_values must lie in 2\.\.1999"):
        select_k(table, k_values=[3, 2000])
    with pytest.raises(ClusteringError, match=r"k_values must lie in 2\.\.1999 .*, got 1"):
        select_k(table, k_values=[1, 3])
    with pytest.raises(ClusteringError, match=r"every k of k_values must be an integer, got 2\.5"):
        select_k(table, k_values=[2.5])
    with pytest.raises(ClusteringError, match="k_values is empty"):
        select_k(table, k_values=[])
    with pytest.raises(ClusteringError, match="low ≤ high"):
        select_k(table, business_range=(8, 3))
    with pytest.raises(ClusteringError, match="at least 3 customers, got 2"):
        select_k(table.iloc[:2])


def test_other_errors(table):
    with pytest.raises(ClusteringError, match="one value per customer"):
        silhouette_profile(table, np.zeros(10, dtype=int))
    with pytest.raises(ClusteringError, match="at least 2 clusters"):
        silhouette_profile(table, np.zeros(len(table), dtype=int))
    with pytest.raises(ClusteringError, match=r"subsample must be a share in \(0, 1\), got 1.5"):
        stability(table, Segmenter(), subsample=1.5)
    with pytest.raises(ClusteringError, match="more customers than min_samples = 10, got 5"):
        k_distance(table.iloc[:5])
    with pytest.raises(ClusteringError, match="linkage must be one of"):
        dendrogram(table, linkage="centroid")
    with pytest.raises(ClusteringError, match="none of the columns"):
        recommend_k(pd.DataFrame({"other": [1.0]}, index=pd.Index([3], name="k")))
