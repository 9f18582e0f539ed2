"""From RFM to labeled customers: the steps the CLI and the pages share, and ``segment``."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from rfm_core.cli import main
from rfm_core.customers.pipeline import run_rfm
from rfm_core.errors import RfmError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    find_anomalies,
    labeled_customers,
    segment_customers,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


@pytest.fixture(scope="module")
def planted():
    """A generated log of 1,500 customers (2% planted anomalies), its RFM table and truth."""
    log = generate_transactions(1500, random_state=11)
    data = log.transactions.to_csv(index=False).encode("utf-8")
    table = run_rfm(load_bytes(data, file_name="planted.csv")).rfm.table
    return data, table, log.customers.loc[table.index]


@pytest.fixture(scope="module")
def flagged(planted):
    _, table, _ = planted
    return find_anomalies(table, AnomalySettings())


def test_defaults_recover_the_planted_groups(planted, flagged):
    _, table, truth = planted
    result = segment_customers(
        table, SegmentationSettings(exclude_anomalies=True), anomalies=flagged
    )
    normal = ~truth["is_anomaly"].to_numpy()
    groups = truth["group"].to_numpy()[normal]
    assert result.selection is not None
    assert result.n_clusters == result.selection.recommended_k
    assert adjusted_rand_score(groups, result.labels.to_numpy()[normal]) >= 0.9


def test_excluded_anomalies_are_assigned_and_marked(planted, flagged):
    _, table, _ = planted
    result = segment_customers(
        table, SegmentationSettings(n_clusters=5, exclude_anomalies=True), anomalies=flagged
    )
    marked = result.assigned_after_fit
    assert marked.sum() == flagged.n_flagged > 0
    assert marked.equals(flagged.table["anomaly"].rename("assigned_after_fit"))
    assert result.labels.between(0, 4).all()  # everyone, anomalies included, has a segment
    assert any("without the" in note for note in result.notes)


def test_exclusion_needs_the_flags(planted):
    _, table, _ = planted
    with pytest.raises(RfmError, match="anomaly flags"):
        segment_customers(table, SegmentationSettings(n_clusters=3, exclude_anomalies=True))


def test_too_few_unflagged_customers_are_fitted_with_the_flagged_ones(planted):
    _, table, _ = planted
    small = table.iloc[:12]
    flags = find_anomalies(small, AnomalySettings(contamination=0.25))
    assert (~flags.table["anomaly"]).sum() < 10
    result = segment_customers(small, SegmentationSettings(n_clusters=3), anomalies=flags)
    assert not result.assigned_after_fit.any()
    assert len(result.labels) == 12
    assert any("fitted on all 12" in note for note in result.notes)


def test_labeled_customers_has_everyone_once(planted, flagged):
    _, table, _ = planted
    settings = SegmentationSettings(method="gmm", n_clusters=4, exclude_anomalies=False)
    result = segment_customers(table, settings)
    labeled = labeled_customers(table, result, flagged, renamed={0: "Best"})
    assert labeled.index.equals(table.index)
    assert list(labeled.columns[: table.shape[1]]) == list(table.columns)
    after = list(labeled.columns[table.shape[1] :])
    assert after == [
        "cluster", "segment_name", "p_cluster_0", "p_cluster_1", "p_cluster_2", "p_cluster_3",
        "anomaly", "anomaly_score", "anomaly_reason", "anomaly_category",
    ]  # fmt: skip
    probabilities = labeled.filter(like="p_cluster_").to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)
    assert (labeled.loc[labeled["cluster"] == 0, "segment_name"] == "Best").all()
    assert labeled["anomaly"].sum() == flagged.n_flagged


def test_renames_apply_alike_to_the_names_and_to_every_customer(planted):
    _, table, _ = planted
    result = segment_customers(table, SegmentationSettings(n_clusters=3, exclude_anomalies=False))
    # a form or a JSON file gives the label as text: it still renames cluster 1
    names = result.names_with({"1": "Sleepers"})
    assert names == {**result.names, 1: "Sleepers"}
    customers = result.segment_names({"1": "Sleepers"})
    assert (customers[result.labels == 1] == "Sleepers").all()
    assert customers[result.labels != 1].equals(result.segment_names()[result.labels != 1])


@pytest.fixture
def kmeans_fits(monkeypatch):
    """Spy on k-means: (n_clusters, random_state, rows) of every fit while the test runs."""
    from sklearn.cluster import KMeans

    calls: list[tuple[int, int, int]] = []
    fit = KMeans.fit

    def counted(self, x, *args, **kwargs):
        calls.append((self.n_clusters, self.random_state, len(x)))
        return fit(self, x, *args, **kwargs)

    monkeypatch.setattr(KMeans, "fit", counted)
    return calls


def test_the_recommended_k_is_fitted_once_by_the_sweep_not_again(planted, flagged, kmeans_fits):
    _, table, _ = planted
    settings = SegmentationSettings(random_state=3)
    result = segment_customers(table, settings, anomalies=flagged)
    k, fitted = result.selection.recommended_k, int((~result.assigned_after_fit).sum())
    # stability refits use other seeds on subsamples: only the sweep's own fit is this one
    assert kmeans_fits.count((k, 3, fitted)) == 1
    assert result.segmenter.estimator_ is result.selection.kmeans_fits[k].model
    fresh = segment_customers(table, replace(settings, n_clusters=k), anomalies=flagged)
    assert kmeans_fits.count((k, 3, fitted)) == 2  # no sweep given: fitted
    pd.testing.assert_series_equal(result.labels, fresh.labels)
    assert result.names == fresh.names
    pd.testing.assert_frame_equal(result.segmenter.centers_, fresh.segmenter.centers_)


def test_a_sweep_of_other_customers_is_not_reused(planted, flagged, kmeans_fits):
    _, table, _ = planted
    settings = SegmentationSettings(random_state=3)
    everyone = segment_customers(table, replace(settings, exclude_anomalies=False))
    k = everyone.selection.recommended_k
    result = segment_customers(
        table, replace(settings, n_clusters=k), anomalies=flagged, selection=everyone.selection
    )
    assert result.segmenter.estimator_ is not everyone.selection.kmeans_fits[k].model
    fitted = int((~result.assigned_after_fit).sum())
    assert kmeans_fits.count((k, 3, fitted)) == 1


@pytest.mark.parametrize("method", ["kmeans", "gmm", "bgmm", "dbscan", "hdbscan", "agglomerative"])
def test_every_method_is_deterministic(planted, flagged, method):
    _, table, _ = planted
    settings = SegmentationSettings(method=method, n_clusters=4, random_state=3)
    first = segment_customers(table, settings, anomalies=flagged)
    second = segment_customers(table, settings, anomalies=flagged)
    pd.testing.assert_series_equal(first.labels, second.labels)
    assert set(first.names) >= set(first.labels[first.labels >= 0])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": "spectral"}, "unknown method"),
        ({"transform": "log"}, "unknown transform"),
        ({"k_min": 5, "k_max": 3}, "k range"),
        ({"n_clusters": 1}, "at least 2"),
        ({"name_scheme": "colours"}, "name scheme"),
    ],
)
def test_settings_are_validated(options, message):
    with pytest.raises(RfmError, match=message):
        SegmentationSettings(**options)


# -- the segment command ----------------------------------------------------------------------


def run_segment(tmp_path, data: bytes, *args: str) -> pd.DataFrame:
    source = tmp_path / "log.csv"
    source.write_bytes(data)
    out = tmp_path / "labeled.csv"
    assert main(["segment", str(source), "-o", str(out), *args]) == 0
    return pd.read_csv(out, dtype={"customer_id": str}, keep_default_na=False)


def test_segment_command_output(planted, tmp_path, capsys):
    data, table, truth = planted
    labeled = run_segment(tmp_path, data, "--random-state", "0", "--classifier")
    printed = capsys.readouterr().out
    assert labeled["customer_id"].tolist() == table.index.tolist()
    assert labeled.columns[0] == "customer_id"
    for column in ("cluster", "segment_name", "anomaly", "anomaly_score", "anomaly_reason"):
        assert column in labeled.columns
    assert "recommended k" in printed and "classifier" in printed
    assert "not ground truth" in printed
    caught = labeled.set_index("customer_id")["anomaly"].astype(str) == "True"
    planted_anomalies = truth["is_anomaly"]
    assert (caught & planted_anomalies).sum() >= 0.9 * planted_anomalies.sum()


def test_segment_command_is_deterministic_and_takes_options(planted, tmp_path):
    data, _, _ = planted
    args = ["--method", "gmm", "--k", "4", "--anomaly-method", "zscore", "--contamination", "0.05"]
    first = run_segment(tmp_path, data, *args)
    second = run_segment(tmp_path, data, *args)
    pd.testing.assert_frame_equal(first, second)
    assert first["cluster"].nunique() <= 4
    assert {f"p_cluster_{i}" for i in range(4)} <= set(first.columns)


@pytest.mark.parametrize(
    "args", [["--k", "1"], ["--contamination", "0.9"], ["--method", "spectral"]]
)
def test_segment_command_rejects_bad_options(planted, tmp_path, args, capsys):
    data, _, _ = planted
    source = tmp_path / "log.csv"
    source.write_bytes(data)
    with pytest.raises(SystemExit) as exit_:
        main(["segment", str(source), "-o", str(tmp_path / "x.csv"), *args])
    assert exit_.value.code == 2
    assert "error" in capsys.readouterr().err


def test_segment_command_unknown_feature_is_one_error_line(planted, tmp_path, capsys):
    data, _, _ = planted
    source = tmp_path / "log.csv"
    source.write_bytes(data)
    code = main(["segment", str(source), "-o", str(tmp_path / "x.csv"), "--features", "age"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "unknown feature 'age'" in err


def test_report_json(planted, tmp_path):
    data, _, _ = planted
    report_path = tmp_path / "report.json"
    run_segment(tmp_path, data, "--report", str(report_path), "--classifier")
    import json

    report = json.loads(report_path.read_text())["segmentation"]
    assert report["selection"]["recommended_k"] == report["n_clusters"]
    assert sum(s["customers"] for s in report["segments"]) == 1500
    assert set(report["classifier"]) >= {"validation", "test", "note"}


def test_the_classifier_is_trained_only_when_asked(planted, tmp_path, capsys, monkeypatch):
    """Nothing uses it unless asked: scoring applies the saved detector itself."""
    monkeypatch.setenv("RFM_BUNDLE_KEY", "a-test-key-of-at-least-thirty-two-characters")
    data, _, _ = planted
    report_path, bundle = tmp_path / "report.json", tmp_path / "model.rfm"
    run_segment(tmp_path, data, "--report", str(report_path), "--save-model", str(bundle))
    import json

    assert "classifier" not in json.loads(report_path.read_text())["segmentation"]
    assert "classifier (reproduces" not in capsys.readouterr().out
    from rfm_core.outputs.persistence import bundle_header

    assert bundle_header(bundle.read_bytes())["summary"]["classifier"] is False
    # the old switch is still accepted
    run_segment(tmp_path, data, "--no-classifier")
