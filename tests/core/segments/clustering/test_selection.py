"""Choosing k: select_k against hand computations, recommend_k by hand, elbow, stability."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_samples

from rfm_core.segments.clustering import (
    ClusteringError,
    Segmenter,
    locate_elbow,
    recommend_k,
    select_k,
    stability,
)
from rfm_core.segments.clustering.selection import _aside
from rfm_core.segments.features import transformed_features
from tests.core.segments.clustering.planted_groups import PLANTED_GROUPS

# generated logs leave few distinct frequency scores; that warning is tested in test_rfm
pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


@pytest.fixture(scope="module")
def selection(table):
    return select_k(table)


# -- planted truth -----------------------------------------------------------------------------


def test_recommended_configuration_recovers_planted_groups(planted, selection):
    table, truth = planted
    assert selection.recommended_k == PLANTED_GROUPS
    segmenter = Segmenter(method="kmeans", n_clusters=selection.recommended_k).fit(table)
    assert adjusted_rand_score(truth, segmenter.labels_) >= 0.9


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
    assert "best mean rank (1.0 among 4 candidates) over 1 criterion — here Calinski" in reason
    assert "shown but not counted: silhouette prefers 4" in reason


def test_recommend_k_counts_calinski_harabasz_bic_and_stability_only():
    table = hand_table(bic=[50.0, 40.0, 30.0, 20.0, 25.0], stability=[0.99, 0.95, 0.90, 0.97, 0.85])
    # within 3..6, best first: CH 4, 3, 5, 6; BIC 5, 6, 4, 3; stability 5, 3, 4, 6: mean ranks
    # 2.7 (k=3), 2.3 (4), 1.7 (5), 3.3 (6). Silhouette, Davies–Bouldin and the elbow all
    # prefer 4 but do not count.
    k, reason = recommend_k(table, business_range=(3, 6))
    assert k == 5
    assert "over 3 criteria — here Calinski–Harabasz prefers 4, BIC prefers 5" in reason
    assert "shown but not counted: silhouette prefers 4" in reason


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


def test_segmenter_takes_the_sweeps_fit_only_when_it_is_the_same_fit(table):
    sweep = select_k(table, k_values=[4, 5], mixtures=False, stability_runs=0, fit_limit=500)
    reused = Segmenter(n_clusters=5, sample_limit=100).fit(table, kmeans_fits=sweep.kmeans_fits)
    assert reused.estimator_ is sweep.kmeans_fits[5].model
    refitted = Segmenter(n_clusters=5, sample_limit=100).fit(table)
    np.testing.assert_array_equal(reused.labels_, refitted.labels_)
    pd.testing.assert_frame_equal(reused.centers_, refitted.centers_)
    # another seed, another sample or other customers: fitted anew
    for segmenter, customers in (
        (Segmenter(n_clusters=5, sample_limit=100, random_state=1), table),
        (Segmenter(n_clusters=5, sample_limit=90), table),
        (Segmenter(n_clusters=5, sample_limit=100), table.iloc[1:]),
    ):
        segmenter.fit(customers, kmeans_fits=sweep.kmeans_fits)
        assert segmenter.estimator_ is not sweep.kmeans_fits[5].model


def test_a_second_process_gives_the_same_sweep(table):
    one = select_k(table, k_values=[3, 4, 5], random_state=2)
    two = select_k(table, k_values=[3, 4, 5], random_state=2, n_jobs=2)
    pd.testing.assert_frame_equal(one.table, two.table, check_exact=True)
    assert (one.recommended_k, one.reason) == (two.recommended_k, two.reason)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_the_stability_refits_run_in_a_second_process():
    with _aside(2) as aside:
        assert aside(os.getpid)() != os.getpid()
    with _aside(1) as aside:
        assert aside(os.getpid)() == os.getpid()


def _exit_unless_in(pid: int) -> str:
    if os.getpid() != pid:
        os._exit(1)
    return "here"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_work_of_a_second_process_that_dies_is_done_here():
    with _aside(2) as aside:
        assert aside(_exit_unless_in, os.getpid())() == "here"


# -- stability ---------------------------------------------------------------------------------


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


def test_stability_and_recommend_k_errors(table):
    with pytest.raises(ClusteringError, match=r"subsample must be a share in \(0, 1\), got 1.5"):
        stability(table, Segmenter(), subsample=1.5)
    with pytest.raises(ClusteringError, match="none of the columns"):
        recommend_k(pd.DataFrame({"other": [1.0]}, index=pd.Index([3], name="k")))
