"""Shared tiny transaction logs for the core tests, written by hand."""

from __future__ import annotations

import pytest

from rfm_core.ingest.io import LoadedTable, load_bytes

# Online Retail layout. Customer by customer (amount = quantity × price):
#   12346  1001 (2 lines: 2×1.25 + 1×10.00), 1002 (4×1.25), C1003 cancelled, 1004 (3×2.00)
#   12347  1005 (1×15.00), France
#   12348  1006 (10×1.25) twice: exact duplicate row, then 1007 (2×10.00) on 01-31 08:15
#   (none) 1008, the last timestamp of the file, but without a customer id
#   12349  1009 with a zero price, 1010 (1×0.99)
#   12350  1011 (6×2.10), 1012 (3×2.10), 1013 (1×7.45), Germany
RETAIL_CSV = """\
InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
1001,85123A,WHITE HANGING HEART,2,2011-01-03 09:00,1.25,12346,United Kingdom
1001,71053,WHITE METAL LANTERN,1,2011-01-03 09:00,10.00,12346,United Kingdom
1002,85123A,WHITE HANGING HEART,4,2011-01-10 14:30,1.25,12346,United Kingdom
C1003,85123A,WHITE HANGING HEART,-2,2011-01-11 10:00,1.25,12346,United Kingdom
1004,22633,HAND WARMER,3,2011-01-20 16:00,2.00,12346,United Kingdom
1005,21730,GLASS STAR LANTERN,1,2011-01-05 11:00,15.00,12347,France
1006,85123A,WHITE HANGING HEART,10,2011-01-28 12:00,1.25,12348,United Kingdom
1006,85123A,WHITE HANGING HEART,10,2011-01-28 12:00,1.25,12348,United Kingdom
1007,71053,WHITE METAL LANTERN,2,2011-01-31 08:15,10.00,12348,United Kingdom
1008,22752,SET 7 BABUSHKA,5,2011-01-31 17:00,3.00,,United Kingdom
1009,POST,POSTAGE,1,2011-01-15 10:00,0.00,12349,United Kingdom
1010,22139,RETROSPOT TEA SET,1,2011-01-02 09:00,0.99,12349,United Kingdom
1011,22960,JAM MAKING SET,6,2011-01-12 13:00,2.10,12350,Germany
1012,22960,JAM MAKING SET,3,2011-01-25 13:00,2.10,12350,Germany
1013,21756,BATH BUILDING BLOCK,1,2011-01-30 09:00,7.45,12350,Germany
"""


@pytest.fixture
def load():
    """Return ``load(text_or_bytes, name="log.csv") -> LoadedTable``."""

    def _load(data: str | bytes, name: str = "log.csv") -> LoadedTable:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return load_bytes(raw, file_name=name)

    return _load


@pytest.fixture
def retail(load) -> LoadedTable:
    """The hand-written Online Retail log above (15 rows, 5 customers kept)."""
    return load(RETAIL_CSV, "retail.csv")


@pytest.fixture
def retail_file(tmp_path):
    """The same log written to ``tmp_path / "retail.csv"``."""
    path = tmp_path / "retail.csv"
    path.write_text(RETAIL_CSV, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of Debian's package, started for the session (skipped with the reason
    where none can start: see :mod:`tests.postgres`)."""
    from tests.postgres import PostgresUnavailable, temporary_postgres

    try:
        with temporary_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request, tmp_path) -> str:
    """The URL of an empty run store: a DuckDB file, then a fresh PostgreSQL database."""
    if request.param == "duckdb":
        return str(tmp_path / "runs.duckdb")
    from tests.postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres_server"))
