"""The steps from a loaded file to the RFM table, in the order the CLI and the pages run them.

Each step is a function of :mod:`rfm_core.ingest.schema`, :mod:`rfm_core.lines.cleaning` or
:mod:`rfm_core.customers.rfm`; this module only chains them so that the command line and the pages
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfm_core.customers.rfm import DEFAULT_SEGMENTS, RfmResult, SegmentRule, compute_rfm
from rfm_core.ingest.io import LoadedTable
from rfm_core.ingest.schema import ColumnMapping, DateOrder, Transactions, infer_mapping
from rfm_core.ingest.schema import prepare_transactions as _prepare
from rfm_core.lines.cleaning import CleaningResult, CleaningRules, clean

__all__ = ["RfmPipelineResult", "customer_orders", "orders_of", "prepare", "run_rfm"]


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

    # the accessors of rfm_core.customers.result.CustomerRun, shared with EngineRun

    @property
    def n_in(self) -> int:
        """Rows read."""
        return self.cleaning.n_in

    @property
    def n_kept(self) -> int:
        """Rows kept."""
        return self.cleaning.n_kept

    @property
    def report(self) -> pd.DataFrame:
        """Rows removed per reason (:attr:`rfm_core.lines.cleaning.CleaningResult.report`)."""
        return self.cleaning.report

    @property
    def mapping(self) -> ColumnMapping:
        """Which column played which role."""
        return self.transactions.mapping

    @property
    def date_format(self) -> str:
        """How the dates were read."""
        return self.transactions.dates.format

    @property
    def dates_ambiguous(self) -> bool:
        """Every date fitted both day-first and month-first order (read as :attr:`date_format`)."""
        return self.transactions.dates.ambiguous

    @property
    def lines(self) -> pa.Table | None:
        """The kept lines (always in memory on this path)."""
        return self.cleaning.transactions


def prepare(
    loaded: LoadedTable,
    *,
    mapping: Mapping[str, str | None] | ColumnMapping | None = None,
    date_order: DateOrder = "auto",
) -> Transactions:
    """Map columns (explicit roles win over detection) and interpret their values.

    Parameters
    ----------
    loaded : LoadedTable
        The file as read.
    mapping : mapping of role to column, or ColumnMapping, optional
        Explicit roles; a ColumnMapping is used as it is, without detection.
    date_order : {"auto", "dayfirst", "monthfirst"}
        How to read text dates such as ``01/02/2011``.

    Returns
    -------
    Transactions
        The canonical columns with typed values, and how the dates were read.

    Raises
    ------
    MappingError
        A required role cannot be mapped, or a mapped column holds mostly bad values.
    """
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

    Parameters
    ----------
    result : RfmPipelineResult
        The cleaned transactions.
    customer_id : str
        The customer, as in the ``customer_id`` column.

    Returns
    -------
    pandas.DataFrame
        ``order, timestamp, lines, amount, is_return``: one row per invoice (or per timestamp
        without an invoice column); empty when the id has no kept line.
    """
    lines = result.cleaning.transactions
    mine = lines.filter(pc.equal(lines.column("customer_id"), customer_id))
    return orders_of(ibis.memtable(mine), backend=ibis.duckdb.connect())


def orders_of(kept: ir.Table, *, backend: ibis.BaseBackend) -> pd.DataFrame:
    """Group kept lines (``invoice, timestamp, amount, is_return``) into orders, oldest first.

    Shared by the in-memory drill-down and
    :func:`rfm_core.customers.engine.customer_orders_on_engine`.

    Parameters
    ----------
    kept : ibis Table
        Kept lines with the columns ``invoice, timestamp, amount, is_return``.
    backend : ibis backend
        Where the expression runs.

    Returns
    -------
    pandas.DataFrame
        ``order, timestamp, lines, amount, is_return``: one row per invoice (or per timestamp
        without an invoice), amounts rounded to cents.
    """
    order = ibis.coalesce(kept.invoice, kept.timestamp.cast("string"))
    orders = kept.group_by(order=order, is_return=kept.is_return).agg(
        timestamp=kept.timestamp.min(), lines=kept.count(), amount=kept.amount.sum()
    )
    frame = backend.to_pyarrow(orders).to_pandas()
    frame["amount"] = frame["amount"].round(2)
    columns = ["order", "timestamp", "lines", "amount", "is_return"]
    return frame.sort_values(["timestamp", "order"], ignore_index=True)[columns]
