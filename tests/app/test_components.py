"""Pure helpers of the ui layer."""

import pandas as pd

from ui.components import log_spaced_stops


def test_stops_run_from_the_exact_minimum_to_the_exact_maximum() -> None:
    stops = log_spaced_stops(pd.Series([2.7, 100.0, 540_407.3]), decimals=2)
    assert stops[0] == 2.7 and stops[-1] == 540_407.3
    assert stops == sorted(set(stops))
    assert sum(s < 100 for s in stops) > len(stops) / 4  # small values keep fine steps


def test_integer_stops_keep_every_small_count() -> None:
    stops = log_spaced_stops(pd.Series([1, 1, 2, 240]), decimals=0)
    assert stops[:10] == [float(v) for v in range(1, 11)]
    assert stops[-1] == 240.0


def test_a_constant_column_still_gives_a_range() -> None:
    assert log_spaced_stops(pd.Series([5.0, 5.0]), decimals=2) == [5.0, 5.01]
    assert log_spaced_stops(pd.Series([0.0, 3.0]), decimals=2)[:3] == [0.0, 0.01, 0.02]
