"""Publishing from the command line: ``segment --publish``, ``score --model M --publish`` for a
scheduled job, and ``runs`` to list, export and compare them (DuckDB file and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rfm_core.cli import main
from rfm_core.ingest.synthetic import generate_transactions

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A history log and a later log of the same shop, and a key for this test."""
    monkeypatch.setenv("RFM_BUNDLE_KEY", "t" * 40)
    history, later = tmp_path / "history.csv", tmp_path / "later.csv"
    generate_transactions(220, random_state=4).transactions.to_csv(history, index=False)
    generate_transactions(150, random_state=8).transactions.to_csv(later, index=False)
    return history, later


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"customer_id": str}, keep_default_na=False)


def test_a_scheduled_score_publishes_runs_of_the_same_model(
    logs, store_url: str, tmp_path: Path, capsys
) -> None:
    history, later = logs
    model, fitted = tmp_path / "model.rfm", tmp_path / "fitted.csv"
    assert main([
        "segment", str(history), "-o", str(fitted), "--save-model", str(model), "--no-classifier",
        "--publish", "Baseline", "--store", store_url, "--author", "alice",
    ]) == 0  # fmt: skip
    first = capsys.readouterr().out.split("published 'Baseline' as run ")[1].split()[0]
    scored = tmp_path / "scored.csv"
    assert main([
        "score", "--model", str(model), str(later), "-o", str(scored),
        "--publish", "Week 23", "--store", store_url, "--author", "cron",
    ]) == 0  # fmt: skip
    second = capsys.readouterr().out.split("published 'Week 23' as run ")[1].split()[0]

    assert main(["runs", "--store", store_url]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("2 published runs in ")
    assert listing.index(second) < listing.index(first)  # newest first
    assert "Week 23 (cron, later.csv)" in listing and "Baseline (alice, history.csv)" in listing

    # the run exports what score wrote, and its model is the very file scored with
    shown, bundle = tmp_path / "shown.csv", tmp_path / "again.rfm"
    assert main(["runs", "--store", store_url, "show", second, "-o", str(shown),
                 "--bundle", str(bundle)]) == 0  # fmt: skip
    pd.testing.assert_frame_equal(read(shown), read(scored))
    assert bundle.read_bytes() == model.read_bytes()
    assert main(["runs", "--store", store_url, "show", first, "-o", str(shown)]) == 0
    pd.testing.assert_frame_equal(read(shown), read(fitted))

    changes = tmp_path / "changes.csv"
    assert main(["runs", "--store", store_url, "changes", second, "-o", str(changes)]) == 0
    assert f"since run {first}" in capsys.readouterr().out
    moved = read(changes)
    before = read(fitted).set_index("customer_id")["segment_name"]
    after = read(scored).set_index("customer_id")["segment_name"]
    both = before.index.intersection(after.index)
    expected_moves = set(both[(before[both] != after[both]).to_numpy()])
    assert set(moved.loc[moved["change"] == "moved", "customer_id"]) == expected_moves
    assert set(moved.loc[moved["change"] == "new", "customer_id"]) == set(
        after.index.difference(before.index)
    )
    assert set(moved.loc[moved["change"] == "gone", "customer_id"]) == set(
        before.index.difference(after.index)
    )

    history_csv = tmp_path / "history_segments.csv"
    assert main(["runs", "--store", store_url, "history", second, "-o", str(history_csv)]) == 0
    segments = read(history_csv).set_index("customer_id")
    assert list(segments.columns) == [
        "segment", "previous_segment", "segment_since", "runs",
    ]  # fmt: skip
    assert (segments["segment"] == after.reindex(segments.index)).all()
    changed = segments.index[segments["previous_segment"] != ""]
    assert set(changed) == expected_moves


def test_unknown_runs_and_bad_stores_end_with_one_line(logs, tmp_path: Path, capsys) -> None:
    store = str(tmp_path / "runs.duckdb")
    assert main(["runs", "--store", store]) == 0
    assert capsys.readouterr().out.startswith("0 published runs")
    assert main(["runs", "--store", store, "show", "nope", "-o", str(tmp_path / "x.csv")]) == 2
    assert capsys.readouterr().err == "error: no published run has the id 'nope'\n"
    assert main(["runs", "--store", "mysql://db/x"]) == 2
    assert "neither a DuckDB file nor a postgresql:// URL" in capsys.readouterr().err
    history, _ = logs
    assert main(["segment", str(history), "-o", str(tmp_path / "o.csv"), "--no-classifier",
                 "--publish", " ", "--store", store]) == 2  # fmt: skip
    assert "give the run a name" in capsys.readouterr().err
