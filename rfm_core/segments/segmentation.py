"""From the RFM table to named segments and anomaly flags: the steps the CLI and the pages share.

The order is fixed, so that the command line and the app cannot drift apart:

1. :func:`find_anomalies` flags unusual customers (:mod:`rfm_core.segments.anomalies`). Flags never
   remove anyone.
2. :func:`choose_k` sweeps the number of segments
   (:func:`rfm_core.segments.clustering.select_k`) when the settings ask for the recommendation.
3. :func:`segment_customers` fits the chosen method
   (:class:`rfm_core.segments.clustering.Segmenter`). With ``exclude_anomalies`` (the default)
   the model is fitted without the flagged customers, who are then assigned to their nearest
   segment and marked ``assigned_after_fit``.
4. Profiles and business names (:mod:`rfm_core.segments.profiles`).
5. :func:`labeled_customers` lays everything out as one row per customer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from rfm_core.config import ANOMALY_METHODS, NOISE_LABEL
from rfm_core.customers.rfm import (
    DEFAULT_SEGMENTS,
    EXTRA_FEATURES,
    RFM_COLUMNS,
    SegmentRule,
    score_edges,
)
from rfm_core.errors import RfmError
from rfm_core.segments.anomalies import (
    AnomalyResult,
    ClassifierReport,
    detect_anomalies,
    share_options,
    train_anomaly_classifier,
)
from rfm_core.segments.checks import check_number
from rfm_core.segments.clustering import METHODS, ModelSelection, Segmenter, select_k
from rfm_core.segments.features import DEFAULT_FEATURES, TRANSFORMS
from rfm_core.segments.profiles import NAME_SCHEMES, UNASSIGNED, name_segments, profile_segments
from rfm_core.segments.progress import Progress

__all__ = [
    "MIN_SEGMENT_CUSTOMERS",
    "AnomalySettings",
    "SegmentationResult",
    "SegmentationSettings",
    "choose_k",
    "find_anomalies",
    "labeled_customers",
    "segment_customers",
    "train_classifier",
]


@dataclass(frozen=True)
class SegmentationSettings:
    """How to segment (hashable: the app caches results on it).

    Parameters
    ----------
    method : {"kmeans", "gmm", "bgmm", "dbscan", "hdbscan", "agglomerative"}
    n_clusters : int or None
        None uses the recommended k of :func:`choose_k` (DBSCAN and HDBSCAN find their own).
    features, transform
        See :mod:`rfm_core.segments.features`.
    k_min, k_max : int
        The k values swept for the recommendation.
    business_range : (int, int)
        The numbers of segments a marketing team can act on; the recommendation stays inside.
    linkage, eps, min_samples, min_cluster_size
        Options of agglomerative clustering, DBSCAN and HDBSCAN.
    exclude_anomalies : bool, default True
        Fit (and sweep k) without the flagged customers, then assign them to their nearest
        segment (unless fewer than :data:`MIN_SEGMENT_CUSTOMERS` would be left: then everyone
        is fitted, and a note says so). On by default: on generated logs with planted whales
        and machine-like buyers, fitting them let them take a segment of their own and often
        shifted the recommended k up by one (``bench/segments_family.py``). Needs the flags
        (``anomalies=``).
    name_scheme : {"lifecycle", "tiers"}
    random_state : int
    """

    method: str = "kmeans"
    n_clusters: int | None = None
    features: tuple[str, ...] = DEFAULT_FEATURES
    transform: str = "log-standard"
    k_min: int = 2
    k_max: int = 10
    business_range: tuple[int, int] = (3, 8)
    linkage: str = "ward"
    eps: float | None = None
    min_samples: int = 10
    min_cluster_size: int | None = None
    exclude_anomalies: bool = True
    name_scheme: str = "lifecycle"
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise RfmError(f"unknown method {self.method!r}; choose from {', '.join(METHODS)}")
        if self.transform not in TRANSFORMS:
            raise RfmError(f"unknown transform {self.transform!r}")
        if self.name_scheme not in NAME_SCHEMES:
            raise RfmError(f"unknown name scheme {self.name_scheme!r}")
        if not 2 <= self.k_min <= self.k_max:
            raise RfmError(f"k range must satisfy 2 ≤ k_min ≤ k_max, got {self.k_min}–{self.k_max}")
        if self.n_clusters is not None and self.n_clusters < 2:
            raise RfmError(f"n_clusters must be at least 2, got {self.n_clusters}")

    @property
    def uses_k(self) -> bool:
        """Whether the method takes a number of segments.

        Returns
        -------
        bool
            False for ``dbscan`` and ``hdbscan``, which find their own.
        """
        return self.method not in ("dbscan", "hdbscan")


@dataclass(frozen=True)
class AnomalySettings:
    """How to flag anomalous customers.

    See :func:`rfm_core.segments.anomalies.detect_anomalies`.
    """

    method: str = "iforest"
    contamination: float = 0.02
    features: tuple[str, ...] = DEFAULT_FEATURES
    transform: str = "log-standard"
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.method not in ANOMALY_METHODS:
            raise RfmError(
                f"unknown anomaly method {self.method!r}; choose from {', '.join(ANOMALY_METHODS)}"
            )
        check_number(
            self.contamination, "contamination", minimum=0, maximum=0.5, include_boundaries="right"
        )


@dataclass(frozen=True)
class SegmentationResult:
    """Segments of every customer and how they were found.

    Attributes
    ----------
    segmenter : Segmenter
        The fitted model (scores new customers without refitting).
    labels : pandas.Series
        Cluster per customer (index ``customer_id``; −1 = noise), ordered by value: 0 is best.
    probabilities : pandas.DataFrame or None
        Mixture membership probabilities, one column ``p_cluster_<label>`` per cluster.
    names : dict
        Business name per label.
    profile : pandas.DataFrame
        :func:`rfm_core.segments.profiles.profile_segments` of the labels.
    assigned_after_fit : pandas.Series
        True for customers left out of the fit (anomalies) and assigned afterwards.
    selection : ModelSelection or None
        The k sweep, when the recommendation was used or asked for.
    settings : SegmentationSettings
    notes : tuple of str
        What a user should know (sampling, excluded customers, noise).
    """

    segmenter: Segmenter
    labels: pd.Series
    probabilities: pd.DataFrame | None
    names: dict[int, str]
    profile: pd.DataFrame
    assigned_after_fit: pd.Series
    selection: ModelSelection | None
    settings: SegmentationSettings
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_clusters(self) -> int:
        """Segments found (noise excluded).

        Returns
        -------
        int
        """
        return int(self.segmenter.n_clusters_)

    def names_with(self, renamed: Mapping[int, str] | None = None) -> dict[int, str]:
        """Business name per label, with the user's renames applied.

        Parameters
        ----------
        renamed : mapping of int to str, optional
            The user's names for some labels; they replace the generated ones. Labels are read
            as ``int`` and names as ``str`` (a form or a JSON file may give text).

        Returns
        -------
        dict
            Label → name, every label of :attr:`names`.
        """
        return {**self.names, **{int(k): str(v) for k, v in (renamed or {}).items()}}

    def segment_names(self, renamed: Mapping[int, str] | None = None) -> pd.Series:
        """Business name of every customer, with the user's renames applied.

        Parameters
        ----------
        renamed : mapping of int to str, optional
            As for :meth:`names_with`.

        Returns
        -------
        pandas.Series
            ``segment_name`` per customer (index ``customer_id``).
        """
        return self.labels.map(self.names_with(renamed)).astype("string").rename("segment_name")

    def with_rule_names(
        self,
        segments: Sequence[SegmentRule],
        edges: Mapping[str, tuple[float, ...] | None],
    ) -> SegmentationResult:
        """The same result, its names generated again for other rule segments or score edges.

        Lifecycle names borrow the rule segment of each cluster's median customer
        (:func:`rfm_core.segments.profiles.name_segments`): when the rules or the binning of the
        scores change, so may the names.

        Parameters
        ----------
        segments : sequence of SegmentRule
            The rule segments.
        edges : mapping
            The score edges the customers are scored with.

        Returns
        -------
        SegmentationResult
        """
        names = name_segments(
            self.profile, edges, scheme=self.settings.name_scheme, segments=segments
        )
        return replace(self, names={int(k): v for k, v in names.items()})


def find_anomalies(
    rfm_table: pd.DataFrame, settings: AnomalySettings, *, currency: str = ""
) -> AnomalyResult:
    """Flag unusual customers; nobody is removed.

    ``settings.contamination`` is the share flagged by the isolation forest and LOF, and the
    least-dense share flagged by the mixture; the robust z-score flags whoever lies beyond its
    fixed cut-off (see :mod:`rfm_core.segments.anomalies`).

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        :attr:`rfm_core.customers.rfm.RfmResult.table`.
    settings : AnomalySettings
    currency : str, default ""
        Prefix of the money amounts in the reasons, e.g. ``"£"``.

    Returns
    -------
    AnomalyResult

    Raises
    ------
    RfmError
        What :func:`rfm_core.segments.anomalies.detect_anomalies` refuses.
    """
    return detect_anomalies(
        rfm_table,
        method=settings.method,
        contamination=settings.contamination,
        features=settings.features,
        transform=settings.transform,
        random_state=settings.random_state,
        currency=currency,
        **share_options(settings.method, settings.contamination),
    )


MIN_SEGMENT_CUSTOMERS = 10
"""Fewest customers a segmentation is fitted on; below it, flagged customers are not left out."""
CLASSIFIER_SAMPLE = 50_000  # training customers, every flagged one kept: bounded time at any size


def train_classifier(
    rfm_table: pd.DataFrame,
    anomalies: AnomalyResult,
    settings: AnomalySettings,
    *,
    progress: Progress | None = None,
) -> ClassifierReport:
    """Train the classifier that reproduces the detector's flags on new customers.

    Every flagged customer is kept and the others are sampled to :data:`CLASSIFIER_SAMPLE`
    training customers, so that training time stays bounded on large tables.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        The table the detector flagged.
    anomalies : AnomalyResult
        The detector's run on ``rfm_table`` (:func:`find_anomalies`).
    settings : AnomalySettings
        Its settings: the classifier learns from the same features, with the same seed.
    progress : callable, optional
        Hears how far training is (:mod:`rfm_core.segments.progress`).

    Returns
    -------
    ClassifierReport

    Raises
    ------
    RfmError
        Too few flagged or not-flagged customers to train on.
    """
    return train_anomaly_classifier(
        rfm_table,
        anomalies.table["anomaly"],
        features=settings.features,
        random_state=settings.random_state,
        sample_limit=CLASSIFIER_SAMPLE,
        progress=progress,
    )


def choose_k(
    rfm_table: pd.DataFrame,
    settings: SegmentationSettings,
    *,
    anomalies: AnomalyResult | None = None,
    n_jobs: int = 1,
) -> ModelSelection:
    """Sweep k over ``settings.k_min..k_max`` and recommend one.

    The sweep sees the customers the model will be fitted on: without the flagged ones when
    ``settings.exclude_anomalies`` (then ``anomalies`` is required).

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        :attr:`rfm_core.customers.rfm.RfmResult.table`.
    settings : SegmentationSettings
    anomalies : AnomalyResult, optional
        Needed when ``settings.exclude_anomalies``.
    n_jobs : int, default 1
        Processes of the sweep (see :func:`rfm_core.segments.clustering.select_k`); the result
        does not depend on it.

    Returns
    -------
    ModelSelection

    Raises
    ------
    RfmError
        Anomalies to exclude but no flags, or what
        :func:`rfm_core.segments.clustering.select_k` refuses.
    """
    fit_mask = _fit_mask(rfm_table, settings, anomalies, [])
    return select_k(
        rfm_table[fit_mask],
        k_values=range(settings.k_min, settings.k_max + 1),
        features=settings.features,
        transform=settings.transform,
        business_range=settings.business_range,
        random_state=settings.random_state,
        n_jobs=n_jobs,
    )


def segment_customers(
    rfm_table: pd.DataFrame,
    settings: SegmentationSettings,
    *,
    anomalies: AnomalyResult | None = None,
    selection: ModelSelection | None = None,
    segments: Sequence[SegmentRule] = DEFAULT_SEGMENTS,
    edges: Mapping[str, tuple[float, ...] | None] | None = None,
    n_jobs: int = 1,
) -> SegmentationResult:
    """Fit the segmentation of the settings and name the segments.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        :attr:`rfm_core.customers.rfm.RfmResult.table`.
    settings : SegmentationSettings
    anomalies : AnomalyResult, optional
        Needed when ``settings.exclude_anomalies``.
    selection : ModelSelection, optional
        A sweep already computed for these settings (:func:`choose_k`, on the same customers);
        computed here when the settings ask for the recommended k and none is given.
    segments : sequence of SegmentRule
        The rule segments the names may borrow from (see
        :func:`rfm_core.segments.profiles.name_segments`).
    edges : mapping, optional
        The score edges the table's scores come from (default: its quantile edges,
        :func:`rfm_core.customers.rfm.score_edges`).
    n_jobs : int, default 1
        Processes of the k sweep when it is computed here (see :func:`choose_k`).

    Returns
    -------
    SegmentationResult
    """
    notes: list[str] = []
    fit_mask = _fit_mask(rfm_table, settings, anomalies, notes)
    if settings.uses_k and settings.n_clusters is None and selection is None:
        selection = choose_k(rfm_table, settings, anomalies=anomalies, n_jobs=n_jobs)
    n_clusters = settings.n_clusters or (selection.recommended_k if selection else 4)
    if fit_mask.sum() < MIN_SEGMENT_CUSTOMERS:
        raise RfmError(
            f"{int(fit_mask.sum())} customers are left to segment; at least "
            f"{MIN_SEGMENT_CUSTOMERS} are needed"
        )
    segmenter = Segmenter(
        method=settings.method,
        n_clusters=n_clusters,
        features=settings.features,
        transform=settings.transform,
        linkage=settings.linkage,
        eps=settings.eps,
        min_samples=settings.min_samples,
        min_cluster_size=settings.min_cluster_size,
        random_state=settings.random_state,
    )
    # the sweep fitted k-means at this k on these customers already: reused, not refitted
    segmenter.fit(rfm_table[fit_mask], kmeans_fits=selection.kmeans_fits if selection else None)
    labels, probabilities = _labels(rfm_table, segmenter, fit_mask)
    if segmenter.fitted_on_sample_:
        notes.append(
            f"{settings.method} was fitted on a seeded sample of {segmenter.sample_size_:,} "
            f"customers; the other customers were assigned to the nearest segment"
        )
    n_noise = int((labels == NOISE_LABEL).sum())
    if n_noise:
        notes.append(f"{n_noise:,} customers belong to no dense region ('{UNASSIGNED}', label −1)")
    profile = profile_segments(rfm_table, labels)
    names = name_segments(
        profile,
        score_edges(rfm_table) if edges is None else edges,
        scheme=settings.name_scheme,
        segments=segments,
    )
    return SegmentationResult(
        segmenter=segmenter,
        labels=labels,
        probabilities=probabilities,
        names={int(k): v for k, v in names.items()},
        profile=profile,
        assigned_after_fit=pd.Series(~fit_mask, index=rfm_table.index, name="assigned_after_fit"),
        selection=selection,
        settings=settings,
        notes=tuple(notes),
    )


def _fit_mask(
    rfm_table: pd.DataFrame,
    settings: SegmentationSettings,
    anomalies: AnomalyResult | None,
    notes: list[str],
) -> np.ndarray:
    if not settings.exclude_anomalies:
        return np.ones(len(rfm_table), dtype=bool)
    if anomalies is None:
        raise RfmError("excluding anomalies needs the anomaly flags; run the detector first")
    flagged = anomalies.table["anomaly"].reindex(rfm_table.index, fill_value=False).to_numpy()
    if (~flagged).sum() < MIN_SEGMENT_CUSTOMERS <= len(rfm_table):
        notes.append(
            f"only {int((~flagged).sum()):,} customers are not flagged, fewer than the "
            f"{MIN_SEGMENT_CUSTOMERS} a segmentation needs: the model was fitted on all "
            f"{len(rfm_table):,}, the {int(flagged.sum()):,} anomalous customers included"
        )
        return np.ones(len(rfm_table), dtype=bool)
    notes.append(
        f"the model was fitted without the {int(flagged.sum()):,} anomalous customers; "
        "they were then assigned to their nearest segment (marked assigned_after_fit)"
    )
    return ~flagged


def _labels(
    rfm_table: pd.DataFrame, segmenter: Segmenter, fit_mask: np.ndarray
) -> tuple[pd.Series, pd.DataFrame | None]:
    labels = np.empty(len(rfm_table), dtype=np.int64)
    labels[fit_mask] = segmenter.labels_
    if (~fit_mask).any():
        labels[~fit_mask] = segmenter.predict(rfm_table[~fit_mask])
    series = pd.Series(labels, index=rfm_table.index, name="cluster")
    if segmenter.probabilities_ is None:
        return series, None
    proba = np.empty((len(rfm_table), segmenter.probabilities_.shape[1]))
    proba[fit_mask] = segmenter.probabilities_
    if (~fit_mask).any():
        proba[~fit_mask] = segmenter.predict_proba(rfm_table[~fit_mask])
    columns = [f"p_cluster_{label}" for label in range(proba.shape[1])]
    return series, pd.DataFrame(proba, index=rfm_table.index, columns=columns)


def labeled_customers(
    rfm_table: pd.DataFrame,
    segmentation: SegmentationResult | None = None,
    anomalies: AnomalyResult | None = None,
    *,
    renamed: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """One row per customer: RFM values, then segment, probabilities and anomaly columns.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
    segmentation : SegmentationResult, optional
        Adds ``cluster, segment_name``, the ``p_cluster_*`` columns of mixtures and
        ``assigned_after_fit`` when some customers were left out of the fit.
    anomalies : AnomalyResult, optional
        Adds ``anomaly, anomaly_score, anomaly_reason, anomaly_category``.
    renamed : mapping of label to name, optional
        The user's segment names.

    Returns
    -------
    pandas.DataFrame
        Index ``customer_id``, every customer of ``rfm_table`` exactly once, in its order.
    """
    parts = [rfm_table.loc[:, [*RFM_COLUMNS, *EXTRA_FEATURES]]]
    if segmentation is not None:
        parts.append(segmentation.labels.rename("cluster").to_frame())
        parts.append(segmentation.segment_names(renamed).to_frame())
        if segmentation.probabilities is not None:
            parts.append(segmentation.probabilities.round(4))
        if segmentation.assigned_after_fit.any():
            parts.append(segmentation.assigned_after_fit.to_frame())
    if anomalies is not None:
        columns = ["anomaly", "anomaly_score", "anomaly_reason", "anomaly_category"]
        parts.append(anomalies.table.loc[:, columns])
    table = pd.concat(parts, axis=1, join="outer").reindex(rfm_table.index)
    if len(table) != len(rfm_table):
        raise AssertionError("every customer must appear exactly once")
    return table
