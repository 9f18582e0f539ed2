"""Pictures that help choose a segmentation: silhouettes, the k-distance curve, the dendrogram."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster import hierarchy
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.neighbors import NearestNeighbors

from rfm_core.config import LINKAGES
from rfm_core.segments.clustering.base import (
    MIN_BEND,
    ClusteringError,
    _bend,
    _check_int,
    _limited_threads,
    _model_space,
)
from rfm_core.segments.features import DEFAULT_FEATURES
from rfm_core.segments.sampling import sample_rows

__all__ = [
    "Dendrogram",
    "KDistance",
    "SilhouetteProfile",
    "dendrogram",
    "k_distance",
    "silhouette_profile",
]

_SILHOUETTE_CHUNK = 1024
_NO_BEND_EPS_QUANTILE = 0.9


@dataclass(frozen=True)
class SilhouetteProfile:
    """Silhouette of each customer for one labelling.

    The silhouette of a customer is ``(b − a) / max(a, b)``, where ``a`` is the mean Euclidean
    distance (model space) to the other customers of its cluster and ``b`` the smallest mean
    distance to the customers of another cluster; 0 for a customer alone in its cluster.

    Attributes
    ----------
    samples : pandas.DataFrame
        Index ``customer_id`` (the sampled customers when ``sampled``, noise excluded);
        columns ``cluster`` (int) and ``silhouette`` (float in [−1, 1]).
    average : float
    sampled : bool
    """

    samples: pd.DataFrame
    average: float
    sampled: bool


@dataclass(frozen=True)
class KDistance:
    """Distance of each customer to its k-th nearest neighbour (itself counted first).

    With ``eps`` at least a customer's k-distance, the customer is a DBSCAN core point for
    ``min_samples = k``.

    Attributes
    ----------
    distances : numpy.ndarray
        Sorted ascending (one per, possibly sampled, customer), in model space.
    k : int
    suggested_eps : float
        The knee of the sorted curve (the bend that
        :func:`~rfm_core.segments.clustering.selection.locate_elbow` finds, on the rising curve):
        past it the distances shoot up, so customers beyond are sparse. Without a knee, the 90th
        percentile.
    sampled : bool
    """

    distances: np.ndarray
    k: int
    suggested_eps: float
    sampled: bool


@dataclass(frozen=True)
class Dendrogram:
    """A hierarchical clustering tree of (a sample of) the customers.

    Attributes
    ----------
    linkage_matrix : numpy.ndarray
        SciPy format (:func:`scipy.cluster.hierarchy.linkage`), shape (n − 1, 4).
    customer_ids : tuple of str
        Customer of each leaf index, in sample order.
    sampled : bool
    method : str
        Linkage, one of :data:`LINKAGES`.
    """

    linkage_matrix: np.ndarray
    customer_ids: tuple[str, ...]
    sampled: bool
    method: str


# -- silhouette --------------------------------------------------------------------------------


def _silhouettes(x: np.ndarray, labelings: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Exact silhouette of every row for several labellings (codes 0..k−1) at once.

    One pass over the pairwise distances, in row chunks: each chunk of distances is multiplied by
    the one-hot matrix of all labellings, which gives every row's summed distance to every
    cluster of every labelling. Memory: chunk × n distances plus n × Σk sums.
    """
    n = len(x)
    onehots = [np.eye(int(labels.max()) + 1)[labels] for labels in labelings]
    stacked = np.concatenate(onehots, axis=1)
    sums = np.empty((n, stacked.shape[1]))
    squared = np.einsum("ij,ij->i", x, x)
    for start in range(0, n, _SILHOUETTE_CHUNK):
        stop = min(start + _SILHOUETTE_CHUNK, n)
        distances = euclidean_distances(
            x[start:stop], x, X_norm_squared=squared[start:stop, None], Y_norm_squared=squared
        )
        distances[np.arange(stop - start), np.arange(start, stop)] = 0.0
        sums[start:stop] = distances @ stacked
    result, column = [], 0
    for labels, onehot in zip(labelings, onehots, strict=True):
        width = onehot.shape[1]
        result.append(_silhouette_from_sums(sums[:, column : column + width], labels))
        column += width
    return result


def _silhouette_from_sums(sums: np.ndarray, labels: np.ndarray) -> np.ndarray:
    counts = np.bincount(labels, minlength=sums.shape[1]).astype("float64")
    rows = np.arange(len(labels))
    own = counts[labels]
    with np.errstate(invalid="ignore", divide="ignore"):
        a = sums[rows, labels] / (own - 1)
        means = sums / counts
    means[rows, labels] = np.inf
    means[:, counts == 0] = np.inf
    b = means.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    s[own <= 1] = 0.0
    return np.nan_to_num(s, nan=0.0)


