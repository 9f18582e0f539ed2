"""The same cleaning and RFM expressions on an engine: DuckDB scanning files, and Spark.

The engine path must give exactly what the in-memory path gives (which the property tests hold to
an independent reference), whatever the rules, and Spark exactly what DuckDB gives.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

from rfm_core.customers.engine import collapsed_copies, connect, open_file, rfm_on_engine, scan_file
from rfm_core.customers.pipeline import run_rfm
from rfm_core.errors import CleaningError, EngineUnsupported
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.lines.reasons import COPIES
from tests.core.conftest import RETAIL_CSV
from tests.core.test_properties import (
    Row,
    load_rows,
    logs,
    reference_reasons,
    reference_rfm,
    rules_strategy,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


def typed_parquet(rows: list[Row], path: Path) -> Path:
    """Write random rows as a typed Parquet file (numbers as numbers, times as timestamps)."""
    table = pa.table(
        {
            "Invoice": [r[0] for r in rows],
            "Customer ID": [r[1] or None for r in rows],
            "InvoiceDate": pa.array([dt.datetime.fromisoformat(r[2]) for r in rows]),
            "Quantity": pa.array([r[3] for r in rows], pa.int64()),
            "Price": pa.array([r[4] / 100 for r in rows], pa.float64()),
            "Country": [r[5] for r in rows],
        }
    )
    pq.write_table(table, path)
    return path


def on_duckdb(path: Path, rules: CleaningRules | None = None):
    return rfm_on_engine(scan_file(path, backend=connect("duckdb")), name=path.name, rules=rules)


def assert_same(run, result) -> None:
    """The engine's run equals the in-memory pipeline's result."""
    pd.testing.assert_frame_equal(run.rfm.table, result.rfm.table)
    pd.testing.assert_frame_equal(run.report, result.cleaning.report)
    assert (run.n_in, run.n_kept) == (result.cleaning.n_in, result.cleaning.n_kept)
    assert run.rfm.reference_date == result.rfm.reference_date


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    """A generated messy log (missing ids, cancellations, exact duplicates) as CSV and Parquet."""
    folder = tmp_path_factory.mktemp("engine")
    log = generate_transactions(400, random_state=3).transactions
    csv, parquet = folder / "log.csv", folder / "log.parquet"
    log.to_csv(csv, index=False)
    log.to_parquet(parquet, index=False)
    return csv, parquet


def test_retail_log_on_duckdb_equals_the_in_memory_path(tmp_path, retail):
    path = tmp_path / "retail.csv"
    path.write_text(RETAIL_CSV, encoding="utf-8")
    assert_same(on_duckdb(path), run_rfm(retail))


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize(
    "rules",
    [
        CleaningRules(),
        CleaningRules(returns="net"),
        CleaningRules(drop_duplicates=False, max_quantity=20.0),
        CleaningRules(countries=("France", "Germany"), reference_date=dt.date(2023, 10, 1)),
    ],
    ids=["default", "net", "keep-duplicates", "countries"],
)
def test_generated_log_on_duckdb_equals_the_in_memory_path(generated, kind, rules):
    path = generated[0] if kind == "csv" else generated[1]
    expected = run_rfm(load_bytes(path.read_bytes(), file_name=path.name), rules=rules)
    assert_same(on_duckdb(path, rules), expected)


@settings(max_examples=30, deadline=None)
@given(rows=logs(), rules=rules_strategy)
def test_random_logs_on_duckdb_equal_the_in_memory_path(tmp_path_factory, rows, rules):
    path = typed_parquet(rows, tmp_path_factory.mktemp("random") / "log.parquet")
    try:
        expected = run_rfm(load_rows(rows), rules=rules)
    except CleaningError:
        with pytest.raises(CleaningError):
            on_duckdb(path, rules)
        return
    assert_same(on_duckdb(path, rules), expected)


@settings(max_examples=30, deadline=None)
@given(rows=logs())
def test_random_logs_on_duckdb_equal_the_reference(tmp_path_factory, rows):
    if all(reason is not None for reason in reference_reasons(rows)):
        return
    path = typed_parquet(rows, tmp_path_factory.mktemp("random") / "log.parquet")
    got = on_duckdb(path).rfm.table
    want, _ = reference_rfm(rows)
    pd.testing.assert_frame_equal(
        got.drop(columns="avg_order_value"), want, check_exact=True, check_dtype=False
    )


def test_text_numbers_need_the_in_memory_reader(tmp_path):
    path = tmp_path / "euro.csv"
    path.write_text(
        "customer;date;amount\nA;2024-01-02;1.234,50\nB;2024-01-03;12,00\n", encoding="utf-8"
    )
    with pytest.raises(EngineUnsupported, match="'amount'"):
        on_duckdb(path)


# -- Spark ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime")
    backend = connect("spark")
    yield backend
    backend._session.stop()


def test_spark_equals_duckdb_on_the_same_expression(spark, generated, tmp_path):
    _, parquet = generated
    for rules in (CleaningRules(), CleaningRules(returns="net", max_zscore=3.0)):
        on_spark = rfm_on_engine(
            scan_file(parquet, backend=spark), name=parquet.name, rules=rules, engine="spark"
        )
        reference = on_duckdb(parquet, rules)
        pd.testing.assert_frame_equal(on_spark.rfm.table, reference.rfm.table)
        pd.testing.assert_frame_equal(on_spark.report, reference.report)


@settings(max_examples=8, deadline=None)
@given(rows=logs(), rules=rules_strategy)
def test_random_logs_on_spark_equal_the_in_memory_path(spark, tmp_path_factory, rows, rules):
    path = typed_parquet(rows, tmp_path_factory.mktemp("random") / "log.parquet")
    try:
        expected = run_rfm(load_rows(rows), rules=rules)
    except CleaningError:
        return
    run = rfm_on_engine(scan_file(path, backend=spark), name=path.name, rules=rules)
    assert_same(run, expected)


# -- the command line ---------------------------------------------------------------------------


def test_cli_engine_duckdb_writes_what_memory_writes(retail_file, tmp_path, capsys):
    from rfm_core.cli import main

    memory, engine = tmp_path / "memory.csv", tmp_path / "engine.csv"
    assert main(["rfm", str(retail_file), "-o", str(memory), "--engine", "memory"]) == 0
    assert main(["rfm", str(retail_file), "-o", str(engine), "--engine", "duckdb"]) == 0
    assert engine.read_bytes() == memory.read_bytes()


def test_cli_reads_a_table_of_a_duckdb_database(retail_file, tmp_path):
    import duckdb

    from rfm_core.cli import main

    database = tmp_path / "shop.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE TABLE sales AS SELECT * FROM read_csv('{retail_file}')")
    out, memory = tmp_path / "table.csv", tmp_path / "memory.csv"
    args = ["--engine", "duckdb", "--database", str(database), "--table", "sales"]
    assert main(["rfm", "-o", str(out), *args]) == 0
    assert main(["rfm", str(retail_file), "-o", str(memory)]) == 0
    assert out.read_bytes() == memory.read_bytes()


def test_cli_untyped_file_falls_back_to_memory(tmp_path, capsys):
    from rfm_core.cli import main

    path = tmp_path / "euro.csv"
    path.write_text("customer;date;amount\nA;2024-01-02;1.234,50\nB;2024-01-03;12,00\n")
    assert main(["rfm", str(path), "-o", str(tmp_path / "o.csv"), "--engine", "duckdb"]) == 0
    assert "reading the file in memory instead" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "sales"], "--table needs --engine"),
        ([], "give a transaction file"),
    ],
)
def test_cli_engine_errors(tmp_path, capsys, args, message):
    from rfm_core.cli import main

    assert main(["rfm", "-o", str(tmp_path / "o.csv"), *args]) == 2
    assert message in capsys.readouterr().err


def test_customer_orders_and_countries_on_the_engine(tmp_path, retail):
    from rfm_core.customers.engine import customer_orders_on_engine, distinct_values
    from rfm_core.customers.pipeline import customer_orders

    path = tmp_path / "retail.csv"
    path.write_text(RETAIL_CSV, encoding="utf-8")
    run = on_duckdb(path)
    source = scan_file(path, backend=connect("duckdb"), text_columns=("CustomerID", "InvoiceNo"))
    expected = run_rfm(retail)
    for customer in ("12346", "12348", "12350"):
        got = customer_orders_on_engine(source, run.mapping, run.rules, customer)
        pd.testing.assert_frame_equal(got, customer_orders(expected, customer), check_dtype=False)
    countries = distinct_values(source, run.mapping, "country")
    assert countries == ["France", "Germany", "United Kingdom"]


def test_cli_engine_keeps_leading_zeros_of_ids(tmp_path):
    from rfm_core.cli import main

    path = tmp_path / "zeros.csv"
    path.write_text(
        "client,date,invoice,amount\n"
        "00123,2024-01-02,A1,10.00\n"
        "123,2024-01-03,A2,5.00\n"
        "00123,2024-01-05,A3,7.50\n",
        encoding="utf-8",
    )
    memory, engine = tmp_path / "memory.csv", tmp_path / "engine.csv"
    assert main(["rfm", str(path), "-o", str(memory), "--engine", "memory"]) == 0
    assert main(["rfm", str(path), "-o", str(engine), "--engine", "duckdb"]) == 0
    assert engine.read_bytes() == memory.read_bytes()
    ids = pd.read_csv(engine, dtype=str)["customer_id"].tolist()
    assert ids == ["00123", "123"]


def test_cli_day_first_text_dates_fall_back_to_memory(tmp_path, capsys):
    from rfm_core.cli import main

    path = tmp_path / "dayfirst.csv"
    path.write_text(
        "customer,date,amount\nA,13/01/2024 10:00,10.00\nB,02/02/2024 11:00,5.00\n",
        encoding="utf-8",
    )
    memory, engine = tmp_path / "memory.csv", tmp_path / "engine.csv"
    assert main(["rfm", str(path), "-o", str(memory), "--engine", "memory"]) == 0
    assert main(["rfm", str(path), "-o", str(engine), "--engine", "duckdb"]) == 0
    assert "dayfirst dates" in capsys.readouterr().out
    assert engine.read_bytes() == memory.read_bytes()


def test_duckdb_connections_cap_their_memory():
    def limit(backend) -> str:
        return backend.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]

    assert limit(connect("duckdb")) == "2.3 GiB"  # DUCKDB_MEMORY_LIMIT, 2.5 GB
    assert limit(connect("duckdb", memory_limit="1GB")) == "953.6 MiB"
    assert limit(connect("duckdb", memory_limit=None)) != "2.3 GiB"  # DuckDB's own default


def test_a_column_named_copies_is_the_users_data(tmp_path):
    """The engine's own count of exact copies never takes the place of a column of the file."""
    path = tmp_path / "copies.parquet"
    table = pa.table(
        {
            "Invoice": ["A1", "A1", "A2", "A3"],
            "Customer ID": ["7", "7", "7", "8"],
            "InvoiceDate": pa.array([dt.datetime(2024, 1, d) for d in (2, 2, 5, 6)]),
            "Quantity": pa.array([2, 2, 1, 3], pa.int64()),
            "Price": [1.5, 1.5, 4.0, 2.0],
            "copies": pa.array([9, 9, 1, 1], pa.int64()),
        }
    )
    pq.write_table(table, path)
    run = on_duckdb(path)
    assert_same(run, run_rfm(load_bytes(path.read_bytes(), file_name=path.name)))
    assert run.report.set_index("reason").loc["duplicate_row", "rows"] == 1
    assert run.rfm.table.loc["7", "monetary"] == 7.0


