"""Customer segments: clustering models, the choice of the number of segments, stability.

Every model sees customers in *model space*: the features of
:func:`rfm_core.segments.features.feature_frame` passed through
:func:`rfm_core.segments.features.make_transform` (fitted on all customers of the table).

Methods
-------
:data:`METHODS`, all behind one estimator, :class:`Segmenter`:

``kmeans``
    Lloyd's k-means, ``n_init=3`` (:data:`KMEANS_N_INIT`).
``gmm``
    Gaussian mixture, full covariances, k-means initialisation, ``n_init=2``
    (:data:`MIXTURE_N_INIT`), covariance floor ``reg_covar=1e-3`` (:data:`MIXTURE_REG_COVAR`): the
    frequency axis takes few distinct values (a third of customers often have exactly one order),
    so a component could collapse on that plane and its likelihood grow without bound.
    Soft memberships in ``probabilities_``.
``bgmm``
    Variational Bayesian Gaussian mixture (Dirichlet-process prior), same settings; ``n_clusters``
    is an upper bound and ``n_effective_components_`` counts the components of weight at least
    :data:`BGMM_WEIGHT_THRESHOLD` (1 % of customers).
``dbscan``
    Density clusters; ``eps=None`` takes the knee of the k-distance curve (:func:`k_distance`).
    Label ``-1`` is noise.
``hdbscan``
    :class:`sklearn.cluster.HDBSCAN`; ``min_cluster_size=None`` means
    ``max(min_samples, 2 % of the customers it is fitted on)``: a segment smaller than that is
    rarely worth a campaign of its own. Label ``-1`` is noise.
``agglomerative``
    Hierarchical clustering with ward, complete, average or single linkage (:data:`LINKAGES`);
    :func:`dendrogram` draws the tree.

Large tables
------------
No model is fitted on more customers than it can handle. Above ``sample_limit`` customers
(20,000 by default), a model is fitted on a seeded random sample of that size: the quadratic
methods (``dbscan``, ``hdbscan``, ``agglomerative``) must be, and the mixtures are for speed (the
variational mixture needs hundreds of EM iterations: 20 s on 100,000 customers, 0.6 s on 20,000).
Ward, complete and average linkage hold an n × n distance matrix and are capped at
:data:`MATRIX_SAMPLE_LIMIT` = 10,000 customers (about 1 GB). ``kmeans`` is cheap and fitted on up
to :data:`KMEANS_SAMPLE_FACTOR` × ``sample_limit`` (100,000 by default), the sample
:func:`select_k` uses. Every customer is then labelled: the models that can predict do;
``dbscan`` gives each remaining customer the cluster of its nearest core customer when it lies
within ``eps`` (else noise); ``hdbscan`` and ``agglomerative`` take a distance-weighted vote of
the 5 nearest fitted customers (:class:`~sklearn.neighbors.KNeighborsClassifier`).
``fitted_on_sample_`` and ``sample_size_`` tell the user so.

Label order
-----------
Cluster 0 is the most valuable. The *value score* of a cluster is the mean, over the features,
of ``sign × center``, where the center is the mean of the cluster's customers in model space and
the sign (:data:`VALUE_SIGNS`) is −1 for recency and days between purchases (lower is better),
+1 otherwise. Clusters are numbered by value score, descending (ties: larger cluster first).
Noise stays −1. Mixture components that no customer belongs to come last, by weight.

Choosing the number of segments
-------------------------------
:func:`select_k` fits k-means for every k and measures inertia, silhouette, Calinski–Harabasz,
Davies–Bouldin, the AIC and BIC of a Gaussian mixture, stability and the smallest segment's share;
:func:`recommend_k` turns that table into one k and a reason in words (its docstring states the
rule).
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy.cluster import hierarchy
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from rfm_core.config import LINKAGES, METHODS
from rfm_core.errors import ClusteringError
from rfm_core.segments.features import DEFAULT_FEATURES, feature_frame, make_transform

__all__ = [
    "BGMM_WEIGHT_THRESHOLD",
    "KMEANS_N_INIT",
    "KMEANS_SAMPLE_FACTOR",
    "LINKAGES",
    "MATRIX_SAMPLE_LIMIT",
    "METHODS",
    "MIN_BEND",
    "MIXTURE_N_INIT",
    "MIXTURE_REG_COVAR",
    "STABLE_ARI",
    "THREADS",
    "VALUE_SIGNS",
    "WEAK_SILHOUETTE",
    "ClusteringError",
    "Dendrogram",
    "KDistance",
    "ModelSelection",
    "Segmenter",
    "SilhouetteProfile",
    "Stability",
    "dendrogram",
    "k_distance",
    "locate_elbow",
    "recommend_k",
    "select_k",
    "silhouette_profile",
    "stability",
]

VALUE_SIGNS: dict[str, int] = {
    "recency": -1,
    "frequency": 1,
    "monetary": 1,
    "avg_order_value": 1,
    "tenure_days": 1,
    "mean_days_between_purchases": -1,
}
"""Direction of value of each feature: +1 when more is better for the business."""

KMEANS_N_INIT = 3
MIXTURE_N_INIT = 2
MIXTURE_REG_COVAR = 1e-3
BGMM_WEIGHT_THRESHOLD = 0.01
"""A Bayesian mixture component counts as effective when its weight is at least this share."""
KMEANS_SAMPLE_FACTOR = 5
"""k-means is fitted on at most this many times ``sample_limit`` customers."""
MATRIX_SAMPLE_LIMIT = 10_000
"""Cap on the fitting sample of ward, complete and average linkage (n × n distance matrix)."""
STABLE_ARI = 0.8
"""Mean adjusted Rand index from which a k counts as stable in :func:`recommend_k`."""
WEAK_SILHOUETTE = 0.5
"""Below this average silhouette the structure is called weak (Kaufman & Rousseeuw)."""
MIN_BEND = 0.05
"""Least departure from the chord, as a share of the range, that counts as a bend."""
THREADS = 1
"""Threads for OpenMP and BLAS while fitting and scoring (see :func:`_limited_threads`)."""

_DENSITY_METHODS = ("dbscan", "hdbscan")
_MIXTURES = ("gmm", "bgmm")
_HDBSCAN_MIN_SHARE = 0.02
_ASSIGN_NEIGHBOURS = 5
_SILHOUETTE_CHUNK = 1024
_NO_BEND_EPS_QUANTILE = 0.9

_F = TypeVar("_F", bound=Callable[..., Any])


def _limited_threads(function: _F) -> _F:
    """Run ``function`` with OpenMP and BLAS limited to :data:`THREADS` threads.

    The matrices here are thin (customers × 3–6 features): on the shared 2-core machine,
    k-means and mixtures ran 10× slower with 2 threads than with 1 (threads spin while they
    wait for each other when another process holds a core).
    """

    @functools.wraps(function)
    def limited(*args: Any, **kwargs: Any) -> Any:
        with threadpool_limits(limits=THREADS):
            return function(*args, **kwargs)

    return limited  # type: ignore[return-value]


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSelection:
    """Scores of k-means for each number of segments k, and the recommended k.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``k`` (name ``"k"``), one row per k; columns (what is computed on what: see
        :func:`select_k`) ``inertia``, ``silhouette``, ``calinski_harabasz``, ``davies_bouldin``,
        ``aic``, ``bic``, ``stability`` (mean adjusted Rand index over refits) and
        ``smallest_share`` (share of customers in the smallest segment).
    recommended_k : int
    reason : str
        Why, in plain words.
    elbow_k : int or None
        Elbow of the inertia curve (:func:`locate_elbow`).
    silhouette_sampled : bool
        Whether silhouette and stability were computed on a seeded sample.
    silhouette_sample_size : int
    n_customers : int
    features : tuple of str
    transform : str
    fit_sample_size : int
        Customers k-means was fitted on (all of them unless above ``fit_limit``).
    mixture_sample_size : int
        Customers the Gaussian mixtures were fitted on (0 when skipped).
    """

    table: pd.DataFrame
    recommended_k: int
    reason: str
    elbow_k: int | None
    silhouette_sampled: bool
    silhouette_sample_size: int
    n_customers: int
    features: tuple[str, ...]
    transform: str
    fit_sample_size: int
    mixture_sample_size: int


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
        The knee of the sorted curve (:func:`locate_elbow` on the rising curve): past it the
        distances shoot up, so customers beyond are sparse. Without a knee, the 90th percentile.
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


@dataclass(frozen=True)
class Stability:
    """Agreement between a model and its refits on subsamples.

    Attributes
    ----------
    scores : tuple of float
        Adjusted Rand index of each refit against the model fitted on all customers, on the
        customers of the subsample (1: same segments; about 0: chance agreement).
    mean, minimum : float
    n_runs : int
    subsample : float
        Share of customers in each subsample.
    """

    scores: tuple[float, ...]
    mean: float
    minimum: float
    n_runs: int
    subsample: float


# -- the estimator -----------------------------------------------------------------------------


class _NearestCore:
    """DBSCAN's rule for a new point: the cluster of its nearest core point within ``eps``."""

    def __init__(self, cores: np.ndarray, labels: np.ndarray, eps: float) -> None:
        self.eps = eps
        self.labels = labels
        self.index = NearestNeighbors(n_neighbors=1).fit(cores) if len(cores) else None

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.index is None:
            return np.full(len(x), -1, dtype=np.int64)
        distance, nearest = self.index.kneighbors(x)
        return np.where(distance[:, 0] <= self.eps, self.labels[nearest[:, 0]], -1)


