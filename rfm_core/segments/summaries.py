"""Small summaries of flagged customers, as the Anomalies page and its downloads show them.

Every function takes the RFM table (:attr:`rfm_core.customers.rfm.RfmResult.table`, index
``customer_id``) and the flags of the same customers
(:attr:`rfm_core.segments.anomalies.AnomalyResult.table`: ``anomaly, anomaly_score,
anomaly_reason, anomaly_category``, index ``customer_id``, any order).

Definitions
-----------
flagged revenue share
    Σ monetary of the flagged customers divided by Σ monetary of every customer (0 when nobody
    spent anything).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["FLAG_COLUMNS", "flagged_customers", "flagged_revenue_share", "with_flags"]

FLAG_COLUMNS = ("anomaly", "anomaly_score", "anomaly_reason", "anomaly_category")
_VALUES = ("recency", "frequency", "monetary")
_NO_REVENUE = 1e-9  # the denominator when no customer spent anything: the share is then 0


def with_flags(rfm_table: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """Every customer's recency, frequency and monetary value beside their flag.

    Parameters
    ----------
    rfm_table : pandas.DataFrame
        Index ``customer_id``; columns ``recency, frequency, monetary`` at least.
    flags : pandas.DataFrame
        Index ``customer_id``; columns :data:`FLAG_COLUMNS`, one row per customer of
        ``rfm_table``.

    Returns
    -------
    pandas.DataFrame
        Index ``customer_id`` in the order of ``rfm_table``; columns ``recency, frequency,
        monetary`` then :data:`FLAG_COLUMNS`.
    """
    return rfm_table.loc[:, list(_VALUES)].join(flags.loc[:, list(FLAG_COLUMNS)])


def flagged_customers(rfm_table: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """The flagged customers, strangest first.

    Parameters
    ----------
    rfm_table, flags : pandas.DataFrame
        As for :func:`with_flags`.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`with_flags` whose ``anomaly`` is true, by ``anomaly_score``
        descending (equal scores keep the order of ``rfm_table``).
    """
    joined = with_flags(rfm_table, flags)
    flagged = joined[joined["anomaly"].astype(bool)]
    return flagged.sort_values("anomaly_score", ascending=False, kind="stable")


def flagged_revenue_share(rfm_table: pd.DataFrame, flags: pd.DataFrame) -> float:
    """The flagged customers' share of revenue (see the module's definitions).

    Parameters
    ----------
    rfm_table, flags : pandas.DataFrame
        As for :func:`with_flags`.

    Returns
    -------
    float
        Between 0 and 1; 0 when no customer is flagged or nobody spent anything.
    """
    monetary = rfm_table["monetary"]
    flagged = flags["anomaly"].reindex(monetary.index, fill_value=False).astype(bool)
    return float(monetary.where(flagged, 0).sum() / max(monetary.sum(), _NO_REVENUE))