def test_ids_and_invoices_are_trimmed_as_in_memory(tmp_path):
    """Spaces, tabs, carriage returns, vertical tabs and form feeds around values are trimmed.

    The engine only trims values that start or end with such a character; the others are
    already trimmed, and every spelling below must land on the same customer and order.
    """
    path = tmp_path / "spaces.parquet"
    ids = ["7", " 7", "7 ", "\t7", "7\r", "\x0b7\x0c", "8", "8 ", "é", " é"]
    invoices = ["A1", "A1 ", " A1", "A2\t", "\rA2", "A3", "B1", " B1", "C9", "E1"]
    table = pa.table(
        {
            "Invoice": invoices,
            "Customer ID": ids,
            "InvoiceDate": pa.array([dt.datetime(2024, 1, 1 + i) for i in range(len(ids))]),
            "Quantity": pa.array([1] * len(ids), pa.int64()),
            "Price": [float(i + 1) for i in range(len(ids))],
        }
    )
    pq.write_table(table, path)
    run = on_duckdb(path)
    assert_same(run, run_rfm(load_bytes(path.read_bytes(), file_name=path.name)))
    assert run.rfm.table.index.tolist() == ["7", "8", "é"]
    assert run.rfm.table["frequency"].tolist() == [3, 1, 1]  # "C9" is a cancellation


