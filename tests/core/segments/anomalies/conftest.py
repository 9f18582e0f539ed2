"""Fixtures of the anomaly tests: a generated log with 2% planted anomalies, and its default run."""

from __future__ import annotations

import pandas as pd
import pytest

from rfm_core.customers.pipeline import run_rfm
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.segments.anomalies import detect_anomalies
from tests.core.segments.anomalies.anomaly_tables import N_CUSTOMERS


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The real RFM table of a generated log with 2% planted anomalies, and the truth."""
    log = generate_transactions(N_CUSTOMERS, anomaly_share=0.02, random_state=0)
    data = log.transactions.to_csv(index=False).encode()
    table = run_rfm(load_bytes(data, file_name="log.csv")).rfm.table
    return table, log.customers.reindex(table.index)


@pytest.fixture(scope="module")
def table(planted) -> pd.DataFrame:
    return planted[0]


@pytest.fixture(scope="module")
def truth(planted) -> pd.DataFrame:
    return planted[1]


@pytest.fixture(scope="module")
def default_result(table):
    return detect_anomalies(table, currency="£")