class Segmenter(ClusterMixin, BaseEstimator):
    """Segment customers of an RFM table with one of :data:`METHODS`.

    See the module docstring for the methods, the sampling of large tables and the label order.

    Parameters
    ----------
    method : {"kmeans", "gmm", "bgmm", "dbscan", "hdbscan", "agglomerative"}
    n_clusters : int, default 4
        Number of segments (upper bound for ``bgmm``; unused by ``dbscan`` and ``hdbscan``).
    features : tuple of str
        Columns of the RFM table (:data:`rfm_core.segments.features.DEFAULT_FEATURES` and
        :data:`~rfm_core.segments.features.OPTIONAL_FEATURES`).
    transform : {"log-standard", "minmax", "quantile"}
        Transform to model space, fitted on all customers of the table.
    linkage : {"ward", "complete", "average", "single"}
        Agglomerative only.
    eps : float or None
        DBSCAN neighbourhood radius in model space; None: :attr:`KDistance.suggested_eps`.
    min_samples : int, default 10
        DBSCAN and HDBSCAN: neighbours (the customer included) that make a core customer.
    min_cluster_size : int or None
        HDBSCAN; None: ``max(min_samples, 2 % of the fitted customers)``.
    sample_limit : int, default 20,000
        Above it the model is fitted on a seeded sample of that size (k-means:
        :data:`KMEANS_SAMPLE_FACTOR` times it) and the other customers are assigned.
    random_state : int, default 0
        Seeds sampling and every model: same table and seed, same labels.

    Attributes
    ----------
    labels_ : numpy.ndarray of int64
        Segment of each row of the fitted table (0 = most valuable; −1 = noise).
    probabilities_ : numpy.ndarray or None
        Mixtures: membership probabilities, n × ``n_clusters`` (one column per component, in
        label order; components no customer belongs to come last). Else None.
    n_clusters_ : int
        Segments found (noise excluded).
    n_effective_components_ : int
        ``bgmm``: components of weight ≥ :data:`BGMM_WEIGHT_THRESHOLD`; else ``n_clusters_``.
    fitted_on_sample_ : bool
    sample_size_ : int
        Customers the model was fitted on.
    eps_ : float or None
        ``dbscan``: the radius used.
    min_cluster_size_ : int or None
        ``hdbscan``: the minimum cluster size used.
    feature_names_in_ : numpy.ndarray of str
        The features used (not every column of the table).
    n_features_in_ : int
    transform_ : sklearn.pipeline.Pipeline
        Fitted transform to model space.
    estimator_ : sklearn estimator
        The fitted clustering model.
    centers_ : pandas.DataFrame
        Index ``cluster`` (0..n_clusters_ − 1), columns the features: mean of the members in
        model space.
    """

    def __init__(
        self,
        *,
        method: str = "kmeans",
        n_clusters: int = 4,
        features: tuple[str, ...] = DEFAULT_FEATURES,
        transform: str = "log-standard",
        linkage: str = "ward",
        eps: float | None = None,
        min_samples: int = 10,
        min_cluster_size: int | None = None,
        sample_limit: int = 20_000,
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.n_clusters = n_clusters
        self.features = features
        self.transform = transform
        self.linkage = linkage
        self.eps = eps
        self.min_samples = min_samples
        self.min_cluster_size = min_cluster_size
        self.sample_limit = sample_limit
        self.random_state = random_state

    @_limited_threads
    def fit(self, rfm_table: pd.DataFrame, y: Any = None) -> Segmenter:
        """Fit the model on the customers of ``rfm_table`` and label every one of them.

        Parameters
        ----------
        rfm_table : pandas.DataFrame
            :attr:`rfm_core.customers.rfm.RfmResult.table`, or any frame with the ``features``
            columns.
        y : ignored

        Returns
        -------
        Segmenter
            ``self``, fitted.
        """
        self._check_params()
        frame = feature_frame(rfm_table, features=self.features)
        self._check_size(len(frame))
        self.transform_ = make_transform(
            transform=self.transform, random_state=self.random_state
        ).fit(frame)
        x = _as_matrix(self.transform_.transform(frame))
        rows = _sample_rows(len(x), self._fit_limit(), self.random_state)
        x_fit = x if rows is None else x[rows]
        self.fitted_on_sample_ = rows is not None
        self.sample_size_ = len(x_fit)
        self.eps_ = None
        self.min_cluster_size_ = None
        raw, proba = self._raw_labels(x, x_fit, rows)
        weights = self.estimator_.weights_ if proba is not None else None
        n_raw = proba.shape[1] if proba is not None else int(raw.max(initial=-1)) + 1
        self._label_of_raw = _value_order(x, raw, n_raw, self.features, weights=weights)
        self.labels_ = _relabel(raw, self._label_of_raw)
        self.n_clusters_ = int(self.labels_.max(initial=-1)) + 1
        self.probabilities_ = None if proba is None else proba[:, self._raw_of_label()]
        self.n_effective_components_ = (
            int(np.sum(self.estimator_.weights_ >= BGMM_WEIGHT_THRESHOLD))
            if self.method == "bgmm"
            else self.n_clusters_
        )
        self.centers_ = _centers(x, self.labels_, self.n_clusters_, self.features)
        self.feature_names_in_ = np.asarray(self.features, dtype=object)
        self.n_features_in_ = len(self.features)
        return self

    @_limited_threads
    def predict(self, rfm_table: pd.DataFrame) -> np.ndarray:
        """Segment of each customer of a table with the same columns, without refitting.

        Returns
        -------
        numpy.ndarray of int64
            Labels in the fitted order; −1 (noise) for density methods. A mixture can, rarely,
            give a new customer a component that no fitted customer belonged to
            (label ≥ ``n_clusters_``).
        """
        check_is_fitted(self, "labels_")
        if self.method in _MIXTURES:
            return self.predict_proba(rfm_table).argmax(axis=1).astype(np.int64)
        x = _as_matrix(self.transform_features(rfm_table))
        return _relabel(self._raw_predict(x), self._label_of_raw)

    @_limited_threads
    def predict_proba(self, rfm_table: pd.DataFrame) -> np.ndarray | None:
        """Mixtures: membership probabilities (columns in label order); None otherwise."""
        check_is_fitted(self, "labels_")
        if self.method not in _MIXTURES:
            return None
        x = _as_matrix(self.transform_features(rfm_table))
        return self.estimator_.predict_proba(x)[:, self._raw_of_label()]

    def transform_features(self, rfm_table: pd.DataFrame) -> pd.DataFrame:
        """Features of ``rfm_table`` in model space (fitted transform), index ``customer_id``.

        (Not named ``transform``: scikit-learn requires that attribute to hold the parameter.)
        """
        check_is_fitted(self, "transform_")
        frame = feature_frame(rfm_table, features=self.features)
        return self.transform_.transform(frame).astype("float64")

    # -- helpers -------------------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise ClusteringError(
                f"method must be one of {', '.join(METHODS)}, got {self.method!r}"
            )
        if self.linkage not in LINKAGES:
            raise ClusteringError(
                f"linkage must be one of {', '.join(LINKAGES)}, got {self.linkage!r}"
            )
        _check_int("n_clusters", self.n_clusters, minimum=2)
        _check_int("min_samples", self.min_samples, minimum=2)
        _check_int("sample_limit", self.sample_limit, minimum=10)
        _check_int("random_state", self.random_state, minimum=0)
        if self.min_cluster_size is not None:
            _check_int("min_cluster_size", self.min_cluster_size, minimum=2)
        if self.eps is not None and not (
            isinstance(self.eps, int | float) and math.isfinite(self.eps) and self.eps > 0
        ):
            raise ClusteringError(f"eps must be a positive number or None, got {self.eps!r}")

    def _check_size(self, n: int) -> None:
        if self.method in _DENSITY_METHODS:
            needed, what = self.min_samples + 1, f"min_samples + 1 = {self.min_samples + 1}"
        else:
            needed, what = self.n_clusters + 1, f"n_clusters + 1 = {self.n_clusters + 1}"
        if n < needed:
            raise ClusteringError(
                f"{self.method} needs at least {what} customers, the table has {n}"
            )
        if self.n_clusters >= self._fit_limit() and self.method not in _DENSITY_METHODS:
            raise ClusteringError(
                f"sample_limit ({self.sample_limit}) leaves too few customers for "
                f"n_clusters = {self.n_clusters}"
            )

    def _fit_limit(self) -> int:
        if self.method == "kmeans":
            return KMEANS_SAMPLE_FACTOR * self.sample_limit
        if self.method == "agglomerative" and self.linkage != "single":
            return min(self.sample_limit, MATRIX_SAMPLE_LIMIT)
        return self.sample_limit

    def _fit_estimator(self, x: np.ndarray) -> np.ndarray | None:
        """Fit ``estimator_`` (and ``assigner_``); return raw labels of ``x`` (None: mixtures)."""
        seed = self.random_state
        if self.method == "kmeans":
            self.estimator_ = _kmeans(self.n_clusters, seed).fit(x)
            return self.estimator_.labels_.astype(np.int64)
        if self.method in _MIXTURES:
            self.estimator_ = _mixture(self.method, self.n_clusters, seed).fit(x)
            return None
        if self.method == "dbscan":
            self.eps_ = (
                float(self.eps)
                if self.eps is not None
                else _suggest_eps(_k_distances(x, self.min_samples))
            )
            self.estimator_ = DBSCAN(eps=self.eps_, min_samples=self.min_samples).fit(x)
            raw = self.estimator_.labels_.astype(np.int64)
            cores = self.estimator_.core_sample_indices_
            self.assigner_ = _NearestCore(x[cores], raw[cores], self.eps_)
            return raw
        if self.method == "hdbscan":
            self.min_cluster_size_ = self.min_cluster_size or max(
                self.min_samples, math.ceil(_HDBSCAN_MIN_SHARE * len(x))
            )
            self.estimator_ = HDBSCAN(
                min_cluster_size=min(self.min_cluster_size_, len(x)),
                min_samples=self.min_samples,
                copy=True,
            ).fit(x)
        else:
            self.estimator_ = AgglomerativeClustering(
                n_clusters=self.n_clusters, linkage=self.linkage
            ).fit(x)
        raw = self.estimator_.labels_.astype(np.int64)
        self.assigner_ = KNeighborsClassifier(
            n_neighbors=min(_ASSIGN_NEIGHBOURS, len(x)), weights="distance"
        ).fit(x, raw)
        return raw

    def _raw_labels(
        self, x: np.ndarray, x_fit: np.ndarray, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Fit on ``x_fit``; model labels of every row of ``x`` (and mixture probabilities)."""
        raw_fit = self._fit_estimator(x_fit)
        if self.method in _MIXTURES:
            proba = self.estimator_.predict_proba(x)
            return proba.argmax(axis=1), proba
        if rows is None:
            return raw_fit, None
        raw = self._raw_predict(x)
        raw[rows] = raw_fit
        return raw, None

    def _raw_of_label(self) -> np.ndarray:
        return np.argsort(self._label_of_raw)

    def _raw_predict(self, x: np.ndarray) -> np.ndarray:
        model = self.estimator_ if self.method == "kmeans" else self.assigner_
        return np.asarray(model.predict(x), dtype=np.int64)


def _kmeans(n_clusters: int, random_state: int) -> KMeans:
    return KMeans(
        n_clusters=n_clusters, n_init=KMEANS_N_INIT, algorithm="lloyd", random_state=random_state
    )


def _mixture(
    method: str, n_components: int, random_state: int
) -> GaussianMixture | BayesianGaussianMixture:
    options = {
        "n_components": n_components,
        "covariance_type": "full",
        "init_params": "kmeans",
        "n_init": MIXTURE_N_INIT,
        "reg_covar": MIXTURE_REG_COVAR,
        "random_state": random_state,
    }
    if method == "gmm":
        return GaussianMixture(**options)
    return BayesianGaussianMixture(
        weight_concentration_prior_type="dirichlet_process", max_iter=500, **options
    )


def _as_matrix(frame: pd.DataFrame) -> np.ndarray:
    return np.ascontiguousarray(frame.to_numpy(dtype="float64"))


def _sample_rows(n: int, limit: int, random_state: int) -> np.ndarray | None:
    """Sorted positions of a seeded sample of ``limit`` rows, or None when ``n ≤ limit``."""
    if n <= limit:
        return None
    return np.sort(np.random.default_rng(random_state).choice(n, size=limit, replace=False))


def _value_order(
    x: np.ndarray,
    raw: np.ndarray,
    n_raw: int,
    features: Sequence[str],
    *,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """New label of each raw label: by value score of the members' mean, descending."""
    members = raw >= 0
    counts = np.bincount(raw[members], minlength=n_raw)
    centers = _member_means(x[members], raw[members], n_raw)
    signs = np.array([VALUE_SIGNS[name] for name in features], dtype="float64")
    with np.errstate(invalid="ignore"):
        score = centers @ signs / len(features)
    empty = counts == 0
    if weights is not None:
        score = np.where(empty, weights, score)
    score = np.nan_to_num(score, nan=-np.inf)
    order = np.lexsort((np.arange(n_raw), -counts, -score, empty))
    new_label = np.empty(n_raw, dtype=np.int64)
    new_label[order] = np.arange(n_raw)
    return new_label


def _member_means(x: np.ndarray, labels: np.ndarray, n_labels: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=n_labels).astype("float64")
    sums = np.column_stack(
        [np.bincount(labels, weights=x[:, j], minlength=n_labels) for j in range(x.shape[1])]
    ).reshape(n_labels, x.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]


def _relabel(raw: np.ndarray, new_label: np.ndarray) -> np.ndarray:
    out = np.full(len(raw), -1, dtype=np.int64)
    members = raw >= 0
    out[members] = new_label[raw[members]]
    return out


def _centers(
    x: np.ndarray, labels: np.ndarray, n_clusters: int, features: Sequence[str]
) -> pd.DataFrame:
    members = labels >= 0
    means = _member_means(x[members], labels[members], n_clusters)
    index = pd.RangeIndex(n_clusters, name="cluster")
    return pd.DataFrame(means, index=index, columns=list(features))


# -- validation --------------------------------------------------------------------------------


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ClusteringError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ClusteringError(f"{name} must be ≥ {minimum}, got {value}")


def _check_k_values(k_values: Sequence[int], n_customers: int) -> list[int]:
    values = list(k_values)
    if not values:
        raise ClusteringError("k_values is empty; give at least one number of segments")
    for k in values:
        _check_int("every k of k_values", k, minimum=-sys.maxsize)
    bad = [k for k in values if not 2 <= k <= n_customers - 1]
    if bad:
        raise ClusteringError(
            f"k_values must lie in 2..{n_customers - 1} (n_customers − 1), got {bad[0]}"
        )
    return sorted({int(k) for k in values})


def _check_range(business_range: tuple[int, int]) -> tuple[int, int]:
    if len(business_range) != 2:
        raise ClusteringError(f"business_range must be (low, high), got {business_range!r}")
    low, high = business_range
    _check_int("business_range low", low, minimum=2)
    _check_int("business_range high", high, minimum=2)
    if low > high:
        raise ClusteringError(f"business_range must have low ≤ high, got {business_range!r}")
    return int(low), int(high)


def _model_space(
    rfm_table: pd.DataFrame, features: Sequence[str], transform: str, random_state: int
) -> tuple[pd.Index, np.ndarray]:
    frame = feature_frame(rfm_table, features=features)
    pipeline = make_transform(transform=transform, random_state=random_state)
    return frame.index, _as_matrix(pipeline.fit_transform(frame))


# -- curves ------------------------------------------------------------------------------------


def _bend(x: np.ndarray, y: np.ndarray) -> tuple[int, float]:
    """Index and size of the largest departure of a convex curve from its chord.

    Both axes are rescaled to [0, 1] first, so the answer does not depend on units. A rising
    curve (k-distances) bends below its chord, a falling one (inertia) above it once rescaled.
    """
    xs = (x - x[0]) / (x[-1] - x[0])
    span = y[-1] - y[0]
    if span == 0:
        return 0, 0.0
    ys = (y - y[0]) / span
    gap = xs - ys if span > 0 else ys - xs
    best = int(np.argmax(gap))
    return best, float(gap[best])


def locate_elbow(k: Sequence[int], inertia: Sequence[float]) -> int | None:
    """Return the k at the elbow of a decreasing inertia curve, or None without a clear bend.

    The elbow is the point farthest below the chord joining the first and last points, both
    axes rescaled to [0, 1] (the "kneedle" difference curve). There is no elbow when fewer than
    three points are given, when the curve does not decrease, or when no point lies at least
    :data:`MIN_BEND` (5 % of the range) below the chord.

    Parameters
    ----------
    k : sequence of int
        Increasing numbers of clusters.
    inertia : sequence of float
        Within-cluster sum of squares for each k.

    Returns
    -------
    int or None
    """
    ks = np.asarray(list(k), dtype="float64")
    values = np.asarray(list(inertia), dtype="float64")
    if ks.shape != values.shape:
        raise ClusteringError(f"k and inertia differ in length: {ks.size} and {values.size}")
    if ks.size < 3 or not np.isfinite(values).all():
        return None
    if np.any(np.diff(ks) <= 0):
        raise ClusteringError("k must be strictly increasing")
    if values[-1] >= values[0]:
        return None
    best, size = _bend(ks, values)
    return int(ks[best]) if size >= MIN_BEND else None


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
    :class:`Segmenter` does). Noise customers (label −1) are left out. Above ``sample_limit``
    customers (after removing noise), the silhouette is computed exactly on a seeded sample of
    that size: each sampled customer's ``a`` and ``b`` are then means over the sample.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
    labels : array-like of int
        One label per row of ``rfm_table``.
    features, transform, random_state
        As for :class:`Segmenter`.
    sample_limit : int, default 10,000

    Returns
    -------
    SilhouetteProfile
    """
    index, x = _model_space(rfm_table, features, transform, random_state)
    labels = np.asarray(labels)
    if labels.shape != (len(index),):
        raise ClusteringError(
            f"labels must have one value per customer ({len(index)}), got shape {labels.shape}"
        )
    _check_int("sample_limit", sample_limit, minimum=10)
    keep = np.flatnonzero(labels >= 0)
    rows = _sample_rows(keep.size, sample_limit, random_state)
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
    (the same sample :class:`Segmenter` fits DBSCAN on with the same arguments).

    Returns
    -------
    KDistance
    """
    _check_int("min_samples", min_samples, minimum=2)
    _check_int("sample_limit", sample_limit, minimum=10)
    _, x = _model_space(rfm_table, features, transform, random_state)
    if len(x) <= min_samples:
        raise ClusteringError(
            f"k_distance needs more customers than min_samples = {min_samples}, got {len(x)}"
        )
    rows = _sample_rows(len(x), sample_limit, random_state)
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

    Returns
    -------
    Dendrogram
        Linkage matrix in SciPy format, Euclidean distances in model space.
    """
    if linkage not in LINKAGES:
        raise ClusteringError(f"linkage must be one of {', '.join(LINKAGES)}, got {linkage!r}")
    _check_int("sample_limit", sample_limit, minimum=2)
    index, x = _model_space(rfm_table, features, transform, random_state)
    if len(x) < 2:
        raise ClusteringError(f"a dendrogram needs at least 2 customers, got {len(x)}")
    rows = _sample_rows(len(x), sample_limit, random_state)
    if rows is not None:
        x, index = x[rows], index[rows]
    matrix = hierarchy.linkage(x, method=linkage, metric="euclidean")
    return Dendrogram(matrix, tuple(str(c) for c in index), rows is not None, linkage)


# -- stability ---------------------------------------------------------------------------------


@_limited_threads
def stability(
    rfm_table: pd.DataFrame,
    segmenter: Segmenter,
    *,
    n_runs: int = 5,
    subsample: float = 0.8,
    random_state: int = 0,
) -> Stability:
    """How much a segmentation changes when refitted on other customers and other seeds.

    A clone of ``segmenter`` is fitted on all customers (the reference). Then, ``n_runs`` times,
    a clone with a new seed is fitted on a seeded random ``subsample`` share of the customers,
    and its labels are compared with the reference's on those customers by the adjusted Rand
    index (noise counts as one more label). ``segmenter`` itself is not modified.

    Returns
    -------
    Stability
    """
    _check_int("n_runs", n_runs, minimum=1)
    _check_int("random_state", random_state, minimum=0)
    if not (isinstance(subsample, int | float) and 0 < subsample < 1):
        raise ClusteringError(f"subsample must be a share in (0, 1), got {subsample!r}")
    n = len(rfm_table)
    size = round(subsample * n)
    reference = clone(segmenter).fit(rfm_table).labels_
    rng = np.random.default_rng(random_state)
    scores = []
    for _ in range(n_runs):
        rows = np.sort(rng.choice(n, size=size, replace=False))
        seed = int(rng.integers(2**31 - 1))
        refit = clone(segmenter).set_params(random_state=seed).fit(rfm_table.iloc[rows])
        scores.append(float(adjusted_rand_score(reference[rows], refit.labels_)))
    return Stability(tuple(scores), float(np.mean(scores)), float(min(scores)), n_runs, subsample)


# -- choosing k --------------------------------------------------------------------------------

_CRITERIA = (
    # column, better, words
    ("silhouette", "high", "silhouette"),
    ("calinski_harabasz", "high", "Calinski–Harabasz"),
    ("davies_bouldin", "low", "Davies–Bouldin"),
    ("bic", "low", "BIC"),
    ("stability", "high", "stability"),
)


def recommend_k(
    table: pd.DataFrame, *, business_range: tuple[int, int] = (3, 8)
) -> tuple[int, str]:
    """Recommend a number of segments from a :attr:`ModelSelection.table`, with the reason.

    No single index answers "how many segments": on customer data the silhouette and the
    Calinski–Harabasz index usually fall as k grows (they prefer 2), while the BIC of a mixture
    keeps improving (it prefers the largest k). The rule therefore asks for agreement:

    1. **Business range.** Candidates are the k of the table within ``business_range``
       (default 3–8: fewer segments tell a marketer little, more cannot each get a campaign).
       If none is, all k of the table are candidates and the reason says so.
    2. **Stability.** When the table has a ``stability`` column, candidates whose mean adjusted
       Rand index is below :data:`STABLE_ARI` (0.8) are dropped: segments that reshuffle when
       the data are resampled cannot be acted on. If none is stable, all are kept and the
       reason warns.
    3. **Agreement.** Each criterion present ranks the candidates (1 = best; ties share the
       mean rank; a missing value ranks last): silhouette, Calinski–Harabasz (high), Davies–
       Bouldin, BIC (low), stability (high) and the distance to the elbow of inertia
       (:func:`locate_elbow`, over the whole table). The recommendation has the best mean rank;
       ties go to the higher silhouette, then to the smaller k.

    The reason also notes when the structure is weak (silhouette below 0.5): the segments are
    then a useful partition of a continuum rather than natural groups.

    Ranks rather than votes, because most indices drift steadily with k and their single best k
    sits at an end of the range; a rank keeps the rest of their ordering. On Online Retail
    (4,338 customers, log-standard recency, frequency, monetary), silhouette, Calinski–Harabasz
    and stability rank k = 3 first, Davies–Bouldin 7, BIC 8 and the inertia curve bends at 5:
    k = 5 has the best mean rank. On generated logs with five planted groups the rule finds 5.

    Parameters
    ----------
    table : pandas.DataFrame
        Index k; any of the columns ``inertia`` and those above.
    business_range : (int, int)
        Inclusive.

    Returns
    -------
    (int, str)
        The recommended k and the reason in words.
    """
    low, high = _check_range(business_range)
    if table.empty:
        raise ClusteringError("the model selection table is empty")
    table = table.sort_index()
    ks = [int(k) for k in table.index]
    candidates = [k for k in ks if low <= k <= high]
    notes = []
    if candidates:
        scope = f"inside the business range {low}–{high}"
    else:
        candidates = ks
        scope = (
            f"no k evaluated lies in the business range {low}–{high}, so among all k "
            f"({ks[0]}–{ks[-1]})"
        )
    candidates, stability_note = _stable_candidates(table, candidates)
    if stability_note:
        notes.append(stability_note)
    elbow = locate_elbow(ks, table["inertia"]) if "inertia" in table else None
    ranks, preferences = _criterion_ranks(table.loc[candidates], elbow)
    if not ranks:
        raise ClusteringError(
            "the model selection table has none of the columns inertia, "
            + ", ".join(column for column, _, _ in _CRITERIA)
        )
    mean_rank = pd.concat(ranks, axis=1).mean(axis=1)
    chosen = _best(mean_rank, table.loc[candidates])
    reason = (
        f"k = {chosen}: {scope}, it has the best mean rank ({mean_rank[chosen]:.1f} among "
        f"{len(candidates)} candidates) over {len(ranks)} criteria — "
        + ", ".join(preferences)
        + "."
    )
    return chosen, " ".join([reason, *_quality_notes(table, chosen), *notes])


def _stable_candidates(table: pd.DataFrame, candidates: list[int]) -> tuple[list[int], str]:
    if "stability" not in table or table.loc[candidates, "stability"].isna().all():
        return candidates, ""
    scores = table.loc[candidates, "stability"]
    stable = [k for k in candidates if not scores[k] < STABLE_ARI]  # unknown (NaN) stays
    if not stable:
        return candidates, (
            f"No candidate is stable (mean adjusted Rand ≥ {STABLE_ARI}): treat the segments "
            "as indicative."
        )
    dropped = [k for k in candidates if k not in stable]
    if not dropped:
        return candidates, ""
    listed = ", ".join(f"{k} ({scores[k]:.2f})" for k in dropped)
    return stable, f"Left out as unstable (mean adjusted Rand < {STABLE_ARI}): k = {listed}."


def _criterion_ranks(
    candidates: pd.DataFrame, elbow: int | None
) -> tuple[list[pd.Series], list[str]]:
    ranks, preferences = [], []
    for column, better, words in _CRITERIA:
        if column not in candidates or candidates[column].isna().all():
            continue
        values = candidates[column].astype("float64")
        rank = values.rank(ascending=better == "low", method="average", na_option="bottom")
        ranks.append(rank)
        best = values.idxmax() if better == "high" else values.idxmin()
        preferences.append(f"{words} prefers {best}")
        if not preferences[1:]:
            preferences[0] = f"here {preferences[0]}"
    if elbow is not None:
        distance = pd.Series(np.abs(candidates.index.to_numpy() - elbow), index=candidates.index)
        ranks.append(distance.rank(method="average"))
        preferences.append(f"the inertia curve bends at {elbow}")
    return ranks, preferences


def _best(mean_rank: pd.Series, candidates: pd.DataFrame) -> int:
    silhouette = (
        candidates["silhouette"].fillna(-np.inf)
        if "silhouette" in candidates
        else pd.Series(0.0, index=candidates.index)
    )
    order = sorted(mean_rank.index, key=lambda k: (mean_rank[k], -silhouette[k], k))
    return int(order[0])


def _quality_notes(table: pd.DataFrame, k: int) -> list[str]:
    notes = []
    if "stability" in table and pd.notna(table.loc[k, "stability"]):
        ari = table.loc[k, "stability"]
        word = "stable" if ari >= STABLE_ARI else "not stable"
        notes.append(f"Its segments are {word} (mean adjusted Rand {ari:.2f} over refits).")
    if "silhouette" in table and pd.notna(table.loc[k, "silhouette"]):
        value = table.loc[k, "silhouette"]
        if value < WEAK_SILHOUETTE:
            notes.append(
                f"Structure is weak (silhouette {value:.2f} < {WEAK_SILHOUETTE}): the segments "
                "are a useful partition of a continuum rather than natural groups."
            )
    return notes


@_limited_threads
def select_k(
    rfm_table: pd.DataFrame,
    *,
    k_values: Sequence[int] = range(2, 11),
    features: Sequence[str] = DEFAULT_FEATURES,
    transform: str = "log-standard",
    business_range: tuple[int, int] = (3, 8),
    silhouette_limit: int = 10_000,
    fit_limit: int = 100_000,
    mixture_limit: int = 20_000,
    mixtures: bool = True,
    stability_runs: int = 3,
    random_state: int = 0,
) -> ModelSelection:
    """Score k-means for each k and recommend one (:func:`recommend_k`).

    What is computed on what (n = customers in the table):

    * k-means (Lloyd, ``n_init=3``) is fitted on a seeded sample of ``fit_limit`` customers
      (all when n ≤ ``fit_limit``; with the defaults, the same sample and model as
      ``Segmenter(method="kmeans", n_clusters=k)``), then predicts every customer.
    * ``inertia`` (sum of squared distances to the assigned center), ``calinski_harabasz``,
      ``davies_bouldin`` and ``smallest_share``: on all n customers.
    * ``silhouette``: exact when n ≤ ``silhouette_limit``, else on a seeded sample of that size
      (``silhouette_sampled``).
    * ``stability``: on the same (sampled) customers, k-means is refitted ``stability_runs``
      times with new seeds on seeded 80 % subsamples; the mean adjusted Rand index against the
      full model's labels. Small samples are less stable, so this errs on the safe side.
    * ``aic``, ``bic``: a Gaussian mixture of k components (settings of ``Segmenter(method=
      "gmm", sample_limit=mixture_limit)``) fitted on a seeded sample of ``mixture_limit``
      customers; its mean
      log-likelihood over the k-means sample (all customers when n ≤ ``fit_limit``) is scaled
      to n. Lower is better. Skipped (NaN) with ``mixtures=False``.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
    k_values : sequence of int, default 2..10
        Each in 2..n − 1.
    features, transform, random_state
        As for :class:`Segmenter`.
    business_range : (int, int), default (3, 8)
        See :func:`recommend_k`.
    silhouette_limit, fit_limit, mixture_limit : int
    mixtures : bool, default True
    stability_runs : int, default 3
        0 skips stability (NaN column).

    Returns
    -------
    ModelSelection
    """
    business_range = _check_range(business_range)
    for name, value in (
        ("silhouette_limit", silhouette_limit),
        ("fit_limit", fit_limit),
        ("mixture_limit", mixture_limit),
    ):
        _check_int(name, value, minimum=10)
    _check_int("stability_runs", stability_runs, minimum=0)
    _check_int("random_state", random_state, minimum=0)
    _, x = _model_space(rfm_table, features, transform, random_state)
    n = len(x)
    if n < 3:
        raise ClusteringError(f"choosing k needs at least 3 customers, got {n}")
    ks = _check_k_values(k_values, n)
    fit_rows = _sample_rows(n, fit_limit, random_state)
    x_fit = x if fit_rows is None else x[fit_rows]
    sil_rows = _sample_rows(n, silhouette_limit, random_state)
    table = _kmeans_sweep(x, x_fit, sil_rows, ks, stability_runs, random_state)
    mixture_size = 0
    if mixtures:
        mixture_rows = _sample_rows(n, mixture_limit, random_state)
        x_mixture = x if mixture_rows is None else x[mixture_rows]
        mixture_size = len(x_mixture)
        table[["aic", "bic"]] = _mixture_sweep(x_mixture, x_fit, n, ks, random_state)
    table = table[
        [
            "inertia",
            "silhouette",
            "calinski_harabasz",
            "davies_bouldin",
            "aic",
            "bic",
            "stability",
            "smallest_share",
        ]
    ]
    recommended, reason = recommend_k(table, business_range=business_range)
    return ModelSelection(
        table=table,
        recommended_k=recommended,
        reason=reason,
        elbow_k=locate_elbow(ks, table["inertia"]),
        silhouette_sampled=sil_rows is not None,
        silhouette_sample_size=n if sil_rows is None else len(sil_rows),
        n_customers=n,
        features=tuple(features),
        transform=transform,
        fit_sample_size=len(x_fit),
        mixture_sample_size=mixture_size,
    )


def _kmeans_sweep(
    x: np.ndarray,
    x_fit: np.ndarray,
    sil_rows: np.ndarray | None,
    ks: list[int],
    stability_runs: int,
    random_state: int,
) -> pd.DataFrame:
    rows, labelings = [], []
    for k in ks:
        model = _kmeans(k, random_state).fit(x_fit)
        labels = model.predict(x) if len(x_fit) < len(x) else model.labels_
        inertia = float(np.sum((x - model.cluster_centers_[labels]) ** 2))
        distinct = np.unique(labels).size
        shares = np.bincount(labels, minlength=k) / len(x)
        rows.append(
            {
                "k": k,
                "inertia": inertia,
                "calinski_harabasz": calinski_harabasz_score(x, labels) if distinct > 1 else np.nan,
                "davies_bouldin": davies_bouldin_score(x, labels) if distinct > 1 else np.nan,
                "smallest_share": float(shares.min()),
                "aic": np.nan,
                "bic": np.nan,
            }
        )
        labelings.append(labels if sil_rows is None else labels[sil_rows])
    x_sil = x if sil_rows is None else x[sil_rows]
    table = pd.DataFrame(rows).set_index("k")
    table["silhouette"] = [
        float(values.mean()) if np.unique(labels).size > 1 else np.nan
        for values, labels in zip(_silhouettes(x_sil, labelings), labelings, strict=True)
    ]
    table["stability"] = [
        _kmeans_stability(x_sil, labels, k, stability_runs, random_state)
        for k, labels in zip(ks, labelings, strict=True)
    ]
    return table


def _kmeans_stability(
    x: np.ndarray, reference: np.ndarray, k: int, runs: int, random_state: int
) -> float:
    if runs == 0:
        return np.nan
    rng = np.random.default_rng([random_state, k])
    size = round(0.8 * len(x))
    if size <= k:
        return np.nan
    scores = []
    for _ in range(runs):
        rows = np.sort(rng.choice(len(x), size=size, replace=False))
        labels = _kmeans(k, int(rng.integers(2**31 - 1))).fit(x[rows]).labels_
        scores.append(adjusted_rand_score(reference[rows], labels))
    return float(np.mean(scores))


def _mixture_sweep(
    x_mixture: np.ndarray, x_score: np.ndarray, n: int, ks: list[int], random_state: int
) -> np.ndarray:
    d = x_mixture.shape[1]
    out = np.full((len(ks), 2), np.nan)
    for i, k in enumerate(ks):
        if k >= len(x_mixture):
            continue
        model = _mixture("gmm", k, random_state).fit(x_mixture)
        log_likelihood = model.score(x_score) * n
        parameters = k * d * (d + 1) / 2 + k * d + (k - 1)
        out[i] = (
            -2 * log_likelihood + 2 * parameters,
            -2 * log_likelihood + parameters * math.log(n),
        )
    return out
