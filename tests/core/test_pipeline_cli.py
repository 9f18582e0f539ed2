"""The pipeline, the exports and the command line (in-process and as ``python -m rfm_core``)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from rfm_core import cli
from rfm_core.cli import main
from rfm_core.customers.pipeline import run_rfm
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.outputs.export import cleaned_lines_csv, cleaning_report_dict, rfm_csv

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

ROOT = Path(__file__).resolve().parents[2]
OUTPUT_COLUMNS = [
    "customer_id",
    "recency",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "first_purchase",
    "last_purchase",
    "tenure_days",
    "avg_order_value",
    "mean_days_between_purchases",
    "cancelled_amount",
]

# decoy columns that detection would pick (customer, date, amount) next to the real ones
MAPPED_CSV = """\
customer,date,amount,client_ref,ordered_at,total
x,2020-01-01,1,007,2011-02-01,10.00
x,2020-01-01,1,007,2011-02-03,5.50
y,2020-01-01,1,042,2011-02-02,3.25
"""


def read_output(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"customer_id": str}, keep_default_na=False)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- pipeline and exports ------------------------------------------------------------------------


def test_pipeline_result_and_warnings(retail):
    result = run_rfm(retail)
    assert result.transactions.n_rows == 15
    assert result.cleaning.n_kept == 11
    assert result.rfm.n_customers == 5
    assert result.warnings == (*result.cleaning.warnings, *result.rfm.warnings)


def test_rfm_csv_export(retail):
    table = run_rfm(retail).rfm.table
    text = rfm_csv(table).decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == ",".join(OUTPUT_COLUMNS)
    assert lines[1] == "12346,12,3,23.5,3,4,3,Loyal,2011-01-03,2011-01-20,29,7.83,8.5,2.5"
    assert lines[2] == "12347,27,1,15.0,2,1,2,Hibernating,2011-01-05,2011-01-05,27,15.0,,0.0"
    assert "\r" not in text


def test_cleaned_lines_export(retail):
    lines = cleaned_lines_csv(run_rfm(retail)).decode("utf-8").splitlines()
    assert lines[0].split(",") == [
        "customer_id",
        "invoice",
        "timestamp",
        "quantity",
        "price",
        "amount",
        "product",
        "description",
        "country",
        "is_return",
    ]
    assert len(lines) == 1 + 11


def test_report_dict(retail):
    rules = CleaningRules(reference_date=dt.date(2011, 1, 28), countries=("United Kingdom",))
    report = cleaning_report_dict(run_rfm(retail, rules=rules))
    json.dumps(report)  # JSON-ready
    assert report["file"] == "retail.csv"
    assert report["rows_in"] == 15
    assert report["rows_removed"] == {
        "missing_customer_id": 1,
        "duplicate_row": 1,
        "after_reference_date": 2,
        "country_excluded": 3,  # 12347 in France, 12350 twice in Germany
        "cancellation": 1,
        "non_positive_price": 1,
    }
    assert report["rows_kept"] == 6
    assert report["customers"] == 3
    assert report["reference_date"] == "2011-01-28"
    assert report["rules"]["reference_date"] == "2011-01-28"
    assert report["rules"]["countries"] == ["United Kingdom"]
    assert report["mapping"]["customer"] == "CustomerID"
    assert report["date_format"] == "iso"


# -- command line, in-process --------------------------------------------------------------------


def test_cli_writes_the_rfm_table(retail_file, tmp_path, capsys):
    out = tmp_path / "rfm.csv"
    assert main(["rfm", str(retail_file), "-o", str(out)]) == 0
    table = read_output(out)
    assert list(table.columns) == OUTPUT_COLUMNS
    assert table["customer_id"].tolist() == ["12346", "12347", "12348", "12349", "12350"]
    assert table["monetary"].tolist() == [23.5, 15.0, 32.5, 0.99, 26.35]
    printed = capsys.readouterr().out
    assert "retail.csv: 15 rows read, 11 kept" in printed
    assert "5 customers, reference date 2011-02-01" in printed


def test_cli_explicit_mapping(tmp_path):
    source = write(tmp_path, "orders.csv", MAPPED_CSV)
    out = tmp_path / "rfm.csv"
    argv = ["rfm", str(source), "-o", str(out)]
    argv += ["--map", "customer=client_ref", "--map", "date=ordered_at", "--map", "amount=total"]
    assert main(argv) == 0
    table = read_output(out)
    assert list(table.columns) == OUTPUT_COLUMNS
    assert table["customer_id"].tolist() == ["007", "042"]  # leading zeros kept
    assert table["monetary"].tolist() == [15.5, 3.25]
    assert table["frequency"].tolist() == [2, 1]
    assert table["recency"].tolist() == [1, 2]  # reference 2011-02-04


def test_cli_report_and_rules(retail_file, tmp_path):
    out, report_path = tmp_path / "rfm.csv", tmp_path / "report.json"
    argv = ["rfm", str(retail_file), "-o", str(out), "--report", str(report_path)]
    argv += ["--reference-date", "2011-01-28", "--keep-duplicates", "--max-quantity", "8"]
    assert main(argv) == 0
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["rows_in"] == 15
    assert report["rows_removed"] == {
        "missing_customer_id": 1,
        "after_reference_date": 2,
        "cancellation": 1,
        "non_positive_price": 1,
        "quantity_cap": 2,  # both copies of the 10-unit line
    }
    assert report["rows_kept"] == 8
    assert report["reference_date"] == "2011-01-28"
    assert report["rules"]["drop_duplicates"] is False
    assert report["rules"]["max_quantity"] == 8
    assert report["customers"] == 4
    assert read_output(out)["customer_id"].tolist() == ["12346", "12347", "12349", "12350"]


def test_cli_reads_a_sheet_by_number(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["readme"])
    book.active.append(["see the next sheet"])
    data = book.create_sheet("Data")
    data.append(["CustomerID", "InvoiceDate", "Sales"])
    data.append(["a", dt.datetime(2011, 1, 1, 9), 4.5])
    data.append(["b", dt.datetime(2011, 1, 2, 9), 1.5])
    buffer = io.BytesIO()
    book.save(buffer)
    source = tmp_path / "book.xlsx"
    source.write_bytes(buffer.getvalue())
    out = tmp_path / "rfm.csv"
    assert main(["rfm", str(source), "--sheet", "2", "-o", str(out)]) == 0
    assert read_output(out)["monetary"].tolist() == [4.5, 1.5]
    assert main(["rfm", str(source), "--sheet", "Data", "-o", str(out)]) == 0


# text None: no file is written, except retail.csv which the retail_file fixture provides
@pytest.mark.parametrize(
    ("name", "text", "extra", "expected"),
    [
        ("missing.csv", None, [], "missing.csv: no such file"),
        ("empty.csv", "", [], "empty.csv: the file is empty"),
        ("log.json", "{}", [], "log.json: unsupported file type"),
        ("nocust.csv", "a,b\n1,2\n", [], "nocust.csv: cannot find the column for customer id"),
        ("dates.csv", "customer,date,amount\na,x,1\nb,y,2\n", [], "values are not dates"),
        ("blank.csv", "customer,date,amount\na,,1\nb,,2\n", [], "no line is left"),
        ("retail.csv", None, ["--map", "customer=Client"], "no column 'Client'"),
        ("retail.csv", None, ["--map", "shop=Country"], "unknown role 'shop'"),
        ("retail.csv", None, ["--reference-date", "2000-01-01"], "no line is left"),
        ("retail.csv", None, ["--country", "Spain"], "no line is left"),
    ],
)
def test_cli_bad_input_is_one_error_line(
    retail_file, tmp_path, capsys, name, text, extra, expected
):
    source = tmp_path / name
    if text is not None:
        source.write_text(text, encoding="utf-8")
    status = main(["rfm", str(source), "-o", str(tmp_path / "out.csv"), *extra])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("error: ")
    assert expected in err
    assert "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()


def test_cli_dates_with_utc_offsets_use_wall_clock_days(tmp_path):
    source = write(
        tmp_path,
        "shop.csv",
        "customer,created_at,total\n"
        "a,2011-01-03T00:30:00+01:00,10\n"  # 2 January in UTC, 3 January on the shop's clock
        "b,2011-01-04T10:00:00-05:00,20\n",
    )
    out = tmp_path / "rfm.csv"
    assert main(["rfm", str(source), "-o", str(out)]) == 0
    table = read_output(out)
    assert table["last_purchase"].tolist() == ["2011-01-03", "2011-01-04"]
    assert table["recency"].tolist() == [2, 1]


def test_cli_unwritable_output_is_one_error_line(retail_file, tmp_path, capsys):
    status = main(["rfm", str(retail_file), "-o", str(tmp_path / "no" / "such" / "dir.csv")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert "dir.csv" in err


# -- command line, as a process ------------------------------------------------------------------


def run_module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rfm_core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_python_dash_m_rfm_core(retail_file, tmp_path):
    out = tmp_path / "rfm.csv"
    done = run_module("rfm", str(retail_file), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert list(read_output(out).columns) == OUTPUT_COLUMNS
    assert len(read_output(out)) == 5

    broken = write(tmp_path, "broken.xlsx", "not a workbook")
    done = run_module("rfm", str(broken), "-o", str(out))
    assert done.returncode == 2
    assert done.stderr.startswith("error: broken.xlsx: not a readable Excel workbook")
    assert len(done.stderr.splitlines()) == 1


READ_ORDER = """
import sys
import rfm_core.cli as cli

