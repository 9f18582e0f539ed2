"""check_number: scikit-learn's check_scalar with RfmError messages that name option and value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rfm_core.errors import RfmError
from rfm_core.segments.checks import check_number
from rfm_core.segments.embedding import ProjectionError


@pytest.mark.parametrize(
    ("value", "options"),
    [
        (3, {"integer": True, "minimum": 3}),
        (np.int64(6), {"integer": True, "minimum": 1, "maximum": 6}),
        (0.5, {"minimum": 0, "maximum": 0.5, "include_boundaries": "right"}),
        (np.float32(2.5), {"minimum": 0, "include_boundaries": "neither"}),
        (7, {"minimum": 0, "include_boundaries": "neither"}),  # a whole number is a number
        (None, {"integer": True, "minimum": 2, "optional": True}),
    ],
)
def test_valid_values_pass(value, options):
    assert check_number(value, "x", **options) is None


@pytest.mark.parametrize(
    ("value", "options", "message"),
    [
        (0, {"integer": True, "minimum": 1}, "x must be a whole number ≥ 1, got 0"),
        (2.5, {"integer": True, "minimum": 1}, "x must be a whole number ≥ 1, got 2.5"),
        (9, {"integer": True, "minimum": 1, "maximum": 6}, "x must be a whole number from 1 to 6"),
        (
            1,
            {"integer": True, "minimum": 2, "optional": True},
            "x must be a whole number ≥ 2 or None, got 1",
        ),
        (0, {"minimum": 0, "include_boundaries": "neither"}, "x must be a positive number, got 0"),
        ("30", {"minimum": 0, "include_boundaries": "neither"}, "positive number, got '30'"),
        (
            0.7,
            {"minimum": 0, "maximum": 0.5, "include_boundaries": "right"},
            r"x must be in \(0, 0.5\], got 0.7",
        ),
        (1, {"minimum": 0, "maximum": 1, "include_boundaries": "neither"}, r"in \(0, 1\), got 1"),
    ],
)
def test_invalid_values_are_named_in_words(value, options, message):
    with pytest.raises(RfmError, match=message):
        check_number(value, "x", **options)


@pytest.mark.parametrize("value", [True, False, math.nan, math.inf, -math.inf, np.nan])
def test_booleans_and_values_that_are_not_finite_are_refused(value):
    # check_scalar lets these through: True is an int, and NaN fails no comparison
    with pytest.raises(RfmError):
        check_number(value, "x", minimum=-1e9, maximum=1e9)


def test_the_error_class_and_message_are_the_callers_and_the_cause_is_kept():
    with pytest.raises(ProjectionError, match=r"^n_iter is too small$") as caught:
        check_number(
            2,
            "n_iter",
            integer=True,
            minimum=3,
            error=ProjectionError,
            message="n_iter is too small",
        )
    assert isinstance(caught.value.__cause__, ValueError)