def test_ids_written_as_integral_numbers_lose_the_decimal_part_on_the_engine(tmp_path):
    """``17850,0`` (a European spreadsheet) and ``17850.0`` are customer 17850 on every path."""
    from rfm_core.cli import main

    for name, separator, ids in (
        ("comma.csv", ";", ["17850,0", "13047,0", "17850,0"]),
        ("point.csv", ",", ["17850.0", "13047.0", "17850.0"]),
    ):
        path = tmp_path / name
        rows = [
            f"{ids[i]}{separator}2024-01-0{i + 2}{separator}A{i}{separator}{5 + i}"
            for i in range(3)
        ]
        header = separator.join(["client", "date", "invoice", "amount"])
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        memory, engine = tmp_path / "memory.csv", tmp_path / "engine.csv"
        assert main(["rfm", str(path), "-o", str(memory), "--engine", "memory"]) == 0
        assert main(["rfm", str(path), "-o", str(engine), "--engine", "duckdb"]) == 0
        assert engine.read_bytes() == memory.read_bytes()
        assert pd.read_csv(engine, dtype=str)["customer_id"].tolist() == ["13047", "17850"]


@pytest.mark.parametrize("rules", [[], ["--returns", "net", "--max-zscore", "3"]])
def test_cli_clean_writes_the_same_lines_on_every_engine(generated, tmp_path, capsys, rules):
    """Kept lines and removed lines with their reason: the same rows in memory and on DuckDB,
    and the removed rows of each reason are the report's (exact copies written out again)."""
    from rfm_core.cli import main

    csv, _ = generated
    written = {}
    for engine in ("memory", "duckdb"):
        kept, dropped = tmp_path / f"kept_{engine}.parquet", tmp_path / f"removed_{engine}.csv"
        args = ["clean", str(csv), "-o", str(kept), "--removed", str(dropped), "--engine", engine]
        assert main([*args, *rules]) == 0
        written[engine] = (pd.read_parquet(kept), pd.read_csv(dropped, dtype=str))
    columns = ["customer_id", "invoice", "timestamp", "quantity", "price", "amount", "product"]
    for memory, engine in zip(written["memory"], written["duckdb"], strict=True):
        assert list(memory.columns) == list(engine.columns)
        key = [*columns, *(["drop_reason"] if "drop_reason" in memory else [])]
        pd.testing.assert_frame_equal(
            memory.sort_values(key, ignore_index=True), engine.sort_values(key, ignore_index=True)
        )
    kept, dropped = written["duckdb"]
    report = run_rfm(
        load_bytes(csv.read_bytes(), file_name=csv.name),
        rules=CleaningRules(returns="net", max_zscore=3.0) if rules else CleaningRules(),
    ).report
    expected = {r.reason: r.rows for r in report.itertuples() if r.rows}
    assert dropped["drop_reason"].value_counts().to_dict() == expected
    assert len(kept) + len(dropped) == len(pd.read_csv(csv))
    assert "removed lines →" in capsys.readouterr().out


