"""Fixtures of the clustering tests: the planted-groups table, built once per test module."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.core.segments.clustering.planted_groups import planted_rfm


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, pd.Series]:
    """RFM table of a generated log of 2,000 customers in 5 well-separated groups, and truth."""
    return planted_rfm()


@pytest.fixture(scope="module")
def table(planted) -> pd.DataFrame:
    return planted[0]
