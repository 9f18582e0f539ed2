"""The planted-groups table the clustering tests share: a generated log of 2,000 customers."""

from __future__ import annotations

import pandas as pd

from rfm_core.customers.pipeline import run_rfm
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions

PLANTED_GROUPS = 5  # champions, loyal, new, at_risk, lost


def planted_rfm() -> tuple[pd.DataFrame, pd.Series]:
    """RFM table of a generated log of 2,000 customers in 5 well-separated groups, and truth."""
    log = generate_transactions(2000, anomaly_share=0.0, random_state=0)
    data = log.transactions.to_csv(index=False).encode()
    table = run_rfm(load_bytes(data, file_name="log.csv")).rfm.table
    truth = log.customers["group"].reindex(table.index)
    assert truth.notna().all()
    return table, truth
