"""Customer tables the anomaly tests share: the size of the planted log, hand-made tables."""

from __future__ import annotations

import pandas as pd

N_CUSTOMERS = 2500


def hand_table(rows: dict[str, tuple[int, int, float]]) -> pd.DataFrame:
    """``{customer: (recency, frequency, monetary)}`` → a minimal RFM table."""
    frame = pd.DataFrame(list(rows.values()), columns=["recency", "frequency", "monetary"])
    frame.index = pd.Index(list(rows), dtype="string", name="customer_id")
    return frame.astype({"recency": "int64", "frequency": "int64", "monetary": "float64"})


# nine ordinary customers: medians recency 50, frequency 3, monetary 25,000
ORDINARY = {
    "a": (10, 1, 15_000.0),
    "b": (20, 2, 18_000.0),
    "c": (30, 2, 20_000.0),
    "d": (40, 3, 22_000.0),
    "e": (50, 3, 25_000.0),
    "f": (60, 3, 28_000.0),
    "g": (70, 4, 30_000.0),
    "h": (80, 4, 33_000.0),
    "i": (90, 5, 35_000.0),
}
