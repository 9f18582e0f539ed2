"""What the Anomalies page shows of the flagged customers: their values and reasons, their share
of revenue, and the download of their labeled rows."""

from __future__ import annotations

import pandas as pd

from rfm_core.outputs.export import labeled_csv
from rfm_core.segments.anomalies import AnomalyResult
from rfm_core.segments.segmentation import labeled_customers
from rfm_core.segments.summaries import flagged_customers, flagged_revenue_share, with_flags
from ui.charts.anomalies import drawn
from ui.components import LARGE_CUSTOMERS

__all__ = [
    "agreement_seconds",
    "classifier_seconds",
    "customers_with_flags",
    "flagged_csv",
    "flagged_table",
    "revenue_share",
    "scatter_note",
]


# the words first, so that they show beside the id; the numbers (in the reason too) follow
_SHOWN = ("anomaly_category", "anomaly_reason", "recency", "frequency", "monetary", "anomaly_score")


def customers_with_flags(rfm_table: pd.DataFrame, anomalies: AnomalyResult) -> pd.DataFrame:
    """Every customer's recency, frequency, monetary and flag, as the scatter plots draw them."""
    return with_flags(rfm_table, anomalies.table)


def scatter_note(anomalies: AnomalyResult) -> str | None:
    """What the scatter plots draw of the customers, when it is not every one of them
    (:func:`ui.charts.anomalies.drawn`)."""
    n_customers, n_flagged = len(anomalies.table), anomalies.n_flagged
    flagged, others = drawn(n_customers, n_flagged)
    n_others = n_customers - n_flagged
    if flagged == n_flagged and others == n_others:
        return None
    if flagged == n_flagged:
        shown = f"every flagged customer ({n_flagged:,}) and a seeded sample of {others:,}"
    else:
        shown = (
            f"a seeded sample of {flagged:,} of the {n_flagged:,} flagged customers and {others:,}"
        )
    return (
        f"Drawn: {shown} of the {n_others:,} others. The table below lists every flagged customer."
    )


def flagged_table(rfm_table: pd.DataFrame, anomalies: AnomalyResult) -> pd.DataFrame:
    """The flagged customers, strangest first: values, score, category and reason."""
    return flagged_customers(rfm_table, anomalies.table).loc[:, list(_SHOWN)]


def revenue_share(rfm_table: pd.DataFrame, anomalies: AnomalyResult) -> float:
    """The flagged customers' share of revenue."""
    return flagged_revenue_share(rfm_table, anomalies.table)


def flagged_csv(rfm_table: pd.DataFrame, anomalies: AnomalyResult) -> bytes:
    """The labeled rows of the flagged customers (strangest first) as CSV."""
    flagged = flagged_customers(rfm_table, anomalies.table).index
    return labeled_csv(labeled_customers(rfm_table, None, anomalies).loc[flagged])


def agreement_seconds(n_customers: int) -> str:
    """How long comparing the four detectors takes, in words (4 s at 23,500 customers, 26 s at
    a million, bench/RESULTS.md)."""
    return "a few seconds" if n_customers <= LARGE_CUSTOMERS else "about half a minute"


def classifier_seconds(n_customers: int) -> str:
    """How long training the classifier takes, in words (4 s at 23,500 customers; the training
    set is capped at 50,000 customers, so a minute at most)."""
    return "a few seconds" if n_customers <= LARGE_CUSTOMERS else "up to a minute"
