"""``python -m rfm_core backtest``: which segmentation predicted best, from the command line."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rfm_core.cli import main
from rfm_core.customers.migration import data_range
from rfm_core.customers.pipeline import run_rfm
from rfm_core.ingest.io import load_path
from rfm_core.ingest.synthetic import generate_bgnbd_transactions
from rfm_core.outputs.export import rfm_csv
from rfm_core.segments.backtest import backtest
from rfm_core.segments.segmentation import SegmentationSettings

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

ROOT = Path(__file__).resolve().parents[1].parent
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def log_file(tmp_path_factory) -> Path:
    """A CDNOW-shaped log of 1,500 customers over 78 weeks (first purchases in 20 weeks)."""
    log = generate_bgnbd_transactions(1500, **CDNOW, acquisition_weeks=20, random_state=6)
    path = tmp_path_factory.mktemp("backtest") / "orders.csv"
    log.transactions.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M")
    return path


def test_backtest_report_and_customers_equal_the_core(log_file, tmp_path, capsys):
    out, customers = tmp_path / "backtest.json", tmp_path / "customers.csv"
    code = main(
        [
            "backtest", str(log_file), "--cut", "1998-03-01", "-o", str(out),
            "--customers", str(customers), "--k", "3",
        ]
    )  # fmt: skip
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    result = run_rfm(load_path(log_file))
    expected = backtest(
        result.transactions, result.lines, cut=dt.date(1998, 3, 1),
        span=data_range(result.rfm.table), settings=SegmentationSettings(n_clusters=3),
    )  # fmt: skip
    assert (report["cut"], report["end"]) == ("1998-03-01", expected.end.isoformat())
    assert report["days_after_cut"] == expected.days
    assert report["customers"] == len(expected.customers)
    assert report["winner"] == expected.winner and report["sentence"] == expected.sentence
    assert [row["method"] for row in report["comparison"]] == ["rule", "cluster", "clv"]
    for row in report["comparison"]:
        want = expected.comparison.loc[row["method"]]
        assert row["concordance"] == pytest.approx(want["concordance"], abs=1e-4)
        assert row["best_group"] == want["best_group"]
    assert set(report["groups"]) == {"rule", "cluster", "clv"}
    assert len(report["groups"]["clv"]) == 10 and len(report["groups"]["cluster"]) == 3
    assert len(report["calibration"]) == 30
    assert set(report["clv"]["params"]) == {"r", "alpha", "a", "b", "p", "q", "v"}
    assert report["clusters"] == {"method": "kmeans", "n_clusters": 3}
    written = pd.read_csv(customers, dtype={"customer_id": str})
    want = pd.read_csv(io.BytesIO(rfm_csv(expected.customers.round(4))), dtype={"customer_id": str})
    pd.testing.assert_frame_equal(written, want)
    printed = capsys.readouterr().out
    assert "… Clusters fitted on the" in printed
    assert expected.sentence in printed
    assert "CLV fitted up to 1998-03-01: r 0." in printed


def test_backtest_on_the_duckdb_engine_gives_the_same_report(log_file, tmp_path):
    memory, engine = tmp_path / "memory.json", tmp_path / "engine.json"
    options = ["--k", "3"]
    assert main(["backtest", str(log_file), "-o", str(memory), *options]) == 0
    assert main(["backtest", str(log_file), "-o", str(engine), "--engine", "duckdb", *options]) == 0
    got, want = json.loads(engine.read_text()), json.loads(memory.read_text())
    assert got["cut"] == "1998-04-01"  # 90 days before the last purchase day, 1998-06-30
    assert got == want


def test_a_cut_outside_the_data_ends_with_one_error_line(log_file, tmp_path, capsys):
    out = tmp_path / "backtest.json"
    assert main(["backtest", str(log_file), "-o", str(out), "--cut", "1998-06-30"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: the cut date 1998-06-30 must be before the last purchase day 1998-06-30: "
        "nothing happens after it to compare the predictions with\n"
    )
    assert not out.exists()


def test_python_m_rfm_core_backtest(log_file, tmp_path):
    out = tmp_path / "backtest.json"
    done = subprocess.run(
        [sys.executable, "-m", "rfm_core", "backtest", str(log_file), "-o", str(out), "--k", "3"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["winner"] in {"rule", "cluster", "clv"}
