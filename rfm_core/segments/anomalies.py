"""Anomalous customers: four detectors, reasons in words, and a classifier that imitates them.

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
    MAD is 0 the mean absolute deviation times 1.2533 is used (Iglewicz & Hoaglin); a constant
    feature cannot flag anyone. Score: the largest ``|z|`` over the features. Threshold:
    ``z_threshold`` (default :data:`DEFAULT_Z_THRESHOLD` = 3.5, Iglewicz & Hoaglin's cut-off);
    the share flagged is whatever exceeds it, ``contamination`` is not used.

Reasons and categories (:func:`explain`)
----------------------------------------
Each flagged customer's features are compared with the median of a reference group (by default
the customers that are not flagged) through a robust z on the ``log1p`` scale (as for
``zscore``). Features with ``|z| ≥`` :data:`TYPICAL_Z` are described with their value and the
reference median ("monetary 48× the median (£1.2M vs £25k)", "last purchase 320 days ago vs
median 50"); the others are "typical". Features are listed by ``|z|``, the strongest push first.
The category is the first rule that applies, in this order:

``possible data error``
    The table has a ``cancelled_amount`` column (value of the customer's cancelled or returned
    lines, removed by cleaning; its sign is ignored) and it is at least :data:`CANCELLED_SHARE`
    (50%) of ``monetary`` (what the customer bought). The reason starts with "large order later
    cancelled (£77k cancelled of £77k bought)", or "most purchases later cancelled" when the
    cancelled amount is below the reference median spend. Or ``monetary`` ≤ 0: "returns exceed
    purchases". Without the column the cancellation rule is skipped.
``bulk single order``
    One order (``frequency == 1``) and spend (monetary or average order value) pushes the
    customer out upwards.
``machine-like buying``
    Frequency pushes the customer out upwards while the average order value is at most the
    reference median: many small orders, as a script or an automatic re-order places them.
``wholesale-like whale``
    Spend (monetary or average order value) pushes the customer out upwards, over several orders.
``tiny spender``
    Spend pushes the customer out downwards (e.g. a sample or test order of a few pence).
``unusual combination``
    Flagged, but none of the rules above applies: the detector reacted to the combination. The
    reason then reads "no single feature stands out: " followed by every feature with its
    value and the median, strongest first.

Normal customers get ``""`` as reason and category. Rules only look at spend and frequency when
they are among the features the detector used.

Classifier (:func:`train_anomaly_classifier`)
---------------------------------------------
An imbalanced-learn pipeline ``transform → SMOTE → GradientBoostingClassifier`` learns the
detector's flags so that new customers can be flagged without refitting. It reproduces the
detector; it is not ground truth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import multivariate_normal
from sklearn.base import BaseEstimator
from sklearn.ensemble import GradientBoostingClassifier, IsolationForest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.mixture import BayesianGaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.utils.validation import check_is_fitted

if TYPE_CHECKING:
    from imblearn.pipeline import Pipeline as ImbPipeline

from rfm_core.config import ANOMALY_METHODS, DEFAULT_FEATURES, TRANSFORMS
from rfm_core.errors import RfmError
from rfm_core.segments.features import feature_frame, make_transform, signed_log1p

__all__ = [
    "ANOMALY_METHODS",
    "CANCELLED_SHARE",
    "CATEGORIES",
    "CLASSIFIER_NOTE",
    "DEFAULT_CONTAMINATION",
    "DEFAULT_DENSITY_PERCENTILE",
    "DEFAULT_Z_THRESHOLD",
    "GMM_COMPONENTS",
    "IFOREST_MAX_SAMPLES",
    "IFOREST_N_ESTIMATORS",
    "METRIC_COLUMNS",
    "MIN_COMPONENT_WEIGHT",
    "MIN_CUSTOMERS",
    "MIN_FLAGGED_FOR_CLASSIFIER",
    "TYPICAL_Z",
    "AnomalyAgreement",
    "AnomalyDetector",
    "AnomalyResult",
    "ClassifierReport",
    "classify",
    "detect_anomalies",
    "detector_agreement",
    "explain",
    "robust_z",
    "share_options",
    "train_anomaly_classifier",
]

DATA_ERROR = "possible data error"
BULK_ORDER = "bulk single order"
MACHINE_LIKE = "machine-like buying"
WHALE = "wholesale-like whale"
TINY_SPENDER = "tiny spender"
UNUSUAL = "unusual combination"
CATEGORIES: tuple[str, ...] = (
    DATA_ERROR,
    BULK_ORDER,
    MACHINE_LIKE,
    WHALE,
    TINY_SPENDER,
    UNUSUAL,
    "",
)
"""Values of ``anomaly_category``, in rule order; ``""`` for customers that are not flagged."""

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
TYPICAL_Z = 2.0
CANCELLED_SHARE = 0.5
MIN_CUSTOMERS = 10
MIN_FLAGGED_FOR_CLASSIFIER = 6
METRIC_COLUMNS = ("accuracy", "precision", "recall", "f1", "support", "positives")
CLASSIFIER_NOTE = (
    "This classifier reproduces the anomaly detector's flags; it is not ground truth. Its "
    "accuracy, precision, recall and F1 measure how well it imitates the detector on customers "
    "it did not see, not whether those customers are truly anomalous. Retrain it whenever the "
    "detector or its settings change."
)

_MAD_TO_SIGMA = 1.4826  # 1 / Φ⁻¹(3/4): MAD of a normal distribution → its standard deviation
_MEAN_AD_TO_SIGMA = 1.2533  # √(π/2): mean absolute deviation of a normal → its sd
_DETECTOR_OPTIONS = ("n_neighbors", "density_percentile", "z_threshold", "sample_limit")
_SPEND = ("monetary", "avg_order_value")
_NO_SINGLE_FEATURE = "no single feature stands out"


# -- detector -------------------------------------------------------------------------------


class AnomalyDetector(BaseEstimator):
    """Score customers for strangeness and flag the strangest (see the module docstring).

    Parameters
    ----------
    method : {"iforest", "gmm", "lof", "zscore"}, default "iforest"
    contamination : float, default 0.02
        Share of customers flagged by ``iforest`` and ``lof``, in (0, 0.5].
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
        fit_rows = _sample_rows(len(x), self.sample_limit, self.random_state)
        self.n_samples_fit_ = len(x) if fit_rows is None else len(fit_rows)
        fit = getattr(self, f"_fit_{self.method}")
        self.scores_ = fit(x, fit_rows)
        self.threshold_ = self._threshold(self.scores_)
        self.flags_ = self.scores_ > self.threshold_
        if self.method in ("iforest", "lof"):
            self.model_.offset_ = -self.threshold_
        return self

    def score_samples(self, rfm_table: pd.DataFrame) -> np.ndarray:
        """Anomaly score of each customer (higher = stranger), without refitting.

        Returns
        -------
        numpy.ndarray of float64, one score per row.
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

        Returns
        -------
        numpy.ndarray of bool
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
        return self._score(x)

    def _score(self, x: np.ndarray) -> np.ndarray:
        if self.method in ("iforest", "lof"):
            return -self.model_.score_samples(x)
        if self.method == "gmm":
            return -_main_log_density(self.model_, self.components_kept_, x)
        z = _z(x, self.center_, self.scale_)
        return np.abs(z).max(axis=1)

    def _threshold(self, scores: np.ndarray) -> float:
        if self.method == "zscore":
            return float(DEFAULT_Z_THRESHOLD if self.z_threshold is None else self.z_threshold)
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
        _check_share("contamination", self.contamination, 0.5)
        if self.density_percentile is not None:
            _check_share("density_percentile", self.density_percentile, 50)
        if self.z_threshold is not None and not (
            _is_number(self.z_threshold) and self.z_threshold > 0
        ):
            raise RfmError(f"z_threshold must be a positive number, got {self.z_threshold!r}")
        _check_int("n_neighbors", self.n_neighbors, 1)
        _check_int("sample_limit", self.sample_limit, MIN_CUSTOMERS)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _check_share(name: str, value: object, upper: float) -> None:
    if not (_is_number(value) and 0 < value <= upper):
        raise RfmError(f"{name} must be in (0, {upper:g}], got {value!r}")


def _check_int(name: str, value: object, lower: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lower:
        raise RfmError(f"{name} must be an integer of at least {lower}, got {value!r}")


def _sample_rows(n_rows: int, limit: int, random_state: int) -> np.ndarray | None:
    """Sorted positions of a seeded sample of ``limit`` rows, or ``None`` to keep them all."""
    if n_rows <= limit:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, size=limit, replace=False))


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


# -- robust z -------------------------------------------------------------------------------


def _robust_center_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column median and robust scale (1.4826·MAD, else 1.2533·mean |x − median|)."""
    center = np.median(x, axis=0)
    deviation = np.abs(x - center)
    scale = _MAD_TO_SIGMA * np.median(deviation, axis=0)
    fallback = _MEAN_AD_TO_SIGMA * deviation.mean(axis=0)
    return center, np.where(scale > 0, scale, fallback)


