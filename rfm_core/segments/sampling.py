"""Seeded samples of customers: how every model of this step picks the customers it fits on.

A model that cannot afford every customer (a quadratic clustering method, LOF, a silhouette, a
t-SNE view) is fitted on a sample drawn by :func:`sample_rows`: ``limit`` distinct row positions
chosen uniformly by NumPy's default generator seeded with ``random_state``, in row order. The
same number of rows, limit and seed give the same sample, so that two models fitted with the same
arguments (a :class:`~rfm_core.segments.clustering.Segmenter` and the k-distance curve of
:func:`~rfm_core.segments.clustering.k_distance`, say) see the same customers.

Two draws build on it: :func:`rfm_core.segments.embedding.sample_customers` can stratify by a
group so that small groups stay visible, and the anomaly classifier keeps every flagged customer
and samples the others.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sample_rows"]


def sample_rows(n_rows: int, *, limit: int, random_state: int = 0) -> np.ndarray | None:
    """Positions of a seeded random sample of ``limit`` rows out of ``n_rows``.

    Parameters
    ----------
    n_rows : int
        Rows to sample from (positions ``0 .. n_rows − 1``).
    limit : int
        Rows to keep, at least 0.
    random_state : int, default 0
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    numpy.ndarray of int64 or None
        ``limit`` distinct positions, sorted ascending; None when ``n_rows ≤ limit`` (keep every
        row, nothing to draw).
    """
    if n_rows <= limit:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, size=limit, replace=False))
