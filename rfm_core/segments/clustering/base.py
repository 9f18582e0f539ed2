"""What every clustering module shares: model space, the thread limit, checks, the curve bend.

Model space is the feature frame of :func:`rfm_core.segments.features.feature_frame` passed
through :func:`rfm_core.segments.features.make_transform`, fitted on all customers of the table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from rfm_core.errors import ClusteringError
from rfm_core.segments.checks import check_number
from rfm_core.segments.features import feature_frame, make_transform

__all__ = ["MIN_BEND", "THREADS", "ClusteringError"]

MIN_BEND = 0.05
"""Least departure from the chord, as a share of the range, that counts as a bend."""
THREADS = 1
"""Threads for OpenMP and BLAS while fitting and scoring (see :func:`_limited_threads`)."""

_F = TypeVar("_F", bound=Callable[..., Any])


def _limited_threads(function: _F) -> _F:
    """Run ``function`` with OpenMP and BLAS limited to :data:`THREADS` threads.

    The matrices here are thin (customers × 3–6 features): on the shared 2-core machine,
    k-means and mixtures ran 10× slower with 2 threads than with 1 (threads spin while they
    wait for each other when another process holds a core).
    """

    @functools.wraps(function)
    def _limited(*args: Any, **kwargs: Any) -> Any:
        with threadpool_limits(limits=THREADS):
            return function(*args, **kwargs)

    return _limited  # type: ignore[return-value]


def _as_matrix(frame: pd.DataFrame) -> np.ndarray:
    return np.ascontiguousarray(frame.to_numpy(dtype="float64"))


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    """``value`` is a whole number ≥ ``minimum``, else a ClusteringError naming the problem."""
    check_number(
        value,
        name,
        integer=True,
        error=ClusteringError,
        message=f"{name} must be an integer, got {value!r}",
    )
    check_number(
        value,
        name,
        integer=True,
        minimum=minimum,
        error=ClusteringError,
        message=f"{name} must be ≥ {minimum}, got {value}",
    )


def _model_space(
    rfm_table: pd.DataFrame, features: Sequence[str], transform: str, random_state: int
) -> tuple[pd.Index, np.ndarray]:
    frame = feature_frame(rfm_table, features=features)
    pipeline = make_transform(transform=transform, random_state=random_state)
    return frame.index, _as_matrix(pipeline.fit_transform(frame))


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