def _z(x: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    diff = x - center
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / scale
    # a constant reference column: equal values are typical, any other value infinitely far
    constant = np.where(diff == 0, 0.0, np.copysign(np.inf, diff))
    return np.where(scale > 0, z, constant)


def robust_z(values: np.ndarray | pd.Series, reference: np.ndarray | pd.Series) -> np.ndarray:
    """Robust z of ``values`` on the ``log1p`` scale relative to ``reference``.

    ``z = (g(x) − median g(r)) / s`` with ``g(v) = sign(v)·log1p(|v|)`` and ``s`` = 1.4826 ×
    the median absolute deviation of ``g(r)`` (1.2533 × the mean absolute deviation when the MAD
    is 0). When ``s`` is 0 too, a value equal to the median has z 0 and any other ±inf.

    Returns
    -------
    numpy.ndarray of float64, same length as ``values``.
    """
    ref = signed_log1p(np.asarray(reference, dtype="float64")).reshape(-1, 1)
    center, scale = _robust_center_scale(ref)
    x = signed_log1p(np.asarray(values, dtype="float64")).reshape(-1, 1)
    return _z(x, center, scale)[:, 0]


# -- explanations ---------------------------------------------------------------------------

_NAMES = {
    "recency": "recency",
    "frequency": "frequency",
    "monetary": "monetary",
    "avg_order_value": "average order value",
    "tenure_days": "tenure",
    "mean_days_between_purchases": "days between purchases",
}


def explain(
    rfm_table: pd.DataFrame,
    flags: pd.Series | np.ndarray,
    *,
    features: Sequence[str] = DEFAULT_FEATURES,
    reference: pd.DataFrame | None = None,
    currency: str = "",
) -> pd.DataFrame:
    """Say in words why each flagged customer stands out, and what kind of anomaly it is.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        One row per customer with the feature columns; ``frequency`` and ``monetary`` feed the
        category rules, ``cancelled_amount`` (optional) the data-error rule.
    flags : pandas.Series or numpy.ndarray of bool
        Which customers are flagged: a Series with the table's index (aligned by label) or an
        array in row order.
    features : sequence of str
        Features to describe, as given to the detector.
    reference : pandas.DataFrame, optional
        Customers whose medians define "typical"; default: the customers of ``rfm_table`` that
        are not flagged (all of them when every customer is flagged).
    currency : str, default ""
        Prefix of money amounts, e.g. ``"£"``.

    Returns
    -------
    pandas.DataFrame
        Same index and order as ``rfm_table``; columns ``anomaly_reason`` and
        ``anomaly_category`` (see the module docstring), ``""`` for customers not flagged.

    Examples
    --------
    A customer who spent £1.2M over 3 orders, among customers who spend about £25k in 3 orders,
    gets ``"monetary 48× the median (£1.2M vs £25k), frequency typical"`` and the category
    ``"wholesale-like whale"``.
    """
    flagged = _flag_array(rfm_table, flags)
    values = feature_frame(rfm_table, features=features)
    if reference is None:
        reference = rfm_table.loc[~flagged] if (~flagged).any() else rfm_table
    ref_values = feature_frame(reference, features=features)
    if len(ref_values) == 0:
        raise RfmError("the reference customers are empty")
    rows = np.flatnonzero(flagged)
    picked = values.to_numpy()[rows]
    z = np.column_stack(
        [robust_z(picked[:, j], ref_values[name]) for j, name in enumerate(values.columns)]
    )
    facts = _category_facts(rfm_table, reference, rows)
    categories = _categories(dict(zip(values.columns, z.T, strict=True)), facts)
    notes = _data_error_notes(facts, categories, currency)
    medians = ref_values.median().to_numpy()
    # strongest push first; a stable sort keeps the feature order among equals
    order = np.argsort(-np.abs(z), axis=1, kind="stable")
    reasons = []
    for i in range(len(rows)):
        # no feature stands out on its own: show the numbers of all of them anyway
        unusual = categories[i] == UNUSUAL
        parts = [
            _describe(values.columns[j], picked[i, j], medians[j], z[i, j], currency, force=unusual)
            for j in order[i]
        ]
        if unusual:
            reasons.append(f"{_NO_SINGLE_FEATURE}: {', '.join(parts)}")
        else:
            reasons.append(", ".join([notes[i], *parts] if notes[i] else parts))
    reason = np.full(len(rfm_table), "", dtype=object)
    category = np.full(len(rfm_table), "", dtype=object)
    reason[rows] = reasons
    category[rows] = categories
    return pd.DataFrame(
        {"anomaly_reason": reason, "anomaly_category": category}, index=rfm_table.index
    ).astype("str")


def _flag_array(rfm_table: pd.DataFrame, flags: pd.Series | np.ndarray) -> np.ndarray:
    if isinstance(flags, pd.Series):
        missing = ~rfm_table.index.isin(flags.index)
        if missing.any():
            raise RfmError(f"flags has no value for customer {rfm_table.index[missing][0]!r}")
        flags = flags.reindex(rfm_table.index)
    array = np.asarray(flags)
    if array.shape != (len(rfm_table),):
        raise RfmError(
            f"flags must have one value per customer ({len(rfm_table)}), got shape {array.shape}"
        )
    if array.dtype != bool:
        raise RfmError(f"flags must be booleans, got dtype {array.dtype}")
    return array


def _category_facts(
    rfm_table: pd.DataFrame, reference: pd.DataFrame, rows: np.ndarray
) -> dict[str, np.ndarray]:
    """Raw values the category rules need, for the flagged rows (NaN when a column is absent)."""
    n = len(rows)

    def column(frame: pd.DataFrame, name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(frame), np.nan)
        return frame[name].to_numpy(dtype="float64")

    frequency, monetary = column(rfm_table, "frequency")[rows], column(rfm_table, "monetary")[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        aov = monetary / frequency
        ref_aov = column(reference, "monetary") / column(reference, "frequency")
    finite = ref_aov[np.isfinite(ref_aov)]
    return {
        "frequency": frequency,
        "monetary": monetary,
        "aov": aov,
        "median_aov": np.full(n, np.median(finite) if finite.size else np.nan),
        "median_monetary": np.full(n, np.nanmedian(column(reference, "monetary"))),
        # returned lines carry negative amounts
        "cancelled": np.abs(column(rfm_table, "cancelled_amount")[rows]),
    }


def _categories(z: dict[str, np.ndarray], fact: dict[str, np.ndarray]) -> np.ndarray:
    """Category of each flagged customer: the first rule that applies (module docstring)."""
    n = len(fact["monetary"])
    spend = [z[name] for name in _SPEND if name in z]
    spend_high = np.max(spend, axis=0) if spend else np.zeros(n)
    spend_low = np.min(spend, axis=0) if spend else np.zeros(n)
    frequency_z = z.get("frequency", np.zeros(n))
    with np.errstate(invalid="ignore"):
        rules = [
            _cancelled_mostly(fact) | (fact["monetary"] <= 0),
            (fact["frequency"] == 1) & (spend_high >= TYPICAL_Z),
            (frequency_z >= TYPICAL_Z) & (fact["aov"] <= fact["median_aov"]),
            spend_high >= TYPICAL_Z,
            spend_low <= -TYPICAL_Z,
        ]
    chosen = np.select(rules, [DATA_ERROR, BULK_ORDER, MACHINE_LIKE, WHALE, TINY_SPENDER], UNUSUAL)
    return chosen.astype(object)


def _cancelled_mostly(fact: dict[str, np.ndarray]) -> np.ndarray:
    monetary = fact["monetary"]
    with np.errstate(invalid="ignore"):
        return (monetary > 0) & (fact["cancelled"] >= CANCELLED_SHARE * monetary)


def _data_error_notes(
    fact: dict[str, np.ndarray], categories: np.ndarray, currency: str
) -> list[str]:
    """What makes a possible data error, said first in its reason; ``""`` for other rows."""
    cancelled = _cancelled_mostly(fact)
    notes = []
    for i, category in enumerate(categories):
        bought = _money(fact["monetary"][i], currency)
        if category != DATA_ERROR:
            notes.append("")
        elif cancelled[i]:
            amount = _money(fact["cancelled"][i], currency)
            what = (
                "large order later cancelled"
                if fact["cancelled"][i] >= fact["median_monetary"][i]
                else "most purchases later cancelled"
            )
            notes.append(f"{what} ({amount} cancelled of {bought} bought)")
        else:
            notes.append(f"returns exceed purchases (monetary {bought})")
    return notes


def _describe(
    name: str, value: float, median: float, z: float, currency: str, *, force: bool = False
) -> str:
    """One feature of one customer in words; "typical" unless it pushes or ``force``."""
    label = _NAMES[name]
    if abs(z) < TYPICAL_Z and not force:
        return f"{label} typical"
    if name == "recency":
        return f"last purchase {_days(value)} ago vs median {_number(median)}"
    if name == "tenure_days":
        return f"first purchase {_days(value)} ago vs median {_number(median)}"
    if name == "mean_days_between_purchases":
        return f"{_number(value)} days between purchases vs median {_number(median)}"
    if name == "frequency":
        shown = f"{_number(value)} order{'' if value == 1 else 's'} vs {_number(median)}"
    else:
        shown = f"{_money(value, currency)} vs {_money(median, currency)}"
    if value <= 0 or median <= 0:
        return f"{label} {shown.replace(' vs ', ' vs median ')}"
    return f"{label} {_ratio(value / median)} ({shown})"


def _ratio(ratio: float) -> str:
    """``48× the median``, ``2.5× the median``, ``1/20 of the median``, ``about the median``."""
    if 0.95 <= ratio < 1.05:
        return "about the median"
    if ratio >= 1:
        return f"{_trim(ratio)}× the median"
    if 1 / ratio >= 2:
        return f"1/{round(1 / ratio):,} of the median"
    return f"{ratio:.1f}× the median"


def _trim(value: float) -> str:
    text = f"{value:,.0f}" if value >= 10 else f"{value:.1f}"
    return text.removesuffix(".0")


def _days(value: float) -> str:
    return f"{_number(value)} day{'' if value == 1 else 's'}"


def _number(value: float) -> str:
    """Whole numbers as such, others with one decimal."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _money(value: float, currency: str) -> str:
    """Compact amount: ``1.2M``, ``25k``, ``4.3k``, ``650``, ``3.20``."""
    sign, size = ("-" if value < 0 else ""), abs(value)
    if size >= 1e6:
        text = f"{size / 1e6:.1f}".removesuffix(".0") + "M"
    elif size >= 1e4:
        text = f"{size / 1e3:.0f}k"
    elif size >= 1e3:
        text = f"{size / 1e3:.1f}".removesuffix(".0") + "k"
    elif size >= 10:
        text = f"{size:.0f}"
    else:
        text = f"{size:.2f}"
    return f"{sign}{currency}{text}"


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
    """

    table: pd.DataFrame
    method: str
    threshold: float
    n_flagged: int
    detector: AnomalyDetector

    @property
    def flagged(self) -> pd.DataFrame:
        """Flagged customers, strangest first."""
        rows = self.table.loc[self.table["anomaly"]]
        return rows.sort_values("anomaly_score", ascending=False, kind="stable")


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
    )


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

    The mixture's knob is its density percentile; the isolation forest and LOF take the share
    itself; the robust z-score keeps its fixed cut-off.
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
) -> AnomalyAgreement:
    """Run several detectors on the same customers and compare their flags.

    So that the shares are comparable, ``gmm`` flags ``contamination`` of the customers here
    (``density_percentile = 100 × contamination``); ``zscore`` keeps its fixed threshold
    (:data:`DEFAULT_Z_THRESHOLD`) and flags whatever share exceeds it.

    Returns
    -------
    AnomalyAgreement
    """
    methods = tuple(methods)
    if not methods:
        raise RfmError("choose at least one method")
    for method in methods:
        if method not in ANOMALY_METHODS:
            raise RfmError(f"method must be one of {', '.join(ANOMALY_METHODS)}, got {method!r}")
    if len(set(methods)) != len(methods):
        raise RfmError(f"methods are repeated: {', '.join(methods)}")
    columns = {}
    for method in methods:
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
    return AnomalyAgreement(flags=flags, pairwise=pairwise, counts=counts)


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union


