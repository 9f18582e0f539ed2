"""The default segmentation on a small family of generated logs with overlapping groups.

The family of ``bench/segments_family.py`` at a size CI can afford: planted k = 3..8, clear,
moderate and heavy overlap, 2 % planted anomalies, 1,500 customers, one seed (18 logs). The
full-size run and its tables are in ``bench/RESULTS.md``. On this family the landed defaults
before issue 22 found the planted k in 6 of 18 logs, missed by 2 at worst and reached a mean
ARI ratio of 0.958; the thresholds below sit between that and what the defaults reached when
the test was written (12 of 18, never more than one off, 0.976), so a return to the old
behaviour fails. Since the mixture's BIC also starts from the k-means segments (2026-12-05) the
defaults reach 13 of 18, never more than one off, 0.984.

The issue's goal (80 % exact) is not asserted: the current defaults do not reach it at this size
(see the report in ``bench/RESULTS.md``).
"""

from __future__ import annotations

import pytest

from bench.segments_family import family, outcome_frame, run_case, summary

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning"),
]


@pytest.fixture(scope="module")
def outcomes():
    return [run_case(case, 1500) for case in family(anomaly_shares=(0.02,), seeds=(1,))]


def test_recommended_k_is_never_more_than_one_off(outcomes):
    result = summary(outcomes)
    assert result["cases"] == 18
    assert result["max_miss"] <= 1
    assert result["exact_k"] >= 0.6


def test_default_pipeline_comes_close_to_the_true_k_reference(outcomes):
    frame = outcome_frame(outcomes)
    assert frame["ratio"].mean() >= 0.97
    six_groups = frame[(frame["k"] == 6) & (frame["overlap"] == "moderate")]
    assert (six_groups["ratio"] >= 0.95).all()


def test_well_separated_groups_are_recovered(outcomes):
    frame = outcome_frame(outcomes)
    clear = frame[(frame["overlap"] == "clear") & (frame["k"] <= 5)]
    assert len(clear) == 3
    assert (clear["ari"] >= 0.9).all()
    assert (clear["recommended"] == clear["k"]).all()
