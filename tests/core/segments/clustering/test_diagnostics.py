"""Silhouette profiles, the k-distance curve and DBSCAN's radius, dendrograms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.cluster import hierarchy
from sklearn.metrics import adjusted_rand_score, silhouette_samples

from rfm_core.segments.clustering import (
    ClusteringError,
    Segmenter,
    dendrogram,
    k_distance,
    silhouette_profile,
)
from rfm_core.segments.features import transformed_features
from tests.core.segments.clustering.planted_groups import PLANTED_GROUPS

# generated logs leave few distinct frequency scores; that warning is tested in test_rfm
pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


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


# -- silhouette and dendrogram -----------------------------------------------------------------


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


# -- errors ------------------------------------------------------------------------------------


def test_diagnostics_errors(table):
    with pytest.raises(ClusteringError, match="one value per customer"):
        silhouette_profile(table, np.zeros(10, dtype=int))
    with pytest.raises(ClusteringError, match="at least 2 clusters"):
        silhouette_profile(table, np.zeros(len(table), dtype=int))
    with pytest.raises(ClusteringError, match="more customers than min_samples = 10, got 5"):
        k_distance(table.iloc[:5])
    with pytest.raises(ClusteringError, match="linkage must be one of"):
        dendrogram(table, linkage="centroid")