# -- supervised follow-up -------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifierReport:
    """A classifier that imitates a detector, and how well it does on held-out customers.

    Attributes
    ----------
    pipeline : imblearn.pipeline.Pipeline
        Fitted ``transform → SMOTE → GradientBoostingClassifier`` on the feature frame
        (:func:`rfm_core.segments.features.feature_frame`); SMOTE only acts while fitting.
    metrics : pandas.DataFrame
        Index ``("validation", "test")``; columns :data:`METRIC_COLUMNS`: accuracy, precision,
        recall and F1 of the flagged class, ``support`` (customers in the split) and
        ``positives`` (flagged customers in the split).
    note : str
        :data:`CLASSIFIER_NOTE`: it reproduces the detector's flags; it is not ground truth.
    features : tuple of str
    """

    pipeline: Any
    metrics: pd.DataFrame
    note: str
    features: tuple[str, ...]


def train_anomaly_classifier(
    rfm_table: pd.DataFrame,
    flags: pd.Series | np.ndarray,
    *,
    features: Sequence[str] = DEFAULT_FEATURES,
    test_size: float = 0.2,
    validation_size: float = 0.2,
    random_state: int = 0,
    sample_limit: int = 200_000,
) -> ClassifierReport:
    """Train a classifier on a detector's flags so that new customers can be flagged.

    The customers are split, stratified by flag, into train, validation (``validation_size``
    of all) and test (``test_size`` of all). A model fitted on train is scored on validation;
    the returned model is refitted on train + validation and scored on test, which no model
    ever saw. SMOTE oversamples the flagged customers of the fitting set to parity, with
    ``k_neighbors = min(5, flagged in it − 1)``. When a fitting set holds more than
    ``sample_limit`` customers, every flagged customer is kept and the others are sampled
    (seeded) to fill the limit: gradient boosting on a million rows takes minutes. Validation
    and test are never sampled.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
    flags : pandas.Series or numpy.ndarray of bool
        The detector's flags (e.g. ``AnomalyResult.table["anomaly"]``).
    features : sequence of str
    test_size, validation_size : float
        Shares of all customers, each in (0, 0.5], together at most 0.8.
    random_state : int
    sample_limit : int

    Returns
    -------
    ClassifierReport

    Raises
    ------
    RfmError
        Fewer than :data:`MIN_FLAGGED_FOR_CLASSIFIER` flagged or not-flagged customers, or
        invalid sizes.
    """
    for name, value in (("test_size", test_size), ("validation_size", validation_size)):
        _check_share(name, value, 0.5)
    if test_size + validation_size > 0.8:
        raise RfmError(
            f"test_size + validation_size must be at most 0.8, got {test_size + validation_size:g}"
        )
    _check_int("sample_limit", sample_limit, 100)
    y = _flag_array(rfm_table, flags)
    x = feature_frame(rfm_table, features=features)
    n_flagged, n_normal = int(y.sum()), int((~y).sum())
    if min(n_flagged, n_normal) < MIN_FLAGGED_FOR_CLASSIFIER:
        raise RfmError(
            f"the classifier needs at least {MIN_FLAGGED_FOR_CLASSIFIER} flagged and "
            f"{MIN_FLAGGED_FOR_CLASSIFIER} not flagged customers, got {n_flagged} flagged of "
            f"{len(y)}; raise the share flagged"
        )
    rows = np.arange(len(y))
    fit_rows, test_rows = train_test_split(
        rows, test_size=test_size, stratify=y, random_state=random_state
    )
    train_rows, validation_rows = train_test_split(
        fit_rows,
        test_size=validation_size / (1 - test_size),
        stratify=y[fit_rows],
        random_state=random_state,
    )
    first = _fit_classifier(x, y, train_rows, random_state=random_state, limit=sample_limit)
    final = _fit_classifier(x, y, fit_rows, random_state=random_state, limit=sample_limit)
    metrics = pd.DataFrame(
        [_metrics(first, x, y, validation_rows), _metrics(final, x, y, test_rows)],
        index=pd.Index(["validation", "test"], name="split"),
        columns=list(METRIC_COLUMNS),
    ).astype({"support": "int64", "positives": "int64"})
    return ClassifierReport(
        pipeline=final, metrics=metrics, note=CLASSIFIER_NOTE, features=tuple(features)
    )


