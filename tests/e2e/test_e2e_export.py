"""End to end in a real browser: the Export & score page on the demo data.

The workbook and the HTML report downloaded from the page are opened (openpyxl; chromium, with
the network watched); a model bundle downloaded from the page is uploaded back with the demo log,
and the scored CSV must equal the core's scoring of the same log with the same models.
"""

from __future__ import annotations

import html
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from rfm_core.customers.pipeline import run_rfm
from rfm_core.ingest.io import load_bytes
from rfm_core.outputs.export import labeled_csv
from rfm_core.outputs.persistence import build_bundle, bundle_header, score_transactions
from rfm_core.outputs.reports import WORKBOOK_SHEETS
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    find_anomalies,
    segment_customers,
)
from tests.e2e.test_e2e_browser import DEMO, click_download, go_to, wait_idle

PAGE_END = "Upload a model bundle and a transaction log to score them."


@pytest.fixture(scope="module")
def demo_run():
    """The core's run on the demo log with the app's default settings."""
    result = run_rfm(load_bytes(DEMO.read_bytes(), file_name=DEMO.name))
    table = result.rfm.table
    anomalies = find_anomalies(table, AnomalySettings())
    segmentation = segment_customers(table, SegmentationSettings(), anomalies=anomalies)
    return result, anomalies, segmentation


def open_export_page(page: Page) -> None:
    expect(page.get_by_text("Mapped: ")).to_be_visible()
    go_to(page, "Export & score")
    expect(page.get_by_text(PAGE_END)).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def download(page: Page, label: str, folder: Path) -> Path:
    # a button with help text has a hidden copy beside it: take the one a user sees
    button = page.locator('[data-testid="stDownloadButton"]').get_by_role(
        "button", name=label, exact=True
    )
    done = click_download(page, button)
    path = folder / done.suggested_filename
    done.save_as(path)
    return path


@pytest.mark.e2e
def test_workbook_and_html_report_open(page: Page, browser, tmp_path: Path, demo_run) -> None:
    result, anomalies, segmentation = demo_run
    open_export_page(page)

    workbook = openpyxl.load_workbook(download(page, "Excel workbook", tmp_path))
    assert workbook.sheetnames == list(WORKBOOK_SHEETS)
    assert workbook["Customers"].max_row == 1 + result.rfm.n_customers
    profile_names = [row[1] for row in list(workbook["Segment profiles"].values)[1:]]
    assert profile_names == list(segmentation.names.values())

    report = download(page, "HTML report", tmp_path)
    assert report.name == "rfm_report.html"
    text = report.read_text(encoding="utf-8")
    assert all(f"<td>{html.escape(name)}</td>" in text for name in segmentation.names.values())
    assert f"{anomalies.n_flagged:,} of {result.rfm.n_customers:,} customers flagged" in text

    # opened from disk in a browser cut off from the network: it draws its charts, asks nothing
    offline = browser.new_context()
    requests: list[str] = []

    def local_files_only(route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    offline.route("**/*", local_files_only)
    viewer = offline.new_page()
    viewer.goto(report.as_uri())
    expect(viewer.locator(".plotly-graph-div .main-svg").first).to_be_visible()
    assert viewer.locator(".plotly-graph-div").count() == 2
    assert viewer.get_by_text("Method and settings").first.is_visible()
    # on a narrow window wide tables scroll inside their box: the page is never wider
    narrow = offline.new_page()
    narrow.set_viewport_size({"width": 900, "height": 800})
    narrow.goto(report.as_uri())
    expect(narrow.locator(".plotly-graph-div .main-svg").first).to_be_visible()
    width = narrow.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    offline.close()
    assert requests == []


@pytest.mark.e2e
def test_a_downloaded_bundle_scores_an_upload(page: Page, tmp_path: Path, demo_run) -> None:
    result, anomalies, segmentation = demo_run
    open_export_page(page)
    bundle_path = download(page, "Model bundle (.rfm)", tmp_path)
    header = bundle_header(bundle_path.read_bytes())
    assert header["summary"]["trained_on"]["file"] == DEMO.name
    assert header["summary"]["names"] == [segmentation.names[k] for k in sorted(segmentation.names)]

    wait_idle(page)  # a download does not rerun the page (on_click='ignore'); nothing else runs
    uploaders = page.locator('[data-testid="stFileUploader"]')
    dropzone = '[data-testid="stFileUploaderDropzoneInput"]'
    uploaders.filter(has_text="Model bundle").locator(dropzone).set_input_files(bundle_path)
    # the upload reruns the page: wait until that run has drawn the page again (the note names
    # the bundle), or the log could go to an uploader that the run is about to replace
    expect(
        page.get_by_text(f"Now upload a transaction log to score with {bundle_path.name}.")
    ).to_be_visible()
    wait_idle(page)
    log_uploader = uploaders.filter(has=page.get_by_text("Transaction log", exact=True))
    log_uploader.locator(dropzone).set_input_files(DEMO)
    card = page.locator('[data-testid="stMetric"]').filter(has_text="Customers scored")
    expect(card.locator('[data-testid="stMetricValue"]')).to_have_text(
        f"{result.rfm.n_customers:,}"
    )
    scored = download(page, "Scored customers (CSV)", tmp_path)

    # the same models fitted here, outside the app (no key needed: nothing is saved)
    same_models = build_bundle(
        result.rfm.table, segmentation, anomalies, mapping=result.mapping,
        rules=result.cleaning.rules, date_format=result.date_format,
    )  # fmt: skip
    loaded = load_bytes(DEMO.read_bytes(), file_name=DEMO.name)
    assert scored.read_bytes() == labeled_csv(score_transactions(loaded, same_models))
