"""Both runs from lines to customers — in memory and on an engine — are a CustomerRun."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import pytest

from rfm_core.customers.engine import EngineRun, connect, rfm_on_engine, scan_file
from rfm_core.customers.pipeline import RfmPipelineResult, run_rfm
from rfm_core.customers.result import CustomerRun
from rfm_core.customers.rfm import RfmResult
from rfm_core.ingest.schema import ColumnMapping, Transactions

# what each attribute of the protocol holds, on either run
KINDS = {
    "rfm": RfmResult,
    "n_in": int,
    "n_kept": int,
    "report": pd.DataFrame,
    "mapping": ColumnMapping,
    "date_format": str,
    "dates_ambiguous": bool,
    "warnings": tuple,
}

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


def members() -> set[str]:
    return {name for name in vars(CustomerRun) if isinstance(vars(CustomerRun)[name], property)}


@pytest.fixture
def in_memory(retail) -> RfmPipelineResult:
    return run_rfm(retail)


@pytest.fixture
def on_engine(retail_file) -> EngineRun:
    source = scan_file(retail_file, backend=connect("duckdb"))
    return rfm_on_engine(source, name=retail_file.name)


def test_the_protocol_declares_what_the_pages_read() -> None:
    assert members() == {*KINDS, "lines", "transactions"}


@pytest.mark.parametrize("run", ["in_memory", "on_engine"])
def test_both_runs_are_customer_runs(run: str, request: pytest.FixtureRequest) -> None:
    result = request.getfixturevalue(run)
    assert isinstance(result, CustomerRun)
    for name, kind in KINDS.items():
        assert isinstance(getattr(result, name), kind), name


def test_only_the_in_memory_run_holds_its_lines(in_memory, on_engine) -> None:
    assert isinstance(in_memory.lines, pa.Table) and in_memory.lines.num_rows == in_memory.n_kept
    assert isinstance(in_memory.transactions, Transactions)
    assert on_engine.lines is None and on_engine.transactions is None
    assert on_engine.dates_ambiguous is False and on_engine.date_format == "native"


def test_both_runs_count_and_aggregate_alike(in_memory, on_engine) -> None:
    assert (in_memory.n_in, in_memory.n_kept) == (on_engine.n_in, on_engine.n_kept)
    pd.testing.assert_frame_equal(in_memory.rfm.table, on_engine.rfm.table)


def test_ambiguous_dates_are_reported(load) -> None:
    log = "customer,date,amount\na,01/02/2024,5\nb,03/04/2024,7\n"
    result = run_rfm(load(log))
    assert result.dates_ambiguous is True
    assert result.date_format in {"dayfirst", "monthfirst"}
    assert run_rfm(load("customer,date,amount\na,2024-02-01,5\n")).dates_ambiguous is False


def test_an_object_without_an_attribute_is_not_a_customer_run() -> None:
    values = {name: None for name in members()}
    assert isinstance(SimpleNamespace(**values), CustomerRun)
    del values["dates_ambiguous"]
    assert not isinstance(SimpleNamespace(**values), CustomerRun)
