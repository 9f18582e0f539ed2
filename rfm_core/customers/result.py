"""What every run from lines to customers provides, wherever it ran.

A file read in memory gives an :class:`rfm_core.customers.pipeline.RfmPipelineResult`; a file
cleaned and aggregated where it lives (DuckDB, Spark) gives an
:class:`rfm_core.customers.engine.EngineRun`. Both are a :class:`CustomerRun`: the pages, the
exports and the reports read either through these attributes alone and never ask which one they
hold. Where the two differ — whether the lines are in memory — the difference is an attribute
(:attr:`CustomerRun.lines` and :attr:`CustomerRun.transactions` are ``None`` on an engine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from rfm_core.customers.rfm import RfmResult
    from rfm_core.ingest.schema import ColumnMapping, Transactions

__all__ = ["CustomerRun"]


@runtime_checkable
class CustomerRun(Protocol):
    """The counts, the cleaning report and the RFM table of one file under one set of rules.

    Attributes
    ----------
    rfm : RfmResult
        One row per customer.
    n_in, n_kept : int
        Rows read, rows kept.
    report : pandas.DataFrame
        Rows removed per reason (:attr:`rfm_core.lines.cleaning.CleaningResult.report`).
    mapping : ColumnMapping
        Which column played which role.
    date_format : str
        How the dates were read (``"native"`` when the source typed them).
    dates_ambiguous : bool
        Every date fitted both day-first and month-first order (never on an engine).
    warnings : tuple of str
        Warnings of every step, in order.
    lines : pyarrow.Table or None
        The kept lines when they are in memory; ``None`` when they stay on the engine.
    transactions : Transactions or None
        The mapped lines as read, before cleaning, when they are in memory; ``None`` on an engine.
    """

    @property
    def rfm(self) -> RfmResult: ...

    @property
    def n_in(self) -> int: ...

    @property
    def n_kept(self) -> int: ...

    @property
    def report(self) -> pd.DataFrame: ...

    @property
    def mapping(self) -> ColumnMapping: ...

    @property
    def date_format(self) -> str: ...

    @property
    def dates_ambiguous(self) -> bool: ...

    @property
    def warnings(self) -> tuple[str, ...]: ...

    @property
    def lines(self) -> pa.Table | None: ...

    @property
    def transactions(self) -> Transactions | None: ...
