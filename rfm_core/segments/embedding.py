"""Two- and three-dimensional views of the customers: PCA and t-SNE.

The input is a feature frame already in model space (for example
:func:`rfm_core.segments.features.transformed_features`): numeric, one row per customer, index
``customer_id``. Colouring by cluster, rule-based segment or anomaly flag is left to the caller,
who joins the returned coordinates on their index.

PCA
    Linear projection of *every* customer on the first ``n_components`` principal axes
    (centred, not rescaled: the features are expected to be scaled already). Cheap at any size.
t-SNE
    openTSNE on a seeded sample of at most ``sample_size`` customers (:func:`sample_customers`),
    so that the view stays interactive for a million customers. Choices, measured on this
    project's 2-core machine with 5,000 customers (``python -m bench.embedding``):

    * exact nearest neighbours (scikit-learn k-d tree): ~0.1 s against ~2.7 s for Annoy, since
      the customers have only a handful of features;
    * Barnes-Hut gradients: ~15 ms per iteration and flat, whereas the FFT interpolation grows
      with the spread of the embedding: well separated segments made it 2–3× slower overall;
    * 300 iterations (100 with early exaggeration, then 200) instead of openTSNE's 750: 60 %
      less time; on the planted synthetic groups the picture is indistinguishable, for a KL
      divergence of 0.57 instead of 0.50.

    The perplexity must leave enough neighbours: with ``n`` sampled customers it is lowered to
    ``(n − 1) / 3`` when larger (openTSNE looks at ``3 × perplexity`` neighbours). Fewer than 4
    customers cannot be embedded.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from openTSNE import TSNE
from sklearn.decomposition import PCA

from rfm_core.errors import ProjectionError
from rfm_core.segments.checks import check_number
from rfm_core.segments.progress import Progress, reporter
from rfm_core.segments.sampling import sample_rows

__all__ = [
    "MIN_TSNE_CUSTOMERS",
    "Projection",
    "ProjectionError",
    "pca_projection",
    "sample_customers",
    "tsne_projection",
]

MIN_TSNE_CUSTOMERS = 4
_AXES = ("x", "y", "z")
_EARLY_EXAGGERATION_SHARE = 1 / 3  # openTSNE's own split (250 of 750 iterations)


@dataclass(frozen=True)
class Projection:
    """Coordinates of customers in a 2D or 3D view.

    Attributes
    ----------
    coords : pandas.DataFrame
        Index ``customer_id`` (the sampled subset for t-SNE), float64 columns ``x, y`` and, in
        3D, ``z``.
    method : str
        ``"pca"`` or ``"tsne"``.
    explained_variance_ratio : tuple of float or None
        PCA only: share of the total variance along each axis (sums to at most 1).
    sampled : bool
        Whether ``coords`` holds fewer customers than the input.
    n_total : int
        Number of customers in the input, before sampling.
    perplexity : float or None
        t-SNE only: the perplexity actually used (lowered for small samples).
    """

    coords: pd.DataFrame
    method: str
    explained_variance_ratio: tuple[float, ...] | None
    sampled: bool
    n_total: int
    perplexity: float | None = None

    @property
    def n_shown(self) -> int:
        """Number of customers in the view.

        Returns
        -------
        int
            Rows of :attr:`coords`.
        """
        return len(self.coords)


def _matrix(features: pd.DataFrame) -> np.ndarray:
    """Validate a model-space feature frame and return it as a float64 array."""
    if not isinstance(features, pd.DataFrame):
        raise ProjectionError(f"features must be a pandas DataFrame, got {type(features).__name__}")
    if features.shape[1] == 0:
        raise ProjectionError("features has no columns")
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise ProjectionError(f"feature {non_numeric[0]!r} is not numeric")
    values = features.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(values)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        raise ProjectionError(
            f"feature {features.columns[column]!r} has a missing or infinite value "
            f"(customer {features.index[row]!r})"
        )
    if not features.index.is_unique:
        duplicated = features.index[features.index.duplicated()][0]
        raise ProjectionError(f"customer {duplicated!r} appears more than once in features")
    return values


def _coords(values: np.ndarray, index: pd.Index) -> pd.DataFrame:
    columns = list(_AXES[: values.shape[1]])
    return pd.DataFrame(np.asarray(values, dtype="float64"), index=index, columns=columns)


def pca_projection(
    features: pd.DataFrame, *, n_components: int = 2, random_state: int = 0
) -> Projection:
    """Project every customer on the first principal axes.

    Parameters
    ----------
    features : pandas.DataFrame
        Numeric features in model space, index ``customer_id``, no missing values.
    n_components : {2, 3}
        Number of axes; at most the number of features and of customers.
    random_state : int
        Seed for scikit-learn's randomised solver, should it be chosen.

    Returns
    -------
    Projection
        All customers (``sampled`` is False). ``explained_variance_ratio[i]`` is the variance
        along axis ``i`` divided by the total variance of the features. Axis signs follow
        scikit-learn's deterministic convention (``svd_flip``).
    """
    if n_components not in (2, 3):
        raise ProjectionError(f"n_components must be 2 or 3, got {n_components!r}")
    values = _matrix(features)
    n_rows, n_features = values.shape
    if n_features < n_components:
        raise ProjectionError(
            f"n_components={n_components} needs at least {n_components} features, got {n_features}"
        )
    if n_rows <= n_components:
        raise ProjectionError(
            f"n_components={n_components} needs at least {n_components + 1} customers, got {n_rows}"
        )
    if not np.ptp(values, axis=0).any():
        raise ProjectionError("every customer has the same features: nothing to project")
    pca = PCA(n_components=n_components, random_state=random_state)
    coords = pca.fit_transform(values)
    return Projection(
        coords=_coords(coords, features.index),
        method="pca",
        explained_variance_ratio=tuple(float(v) for v in pca.explained_variance_ratio_),
        sampled=False,
        n_total=n_rows,
    )


def sample_customers(
    index: pd.Index,
    *,
    size: int,
    random_state: int = 0,
    stratify: pd.Series | None = None,
) -> pd.Index:
    """Draw a seeded sample of customers, optionally stratified.

    Parameters
    ----------
    index : pandas.Index
        Customer ids (unique).
    size : int
        Sample size (≥ 1). When ``size ≥ len(index)`` the whole index is returned.
    random_state : int
    stratify : pandas.Series, optional
        A group per customer (cluster, segment, anomaly flag), indexed by the same customers in
        any order; missing values form a group of their own. Allocation: every group first gets
        ``min(group size, size // (2 × groups))`` customers, so that small groups such as
        anomalies stay visible; the rest of ``size`` is shared in proportion to the customers
        each group has left (largest remainders, ties to the earlier group in sorted order).

    Returns
    -------
    pandas.Index
        Exactly ``min(size, len(index))`` customers, in their order in ``index``.
    """
    check_number(size, "sample size", integer=True, minimum=1, error=ProjectionError)
    if not index.is_unique:
        raise ProjectionError("customer ids must be unique to sample them")
    n_total = len(index)
    if size >= n_total:
        return index
    if stratify is None:
        return index[sample_rows(n_total, limit=size, random_state=random_state)]
    rng = np.random.default_rng(random_state)
    positions = _stratified_positions(_groups_of(index, stratify), size, rng)
    return index[np.sort(positions)]


def _groups_of(index: pd.Index, stratify: pd.Series) -> np.ndarray:
    """Integer group code per position of ``index``, groups numbered in sorted order."""
    if not isinstance(stratify, pd.Series):
        raise ProjectionError(f"stratify must be a pandas Series, got {type(stratify).__name__}")
    if len(stratify) != len(index) or not stratify.index.is_unique:
        raise ProjectionError(
            f"stratify must give one group per customer: {len(stratify):,} values for "
            f"{len(index):,} customers"
        )
    if not stratify.index.equals(index):
        if not stratify.index.isin(index).all():
            raise ProjectionError(
                "stratify is not indexed by the same customers as the sample index"
            )
        stratify = stratify.reindex(index)
    codes, _ = pd.factorize(stratify, sort=True, use_na_sentinel=False)
    return codes


def _stratified_positions(codes: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    counts = np.bincount(codes)
    allocation = _allocate(counts, size)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    chosen = [
        order[start + rng.choice(count, size=take, replace=False)]
        for start, count, take in zip(starts, counts, allocation, strict=True)
        if take
    ]
    return np.concatenate(chosen)


def _allocate(counts: np.ndarray, size: int) -> np.ndarray:
    """How many customers to draw from each group (see :func:`sample_customers`)."""
    floor = np.minimum(counts, size // (2 * len(counts)))
    left = counts - floor
    budget = size - int(floor.sum())
    share = budget * left / left.sum()
    extra = np.floor(share).astype(np.int64)
    missing = budget - int(extra.sum())
    # largest remainders; a stable sort keeps ties in group order
    extra[np.argsort(-(share - extra), kind="stable")[:missing]] += 1
    return floor + extra


PROGRESS_EVERY = 20
"""t-SNE iterations between two progress reports."""
_NEIGHBOURS_SHARE = 0.15  # of a t-SNE's time spent before the first iteration (5,000 customers)


def _tsne_callbacks(progress: Progress | None, n_iter: int) -> dict:
    """openTSNE's callback options reporting the iterations done (none when nobody listens).

    openTSNE counts the iterations of its two phases separately: the callback counts its own
    calls instead. It returns False, so the optimisation always runs to the end.
    """
    if progress is None:
        return {}
    calls = itertools.count(1)

    def heard(iteration: int, error: float, embedding: np.ndarray) -> bool:
        done = min(next(calls) * PROGRESS_EVERY / n_iter, 1.0)
        progress(_NEIGHBOURS_SHARE + (1 - _NEIGHBOURS_SHARE) * done, "placing the customers")
        return False

    return {"callbacks": heard, "callbacks_every_iters": PROGRESS_EVERY}


def tsne_projection(
    features: pd.DataFrame,
    *,
    sample_size: int | None = 5_000,
    perplexity: float = 30.0,
    random_state: int = 0,
    n_jobs: int = 1,
    stratify: pd.Series | None = None,
    n_iter: int = 300,
    progress: Progress | None = None,
) -> Projection:
    """Embed a seeded sample of customers in 2D with t-SNE (openTSNE).

    Parameters
    ----------
    features : pandas.DataFrame
        Numeric features in model space, index ``customer_id``, no missing values.
    sample_size : int or None
        Embed at most this many customers (:func:`sample_customers`); None embeds all of them
        (slow beyond ~10,000).
    perplexity : float
        Effective number of neighbours (> 0); lowered to ``(n − 1) / 3`` for ``n`` customers
        when larger.
    random_state : int
        Seeds the sample and openTSNE: equal inputs give equal coordinates (with ``n_jobs=1``).
    n_jobs : int
        Threads for openTSNE.
    stratify : pandas.Series, optional
        Group per customer to stratify the sample by (e.g. clusters, so that small clusters and
        anomalies stay visible).
    n_iter : int
        Gradient-descent iterations in total (≥ 3); the first third uses early exaggeration.
    progress : callable, optional
        Hears ``(share done, words)`` before the neighbours are found and every
        :data:`PROGRESS_EVERY` iterations after (:mod:`rfm_core.segments.progress`); the
        coordinates do not depend on it.

    Returns
    -------
    Projection
        ``coords`` indexed by the sampled customers, in input order; ``perplexity`` is the value
        used.
    """
    check_number(
        perplexity, "perplexity", minimum=0, include_boundaries="neither", error=ProjectionError
    )
    check_number(n_iter, "n_iter", integer=True, minimum=3, error=ProjectionError)
    values = _matrix(features)
    n_total = len(values)
    if n_total < MIN_TSNE_CUSTOMERS:
        raise ProjectionError(f"t-SNE needs at least {MIN_TSNE_CUSTOMERS} customers, got {n_total}")
    shown = features.index
    if sample_size is not None:
        shown = sample_customers(
            features.index, size=sample_size, random_state=random_state, stratify=stratify
        )
        if len(shown) < MIN_TSNE_CUSTOMERS:
            raise ProjectionError(
                f"sample_size={sample_size} leaves fewer than {MIN_TSNE_CUSTOMERS} customers"
            )
        values = values[features.index.get_indexer(shown)]
    used = min(float(perplexity), (len(values) - 1) / 3)
    early = max(1, round(n_iter * _EARLY_EXAGGERATION_SHARE))
    report = reporter(progress)
    report(0.0, f"finding the neighbours of {len(values):,} customers")
    embedding = TSNE(
        n_components=2,
        perplexity=used,
        initialization="pca",
        neighbors="exact",
        negative_gradient_method="bh",
        early_exaggeration_iter=early,
        n_iter=n_iter - early,
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=False,
        **_tsne_callbacks(progress, n_iter),
    ).fit(values)
    report(1.0, "done")
    return Projection(
        coords=_coords(np.asarray(embedding), shown),
        method="tsne",
        explained_variance_ratio=None,
        sampled=len(shown) < n_total,
        n_total=n_total,
        perplexity=used,
    )