def test_cli_clean_refuses_other_formats(retail_file, tmp_path, capsys):
    from rfm_core.cli import main

    assert main(["clean", str(retail_file), "-o", str(tmp_path / "kept.xlsx")]) == 2
    assert "write .parquet or .csv" in capsys.readouterr().err


def test_customers_lost_on_duckdb_equal_the_in_memory_path(tmp_path):
    """A CDNOW-shaped log: customers with only zero-value orders are lost, on both paths."""
    from rfm_core.ingest.synthetic import generate_cdnow_like

    path = tmp_path / "cdnow.csv"
    path.write_text(generate_cdnow_like(800, random_state=5).to_csv(index=False), "utf-8")
    run = on_duckdb(path)
    assert_same(run, run_rfm(load_bytes(path.read_bytes(), file_name=path.name)))
    lost = run.report.set_index("reason")["customers"]
    assert lost["non_positive_price"] > 0
    assert lost.sum() == 800 - run.rfm.n_customers
    assert any("no invoice column" in w for w in run.warnings)


# -- exact copies through a hash of the columns the RFM does not read -------------------------


def near_copies(path: Path) -> Path:
    """Rows equal in every column the RFM reads, different in the product or description."""
    table = pa.table(
        {
            "Invoice": ["A1", "A1", "A1", "A1", "A2", "A2"],
            "Customer ID": ["7", "7", "7", "7", "8", "8"],
            "InvoiceDate": pa.array([dt.datetime(2024, 1, 2)] * 4 + [dt.datetime(2024, 1, 3)] * 2),
            "Quantity": pa.array([1, 1, 1, 1, 2, 2], pa.int64()),
            "Price": [3.0, 3.0, 3.0, 3.0, 1.5, 1.5],
            "StockCode": ["P1", "P2", "P1", "P1", "P9", "P9"],
            "Description": ["MUG", "MUG", "MUG", "CUP", None, None],
        }
    )
    pq.write_table(table, path)
    return path


