"""Checks of numeric options: scikit-learn's ``check_scalar``, with errors a user can act on.

Every whole-number and share option of this step (``n_clusters``, ``sample_limit``,
``contamination``, ``perplexity``, …) is checked by :func:`check_number`, which asks
:func:`sklearn.utils.check_scalar` for the type and the bounds and turns its ``TypeError`` or
``ValueError`` into an :class:`~rfm_core.errors.RfmError` (or a subclass) whose message names the
option and the value given. Two things ``check_scalar`` lets through are refused as well: a
boolean where a number is expected (``True`` is an ``int`` to Python) and a value that is not
finite (NaN passes every comparison).
"""

from __future__ import annotations

import math
import numbers
from typing import Literal

from sklearn.utils import check_scalar

from rfm_core.errors import RfmError

__all__ = ["check_number"]

Boundaries = Literal["both", "left", "right", "neither"]


def check_number(
    value: object,
    name: str,
    *,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    include_boundaries: Boundaries = "both",
    optional: bool = False,
    error: type[RfmError] = RfmError,
    message: str | None = None,
) -> None:
    """Check that ``value`` is a finite number (a whole one if ``integer``) within the bounds.

    Parameters
    ----------
    value : object
        The option as given.
    name : str
        The option's name, as the user knows it.
    integer : bool, default False
        Require a whole number (``int`` or a NumPy integer), else any real number.
    minimum, maximum : float, optional
        Bounds; None leaves that side open.
    include_boundaries : {"both", "left", "right", "neither"}, default "both"
        Which bounds are allowed values, as for :func:`sklearn.utils.check_scalar`.
    optional : bool, default False
        Accept None as well.
    error : type of RfmError, default RfmError
        Raised when the check fails.
    message : str, optional
        The error's message; default: ``"<name> must be <what>, got <value>"`` with ``<what>``
        said from the type and bounds: "a whole number ≥ 1", "a whole number from 1 to 6",
        "a positive number", "in (0, 0.5]", each followed by " or None" when ``optional``.

    Returns
    -------
    None

    Raises
    ------
    RfmError
        ``error`` with ``message``, when ``value`` is of another type (a boolean included), not
        finite or out of bounds.
    """
    if optional and value is None:
        return
    if message is None:
        expected = _expected(integer, minimum, maximum, include_boundaries)
        message = f"{name} must be {expected}{' or None' if optional else ''}, got {value!r}"
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or (isinstance(value, numbers.Real) and not math.isfinite(value)):
        raise error(message)
    try:
        check_scalar(
            value,
            name,
            kind,
            min_val=minimum,
            max_val=maximum,
            include_boundaries=include_boundaries,
        )
    except (TypeError, ValueError) as exc:
        raise error(message) from exc


def _expected(
    integer: bool, minimum: float | None, maximum: float | None, boundaries: Boundaries
) -> str:
    """What a valid value is, in words."""
    low, high = _shown(minimum), _shown(maximum)
    low_closed = boundaries in ("both", "left")
    high_closed = boundaries in ("both", "right")
    noun = "a whole number" if integer else "a number"
    if minimum is not None and maximum is not None:
        if integer and boundaries == "both":
            return f"a whole number from {low} to {high}"
        interval = f"{'[' if low_closed else '('}{low}, {high}{']' if high_closed else ')'}"
        return f"{noun} in {interval}" if integer else f"in {interval}"
    if minimum is not None:
        if minimum == 0 and not low_closed and not integer:
            return "a positive number"
        return f"{noun} {'≥' if low_closed else '>'} {low}"
    if maximum is not None:
        return f"{noun} {'≤' if high_closed else '<'} {high}"
    return noun


def _shown(bound: float | None) -> str:
    """A bound as written: whole numbers as such, others in short form (0.5)."""
    if bound is None or isinstance(bound, numbers.Integral):
        return str(bound)
    return f"{bound:g}"
