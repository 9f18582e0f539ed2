"""PCA against numpy's SVD, t-SNE on planted groups, seeded and stratified samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rfm_core.errors import RfmError
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.segments.embedding import (
    Projection,
    ProjectionError,
    pca_projection,
    sample_customers,
    tsne_projection,
)
from rfm_core.segments.features import signed_log1p


def ids(n: int) -> pd.Index:
    return pd.Index([f"C{i:04d}" for i in range(n)], dtype="string", name="customer_id")


def correlated_frame(n: int, n_features: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(n_features, n_features))
    values = rng.normal(size=(n, n_features)) * np.arange(n_features, 0, -1) @ mixing
    return pd.DataFrame(values, index=ids(n), columns=[f"f{i}" for i in range(n_features)])


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, pd.Series]:
    """Standardized log R/F/M of 600 generated customers and their planted group."""
    truth = generate_transactions(600, anomaly_share=0.0, mess=False, random_state=3).customers
    logs = signed_log1p(truth[["recency", "frequency", "monetary"]].to_numpy(dtype="float64"))
    scaled = (logs - logs.mean(axis=0)) / logs.std(axis=0)
    index = pd.Index(truth.index.astype("string"), name="customer_id")
    features = pd.DataFrame(scaled, index=index, columns=["recency", "frequency", "monetary"])
    return features, truth["group"].astype(str).set_axis(index)


# -- PCA ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_components", [2, 3])
def test_pca_matches_numpy_svd(n_components):
    features = correlated_frame(200, 4)
    centred = features.to_numpy() - features.to_numpy().mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    want_coords = u[:, :n_components] * s[:n_components]
    want_ratio = s[:n_components] ** 2 / (s**2).sum()

    result = pca_projection(features, n_components=n_components)

    assert result.method == "pca"
    assert not result.sampled and result.n_total == 200 and result.perplexity is None
    assert list(result.coords.columns) == ["x", "y", "z"][:n_components]
    assert result.coords.index.equals(features.index)
    np.testing.assert_allclose(result.explained_variance_ratio, want_ratio, rtol=1e-10)
    assert sum(result.explained_variance_ratio) < 1
    # an axis is defined up to its sign
    got = result.coords.to_numpy()
    signs = np.sign((got * want_coords).sum(axis=0))
    np.testing.assert_allclose(got * signs, want_coords, atol=1e-9)


def test_pca_with_as_many_axes_as_features_explains_everything():
    result = pca_projection(correlated_frame(50, 3), n_components=3)
    assert sum(result.explained_variance_ratio) == pytest.approx(1.0)
    assert list(result.explained_variance_ratio) == sorted(
        result.explained_variance_ratio, reverse=True
    )


def test_pca_of_points_on_a_line_puts_all_variance_on_the_first_axis():
    # (t, 2t, 3t): one direction, and the coordinate along it is |(1, 2, 3)|·(t − mean t)
    t = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    features = pd.DataFrame({"a": t, "b": 2 * t, "c": 3 * t}, index=ids(5))
    result = pca_projection(features)
    assert result.explained_variance_ratio[0] == pytest.approx(1.0)
    assert result.explained_variance_ratio[1] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(np.abs(result.coords["x"]), np.sqrt(14) * np.abs(t))


def test_pca_leaves_its_input_alone_and_is_deterministic():
    features = correlated_frame(100, 3)
    before = features.copy()
    first = pca_projection(features, random_state=1)
    second = pca_projection(features, random_state=1)
    pd.testing.assert_frame_equal(features, before)
    pd.testing.assert_frame_equal(first.coords, second.coords)


@pytest.mark.parametrize(
    ("features", "options", "message"),
    [
        (correlated_frame(20, 3), {"n_components": 4}, "n_components must be 2 or 3, got 4"),
        (correlated_frame(20, 2), {"n_components": 3}, "needs at least 3 features, got 2"),
        (correlated_frame(3, 3), {"n_components": 3}, "needs at least 4 customers, got 3"),
        (
            correlated_frame(20, 3).assign(f1=lambda f: f["f1"].where(f.index != "C0007")),
            {},
            "feature 'f1' has a missing or infinite value (customer 'C0007')",
        ),
        (
            correlated_frame(20, 3).assign(f2="x"),
            {},
            "feature 'f2' is not numeric",
        ),
        (
            pd.DataFrame({"a": [1.0] * 5, "b": [2.0] * 5}, index=ids(5)),
            {},
            "every customer has the same features",
        ),
    ],
)
def test_pca_rejects_what_it_cannot_project(features, options, message):
    with pytest.raises(ProjectionError) as caught:
        pca_projection(features, **options)
    assert message in str(caught.value)
    assert isinstance(caught.value, RfmError)


def test_pca_rejects_repeated_customers():
    features = correlated_frame(10, 3)
    features.index = pd.Index(["A"] * 2 + [f"B{i}" for i in range(8)], name="customer_id")
    with pytest.raises(ProjectionError, match="customer 'A' appears more than once"):
        pca_projection(features)


# -- sampling ----------------------------------------------------------------------------------


def test_sample_is_seeded_exact_in_size_and_in_index_order():
    index = ids(1_000)
    first = sample_customers(index, size=100, random_state=5)
    assert len(first) == 100 and first.is_unique
    assert first.isin(index).all()
    assert list(first) == sorted(first)  # ids are zero-padded, so text order is index order
    assert first.equals(sample_customers(index, size=100, random_state=5))
    assert not first.equals(sample_customers(index, size=100, random_state=6))


def test_sample_larger_than_the_index_returns_everyone():
    index = ids(30)
    assert sample_customers(index, size=30).equals(index)
    assert sample_customers(index, size=1_000).equals(index)


def test_stratified_sample_keeps_a_small_group_whole():
    # 990 "a" and 10 "b", size 100: each group first gets min(size, 100 // (2·2) = 25),
    # so b keeps its 10 and a gets 25; the other 65 all go to a (b has nobody left)
    index = ids(1_000)
    groups = pd.Series(["a"] * 990 + ["b"] * 10, index=index)
    shuffled = groups.sample(frac=1.0, random_state=0)  # any order of the same customers
    chosen = sample_customers(index, size=100, stratify=shuffled)
    assert groups[chosen].value_counts().to_dict() == {"a": 90, "b": 10}


def test_stratified_allocation_by_hand():
    # sizes 500, 300, 200; size 100 → floor 100 // 6 = 16 each (48), 52 left shared by the
    # 484, 284, 184 left: 26.44, 15.51, 10.05 → 26, 15, 10 and the last one to the largest
    # remainder (.51): 16 + 26 = 42, 16 + 16 = 32, 16 + 10 = 26
    index = ids(1_000)
    groups = pd.Series(["a"] * 500 + ["b"] * 300 + ["c"] * 200, index=index)
    chosen = sample_customers(index, size=100, stratify=groups, random_state=9)
    assert groups[chosen].value_counts().to_dict() == {"a": 42, "b": 32, "c": 26}


def test_missing_groups_form_a_group_of_their_own():
    index = ids(100)
    groups = pd.Series([None] * 4 + ["a"] * 96, index=index, dtype=object)
    chosen = sample_customers(index, size=20, stratify=groups)
    # 2 groups → floor 20 // 4 = 5: the 4 customers without a group are all kept
    assert chosen[:4].equals(index[:4])
    assert len(chosen) == 20


@pytest.mark.parametrize(
    ("size", "stratify", "message"),
    [
        (0, None, "sample size must be a whole number ≥ 1, got 0"),
        (2.5, None, "sample size must be a whole number ≥ 1, got 2.5"),
        (5, pd.Series(["a"] * 9, index=ids(9)), "9 values for 10 customers"),
        (
            5,
            pd.Series(["a"] * 10, index=ids(11)[1:]),
            "stratify is not indexed by the same customers",
        ),
        (5, ["a"] * 10, "stratify must be a pandas Series, got list"),
    ],
)
def test_sample_rejects_bad_options(size, stratify, message):
    with pytest.raises(ProjectionError, match=message):
        sample_customers(ids(10), size=size, stratify=stratify)


# -- t-SNE -------------------------------------------------------------------------------------


def test_tsne_is_deterministic_and_samples(planted):
    features, _ = planted
    first = tsne_projection(features, sample_size=200, random_state=4)
    second = tsne_projection(features, sample_size=200, random_state=4)
    other = tsne_projection(features, sample_size=200, random_state=5)

    assert isinstance(first, Projection)
    assert first.method == "tsne" and first.explained_variance_ratio is None
    assert first.sampled and first.n_total == 600 and first.n_shown == 200
    assert list(first.coords.columns) == ["x", "y"]
    assert first.coords.index.isin(features.index).all() and first.coords.index.is_unique
    assert first.perplexity == 30.0
    pd.testing.assert_frame_equal(first.coords, second.coords)
    assert not first.coords.index.equals(other.coords.index)
    assert np.isfinite(first.coords.to_numpy()).all()


def test_tsne_keeps_planted_groups_apart(planted):
    features, groups = planted
    result = tsne_projection(features, sample_size=None)
    assert not result.sampled and result.n_shown == 600
    coords = result.coords.to_numpy()
    distances = ((coords[:, None, :] - coords[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(distances, np.inf)
    nearest = distances.argmin(axis=1)
    labels = groups.reindex(result.coords.index).to_numpy()
    # the groups are well separated in log R/F/M: nearly every customer's nearest neighbour in
    # the picture belongs to the same group
    assert (labels[nearest] == labels).mean() > 0.95


def test_tsne_stratified_sample_shows_a_small_group(planted):
    features, groups = planted
    rare = groups.where(groups != "champions", "rare")
    result = tsne_projection(features, sample_size=40, stratify=rare, random_state=0)
    shown = rare.reindex(result.coords.index).value_counts()
    # 5 groups → every group gets at least 40 // 10 = 4 customers
    assert len(shown) == 5 and shown.min() >= 4


def test_tsne_lowers_the_perplexity_of_small_samples(planted):
    features, _ = planted
    assert tsne_projection(features.iloc[:10], perplexity=30.0).perplexity == 3.0
    tiny = tsne_projection(features.iloc[:4])
    assert tiny.perplexity == 1.0 and tiny.coords.shape == (4, 2)
    assert tsne_projection(features.iloc[:100], perplexity=5.0).perplexity == 5.0


@pytest.mark.parametrize(
    ("rows", "options", "message"),
    [
        (3, {}, "t-SNE needs at least 4 customers, got 3"),
        (50, {"sample_size": 3}, "sample_size=3 leaves fewer than 4 customers"),
        (50, {"perplexity": 0}, "perplexity must be a positive number, got 0"),
        (50, {"perplexity": "30"}, "perplexity must be a positive number, got '30'"),
        (50, {"n_iter": 2}, "n_iter must be a whole number ≥ 3, got 2"),
    ],
)
def test_tsne_rejects_what_it_cannot_embed(planted, rows, options, message):
    features, _ = planted
    with pytest.raises(ProjectionError, match=message):
        tsne_projection(features.iloc[:rows], **options)


def test_tsne_reports_progress_without_changing_the_coordinates(planted) -> None:
    features, groups = planted
    heard: list[tuple[float, str]] = []
    quiet = tsne_projection(features, sample_size=300, stratify=groups, random_state=2, n_iter=60)
    told = tsne_projection(
        features, sample_size=300, stratify=groups, random_state=2, n_iter=60,
        progress=lambda done, text: heard.append((done, text)),
    )  # fmt: skip
    pd.testing.assert_frame_equal(quiet.coords, told.coords)
    shares = [done for done, _ in heard]
    assert shares[0] == 0.0 and shares[-1] == 1.0 and shares == sorted(shares)
    assert len(heard) >= 60 // 20 + 2  # neighbours, every 20 iterations, done
    assert "neighbours of 300 customers" in heard[0][1]
