"""The steps from a loaded file to the RFM table, in the order the CLI and the pages run them.

Each step is a function of :mod:`rfm_core.schema`, :mod:`rfm_core.cleaning` or
:mod:`rfm_core.rfm`; this module only chains them so that the command line and the pages cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import pandas as pd
import pyarrow.compute as pc

from rfm_core.cleaning import CleaningResult, CleaningRules, clean
from rfm_core.io import LoadedTable
from rfm_core.rfm import DEFAULT_SEGMENTS, RfmResult, SegmentRule, compute_rfm
from rfm_core.schema import ColumnMapping, DateOrder, Transactions, infer_mapping
from rfm_core.schema import prepare_transactions as _prepare

__all__ = ["RfmPipelineResult", "customer_orders", "prepare", "run_rfm"]


@dataclass(frozen=True)
class RfmPipelineResult:
    """Everything computed from one file and one set of settings."""

    transactions: Transactions
    cleaning: CleaningResult
    rfm: RfmResult

    @property
    def warnings(self) -> tuple[str, ...]:
        """Warnings of every step, in order."""
        return (*self.cleaning.warnings, *self.rfm.warnings)


def prepare(
    loaded: LoadedTable,
    *,
    mapping: Mapping[str, str | None] | ColumnMapping | None = None,
    date_order: DateOrder = "auto",
) -> Transactions:
    """Map columns (explicit roles win over detection) and interpret their values."""
    if not isinstance(mapping, ColumnMapping):
        mapping = infer_mapping(loaded, explicit=mapping)
    return _prepare(loaded, mapping, date_order=date_order)


def run_rfm(
    loaded: LoadedTable,
    *,
    mapping: Mapping[str, str | None] | ColumnMapping | None = None,
    date_order: DateOrder = "auto",
    rules: CleaningRules | None = None,
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS,
) -> RfmPipelineResult:
    """Map, clean and aggregate a loaded file.

    Parameters
    ----------
    loaded : LoadedTable
    mapping : ColumnMapping or mapping of role to column, optional
    date_order : {"auto", "dayfirst", "monthfirst"}
    rules : CleaningRules, optional
    segments : tuple of SegmentRule

    Returns
    -------
    RfmPipelineResult
    """
    transactions = prepare(loaded, mapping=mapping, date_order=date_order)
    backend = ibis.duckdb.connect()
    cleaning = clean(transactions, rules, backend=backend)
    return RfmPipelineResult(
        transactions, cleaning, compute_rfm(cleaning, segments=segments, backend=backend)
    )


def customer_orders(result: RfmPipelineResult, customer_id: str) -> pd.DataFrame:
    """Return one customer's kept orders, oldest first.

    Returns
    -------
    pandas.DataFrame
        ``order, timestamp, lines, amount, is_return``: one row per invoice (or per timestamp
        without an invoice column); empty when the id has no kept line.
    """
    lines = result.cleaning.transactions
    mine = lines.filter(pc.equal(lines.column("customer_id"), customer_id))
    frame = mine.select(["invoice", "timestamp", "amount", "is_return"]).to_pandas()
    frame["order"] = frame["invoice"].fillna(frame["timestamp"].astype("string"))
    orders = frame.groupby(["order", "is_return"], as_index=False, dropna=False).agg(
        timestamp=("timestamp", "min"), lines=("amount", "size"), amount=("amount", "sum")
    )
    orders["amount"] = orders["amount"].round(2)
    columns = ["order", "timestamp", "lines", "amount", "is_return"]
    return orders.sort_values(["timestamp", "order"], ignore_index=True)[columns]
