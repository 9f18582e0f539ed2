"""Customer segments: clustering models, the choice of the number of segments, stability.

Every model sees customers in *model space*: the features of
:func:`rfm_core.segments.features.feature_frame` passed through
:func:`rfm_core.segments.features.make_transform` (fitted on all customers of the table).

The package is split by concern; everything public is importable from here:

:mod:`~rfm_core.segments.clustering.segmenter`
    :class:`Segmenter`, one estimator for the six :data:`METHODS`: fitting (on a seeded sample
    for large tables), assigning every customer, numbering clusters by value.
:mod:`~rfm_core.segments.clustering.selection`
    How many segments: :func:`select_k` (:class:`ModelSelection`), :func:`recommend_k`,
    :func:`locate_elbow` and :func:`stability` (:class:`Stability`).
:mod:`~rfm_core.segments.clustering.diagnostics`
    Pictures that help choose: :func:`silhouette_profile`, :func:`k_distance` (DBSCAN's radius)
    and :func:`dendrogram`.
:mod:`~rfm_core.segments.clustering.base`
    What they share: :class:`ClusteringError`, the thread limit :data:`THREADS`, the bend of a
    curve (:data:`MIN_BEND`).
"""

from __future__ import annotations

from rfm_core.config import LINKAGES, METHODS, NOISE_LABEL
from rfm_core.segments.clustering.base import MIN_BEND, THREADS, ClusteringError
from rfm_core.segments.clustering.diagnostics import (
    Dendrogram,
    KDistance,
    SilhouetteProfile,
    dendrogram,
    k_distance,
    silhouette_profile,
)
from rfm_core.segments.clustering.segmenter import (
    BGMM_WEIGHT_THRESHOLD,
    KMEANS_N_INIT,
    KMEANS_SAMPLE_FACTOR,
    MATRIX_SAMPLE_LIMIT,
    MIXTURE_N_INIT,
    MIXTURE_REG_COVAR,
    VALUE_SIGNS,
    Segmenter,
)
from rfm_core.segments.clustering.selection import (
    STABLE_ARI,
    WEAK_SILHOUETTE,
    ModelSelection,
    Stability,
    locate_elbow,
    recommend_k,
    select_k,
    stability,
)

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
    "NOISE_LABEL",
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