load = cli._load_while_importing


def spy(*args, **kwargs):
    heavy = [name for name in ("ibis", "pandas", "duckdb", "sklearn") if name in sys.modules]
    print("imported before the read:", heavy)
    return load(*args, **kwargs)


cli._load_while_importing = spy
cli.main(sys.argv[1:])
"""


@pytest.mark.parametrize("command", ["rfm", "segment"])
def test_the_file_is_read_before_the_engine_imports(retail_file, tmp_path, command):
    """The read starts first, in a thread, so that the imports of the engine overlap it."""
    out = tmp_path / "out.csv"
    done = subprocess.run(
        [sys.executable, "-c", READ_ORDER, command, str(retail_file), "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 2), done.stderr  # 5 customers may be too few to segment
    assert done.stdout.splitlines()[0] == "imported before the read: []"


@pytest.fixture
def freezes(monkeypatch):
    """Calls of gc.freeze while the test runs (recorded, not made: the test process lives on)."""
    import gc

    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    return calls


def test_a_one_shot_process_freezes_what_the_imports_made(retail_file, tmp_path, freezes):
    assert main(["rfm", str(retail_file), "-o", str(tmp_path / "rfm.csv")], one_shot=True) == 0
    assert freezes == ["freeze", "freeze"]  # after the imports and at the end


def test_main_called_in_process_never_freezes(retail_file, tmp_path, freezes):
    assert main(["rfm", str(retail_file), "-o", str(tmp_path / "rfm.csv")]) == 0
    assert freezes == []


# -- where the file is read ----------------------------------------------------------------------

TEST_PROCESS = os.getpid()


def _reader_pid(path: Path, sheet: str | int | None) -> int:
    return os.getpid()


def _exit_unless_in_the_test_process(path: Path, sheet: str | int | None) -> str:
    if os.getpid() != TEST_PROCESS:
        os._exit(1)
    return "read here"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_the_file_is_read_in_a_second_process(monkeypatch, retail_file):
    """fastexcel holds the GIL while it parses: a thread would take turns with the imports."""
    monkeypatch.setattr(cli, "_read_file", _reader_pid)
    assert cli._load_while_importing(retail_file, sheet=None) != os.getpid()


def test_elsewhere_the_file_is_read_in_a_thread(monkeypatch, retail_file):
    monkeypatch.setattr(cli, "_read_file", _reader_pid)
    monkeypatch.setattr(sys, "platform", "win32")
    assert cli._load_while_importing(retail_file, sheet=None) == os.getpid()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_a_reading_process_that_dies_is_replaced_by_a_read_here(monkeypatch, retail_file):
    monkeypatch.setattr(cli, "_read_file", _exit_unless_in_the_test_process)
    assert cli._load_while_importing(retail_file, sheet=None) == "read here"