def _fit_classifier(
    x: pd.DataFrame, y: np.ndarray, rows: np.ndarray, *, random_state: int, limit: int
) -> ImbPipeline:
    # imported here: imbalanced-learn takes about a second to import, and only training needs it
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import Pipeline as ImbPipeline

    rows = _keep_flagged_sample(rows, y, limit, random_state)
    n_flagged = int(y[rows].sum())
    if n_flagged < 2:
        raise RfmError(
            f"only {n_flagged} flagged customer(s) fall in the training split; "
            "raise the share flagged"
        )
    # imbalanced-learn refuses a nested Pipeline: splice the transform's steps in
    transform = make_transform(transform="log-standard", random_state=random_state)
    pipeline = ImbPipeline(
        [
            *transform.steps,
            ("smote", SMOTE(k_neighbors=min(5, n_flagged - 1), random_state=random_state)),
            ("model", GradientBoostingClassifier(random_state=random_state)),
        ]
    )
    return pipeline.fit(x.iloc[rows], y[rows])


def _keep_flagged_sample(
    rows: np.ndarray, y: np.ndarray, limit: int, random_state: int
) -> np.ndarray:
    """All of ``rows`` if within ``limit``, else every flagged row plus sampled others."""
    if len(rows) <= limit:
        return rows
    flagged, others = rows[y[rows]], rows[~y[rows]]
    room = max(limit - len(flagged), 0)
    rng = np.random.default_rng(random_state)
    return np.sort(np.concatenate([flagged, rng.choice(others, size=room, replace=False)]))


