"""The Export & score page: its downloads are the core's bytes, and scoring is the core's."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.ingest.io import load_bytes
from rfm_core.outputs.export import cleaning_report_dict, labeled_csv
from rfm_core.outputs.persistence import (
    build_bundle,
    bundle_header,
    dump_bundle,
    installation_key,
    load_bundle,
    score_transactions,
)
from rfm_core.outputs.reports import WORKBOOK_SHEETS, excel_workbook, html_report, run_report
from rfm_core.outputs.reports import segment_csv_zip as core_zip
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    find_anomalies,
    labeled_customers,
    segment_customers,
    train_classifier,
)
from tests.app.apptest_support import Downloads, check, core, generated_csv, metric, upload

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


@pytest.fixture(autouse=True)
def _key_in_tmp(tmp_path_factory, monkeypatch) -> None:
    """Bundles of these tests are signed with a key of their own, never the home's."""
    monkeypatch.delenv("RFM_BUNDLE_KEY", raising=False)
    folder = tmp_path_factory.getbasetemp() / "export-key"
    monkeypatch.setenv("RFM_BUNDLE_KEY_FILE", str(folder / "bundle.key"))


@pytest.fixture(scope="module")
def shop_csv() -> bytes:
    return generated_csv(400, seed=31)


@pytest.fixture(scope="module")
def expected(shop_csv):
    """The core's run on the same bytes with the page's default settings."""
    result = core(shop_csv, "shop.csv")
    table = result.rfm.table
    settings = AnomalySettings()
    anomalies = find_anomalies(table, settings)
    segmentation = segment_customers(table, SegmentationSettings(), anomalies=anomalies)
    classifier = train_classifier(table, anomalies, settings)
    return result, anomalies, segmentation, classifier


@pytest.fixture
def export_page(app: AppTest, shop_csv: bytes, downloads: Downloads) -> AppTest:
    check(upload(app, "shop.csv", shop_csv))
    return check(app.switch_page("pages/export.py").run())


def test_the_downloads_are_the_core_exports(export_page, downloads, expected, shop_csv):
    result, anomalies, segmentation, _ = expected
    table = result.rfm.table
    # the classifier is trained only when asked: the page's reports switch is off by default
    report = run_report(cleaning_report_dict(result), table, segmentation, anomalies)
    labels = {b.label for b in export_page.get("download_button")}
    assert labels == {"Labeled customers (CSV)", "One CSV per segment (zip)", "Excel workbook",
                      "HTML report", "Model bundle (.rfm)"}  # fmt: skip
    fetch = lambda key: downloads.bytes_of(export_page, key)  # noqa: E731
    assert fetch("download_export_labeled") == labeled_csv(report.labeled)
    assert fetch("download_segments_zip") == core_zip(report.labeled)
    assert fetch("download_html").decode("utf-8") == html_report(report)
    # a workbook stores the time it was written: compare what every sheet holds
    got = openpyxl.load_workbook(io.BytesIO(fetch("download_workbook")))
    want = openpyxl.load_workbook(io.BytesIO(excel_workbook(report)))
    assert got.sheetnames == list(WORKBOOK_SHEETS)
    for name in WORKBOOK_SHEETS:
        assert list(got[name].values) == list(want[name].values)
    # the bundle is signed with this installation's key and scores as the session labeled
    data = fetch("download_bundle")
    assert bundle_header(data)["summary"]["trained_on"]["file"] == "shop.csv"
    bundle = load_bundle(data, key=installation_key())
    assert bundle.classifier is None  # scoring applies the detector: nothing would use it
    scored = score_transactions(load_bytes(shop_csv, file_name="shop.csv"), bundle)
    pd.testing.assert_frame_equal(scored, labeled_customers(table, segmentation, anomalies))


def test_renamed_segments_reach_the_exports(export_page, downloads):
    export_page.session_state["segment_names"] = {0: "Our best"}
    check(export_page.run())
    back = pd.read_csv(io.BytesIO(downloads.bytes_of(export_page, "download_export_labeled")))
    assert set(back.loc[back["cluster"] == 0, "segment_name"]) == {"Our best"}
    bundle = load_bundle(downloads.bytes_of(export_page, "download_bundle"), key=installation_key())
    assert bundle.names[0] == "Our best"


def _core_bundle(expected) -> bytes:
    result, anomalies, segmentation, _ = expected
    bundle = build_bundle(
        result.rfm.table, segmentation, anomalies, mapping=result.mapping,
        rules=result.cleaning.rules, date_format=result.date_format,
    )  # fmt: skip
    return dump_bundle(bundle, key=installation_key())


def score_on_page(at: AppTest, bundle: bytes, log: bytes) -> AppTest:
    at.file_uploader(key="score_bundle").set_value(
        ("model.rfm", bundle, "application/octet-stream")
    )
    at.file_uploader(key="score_file").set_value(("next.csv", log, "text/csv"))
    return at.run()


def test_scoring_on_the_page_equals_the_core(export_page, downloads, expected):
    bundle = _core_bundle(expected)
    log = generated_csv(150, seed=32)
    check(score_on_page(export_page, bundle, log))
    want = score_transactions(
        load_bytes(log, file_name="next.csv"), load_bundle(bundle, key=installation_key())
    )
    assert metric(export_page, "Customers scored") == f"{len(want):,}"
    assert metric(export_page, "Flagged as anomalous") == f"{int(want['anomaly'].sum()):,}"
    assert downloads.bytes_of(export_page, "download_scored") == labeled_csv(want)
    assert not export_page.error
    # the same log ranked within itself: the core's scores="file"
    export_page.radio(key="score_basis").set_value("file").run()
    within = score_transactions(
        load_bytes(log, file_name="next.csv"),
        load_bundle(bundle, key=installation_key()),
        scores="file",
    )
    assert not within.equals(want)  # another population, other edges
    assert downloads.bytes_of(export_page, "download_scored") == labeled_csv(within)
    assert not export_page.error


def test_a_tampered_bundle_is_refused_with_its_reason(export_page, expected):
    bundle = bytearray(_core_bundle(expected))
    bundle[-500] ^= 0x01
    check(score_on_page(export_page, bytes(bundle), generated_csv(60, seed=33)))
    errors = [e.value for e in export_page.error]
    assert len(errors) == 1 and "signature does not match" in errors[0]
    assert not [m for m in export_page.metric if m.label == "Customers scored"]


def test_a_file_that_is_not_a_bundle_is_refused(export_page, shop_csv):
    check(score_on_page(export_page, shop_csv, shop_csv))
    assert ["not a model bundle" in e.value for e in export_page.error] == [True]


def test_the_scoring_note_names_what_is_still_missing(export_page, expected):
    infos = lambda at: [i.value for i in at.info]  # noqa: E731
    assert "Upload a model bundle and a transaction log to score them." in infos(export_page)
    export_page.file_uploader(key="score_bundle").set_value(
        ("model.rfm", _core_bundle(expected), "application/octet-stream")
    )
    at = check(export_page.run())
    assert "Now upload a transaction log to score with model.rfm." in infos(at)
    at.file_uploader(key="score_bundle").set_value(None)
    at.file_uploader(key="score_file").set_value(("next.csv", b"a,b\n", "text/csv"))
    assert "Now upload the model bundle to score next.csv." in infos(check(at.run()))
