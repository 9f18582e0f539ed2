"""Every case of the bad-inputs corpus through the core and the command line."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from rfm_core import cli
from rfm_core.customers.pipeline import RfmPipelineResult, run_rfm
from rfm_core.errors import RfmError
from rfm_core.ingest.excel import MAX_COMPRESSION_RATIO, MAX_UNCOMPRESSED_BYTES
from rfm_core.ingest.io import MAX_UPLOAD_BYTES, load_bytes, load_path
from tests.bad_inputs import CASES, FAILING, SUCCEEDING, Case, case_by_name, good_csv

REPO = Path(__file__).resolve().parents[3]

# tiny logs: the core rightly warns that ties leave few distinct scores
pytestmark = pytest.mark.filterwarnings("ignore:.*ties leave only:UserWarning")


def run_case(case: Case) -> RfmPipelineResult:
    loaded = load_bytes(case.data, file_name=case.file_name, max_bytes=case.max_bytes)
    return run_rfm(loaded)


def test_the_corpus_is_large_and_names_are_unique() -> None:
    assert len(CASES) >= 40
    assert len(FAILING) >= 25 and len(SUCCEEDING) >= 25
    assert len({case.name for case in CASES}) == len(CASES)
    assert all((case.error is None) != (case.expected is None) for case in CASES)


@pytest.mark.parametrize("case", FAILING, ids=lambda case: case.name)
def test_a_bad_input_raises_a_specific_user_error(case: Case) -> None:
    with pytest.raises(RfmError) as raised:
        run_case(case)
    error = raised.value
    assert type(error) is case.error, (type(error), error)  # the subclass, not a cousin
    message = str(error)
    assert message.startswith(f"{case.file_name}: "), message
    for phrase in case.message:
        assert phrase in message, (phrase, message)
    assert "\n" not in message and len(message) < 700, message
    assert "Traceback" not in message


@pytest.mark.parametrize("case", SUCCEEDING, ids=lambda case: case.name)
def test_an_awkward_input_gives_the_right_figures(case: Case) -> None:
    expected = case.expected
    result = run_case(case)
    table = result.rfm.table
    assert result.rfm.n_customers == expected.customers
    for column in ("monetary", "frequency", "recency"):
        for customer, value in getattr(expected, column).items():
            assert table.loc[customer, column] == pytest.approx(value), (column, customer)
    if expected.reference_date is not None:
        assert result.rfm.reference_date == dt.date.fromisoformat(expected.reference_date)
    if expected.date_format is not None:
        assert result.transactions.dates.format == expected.date_format
    if expected.n_kept is not None:
        assert result.cleaning.n_kept == expected.n_kept
    removed = dict(
        zip(result.cleaning.report["reason"], result.cleaning.report["rows"], strict=True)
    )
    for reason, rows in expected.removed.items():
        assert removed[reason] == rows, reason
    assert result.cleaning.n_kept + sum(removed.values()) == result.cleaning.n_in
    if expected.warning is not None:
        assert any(expected.warning in w for w in result.warnings), result.warnings
    loaded = load_bytes(case.data, file_name=case.file_name, max_bytes=case.max_bytes)
    if expected.columns is not None:
        assert tuple(loaded.columns) == expected.columns
    if expected.sheet is not None:
        assert loaded.sheet == expected.sheet
    if expected.encoding is not None:
        assert loaded.dialect.encoding == expected.encoding
    if expected.same_scores:
        # README: when all customers share one value everyone gets 3
        assert (table[["r_score", "f_score", "m_score"]] == 3).all().all()
        assert table["rfm_segment"].nunique() == 1


def test_future_dates_do_not_warn_on_a_normal_log() -> None:
    result = run_rfm(load_bytes(good_csv(), file_name="good.csv"))
    assert not any("future" in w for w in result.warnings)


def test_the_upload_limit_matches_the_app_config() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_UPLOAD_BYTES  # Streamlit's MiB


def test_local_files_have_no_upload_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(case_by_name("over the upload limit").data)
    assert load_path(path).n_rows == 3  # the same bytes are refused as an upload of 4 KiB


def test_a_real_workbook_passes_the_zip_guard() -> None:
    """A sizeable, repetitive sheet compresses far less than the bomb limit allows."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"])
    for i in range(5_000):
        sheet.append([536365 + i // 5, "85123A", 6, dt.datetime(2011, 1, 1), 2.55, 17850])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = archive.getinfo("xl/worksheets/sheet1.xml")
    assert member.file_size / member.compress_size < MAX_COMPRESSION_RATIO / 3
    assert load_bytes(data, file_name="real.xlsx").n_rows == 5_000
    assert MAX_UNCOMPRESSED_BYTES == 2**30


# -- the command line ----------------------------------------------------------------------------

CLI_FAILING = [case for case in FAILING if not case.upload_only]


@pytest.mark.parametrize("case", CLI_FAILING, ids=lambda case: case.name)
def test_the_cli_exits_with_one_line(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / case.file_name
    path.write_bytes(case.data)
    out = tmp_path / "out.csv"

    status = cli.main(["rfm", str(path), "-o", str(out)])

    captured = capsys.readouterr()
    assert status == cli.EXIT_BAD_INPUT
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"error: {case.file_name}: ")
    for phrase in case.message:
        assert phrase in lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert not out.exists()


@pytest.mark.parametrize(
    "name", ["binary junk named .csv", "password-protected workbook", "ragged rows"]
)
def test_the_cli_in_a_subprocess(name: str, tmp_path: Path) -> None:
    case = case_by_name(name)
    path = tmp_path / case.file_name
    path.write_bytes(case.data)
    done = subprocess.run(
        [sys.executable, "-m", "rfm_core", "rfm", str(path), "-o", str(tmp_path / "out.csv")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert done.returncode == cli.EXIT_BAD_INPUT
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: {case.file_name}: ")
    assert all(phrase in done.stderr for phrase in case.message)
    assert "Traceback" not in done.stderr


def test_the_cli_reads_an_awkward_file(tmp_path: Path) -> None:
    case = case_by_name("semicolons and decimal commas")
    path = tmp_path / case.file_name
    path.write_bytes(case.data)
    out = tmp_path / "out.csv"
    assert cli.main(["rfm", str(path), "-o", str(out)]) == 0
    text = out.read_text()
    assert "1247" in text and "0.99" in text
