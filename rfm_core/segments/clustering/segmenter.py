"""One estimator for six clustering methods: fit, assign every customer, order by value.

Every model sees customers in *model space*: the features of
:func:`rfm_core.segments.features.feature_frame` passed through
:func:`rfm_core.segments.features.make_transform` (fitted on all customers of the table).

Methods
-------
:data:`METHODS`, all behind one estimator, :class:`Segmenter`:

``kmeans``
    Lloyd's k-means, ``n_init=10`` (:data:`KMEANS_N_INIT`): with 3 starts, k-means told the
    planted k of a six-group log often stopped in a local optimum (adjusted Rand 0.73 instead
    of 0.99 on the same customers, ``bench/segments_family.py``).
``gmm``
    Gaussian mixture, full covariances, k-means initialisation, ``n_init=2``
    (:data:`MIXTURE_N_INIT`), covariance floor ``reg_covar=0.05`` (:data:`MIXTURE_REG_COVAR`,
    in standardized units): the frequency axis takes few distinct values (a third of customers
    often have exactly one order, and one and two orders lie about 0.5 apart once log-scaled and
    standardized), so a component could collapse on such a plane and its likelihood grow
    without bound. With a floor of 1e-3 the BIC fell at every added component and always
    preferred the largest k. The floor was chosen on the generated family of
    ``bench/segments_family.py`` (36 logs, seed 1): with the recommendation of
    :func:`~rfm_core.segments.clustering.selection.recommend_k`, floors of 0.02, 0.03, 0.05 and
    0.07 found the planted k in 64 %, 69 %, 83 % and 72 % of the logs, missing by at most 3, 3,
    1 and 1.
    Soft memberships in ``probabilities_``.
``bgmm``
    Variational Bayesian Gaussian mixture (Dirichlet-process prior), same settings; ``n_clusters``
    is an upper bound and ``n_effective_components_`` counts the components of weight at least
    :data:`BGMM_WEIGHT_THRESHOLD` (1 % of customers).
``dbscan``
    Density clusters; ``eps=None`` takes the knee of the k-distance curve
    (:func:`~rfm_core.segments.clustering.diagnostics.k_distance`).
    Label ``-1`` is noise.
``hdbscan``
    :class:`sklearn.cluster.HDBSCAN`; ``min_cluster_size=None`` means
    ``max(min_samples, 2 % of the customers it is fitted on)``: a segment smaller than that is
    rarely worth a campaign of its own. Label ``-1`` is noise.
``agglomerative``
    Hierarchical clustering with ward, complete, average or single linkage (:data:`LINKAGES`);
    :func:`~rfm_core.segments.clustering.diagnostics.dendrogram` draws the tree.

Large tables
------------
No model is fitted on more customers than it can handle. Above ``sample_limit`` customers
(20,000 by default), a model is fitted on a seeded random sample of that size: the quadratic
methods (``dbscan``, ``hdbscan``, ``agglomerative``) must be, and the mixtures are for speed (the
variational mixture needs hundreds of EM iterations: 20 s on 100,000 customers, 0.6 s on 20,000).
Ward, complete and average linkage hold an n × n distance matrix and are capped at
:data:`MATRIX_SAMPLE_LIMIT` = 10,000 customers (about 1 GB). ``kmeans`` is cheap and fitted on up
to :data:`KMEANS_SAMPLE_FACTOR` × ``sample_limit`` (100,000 by default), the sample
:func:`~rfm_core.segments.clustering.selection.select_k` uses. Every customer is then labelled:
the models that can predict do; ``dbscan`` gives each remaining customer the cluster of its
nearest core customer when it lies within ``eps`` (else noise); ``hdbscan`` and
``agglomerative`` take a distance-weighted vote of the 5 nearest fitted customers
(:class:`~sklearn.neighbors.KNeighborsClassifier`). ``fitted_on_sample_`` and ``sample_size_``
tell the user so.

Label order
-----------
Cluster 0 is the most valuable. The *value score* of a cluster is the mean, over the features,
of ``sign × center``, where the center is the mean of the cluster's customers in model space and
the sign (:data:`VALUE_SIGNS`) is −1 for recency and days between purchases (lower is better),
+1 otherwise. Clusters are numbered by value score, descending (ties: larger cluster first).
Noise stays −1. Mixture components that no customer belongs to come last, by weight.

Fits shared with the k sweep
----------------------------
:func:`~rfm_core.segments.clustering.selection.select_k` fits k-means at every k on the same
customers, transform, sample and seed as ``Segmenter(method="kmeans")`` does; it keeps each fit
as a :class:`KMeansFit`. :meth:`Segmenter.fit` given those fits (``kmeans_fits=``) takes the one
of its ``n_clusters`` instead of fitting again when it was fitted with the same parameters on a
matrix with the same bytes (:func:`matrix_digest`): the result is the one a new fit would give,
without the cost (at a million customers, ten starts on a 100,000-customer sample).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering, KMeans
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.utils.validation import check_is_fitted

from rfm_core.config import LINKAGES, METHODS, NOISE_LABEL
from rfm_core.segments.checks import check_number
from rfm_core.segments.clustering.base import (
    ClusteringError,
    _as_matrix,
    _check_int,
    _limited_threads,
)
from rfm_core.segments.clustering.diagnostics import _k_distances, _suggest_eps
from rfm_core.segments.features import DEFAULT_FEATURES, feature_frame, make_transform
from rfm_core.segments.sampling import sample_rows

__all__ = [
    "BGMM_WEIGHT_THRESHOLD",
    "KMEANS_N_INIT",
    "KMEANS_SAMPLE_FACTOR",
    "MATRIX_SAMPLE_LIMIT",
    "MIXTURE_N_INIT",
    "MIXTURE_REG_COVAR",
    "VALUE_SIGNS",
    "KMeansFit",
    "Segmenter",
    "matrix_digest",
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

KMEANS_N_INIT = 10
MIXTURE_N_INIT = 2
MIXTURE_REG_COVAR = 0.05
BGMM_WEIGHT_THRESHOLD = 0.01
"""A Bayesian mixture component counts as effective when its weight is at least this share."""
KMEANS_SAMPLE_FACTOR = 5
"""k-means is fitted on at most this many times ``sample_limit`` customers."""
MATRIX_SAMPLE_LIMIT = 10_000
"""Cap on the fitting sample of ward, complete and average linkage (n × n distance matrix)."""

_DENSITY_METHODS = ("dbscan", "hdbscan")
_MIXTURES = ("gmm", "bgmm")
_HDBSCAN_MIN_SHARE = 0.02
_ASSIGN_NEIGHBOURS = 5


def matrix_digest(x: np.ndarray) -> str:
    """Fingerprint of a matrix: its shape, dtype and bytes (BLAKE2b, 128 bits).

    Parameters
    ----------
    x : numpy.ndarray
        Customers in model space, one per row.

    Returns
    -------
    str
        Hex digest; equal digests mean the same matrix, bit for bit.
    """
    matrix = np.ascontiguousarray(x)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{matrix.shape}{matrix.dtype.str}".encode())
    digest.update(matrix.data)
    return digest.hexdigest()


@dataclass(frozen=True)
class KMeansFit:
    """A fitted k-means and the matrix it was fitted on, by digest (see the module docstring).

    Attributes
    ----------
    model : sklearn.cluster.KMeans
        Fitted; never modified afterwards.
    digest : str
        :func:`matrix_digest` of the matrix it was fitted on.
    """

    model: KMeans
    digest: str

    def reusable_for(self, x: np.ndarray, n_clusters: int, random_state: int) -> bool:
        """Whether fitting ``_kmeans(n_clusters, random_state)`` on ``x`` would give this model.

        Parameters
        ----------
        x : numpy.ndarray
            The matrix a new fit would see.
        n_clusters, random_state : int
            Of the new fit.

        Returns
        -------
        bool
            True when the parameters are those of the new fit and ``x`` has the same bytes.
        """
        same_model = self.model.get_params() == _kmeans(n_clusters, random_state).get_params()
        return same_model and self.digest == matrix_digest(x)


class _NearestCore:
    """DBSCAN's rule for a new point: the cluster of its nearest core point within ``eps``."""

    def __init__(self, cores: np.ndarray, labels: np.ndarray, eps: float) -> None:
        self.eps = eps
        self.labels = labels
        self.index = NearestNeighbors(n_neighbors=1).fit(cores) if len(cores) else None

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Cluster of the nearest core point of each row of ``x``, noise beyond ``eps``.

        Parameters
        ----------
        x : numpy.ndarray
            Customers in model space, one per row.

        Returns
        -------
        numpy.ndarray of int64
            Raw DBSCAN label of each row; :data:`~rfm_core.config.NOISE_LABEL` when no core
            point lies within ``eps``.
        """
        if self.index is None:
            return np.full(len(x), NOISE_LABEL, dtype=np.int64)
        distance, nearest = self.index.kneighbors(x)
        return np.where(distance[:, 0] <= self.eps, self.labels[nearest[:, 0]], NOISE_LABEL)


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
    def fit(
        self,
        rfm_table: pd.DataFrame,
        y: Any = None,
        *,
        kmeans_fits: Mapping[int, KMeansFit] | None = None,
    ) -> Segmenter:
        """Fit the model on the customers of ``rfm_table`` and label every one of them.

        Parameters
        ----------
        rfm_table : pandas.DataFrame
            :attr:`rfm_core.customers.rfm.RfmResult.table`, or any frame with the ``features``
            columns.
        y : ignored
        kmeans_fits : mapping of int to KMeansFit, optional
            k-means fits already made, by number of clusters (the k sweep's,
            :attr:`~rfm_core.segments.clustering.selection.ModelSelection.kmeans_fits`). The one
            of ``n_clusters`` is taken instead of a new fit when
            :meth:`KMeansFit.reusable_for` says it is the same fit; otherwise k-means is fitted.

        Returns
        -------
        Segmenter
            ``self``, fitted.

        Raises
        ------
        ClusteringError
            An invalid parameter, or a table too small for it.
        RfmError
            A missing feature column or an unknown transform.
        """
        self._check_params()
        frame = feature_frame(rfm_table, features=self.features)
        self._check_size(len(frame))
        self.transform_ = make_transform(
            transform=self.transform, random_state=self.random_state
        ).fit(frame)
        x = _as_matrix(self.transform_.transform(frame))
        rows = sample_rows(len(x), limit=self._fit_limit(), random_state=self.random_state)
        x_fit = x if rows is None else x[rows]
        self.fitted_on_sample_ = rows is not None
        self.sample_size_ = len(x_fit)
        self.eps_ = None
        self.min_cluster_size_ = None
        raw, proba = self._raw_labels(x, x_fit, rows, kmeans_fits or {})
        weights = self.estimator_.weights_ if proba is not None else None
        n_raw = proba.shape[1] if proba is not None else int(raw.max(initial=NOISE_LABEL)) + 1
        self._label_of_raw = _value_order(x, raw, n_raw, self.features, weights=weights)
        self.labels_ = _relabel(raw, self._label_of_raw)
        self.n_clusters_ = int(self.labels_.max(initial=NOISE_LABEL)) + 1
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

        Parameters
        ----------
        rfm_table : pandas.DataFrame
            One row per customer with the ``features`` columns.

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
        """Mixtures: membership probabilities of each customer, without refitting.

        Parameters
        ----------
        rfm_table : pandas.DataFrame
            One row per customer with the ``features`` columns.

        Returns
        -------
        numpy.ndarray or None
            For ``gmm`` and ``bgmm``, n × ``n_clusters``, columns in label order (as
            :attr:`probabilities_`); None for the other methods.
        """
        check_is_fitted(self, "labels_")
        if self.method not in _MIXTURES:
            return None
        x = _as_matrix(self.transform_features(rfm_table))
        return self.estimator_.predict_proba(x)[:, self._raw_of_label()]

    def transform_features(self, rfm_table: pd.DataFrame) -> pd.DataFrame:
        """Features of ``rfm_table`` in model space, through the transform fitted by :meth:`fit`.

        (Not named ``transform``: scikit-learn requires that attribute to hold the parameter.)

        Parameters
        ----------
        rfm_table : pandas.DataFrame
            One row per customer with the ``features`` columns.

        Returns
        -------
        pandas.DataFrame
            float64, index ``customer_id``, one column per feature.
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
        check_number(
            self.eps,
            "eps",
            minimum=0,
            include_boundaries="neither",
            optional=True,
            error=ClusteringError,
        )

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

    def _fit_estimator(
        self, x: np.ndarray, kmeans_fits: Mapping[int, KMeansFit]
    ) -> np.ndarray | None:
        """Fit ``estimator_`` (and ``assigner_``); return raw labels of ``x`` (None: mixtures)."""
        seed = self.random_state
        if self.method == "kmeans":
            done = kmeans_fits.get(self.n_clusters)
            if done is not None and done.reusable_for(x, self.n_clusters, seed):
                self.estimator_ = done.model
            else:
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
        self,
        x: np.ndarray,
        x_fit: np.ndarray,
        rows: np.ndarray | None,
        kmeans_fits: Mapping[int, KMeansFit],
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Fit on ``x_fit``; model labels of every row of ``x`` (and mixture probabilities)."""
        raw_fit = self._fit_estimator(x_fit, kmeans_fits)
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
    out = np.full(len(raw), NOISE_LABEL, dtype=np.int64)
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