@_limited_threads
def silhouette_profile(
    rfm_table: pd.DataFrame,
    labels: Sequence[int] | np.ndarray,
    *,
    features: Sequence[str] = DEFAULT_FEATURES,
    transform: str = "log-standard",
    sample_limit: int = 10_000,
    random_state: int = 0,
) -> SilhouetteProfile:
    """Silhouette of each customer for a labelling (e.g. ``Segmenter.labels_``).

    Distances are Euclidean in model space (the transform fitted on all customers, as
    :class:`~rfm_core.segments.clustering.segmenter.Segmenter` does). Noise customers (label −1)
    are left out. Above ``sample_limit`` customers (after removing noise), the silhouette is
    computed exactly on a seeded sample of that size: each sampled customer's ``a`` and ``b`` are
    then means over the sample.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        One row per customer with the ``features`` columns.
    labels : array-like of int
        One label per row of ``rfm_table``.
    features, transform, random_state
        As for :class:`~rfm_core.segments.clustering.segmenter.Segmenter`.
    sample_limit : int, default 10,000
        Customers (noise excluded) above which the silhouette is computed on a sample.

    Returns
    -------
    SilhouetteProfile

    Raises
    ------
    ClusteringError
        Labels not one per customer, fewer than two clusters once noise is left out, or an
        invalid ``sample_limit``.
    """
    index, x = _model_space(rfm_table, features, transform, random_state)
    labels = np.asarray(labels)
    if labels.shape != (len(index),):
        raise ClusteringError(
            f"labels must have one value per customer ({len(index)}), got shape {labels.shape}"
        )
    _check_int("sample_limit", sample_limit, minimum=10)
    keep = np.flatnonzero(labels >= 0)
    rows = sample_rows(keep.size, limit=sample_limit, random_state=random_state)
    if rows is not None:
        keep = keep[rows]
    clusters, codes = np.unique(labels[keep], return_inverse=True)
    if clusters.size < 2:
        raise ClusteringError(
            f"silhouette needs at least 2 clusters (noise excluded), got {clusters.size}"
        )
    values = _silhouettes(x[keep], [codes])[0]
    samples = pd.DataFrame(
        {"cluster": labels[keep].astype(np.int64), "silhouette": values}, index=index[keep]
    )
    return SilhouetteProfile(samples, float(values.mean()), rows is not None)


# -- DBSCAN radius and dendrogram --------------------------------------------------------------


def _k_distances(x: np.ndarray, k: int) -> np.ndarray:
    distances, _ = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x)
    return np.sort(distances[:, -1])


def _suggest_eps(distances: np.ndarray) -> float:
    positions = np.arange(distances.size, dtype="float64")
    best, size = _bend(positions, distances)
    if size >= MIN_BEND and distances[best] > 0:
        return float(distances[best])
    return float(np.quantile(distances, _NO_BEND_EPS_QUANTILE))


@_limited_threads
def k_distance(
    rfm_table: pd.DataFrame,
    *,
    min_samples: int = 10,
    features: Sequence[str] = DEFAULT_FEATURES,
    transform: str = "log-standard",
    sample_limit: int = 20_000,
    random_state: int = 0,
) -> KDistance:
    """The k-distance curve used to choose DBSCAN's ``eps`` (k = ``min_samples``).

    Above ``sample_limit`` customers, neighbours are searched within a seeded sample of that size
    (the same sample :class:`~rfm_core.segments.clustering.segmenter.Segmenter` fits DBSCAN on
    with the same arguments).

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        One row per customer with the ``features`` columns.
    min_samples : int, default 10
        k: the neighbour whose distance is measured, the customer itself counted first.
    features, transform, random_state
        As for :class:`~rfm_core.segments.clustering.segmenter.Segmenter`.
    sample_limit : int, default 20,000
        Customers above which neighbours are searched within a seeded sample.

    Returns
    -------
    KDistance

    Raises
    ------
    ClusteringError
        An invalid option, or no more customers than ``min_samples``.
    """
    _check_int("min_samples", min_samples, minimum=2)
    _check_int("sample_limit", sample_limit, minimum=10)
    _, x = _model_space(rfm_table, features, transform, random_state)
    if len(x) <= min_samples:
        raise ClusteringError(
            f"k_distance needs more customers than min_samples = {min_samples}, got {len(x)}"
        )
    rows = sample_rows(len(x), limit=sample_limit, random_state=random_state)
    distances = _k_distances(x if rows is None else x[rows], min_samples)
    return KDistance(distances, min_samples, _suggest_eps(distances), rows is not None)


def dendrogram(
    rfm_table: pd.DataFrame,
    *,
    linkage: str = "ward",
    features: Sequence[str] = DEFAULT_FEATURES,
    transform: str = "log-standard",
    sample_limit: int = 2_000,
    random_state: int = 0,
) -> Dendrogram:
    """Hierarchical clustering tree of (a seeded sample of ``sample_limit``) customers.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        One row per customer with the ``features`` columns.
    linkage : {"ward", "complete", "average", "single"}, default "ward"
    features, transform, random_state
        As for :class:`~rfm_core.segments.clustering.segmenter.Segmenter`.
    sample_limit : int, default 2,000
        Customers above which the tree is built on a seeded sample (a tree of more leaves
        cannot be read).

    Returns
    -------
    Dendrogram
        Linkage matrix in SciPy format, Euclidean distances in model space.

    Raises
    ------
    ClusteringError
        An unknown linkage, an invalid ``sample_limit`` or fewer than 2 customers.
    """
    if linkage not in LINKAGES:
        raise ClusteringError(f"linkage must be one of {', '.join(LINKAGES)}, got {linkage!r}")
    _check_int("sample_limit", sample_limit, minimum=2)
    index, x = _model_space(rfm_table, features, transform, random_state)
    if len(x) < 2:
        raise ClusteringError(f"a dendrogram needs at least 2 customers, got {len(x)}")
    rows = sample_rows(len(x), limit=sample_limit, random_state=random_state)
    if rows is not None:
        x, index = x[rows], index[rows]
    matrix = hierarchy.linkage(x, method=linkage, metric="euclidean")
    return Dendrogram(matrix, tuple(str(c) for c in index), rows is not None, linkage)
