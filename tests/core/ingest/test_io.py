"""Reading uploaded bytes: dispatch by suffix, dataset ids, Parquet, load errors, local paths.

The readers have their own tests: ``test_delimited.py``, ``test_excel.py``, ``test_folder.py``.
"""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rfm_core.customers.pipeline import prepare
from rfm_core.errors import LoadError, RfmError
from rfm_core.ingest.io import dataset_id, load_bytes, load_path
from tests.core.ingest.test_delimited import HEADER, delimited


def test_dataset_id_depends_on_bytes_and_sheet(load):
    data = delimited(",").encode()
    assert load(data).dataset_id == load(data, "other.csv").dataset_id == dataset_id(data)
    assert load(data).dataset_id != load(data + b"x,y,z,1,2,3\n").dataset_id
    assert dataset_id(data, sheet="A") != dataset_id(data, sheet="B") != dataset_id(data)


# -- Parquet -------------------------------------------------------------------------------------


def test_parquet_is_read_as_is(load):
    table = pa.table(
        {
            "customer": pa.array(["007", "42"]),
            "when": pa.array(
                [dt.datetime(2011, 1, 3, 10), dt.datetime(2011, 1, 4)], pa.timestamp("ms")
            ),
            "spend": pa.array([1.5, 2.25]),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    loaded = load(buffer.getvalue(), "log.parquet")
    assert loaded.table.equals(table)
    assert loaded.dialect is None and loaded.sheet is None
    transactions = prepare(loaded, mapping={"amount": "spend"})
    assert transactions.mapping.date == "when"
    assert transactions.table.column("customer_id").to_pylist() == ["007", "42"]


# -- errors --------------------------------------------------------------------------------------


def test_load_error_is_a_user_error():
    assert issubclass(LoadError, RfmError)
    assert issubclass(RfmError, ValueError)


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx", "empty.parquet"])
def test_empty_file(name):
    with pytest.raises(LoadError, match=rf"^{name}: the file is empty"):
        load_bytes(b"", file_name=name)


@pytest.mark.parametrize("name", ["log.json", "log", "log.csv.gz"])
def test_unsupported_suffix(name):
    with pytest.raises(LoadError, match=rf"^{name}: unsupported file type"):
        load_bytes(b"a,b\n1,2\n", file_name=name)


def test_corrupt_parquet():
    with pytest.raises(LoadError, match=r"^broken\.parquet: not a readable Parquet file"):
        load_bytes(b"PAR1 garbage", file_name="broken.parquet")


def test_load_path_errors_name_the_path(tmp_path):
    with pytest.raises(LoadError, match=r"missing\.csv: no such file"):
        load_path(tmp_path / "missing.csv")
    with pytest.raises(LoadError, match="is a folder"):
        load_path(tmp_path)


def test_load_path_reads_the_file(tmp_path):
    path = tmp_path / "log.tsv"
    path.write_bytes(delimited("\t").encode("utf-8"))
    loaded = load_path(path)
    assert loaded.file_name == "log.tsv"
    assert loaded.columns == HEADER
