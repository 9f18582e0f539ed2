"""What the Anomalies page writes beside its figures (ui/anomalies.py)."""

from types import SimpleNamespace

import pandas as pd

from ui.anomalies import scatter_note


def _flags(n: int, n_flagged: int) -> SimpleNamespace:
    # scatter_note reads only the size of the flag table and the count of flags
    return SimpleNamespace(table=pd.DataFrame(index=range(n)), n_flagged=n_flagged)


def test_the_scatter_note_says_nothing_when_every_customer_is_drawn() -> None:
    assert scatter_note(_flags(4_000, 80)) is None


def test_the_scatter_note_says_the_others_are_sampled() -> None:
    assert scatter_note(_flags(23_500, 470)) == (
        "Drawn: every flagged customer (470) and a seeded sample of 4,530 of the 23,030 others. "
        "The table below lists every flagged customer."
    )


def test_the_scatter_note_says_the_flagged_are_sampled_too_beyond_half_the_points() -> None:
    assert scatter_note(_flags(1_000_000, 20_000)) == (
        "Drawn: a seeded sample of 2,500 of the 20,000 flagged customers and 2,500 of the "
        "980,000 others. The table below lists every flagged customer."
    )
