"""The one seeded sample every segment model fits on."""

from __future__ import annotations

import numpy as np

from rfm_core.segments.sampling import sample_rows


def test_sample_is_seeded_sorted_distinct_and_exact_in_size():
    first = sample_rows(1_000, limit=100, random_state=5)
    assert first.shape == (100,) and np.unique(first).size == 100
    assert np.all(np.diff(first) > 0)
    assert first.min() >= 0 and first.max() < 1_000
    np.testing.assert_array_equal(first, sample_rows(1_000, limit=100, random_state=5))
    assert not np.array_equal(first, sample_rows(1_000, limit=100, random_state=6))


def test_within_the_limit_every_row_is_kept():
    assert sample_rows(100, limit=100, random_state=0) is None
    assert sample_rows(3, limit=100, random_state=0) is None


def test_a_limit_of_zero_keeps_nobody():
    assert sample_rows(5, limit=0, random_state=0).size == 0