def collapse(path: Path) -> tuple[pd.DataFrame, int | None]:
    source = scan_file(path, backend=connect("duckdb"))
    kept = {"Invoice", "Customer ID", "InvoiceDate", "Quantity", "Price"}
    rows, collisions = collapsed_copies(source, kept)
    frame = rows.to_pandas().sort_values(["Invoice", COPIES], ignore_index=True)
    return frame, None if collisions is None else int(collisions.to_pandas().iloc[0, 0])


def test_rows_that_differ_only_in_unread_columns_are_not_copies(tmp_path):
    path = near_copies(tmp_path / "near.parquet")
    frame, collisions = collapse(path)
    assert collisions == 0
    assert frame[COPIES].tolist() == [1, 1, 2, 2]  # A1: P2, CUP, P1 MUG twice; A2 twice
    run = on_duckdb(path)
    assert_same(run, run_rfm(load_bytes(path.read_bytes(), file_name=path.name)))
    assert run.report.set_index("reason").loc["duplicate_row", "rows"] == 2
    assert run.rfm.table.loc["7", "monetary"] == 9.0  # three distinct lines of 3.00


def test_a_hash_shared_by_different_rows_is_caught_and_every_column_grouped(tmp_path, monkeypatch):
    """A hash that every row shares (a forced collision): the collapse alone would take the
    rows that differ in product or description for copies; the check sees the shared hash and
    the run groups all columns, so the result stays the exact one."""
    path = near_copies(tmp_path / "near.parquet")
    hash_sql = "rfm_core.customers.engine.OTHER_COLUMNS_HASH"
    monkeypatch.setattr(hash_sql, "42::UBIGINT")  # the same for every row: {columns} unused
    frame, collisions = collapse(path)
    assert collisions == 3  # four distinct (product, description) values, one hash
    assert frame[COPIES].tolist() == [4, 2]  # wrong on its own: A1 taken as four copies
    run = on_duckdb(path)
    assert_same(run, run_rfm(load_bytes(path.read_bytes(), file_name=path.name)))
    assert run.report.set_index("reason").loc["duplicate_row", "rows"] == 2


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_the_hashed_collapse_counts_what_grouping_every_column_counts(generated, kind):
    path = generated[0] if kind == "csv" else generated[1]
    source = scan_file(path, backend=connect("duckdb"))
    mapping = open_file(path, backend=source._find_backend())[1]
    roles = {mapping.customer, mapping.invoice, mapping.date, mapping.quantity, mapping.price}
    rows, collisions = collapsed_copies(source, roles)
    exact = source.group_by(list(source.columns)).agg(**{COPIES: source.count()})
    exact = exact.group_by(sorted(roles)).agg(copies=exact[COPIES].collect())
    hashed = rows.group_by(sorted(roles)).agg(copies=rows[COPIES].collect())
    key = sorted(roles)
    got = hashed.to_pandas().sort_values(key, ignore_index=True)
    want = exact.to_pandas().sort_values(key, ignore_index=True)
    got["copies"] = got["copies"].map(sorted)
    want["copies"] = want["copies"].map(sorted)
    assert int(collisions.to_pandas().iloc[0, 0]) == 0
    pd.testing.assert_frame_equal(got, want)
    assert sum(map(sum, got["copies"])) == len(pd.read_parquet(generated[1]))


def test_stacked_results_come_apart_whatever_their_order():
    """The engine's results travel as one table of parts; each part comes back with its own
    columns and rows, also when a part is empty or its rows are not together."""
    from rfm_core.customers.engine import PART_COLUMN, _stacked, _unstacked

    parts = {
        "a": ibis.memtable({"x": [1, 2, 3], "name": ["p", "q", "r"]}),
        "b": ibis.memtable({"x": [9], "flag": [True]}),
        "c": ibis.memtable({"name": ["z"]}).filter(ibis._.name == "none"),
    }
    stacked = connect("duckdb").to_pyarrow(_stacked(parts))
    shuffled = stacked.take([3, 0, 2, 1])
    for table in (stacked, shuffled):
        found = _unstacked(table, parts)
        assert PART_COLUMN not in found["a"].column_names
        assert sorted(found["a"].to_pylist(), key=str) == [
            {"x": 1, "name": "p"},
            {"x": 2, "name": "q"},
            {"x": 3, "name": "r"},
        ]
        assert found["b"].to_pylist() == [{"x": 9, "flag": True}]
        assert found["c"].num_rows == 0 and found["c"].column_names == ["name"]
