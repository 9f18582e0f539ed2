"""``python -m rfm_core clv``: lifetime value per customer from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rfm_core.cli import main
from rfm_core.ingest.synthetic import generate_bgnbd_transactions

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

ROOT = Path(__file__).resolve().parents[1].parent
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}
COLUMNS = [
    "customer_id", "rfm_segment", "x", "t_x_weeks", "T_weeks", "monetary_value", "p_alive",
    "expected_purchases", "expected_avg_value", "clv",
]  # fmt: skip
HOLDOUT_COLUMNS = ["expected_holdout_purchases", "actual_purchases", "actual_value"]


@pytest.fixture(scope="module")
def log_file(tmp_path_factory) -> Path:
    """A CDNOW-shaped log of 2,000 customers, acquired over 52 weeks (some after week 39)."""
    log = generate_bgnbd_transactions(2000, **CDNOW, acquisition_weeks=52, random_state=8)
    path = tmp_path_factory.mktemp("clv") / "orders.csv"
    log.transactions.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M")
    return path


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"customer_id": str, "clv_note": str})


def test_clv_with_a_holdout(log_file, tmp_path, capsys):
    out, report = tmp_path / "clv.csv", tmp_path / "clv.json"
    code = main(
        [
            "clv", str(log_file), "-o", str(out), "--calibration-end", "1997-09-30",
            "--holdout-end", "1998-06-30", "--margin", "0.3", "--report", str(report),
        ]
    )  # fmt: skip
    assert code == 0
    rows = read(out)
    assert list(rows.columns) == [*COLUMNS, *HOLDOUT_COLUMNS, "clv_note"]
    assert len(rows) == 2000 and rows["customer_id"].is_unique
    later = rows["clv_note"].str.startswith("first purchase day after", na=False)
    assert later.any() and rows.loc[later, "clv"].isna().all()
    assert (rows.loc[later, "actual_purchases"] > 0).all()
    described = rows[rows["clv_note"].isna()]
    product = 0.3 * described["expected_avg_value"] * described["expected_purchases"]
    assert (described["clv"] - product).abs().max() < 0.01  # margin 0.3; columns are rounded
    data = json.loads(report.read_text(encoding="utf-8"))
    assert set(data["params"]) == {"r", "alpha", "a", "b", "p", "q", "v"}
    for name, value in data["params"].items():
        assert abs(value - CDNOW[name]) < 3 * data["standard_errors"][name], name
    holdout = data["holdout"]
    assert set(holdout) == {"expected_purchases", "actual_purchases"}
    assert holdout["actual_purchases"] == int(rows.loc[~later, "actual_purchases"].sum())
    calibrated = rows[rows["x"].notna()]  # customers first seen on the last day too
    assert holdout["expected_purchases"] == pytest.approx(
        calibrated["expected_holdout_purchases"].sum(), rel=1e-4
    )
    assert sum(s["customers"] for s in data["segments"]) == 2000
    assert data["fits"]["bgnbd"]["converged"] and data["rows_kept"] > 0
    printed = capsys.readouterr().out
    assert "BG/NBD: r 0.2" in printed and "holdout up to 1998-06-30" in printed
    assert "note: " in printed and "first purchase day after the calibration end" in printed


def test_clv_without_calibration_end_fits_everything(log_file, tmp_path, capsys):
    out = tmp_path / "clv.csv"
    assert main(["clv", str(log_file), "-o", str(out), "--discount-rate", "0.1"]) == 0
    rows = read(out)
    assert list(rows.columns) == [*COLUMNS, "clv_note"]
    # every customer is described but those first seen on the last day
    assert rows["clv"].notna().all()
    assert "calibration up to 1998-06-30" in capsys.readouterr().out


def test_clv_on_the_duckdb_engine_gives_the_same_rows(log_file, tmp_path):
    memory, engine = tmp_path / "memory.csv", tmp_path / "engine.csv"
    options = ["--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30"]
    assert main(["clv", str(log_file), "-o", str(memory), *options]) == 0
    assert main(["clv", str(log_file), "-o", str(engine), "--engine", "duckdb", *options]) == 0
    assert engine.read_bytes() == memory.read_bytes()


def test_clv_bad_options_end_with_one_error_line(log_file, tmp_path, capsys):
    out = tmp_path / "clv.csv"
    assert main(["clv", str(log_file), "-o", str(out), "--holdout-end", "1998-01-01"]) == 2
    assert capsys.readouterr().err == "error: a holdout end needs a calibration end\n"
    options = ["--calibration-end", "1998-01-01", "--holdout-end", "1997-12-01"]
    assert main(["clv", str(log_file), "-o", str(out), *options]) == 2
    assert "must be after the calibration end" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["clv", str(log_file), "-o", str(out), "--margin", "0"])
    assert stopped.value.code == 2
    assert not out.exists()


def test_clv_fit_failure_is_said_in_words(tmp_path, capsys):
    # everyone buys every week and is still buying: the BG/NBD has no dropout to estimate
    lines = ["customer,date,amount"] + [
        f"c{c},2024-{1 + w // 4:02d}-{1 + 7 * (w % 4):02d},10" for c in range(30) for w in range(8)
    ]
    path = tmp_path / "regular.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["clv", str(path), "-o", str(tmp_path / "clv.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the BG/NBD fit failed: ") and err[-1] == "\n"
    assert main(["clv", str(path), "-o", str(tmp_path / "clv.csv"), "--doubtful-fits"]) == 0
    printed = capsys.readouterr().out
    assert "warning: the BG/NBD fit did not converge (" in printed
    assert read(tmp_path / "clv.csv")["clv"].notna().all()


def test_python_m_rfm_core_clv(log_file, tmp_path):
    out = tmp_path / "clv.csv"
    done = subprocess.run(
        [sys.executable, "-m", "rfm_core", "clv", str(log_file), "-o", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(read(out)) == 2000
