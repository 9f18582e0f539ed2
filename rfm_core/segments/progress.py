"""Progress of the long optional analyses (detector agreement, t-SNE, the anomaly classifier).

A function that takes ``progress`` calls it as ``progress(done, text)``: ``done`` the share of
the work finished, from 0 to 1 and never decreasing, and ``text`` a few words on what runs next.
The last call is ``progress(1.0, …)``. Reporting changes nothing in the result.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "part_of", "reporter"]

Progress = Callable[[float, str], None]


def _silent(done: float, text: str) -> None:
    """Hear nothing (the default when no ``progress`` is given)."""


def reporter(progress: Progress | None) -> Progress:
    """What a function reports its progress to.

    Parameters
    ----------
    progress : callable or None
        The caller's ``progress(done, text)``, if any.

    Returns
    -------
    callable
        ``progress`` itself, or a callable that ignores every report when it is None.
    """
    return _silent if progress is None else progress


def part_of(progress: Progress, start: float, stop: float) -> Progress:
    """Report a step's own 0..1 progress as ``start..stop`` of the whole.

    Parameters
    ----------
    progress : callable
        The whole computation's reporter.
    start, stop : float
        The share of the whole done when the step begins and when it ends (0 ≤ start ≤ stop ≤ 1).

    Returns
    -------
    callable
        ``step(done, text)`` calling ``progress(start + done × (stop − start), text)``.
    """

    def step(done: float, text: str) -> None:
        progress(start + min(max(done, 0.0), 1.0) * (stop - start), text)

    return step
