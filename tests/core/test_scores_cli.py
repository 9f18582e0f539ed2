"""``--score-edges`` and ``--segments`` on the command line: rfm, segment, score."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from rfm_core.cli import main
from rfm_core.customers.pipeline import run_rfm
from rfm_core.customers.rfm import SegmentRule, relabel, segments_to_frame
from rfm_core.customers.scores import ScoreBinning, describe_scores, rescore
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.outputs.persistence import load_bundle

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

FIXED = {"recency": [30, 90, 180, 365], "frequency": [2, 3, 5, 10]}
THREE = (
    SegmentRule("Recent", (4, 5), (1, 5), description="bought lately"),
    SegmentRule("Fading", (2, 3), (1, 5)),
    SegmentRule("Gone", (1, 1), (1, 5)),
)


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scores-cli") / "log.csv"
    path.write_bytes(
        generate_transactions(400, random_state=5).transactions.to_csv(index=False).encode()
    )
    return path


@pytest.fixture(scope="module")
def table(log) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_rfm(load_bytes(log.read_bytes(), file_name=log.name)).rfm.table


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"customer_id": str}).set_index("customer_id")


def segments_file(folder: Path) -> Path:
    path = folder / "rules.csv"
    segments_to_frame(THREE).to_csv(path, index=False)
    return path


def test_rfm_with_fixed_cut_points_from_json_or_csv(log, table, tmp_path, capsys):
    as_json = tmp_path / "edges.json"
    as_json.write_text(json.dumps(FIXED), encoding="utf-8")
    as_csv = tmp_path / "edges.csv"
    as_csv.write_text("recency,frequency\n30,2\n90,3\n180,5\n365,10\n", encoding="utf-8")
    want = rescore(table, ScoreBinning(**FIXED)).table
    for source in (as_json, as_csv):
        out, report = tmp_path / f"{source.suffix[1:]}.csv", tmp_path / f"{source.stem}.json"
        argv = ["rfm", str(log), "-o", str(out), "--score-edges", str(source)]
        assert main([*argv, "--report", str(report)]) == 0
        got = read(out)
        for column in ("r_score", "f_score", "m_score", "rfm_segment"):
            assert got[column].tolist() == want[column].tolist(), (source, column)
    scores = json.loads(report.read_text())["scores"]
    assert scores["binning"] == {"method": "quantile", **FIXED}
    assert scores["cut_points"]["recency"] == [30, 90, 180, 365]
    assert scores["levels"][0] == "R 5: last purchase within 30 days"
    printed = capsys.readouterr().out
    assert "scores (fixed cut points for recency and frequency; quantiles for monetary):" in printed
    assert "F 5: 10 or more orders" in printed


def test_rfm_with_natural_breaks_and_own_segments(log, table, tmp_path):
    jenks = tmp_path / "jenks.json"
    jenks.write_text('{"method": "jenks"}', encoding="utf-8")
    out = tmp_path / "out.csv"
    argv = ["rfm", str(log), "-o", str(out), "--score-edges", str(jenks)]
    assert main([*argv, "--segments", str(segments_file(tmp_path))]) == 0
    want = rescore(table, ScoreBinning("jenks"), THREE).table
    got = read(out)
    assert got["rfm_segment"].tolist() == want["rfm_segment"].tolist()
    assert set(got["rfm_segment"]) <= {"Recent", "Fading", "Gone"}


def test_rfm_with_own_segments_only(log, table, tmp_path):
    out = tmp_path / "out.csv"
    assert main(["rfm", str(log), "-o", str(out), "--segments", str(segments_file(tmp_path))]) == 0
    assert read(out)["rfm_segment"].tolist() == relabel(table, THREE)["rfm_segment"].tolist()


def test_segment_names_clusters_bundles_and_reports_with_the_files(log, table, tmp_path):
    edges_path = tmp_path / "edges.json"
    edges_path.write_text(json.dumps(FIXED), encoding="utf-8")
    out, model, report = tmp_path / "labeled.csv", tmp_path / "m.rfm", tmp_path / "run.json"
    argv = ["segment", str(log), "-o", str(out), "--k", "4", "--no-classifier"]
    argv += ["--score-edges", str(edges_path), "--segments", str(segments_file(tmp_path))]
    argv += ["--save-model", str(model), "--report", str(report), "--html-report",
             str(tmp_path / "r.html")]  # fmt: skip
    assert main(argv) == 0
    scoring = rescore(table, ScoreBinning(**FIXED), THREE)
    labeled = read(out)
    assert labeled["rfm_segment"].tolist() == scoring.table["rfm_segment"].tolist()
    for label, name in labeled.groupby("cluster")["segment_name"].first().items():
        prefix, borrowed = name.split(" · ")
        assert prefix == f"Cluster {label}" and borrowed in {"Recent", "Fading", "Gone"}
    bundle = load_bundle(model.read_bytes(), key=_key())
    assert bundle.score_edges == scoring.edges
    assert bundle.segments == THREE
    run = json.loads(report.read_text())
    assert run["scores"]["levels"][5:10] == [
        f"{row.score}: {row.meaning}"
        for row in describe_scores(scoring.edges).iloc[5:10].itertuples()
    ]
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<section id="scores">' in page and "last purchase within 30 days" in page


def _key() -> bytes:
    from rfm_core.outputs.persistence import installation_key

    return installation_key()


def test_score_takes_other_cut_points_and_segments_than_the_model(log, table, tmp_path):
    model = tmp_path / "m.rfm"
    argv = ["segment", str(log), "-o", str(tmp_path / "a.csv"), "--k", "3", "--no-classifier"]
    assert main([*argv, "--save-model", str(model)]) == 0
    edges_path = tmp_path / "edges.json"
    edges_path.write_text(json.dumps(FIXED), encoding="utf-8")
    out, report = tmp_path / "scored.csv", tmp_path / "scored.json"
    argv = ["score", "--model", str(model), str(log), "-o", str(out), "--report", str(report)]
    assert main([*argv, "--score-edges", str(edges_path)]) == 0
    want = rescore(table, ScoreBinning(**FIXED)).table
    assert read(out)["rfm_segment"].tolist() == want["rfm_segment"].tolist()
    assert json.loads(report.read_text())["scores"]["cut_points"]["frequency"] == [2, 3, 5, 10]
    # only other segments: the model's edges, the file's rules
    argv = ["score", "--model", str(model), str(log), "-o", str(out), "--report", str(report)]
    assert main([*argv, "--segments", str(segments_file(tmp_path))]) == 0
    model_scored = read(out)
    assert set(model_scored["rfm_segment"]) <= {"Recent", "Fading", "Gone"}
    assert json.loads(report.read_text())["scores"]["in_words"] == "the saved model's score edges"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("e.json", '{"recency": [30, 90,', "e.json: not JSON (Expecting value at line 1"),
        ("e.json", '{"recency": [365, 180, 90, 30]}', "e.json: recency: cut points must increase"),
        ("e.json", '{"monetary": [1, 2, 3]}', "e.json: monetary: 4 cut points are needed"),
        ("e.json", '{"method": "kmeans"}', "e.json: method: 'kmeans' is not a binning"),
        ("e.json", '{"frequency": [1, 2, "3", 4]}', "e.json: frequency: '3' is not a number"),
        ("e.json", "[30, 90, 180, 365]", "e.json: expected an object with the keys method"),
        ("e.csv", "recency\n30\n90\nninety\n365\n", "e.csv: recency: 'ninety' is not a number"),
        ("e.csv", "", "e.csv: cannot be read as CSV"),
        ("e.csv", "recency,freq\n1,1\n2,2\n3,3\n4,4\n", "e.csv: unknown field 'freq'"),
    ],
)
def test_bad_score_edges_files_are_one_error_line(log, tmp_path, capsys, name, text, expected):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["rfm", str(log), "-o", str(out), "--score-edges", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}") and len(err.splitlines()) == 1, err
    assert expected in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.assign(r_max=f["r_max"].astype(object).where(f.index != 1, "3.5")),
         "segment 'Fading': r_max must be a whole number from 1 to 5, got '3.5'"),
        (lambda f: f.assign(r_max=[5, 2, 1]), "score cells have no segment, first: r=3, f=1"),
        (lambda f: f.drop(columns="f_max"), "rules.csv: segment table lacks the columns ['f_max']"),
        (lambda f: f.assign(name=["Recent", "", "Gone"]), "rules.csv: segment row 2 has no name"),
    ],
)  # fmt: skip
def test_bad_segment_files_are_one_error_line(log, tmp_path, capsys, change, expected):
    path = tmp_path / "rules.csv"
    change(segments_to_frame(THREE)).to_csv(path, index=False)
    out = tmp_path / "out.csv"
    assert main(["rfm", str(log), "-o", str(out), "--segments", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}") and len(err.splitlines()) == 1, err
    assert expected in err
    assert not out.exists()


def test_migrate_takes_the_cut_points_and_segments(log, tmp_path):
    from rfm_core.customers.migration import migrate
    from rfm_core.customers.pipeline import prepare

    edges_path = tmp_path / "edges.json"
    edges_path.write_text(json.dumps(FIXED), encoding="utf-8")
    out = tmp_path / "moves.csv"
    argv = ["migrate", str(log), "-o", str(out), "--score-edges", str(edges_path)]
    assert main([*argv, "--segments", str(segments_file(tmp_path))]) == 0
    data = prepare(load_bytes(log.read_bytes(), file_name=log.name))
    want = migrate(data, segments=THREE, binning=ScoreBinning(**FIXED)).customers
    got = read(out)
    assert got["segment_to"].tolist() == want["segment_to"].tolist()
    assert set(got["segment_to"]) <= {"Recent", "Fading", "Gone"}
