"""Four anomaly detectors behind one estimator, one call that flags and explains, agreement.

Every detector sees the customers through :mod:`rfm_core.segments.features` (the same feature matrix
and transform as the segmentation) and gives each customer an **anomaly score**, higher = stranger,
comparable between customers of one run. A customer is **flagged** when the score is strictly above
the detector's threshold. Flagged customers are only marked, never dropped.

Detectors (:data:`ANOMALY_METHODS`) and how the "share flagged" knob maps to each
--------------------------------------------------------------------------------
``iforest`` (default)
    :class:`sklearn.ensemble.IsolationForest`, :data:`IFOREST_N_ESTIMATORS` trees of
    ``min(`` :data:`IFOREST_MAX_SAMPLES` ``, n)`` customers each, seeded by ``random_state``.
    Score: ``−score_samples`` in (0, 1] (short isolation paths score high). Threshold: the
    ``1 − contamination`` quantile of the training scores, so ``contamination`` (default 2%) is
    the share flagged. It is always set explicitly: scikit-learn's ``contamination="auto"``
    flags about 22% of the Online Retail customers.
``gmm``
    A Bayesian Gaussian mixture (:data:`GMM_COMPONENTS` full-covariance components, Dirichlet
    process prior) fitted on at most ``sample_limit`` customers. Score: minus the log density
    under the components that hold at least :data:`MIN_COMPONENT_WEIGHT` of the customers; a
    tight clump of a few odd customers (twenty wholesalers) could otherwise claim a component of
    its own and look "dense". Threshold: customers whose density lies below the
    ``density_percentile``-th percentile (default :data:`DEFAULT_DENSITY_PERCENTILE` = 3%) are
    flagged; ``density_percentile`` is the share flagged in percent and ``contamination`` is not
    used. Pass ``density_percentile=100 * contamination`` to flag the same share as iforest.
``lof``
    :class:`sklearn.neighbors.LocalOutlierFactor` with ``n_neighbors`` (default 20) and
    ``novelty=True``, so that it scores new customers. Neighbour search grows faster than
    linearly, so it is fitted on a seeded sample of at most ``sample_limit`` customers. Score:
    the local outlier factor (about 1 inside a cluster, larger outside); for the customers it was
    fitted on, their own LOF (leaving themselves out). Threshold: the ``1 − contamination``
    quantile of the training scores, as for iforest. LOF finds customers that are isolated
    *locally*: a clump of alike odd customers bigger than ``n_neighbors`` (hundreds of identical
    bulk buyers) is a dense cluster to it and is not flagged.
``zscore``
    Robust z-score per feature, ``(x − median) / (1.4826 · MAD)`` in model space (with the
    default ``log-standard`` transform: on the ``log1p`` scale, i.e. ratios). When a feature's
    MAD is 0 (more than half the customers share one value: one order, on a log where most
    customers buy once) the mean absolute deviation times 1.2533 is used (Iglewicz & Hoaglin) and
    the result's notes say so; a constant feature cannot flag anyone. Score: the largest ``|z|``
    over the features. Threshold: ``z_threshold`` (default :data:`DEFAULT_Z_THRESHOLD` = 3.5,
    Iglewicz & Hoaglin's cut-off), **but never more than ``contamination`` of the customers**:
    when more than ``⌈contamination · n⌉`` customers lie beyond the cut-off, the threshold rises
    to flag only that many, the most extreme first. A cut-off in robust standard deviations
    assumes one bell-shaped mode; real logs break it (on a log where most customers bought once,
    early, recency has a narrow mode of one-time buyers and every repeat buyer lies "beyond 3.5",
    30% of the customers), and no detector may flag far more than the share the user asked for.

Every detector flags at most about its stated share: ``contamination`` (iforest, lof, zscore) or
``density_percentile`` (gmm); ties at the threshold can only flag fewer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import multivariate_normal
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest
from sklearn.mixture import BayesianGaussianMixture
from sklearn.neighbors import LocalOutlierFactor
from sklearn.utils.validation import check_is_fitted

from rfm_core.config import ANOMALY_METHODS, DEFAULT_FEATURES, TRANSFORMS
from rfm_core.errors import RfmError
from rfm_core.labels import DETECTOR_LABELS
from rfm_core.segments.anomalies.explain import _robust_center_scale, _z, explain
from rfm_core.segments.checks import check_number
from rfm_core.segments.features import feature_frame, make_transform
from rfm_core.segments.progress import Progress, reporter
from rfm_core.segments.sampling import sample_rows

__all__ = [
    "ANOMALY_METHODS",
    "DEFAULT_CONTAMINATION",
    "DEFAULT_DENSITY_PERCENTILE",
    "DEFAULT_Z_THRESHOLD",
    "GMM_COMPONENTS",
    "IFOREST_MAX_SAMPLES",
    "IFOREST_N_ESTIMATORS",
    "MIN_COMPONENT_WEIGHT",
    "MIN_CUSTOMERS",
    "AnomalyAgreement",
    "AnomalyDetector",
    "AnomalyResult",
    "detect_anomalies",
    "detector_agreement",
    "detector_notes",
    "share_options",
]

DEFAULT_CONTAMINATION = 0.02
DEFAULT_DENSITY_PERCENTILE = 3.0
DEFAULT_Z_THRESHOLD = 3.5
IFOREST_N_ESTIMATORS = 200
# recall of planted anomalies on 7 generated logs (1,500–3,000 customers) × 3 seeds, mean (min):
# 256 (scikit-learn's default) 0.93 (0.86), 512 0.98 (0.93), 1024 0.97 (0.93), all 0.87 (0.75);
# small trees miss clumps of alike whales less than big ones, but very small ones are noisy
IFOREST_MAX_SAMPLES = 512
GMM_COMPONENTS = 8
MIN_COMPONENT_WEIGHT = 0.02
MIN_CUSTOMERS = 10

_DETECTOR_OPTIONS = ("n_neighbors", "density_percentile", "z_threshold", "sample_limit")


class AnomalyDetector(BaseEstimator):
    """Score customers for strangeness and flag the strangest (see the module docstring).

    Parameters
    ----------
    method : {"iforest", "gmm", "lof", "zscore"}, default "iforest"
    contamination : float, default 0.02
        Share of customers flagged by ``iforest`` and ``lof``, and the most ``zscore`` flags,
        in (0, 0.5].
    features : sequence of str, default ``DEFAULT_FEATURES``
        Columns of the RFM table (see :func:`rfm_core.segments.features.feature_frame`).
    transform : {"log-standard", "minmax", "quantile"}, default "log-standard"
    n_neighbors : int, default 20
        Neighbours of ``lof`` (capped at the number of customers fitted minus one).
    density_percentile : float, optional
        ``gmm`` flags customers whose density is below this percentile of the training
        densities, in (0, 50]; ``None`` means :data:`DEFAULT_DENSITY_PERCENTILE` (3).
    z_threshold : float, optional
        ``zscore`` flags customers with a robust ``|z|`` above this on some feature;
        ``None`` means :data:`DEFAULT_Z_THRESHOLD` (3.5).
    sample_limit : int, default 100_000
        ``gmm`` and ``lof`` are fitted on a seeded random sample of this many customers when
        there are more; every customer is still scored.
    random_state : int, default 0
        Seeds the forest, the mixture, the sample and the quantile transform.

    Attributes
    ----------
    transform_ : sklearn.pipeline.Pipeline
        Fitted feature transform.
    model_ : object
        Fitted scikit-learn model (``None`` for ``zscore``).
    center_, scale_ : numpy.ndarray
        ``zscore`` only: per-feature median and robust scale in model space.
    tied_features_ : tuple of str
        ``zscore`` only: features whose MAD is 0 (scaled by the mean absolute deviation).
    beyond_cut_ : int
        ``zscore`` only: customers beyond ``z_threshold``, before the cap at ``contamination``.
    scores_ : numpy.ndarray of float64
        Anomaly score of every customer fitted on, in input order.
    threshold_ : float
        Customers with a score strictly above it are flagged (in score units).
    flags_ : numpy.ndarray of bool
        ``scores_ > threshold_``.
    n_samples_fit_ : int
        Customers the model itself was fitted on (after sampling).
    feature_names_in_ : numpy.ndarray of str
    """

    def __init__(
        self,
        *,
        method: str = "iforest",
        contamination: float = DEFAULT_CONTAMINATION,
        features: Sequence[str] = DEFAULT_FEATURES,
        transform: str = "log-standard",
        n_neighbors: int = 20,
        density_percentile: float | None = None,
        z_threshold: float | None = None,
        sample_limit: int = 100_000,
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.contamination = contamination
        self.features = features
        self.transform = transform
        self.n_neighbors = n_neighbors
        self.density_percentile = density_percentile
        self.z_threshold = z_threshold
        self.sample_limit = sample_limit
        self.random_state = random_state

    def fit(self, rfm_table: pd.DataFrame, y: Any = None) -> AnomalyDetector:
        """Fit on the customers of ``rfm_table`` and score and flag each of them.

        Parameters
        ----------
        rfm_table : pandas.DataFrame
            One row per customer with the feature columns (e.g. ``RfmResult.table``).
        y : ignored

        Returns
        -------
        AnomalyDetector
            ``self``.

        Raises
        ------
        RfmError
            An invalid parameter, a missing feature column, or fewer than
            :data:`MIN_CUSTOMERS` customers.
        """
        self._check_params()
        frame = feature_frame(rfm_table, features=self.features)
        if len(frame) < MIN_CUSTOMERS:
            raise RfmError(
                f"anomaly detection needs at least {MIN_CUSTOMERS} customers, got {len(frame)}"
            )
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.transform_ = make_transform(transform=self.transform, random_state=self.random_state)
        x = self.transform_.fit_transform(frame).to_numpy(dtype="float64")
        fit_rows = sample_rows(len(x), limit=self.sample_limit, random_state=self.random_state)
        self.n_samples_fit_ = len(x) if fit_rows is None else len(fit_rows)
        self.scores_ = self._FIT_BY_METHOD[self.method](self, x, fit_rows)
        self.threshold_ = self._threshold(self.scores_)
        self.flags_ = self.scores_ > self.threshold_
        if self.method in ("iforest", "lof"):
            self.model_.offset_ = -self.threshold_
        return self

    def score_samples(self, rfm_table: pd.DataFrame) -> np.ndarray:
        """Anomaly score of each customer (higher = stranger), without refitting.

        Parameters
        ----------
        rfm_table : pandas.DataFrame
            One row per customer with the feature columns the detector was fitted on.

        Returns
        -------
        numpy.ndarray of float64
            One score per row, in the units of :attr:`threshold_`.
        """
        check_is_fitted(self, "threshold_")
        frame = feature_frame(rfm_table, features=tuple(self.feature_names_in_))
        x = self.transform_.transform(frame).to_numpy(dtype="float64")
        return self._score(x)

    def predict(self, rfm_table: pd.DataFrame) -> np.ndarray:
        """Flag each customer: ``score_samples(rfm_table) > threshold_``.

        For ``iforest``, ``gmm`` and ``zscore`` this equals :attr:`flags_` on the customers
        fitted on. For ``lof`` a fitted customer is scored here as a new one (its own point
        counts among its neighbours), which can differ from :attr:`flags_`.

        Parameters
        ----------
        rfm_table : pandas.DataFrame
            One row per customer with the feature columns the detector was fitted on.

        Returns
        -------
        numpy.ndarray of bool
            One flag per row.
        """
        return self.score_samples(rfm_table) > self.threshold_

    # -- per method ---------------------------------------------------------------------------

    def _fit_iforest(self, x: np.ndarray, fit_rows: np.ndarray | None) -> np.ndarray:
        # the forest subsamples for itself, so every customer takes part; "auto" spares
        # scikit-learn a scoring pass over every customer to place an offset of its own:
        # fit() sets offset_ from threshold_, so that model_.predict agrees with predict
        self.model_ = IsolationForest(
            n_estimators=IFOREST_N_ESTIMATORS,
            max_samples=min(IFOREST_MAX_SAMPLES, len(x)),
            contamination="auto",
            random_state=self.random_state,
        ).fit(x)
        return self._score(x)

    def _fit_gmm(self, x: np.ndarray, fit_rows: np.ndarray | None) -> np.ndarray:
        sample = x if fit_rows is None else x[fit_rows]
        self.model_ = BayesianGaussianMixture(
            n_components=min(GMM_COMPONENTS, len(sample)),
            covariance_type="full",
            weight_concentration_prior_type="dirichlet_process",
            max_iter=500,
            random_state=self.random_state,
        ).fit(sample)
        self.components_kept_ = self.model_.weights_ >= MIN_COMPONENT_WEIGHT
        return self._score(x)

    def _fit_lof(self, x: np.ndarray, fit_rows: np.ndarray | None) -> np.ndarray:
        sample = x if fit_rows is None else x[fit_rows]
        self.model_ = LocalOutlierFactor(
            n_neighbors=min(self.n_neighbors, len(sample) - 1),
            novelty=True,
            contamination=self.contamination,
        ).fit(sample)
        own = -self.model_.negative_outlier_factor_
        if fit_rows is None:
            return own.astype("float64")
        scores = np.empty(len(x), dtype="float64")
        rest = np.ones(len(x), dtype=bool)
        rest[fit_rows] = False
        scores[fit_rows] = own
        scores[rest] = self._score(x[rest])
        return scores

    def _fit_zscore(self, x: np.ndarray, fit_rows: np.ndarray | None) -> np.ndarray:
        self.model_ = None
        self.center_, self.scale_ = _robust_center_scale(x)
        tied = np.median(np.abs(x - self.center_), axis=0) == 0
        self.tied_features_ = tuple(str(n) for n in self.feature_names_in_[tied])
        return self._score(x)

    # fit the model of a method on x (fit_rows: its sample, None for all) and score every row
    _FIT_BY_METHOD: ClassVar[dict[str, Callable[..., np.ndarray]]] = {
        "iforest": _fit_iforest,
        "gmm": _fit_gmm,
        "lof": _fit_lof,
        "zscore": _fit_zscore,
    }

    def _score(self, x: np.ndarray) -> np.ndarray:
        if self.method in ("iforest", "lof"):
            return -self.model_.score_samples(x)
        if self.method == "gmm":
            return -_main_log_density(self.model_, self.components_kept_, x)
        z = _z(x, self.center_, self.scale_)
        return np.abs(z).max(axis=1)

    def _threshold(self, scores: np.ndarray) -> float:
        if self.method == "zscore":
            cut = float(DEFAULT_Z_THRESHOLD if self.z_threshold is None else self.z_threshold)
            self.beyond_cut_ = int((scores > cut).sum())
            most = max(1, math.ceil(self.contamination * len(scores)))
            if self.beyond_cut_ <= most:
                return cut
            # the (most + 1)-th largest score: only the `most` strongest lie strictly above it
            return float(np.partition(scores, len(scores) - most - 1)[len(scores) - most - 1])
        if self.method == "gmm":
            share = (
                DEFAULT_DENSITY_PERCENTILE
                if self.density_percentile is None
                else self.density_percentile
            ) / 100
        else:
            share = self.contamination
        return float(np.quantile(scores, 1 - share))

    def _check_params(self) -> None:
        if self.method not in ANOMALY_METHODS:
            raise RfmError(
                f"method must be one of {', '.join(ANOMALY_METHODS)}, got {self.method!r}"
            )
        if self.transform not in TRANSFORMS:
            raise RfmError(
                f"transform must be one of {', '.join(TRANSFORMS)}, got {self.transform!r}"
            )
        check_number(
            self.contamination,
            "contamination",
            minimum=0,
            maximum=0.5,
            include_boundaries="right",
        )
        if self.density_percentile is not None:
            check_number(
                self.density_percentile,
                "density_percentile",
                minimum=0,
                maximum=50,
                include_boundaries="right",
            )
        if self.z_threshold is not None:
            check_number(self.z_threshold, "z_threshold", minimum=0, include_boundaries="neither")
        for name, value, minimum in (
            ("n_neighbors", self.n_neighbors, 1),
            ("sample_limit", self.sample_limit, MIN_CUSTOMERS),
        ):
            check_number(
                value,
                name,
                integer=True,
                minimum=minimum,
                message=f"{name} must be an integer of at least {minimum}, got {value!r}",
            )


def _main_log_density(
    mixture: BayesianGaussianMixture, kept: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """``log Σ_k w_k N(x | μ_k, Σ_k)`` over the kept components (weights not renormalised)."""
    parts = [
        np.log(mixture.weights_[k])
        + multivariate_normal(mixture.means_[k], mixture.covariances_[k], allow_singular=True)
        .logpdf(x)
        .reshape(len(x))
        for k in np.flatnonzero(kept)
    ]
    return np.logaddexp.reduce(np.stack(parts, axis=1), axis=1)


# -- one call for the pages and the CLI -----------------------------------------------------


@dataclass(frozen=True)
class AnomalyResult:
    """Flags, scores and reasons of one detector run.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``customer_id`` in input order; columns ``anomaly`` (bool), ``anomaly_score``
        (float64, higher = stranger), ``anomaly_reason`` and ``anomaly_category`` (str, ``""``
        for customers not flagged).
    method : str
    threshold : float
        Scores strictly above it are flagged.
    n_flagged : int
    detector : AnomalyDetector
        The fitted detector; scores new customers without refitting.
    notes : tuple of str
        What a user should know about this run (a capped z-score, a feature whose MAD is 0).
    """

    table: pd.DataFrame
    method: str
    threshold: float
    n_flagged: int
    detector: AnomalyDetector
    notes: tuple[str, ...] = ()

    @property
    def flagged(self) -> pd.DataFrame:
        """Flagged customers, strangest first.

        Returns
        -------
        pandas.DataFrame
            The rows of :attr:`table` with ``anomaly`` true, by ``anomaly_score`` descending.
        """
        rows = self.table.loc[self.table["anomaly"]]
        return rows.sort_values("anomaly_score", ascending=False, kind="stable")

    def reworded(self, rfm_table: pd.DataFrame, *, currency: str) -> AnomalyResult:
        """The same flags and scores, with reasons whose amounts carry ``currency``.

        The reasons are written again as :func:`detect_anomalies` writes them (nothing is
        refitted), so that a currency set after the detection still reaches them.

        Parameters
        ----------
        rfm_table : pandas.DataFrame
            The customers the detector ran on.
        currency : str
            Prefix of money amounts, e.g. ``"£"``.

        Returns
        -------
        AnomalyResult
        """
        words = explain(
            rfm_table, self.table["anomaly"], features=self.detector.features, currency=currency
        )
        table = self.table.drop(columns=list(words.columns)).join(words)
        return replace(self, table=table)


def detect_anomalies(
    rfm_table: pd.DataFrame,
    *,
    method: str = "iforest",
    contamination: float = DEFAULT_CONTAMINATION,
    features: Sequence[str] = DEFAULT_FEATURES,
    transform: str = "log-standard",
    random_state: int = 0,
    currency: str = "",
    **options: Any,
) -> AnomalyResult:
    """Fit one detector, flag customers and explain each flag.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        ``RfmResult.table`` (index ``customer_id``).
    method, contamination, features, transform, random_state
        See :class:`AnomalyDetector`.
    currency : str, default ""
        Prefix of money amounts in the reasons.
    **options
        ``n_neighbors``, ``density_percentile``, ``z_threshold`` or ``sample_limit``, passed to
        :class:`AnomalyDetector`.

    Returns
    -------
    AnomalyResult
        Reasons compare each flagged customer with the median of the customers not flagged.

    Raises
    ------
    RfmError
        An unknown option, or what :meth:`AnomalyDetector.fit` refuses.
    """
    unknown = sorted(set(options) - set(_DETECTOR_OPTIONS))
    if unknown:
        raise RfmError(f"unknown option {unknown[0]!r}; choose from {', '.join(_DETECTOR_OPTIONS)}")
    detector = AnomalyDetector(
        method=method,
        contamination=contamination,
        features=tuple(features),
        transform=transform,
        random_state=random_state,
        **options,
    ).fit(rfm_table)
    flags = detector.flags_
    words = explain(rfm_table, flags, features=features, currency=currency)
    table = pd.DataFrame(
        {"anomaly": flags, "anomaly_score": detector.scores_.astype("float64")},
        index=rfm_table.index,
    ).join(words)
    return AnomalyResult(
        table=table,
        method=method,
        threshold=detector.threshold_,
        n_flagged=int(flags.sum()),
        detector=detector,
        notes=detector_notes(detector),
    )


def detector_notes(detector: AnomalyDetector) -> tuple[str, ...]:
    """What a user should know about a fitted detector's flags, in words.

    Parameters
    ----------
    detector : AnomalyDetector
        Fitted.

    Returns
    -------
    tuple of str
        For ``zscore``: the features whose MAD is 0 (scaled by the mean absolute deviation
        instead), and how many customers lay beyond the cut-off when the share capped them.
        Empty for the other methods.
    """
    if detector.method != "zscore":
        return ()
    notes = [
        f"{name}: more than half the customers share one value, so its median absolute "
        "deviation is 0; its spread is measured by the mean absolute deviation instead"
        for name in getattr(detector, "tied_features_", ())
    ]
    beyond = getattr(detector, "beyond_cut_", 0)
    flagged = int(detector.flags_.sum())
    if beyond > flagged:
        cut = DEFAULT_Z_THRESHOLD if detector.z_threshold is None else detector.z_threshold
        notes.append(
            f"{beyond:,} customers lie more than {cut:g} robust standard deviations from the "
            f"median: far more than the share asked for ({detector.contamination:.1%}), so the "
            f"data has no single typical mode; only the {flagged:,} most extreme are flagged"
        )
    return tuple(notes)


# -- agreement ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnomalyAgreement:
    """Where detectors agree.

    Attributes
    ----------
    flags : pandas.DataFrame
        Index ``customer_id``, one bool column per method.
    pairwise : pandas.DataFrame
        Method × method Jaccard index of the flagged sets, ``|A ∩ B| / |A ∪ B|`` (1 on the
        diagonal; 1 when both sets are empty).
    counts : pandas.Series
        Index ``n_methods`` 0..len(methods): customers flagged by exactly that many methods.
    """

    flags: pd.DataFrame
    pairwise: pd.DataFrame
    counts: pd.Series


def share_options(method: str, contamination: float) -> dict[str, float]:
    """Options that make ``method`` flag the share ``contamination`` where it can.

    The mixture's knob is its density percentile; the isolation forest, LOF and the robust
    z-score (as the most it flags beyond its cut-off) take the share itself.

    Parameters
    ----------
    method : {"iforest", "gmm", "lof", "zscore"}
    contamination : float
        Share of customers to flag, in (0, 0.5].

    Returns
    -------
    dict of str to float
        Keyword options for :class:`AnomalyDetector`: ``{"density_percentile": 100 ×
        contamination}`` for ``gmm``, else empty.
    """
    return {"density_percentile": 100 * contamination} if method == "gmm" else {}


def detector_agreement(
    rfm_table: pd.DataFrame,
    *,
    methods: Sequence[str] = ANOMALY_METHODS,
    contamination: float = DEFAULT_CONTAMINATION,
    features: Sequence[str] = DEFAULT_FEATURES,
    transform: str = "log-standard",
    random_state: int = 0,
    progress: Progress | None = None,
) -> AnomalyAgreement:
    """Run several detectors on the same customers and compare their flags.

    So that the shares are comparable, ``gmm`` flags ``contamination`` of the customers here
    (``density_percentile = 100 × contamination``); ``zscore`` flags the customers beyond its
    cut-off (:data:`DEFAULT_Z_THRESHOLD`), at most ``contamination`` of them.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        ``RfmResult.table`` (index ``customer_id``).
    methods : sequence of str, default all of :data:`ANOMALY_METHODS`
        Detectors to compare, each at most once.
    contamination, features, transform, random_state
        See :class:`AnomalyDetector`.
    progress : callable, optional
        Hears ``(share done, words)`` before each detector and at the end
        (:mod:`rfm_core.segments.progress`).

    Returns
    -------
    AnomalyAgreement

    Raises
    ------
    RfmError
        No method, an unknown or repeated method, or an invalid option of a detector.
    """
    methods = tuple(methods)
    if not methods:
        raise RfmError("choose at least one method")
    for method in methods:
        if method not in ANOMALY_METHODS:
            raise RfmError(f"method must be one of {', '.join(ANOMALY_METHODS)}, got {method!r}")
    if len(set(methods)) != len(methods):
        raise RfmError(f"methods are repeated: {', '.join(methods)}")
    report = reporter(progress)
    columns = {}
    for done, method in enumerate(methods):
        label = DETECTOR_LABELS[method]
        report(done / len(methods), f"{label} ({done + 1} of {len(methods)})")
        options = share_options(method, contamination)
        detector = AnomalyDetector(
            method=method,
            contamination=contamination,
            features=tuple(features),
            transform=transform,
            random_state=random_state,
            **options,
        ).fit(rfm_table)
        columns[method] = detector.flags_
    flags = pd.DataFrame(columns, index=rfm_table.index)
    pairwise = pd.DataFrame(
        [[_jaccard(flags[a].to_numpy(), flags[b].to_numpy()) for b in methods] for a in methods],
        index=pd.Index(methods, name="method"),
        columns=pd.Index(methods, name="method"),
    )
    per_customer = flags.sum(axis=1).to_numpy()
    counts = pd.Series(
        np.bincount(per_customer, minlength=len(methods) + 1),
        index=pd.RangeIndex(len(methods) + 1, name="n_methods"),
        name="customers",
    )
    report(1.0, "done")
    return AnomalyAgreement(flags=flags, pairwise=pairwise, counts=counts)


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union
