"""Bundles saved before rfm_core was organised by step still load, and score the same."""

from __future__ import annotations

import hashlib
import importlib
import pickle
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from rfm_core.cli import main
from rfm_core.ingest.io import load_path
from rfm_core.outputs.export import labeled_csv
from rfm_core.outputs.persistence import bundle_header, load_bundle, score_transactions
from rfm_core.outputs.unpickling import MOVED_MODULES, MOVED_NAMES, unpickle_verified
from rfm_core.segments.anomalies import AnomalyDetector
from rfm_core.segments.clustering import Segmenter

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

DATA = Path(__file__).parent / "data"
OLD_KEY = "test-key-for-the-pre-refactor-bundle-0123456789"  # see data/README.md
LOG_SHA256 = "1146c1e40b3110c641ae90009c9f5d848f49927779fb4a072bd4d07196445670"
# the bundles, the arguments of `segment` that saved them (`--no-exclude-anomalies`: the
# default then), and the sha256 of what the old code's `python -m rfm_core score --model <bundle>
# log.csv` wrote
OLD_BUNDLES = {
    "dcc926c-kmeans-zscore.rfm": (
        ["--anomaly-method", "zscore", "--no-exclude-anomalies"],
        "3f168eabcf14e88688673f4a7d0a82235777dfd48938bd9a39d7649e986c9a23",
    ),
    "dcc926c-dbscan-zscore.rfm": (
        ["--method", "dbscan", "--anomaly-method", "zscore", "--no-exclude-anomalies"],
        "996dde9d96aaf91f2967e91a253b76d8f51a1fc31587fa5d797f9858badb249f",
    ),
}
# every global of rfm_core in bundles saved at dcc926c with each of the six clustering methods
# and four detectors (and other transforms, features and options): what the map must resolve
OLD_GLOBALS = [
    ("rfm_core.schema", "ColumnMapping"),
    ("rfm_core.cleaning", "CleaningRules"),
    ("rfm_core.rfm", "SegmentRule"),
    ("rfm_core.features", "signed_log1p"),
    ("rfm_core.clustering", "Segmenter"),
    ("rfm_core.clustering", "_NearestCore"),
    ("rfm_core.anomalies", "AnomalyDetector"),
    ("rfm_core.anomalies", "ClassifierReport"),
    ("rfm_core.segmentation", "SegmentationSettings"),
    ("rfm_core.segmentation", "AnomalySettings"),
]


def global_pickle(module: str, name: str) -> bytes:
    """A protocol-0 pickle that only looks up ``module.name``."""
    return f"c{module}\n{name}\n.".encode()


@pytest.fixture(scope="module")
def demo_log(tmp_path_factory) -> Path:
    """The log the old bundles were fitted on, generated again (the demo generator is seeded)."""
    path = tmp_path_factory.mktemp("old-bundles") / "log.csv"
    assert main(["demo", "--customers", "300", "-o", str(path)]) == 0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == LOG_SHA256, (
        "the demo generator changed: the old bundles were fitted on another log"
    )
    return path


@pytest.mark.parametrize(("module", "name"), OLD_GLOBALS)
def test_every_global_of_an_old_bundle_is_found(module, name):
    found = unpickle_verified(global_pickle(module, name))
    home = MOVED_NAMES.get((module, name)) or MOVED_MODULES[module]
    assert found is getattr(importlib.import_module(home), name)
    with pytest.raises(ModuleNotFoundError):  # what the map is for
        pickle.loads(global_pickle(module, name))


def test_names_outside_the_map_are_looked_up_as_written():
    assert unpickle_verified(global_pickle("rfm_core.segments.clustering", "Segmenter")) is (
        Segmenter
    )
    with pytest.raises(ModuleNotFoundError, match=r"rfm_core\.io"):
        unpickle_verified(global_pickle("rfm_core.io", "LoadedTable"))  # nothing of it is saved


@pytest.mark.parametrize("name", sorted(OLD_BUNDLES))
def test_a_bundle_of_the_previous_release_scores_as_before(name, demo_log, tmp_path, monkeypatch):
    arguments, old_score_sha256 = OLD_BUNDLES[name]
    monkeypatch.setenv("RFM_BUNDLE_KEY", OLD_KEY)
    key = OLD_KEY.encode()
    old = load_bundle((DATA / name).read_bytes(), key=key)
    assert bundle_header((DATA / name).read_bytes())["summary"]["trained_on"]["file"] == "log.csv"
    assert type(old.segmenter) is Segmenter
    assert type(old.detector) is AnomalyDetector
    assert old.classifier is not None  # saved then, ignored now: the detector decides

    fresh_path = tmp_path / "fresh.rfm"
    # the z-score now flags at most --contamination of the customers (2% by default); 26 of
    # these 300 lie beyond its cut-off, all flagged by the old code: a share of 10% lets the
    # fresh fit flag the same 26
    assert main(["segment", str(demo_log), "-o", str(tmp_path / "labeled.csv"), *arguments,
                 "--contamination", "0.1", "--save-model", str(fresh_path)]) == 0  # fmt: skip
    fresh = load_bundle(fresh_path.read_bytes(), key=key)

    loaded = load_path(demo_log)
    scored = score_transactions(loaded, old)
    again = score_transactions(loaded, fresh)
    # the same model fitted again labels every customer alike; only its generated names have
    # changed since (issue 18: "Cluster 3 · Promising", not the old "New"): one new name per old
    pd.testing.assert_frame_equal(
        scored.drop(columns="segment_name"), again.drop(columns="segment_name")
    )
    pairs = pd.crosstab(scored["segment_name"], again["segment_name"])
    assert ((pairs > 0).sum(axis=1) == 1).all() and ((pairs > 0).sum(axis=0) == 1).all()
    # since 2026-12-05 the average order value rounds a half cent away from zero in integers,
    # the same on every engine; the old code rounded the float quotient with DuckDB's round,
    # which went either way at the ties of this log (53.51 / 2 → 26.76, 128.39 / 2 → 64.19, now
    # 64.20). Rounded the old way, the output is byte for byte the old one.
    con = duckdb.connect()
    con.register("scored", scored[["monetary", "frequency"]].reset_index(drop=True).reset_index())
    old_way = con.sql("select round(monetary / frequency, 2) from scored order by index").fetchall()
    as_before = scored.assign(avg_order_value=[value for (value,) in old_way])
    assert hashlib.sha256(labeled_csv(as_before)).hexdigest() == old_score_sha256