def _metrics(pipeline: ImbPipeline, x: pd.DataFrame, y: np.ndarray, rows: np.ndarray) -> list:
    truth = y[rows]
    predicted = pipeline.predict(x.iloc[rows]).astype(bool)
    return [
        accuracy_score(truth, predicted),
        precision_score(truth, predicted, zero_division=0),
        recall_score(truth, predicted, zero_division=0),
        f1_score(truth, predicted, zero_division=0),
        len(rows),
        int(truth.sum()),
    ]


def classify(report_or_pipeline: ClassifierReport | Any, rfm_table: pd.DataFrame) -> np.ndarray:
    """Flag new customers with a trained classifier, without refitting any detector.

    Parameters
    ----------
    report_or_pipeline : ClassifierReport or fitted pipeline
        A bare pipeline must have been fitted on a feature frame (its ``feature_names_in_``
        name the features).
    rfm_table : pandas.DataFrame

    Returns
    -------
    numpy.ndarray of bool, one per row.
    """
    if isinstance(report_or_pipeline, ClassifierReport):
        pipeline, features = report_or_pipeline.pipeline, report_or_pipeline.features
    else:
        pipeline = report_or_pipeline
        check_is_fitted(pipeline)
        features = tuple(pipeline.feature_names_in_)
    x = feature_frame(rfm_table, features=features)
    return np.asarray(pipeline.predict(x)).astype(bool)
