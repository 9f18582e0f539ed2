"""End to end in a real browser: Model selection → Segments → Projections → Anomalies.

The labeled customer CSV downloaded from the Segments page must equal the core's export of the
same bytes with the same default settings.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from rfm_core.customers.pipeline import run_rfm
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.outputs.export import labeled_csv
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    find_anomalies,
    labeled_customers,
    segment_customers,
)
from tests.e2e.test_e2e_browser import click_download, expect_metric, go_to, upload

# the last element each page draws: once it is there, the page's script ran to its end
PAGE_ENDS = {
    "Model selection": "Each band is a segment",
    "Segments": "Labeled customers (CSV)",
    "Projections": "Explained variance: PC1",
    "Anomalies": "Saved models and scoring use the detector itself.",
}


def page_done(page: Page, title: str) -> None:
    expect(page.get_by_text(PAGE_ENDS[title]).first).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


@pytest.mark.e2e
def test_segment_pages_and_the_labeled_download(page: Page, tmp_path: Path) -> None:
    path = tmp_path / "shop.csv"
    generate_transactions(600, random_state=41).transactions.to_csv(path, index=False)
    table = run_rfm(load_bytes(path.read_bytes(), file_name=path.name)).rfm.table
    anomalies = find_anomalies(table, AnomalySettings())
    segmentation = segment_customers(table, SegmentationSettings(), anomalies=anomalies)
    expected = labeled_customers(table, segmentation, anomalies)

    expect(page.get_by_text("Mapped: ")).to_be_visible()
    upload(page, path)
    expect(page.get_by_text(f"→ {len(table):,} customers")).to_be_visible()

    go_to(page, "Model selection")
    recommended = f"k = {segmentation.selection.recommended_k}: inside the business range"
    expect(page.get_by_text(recommended)).to_be_visible()
    expect_metric(page, "Segments found", str(segmentation.n_clusters))
    page_done(page, "Model selection")

    go_to(page, "Segments")
    page_done(page, "Segments")
    button = page.locator('[data-testid="stDownloadButton"]', has_text="Labeled customers (CSV)")
    saved = tmp_path / "labeled.csv"
    download = click_download(page, button.locator("button"))
    download.save_as(saved)
    assert download.suggested_filename == "customers_labeled.csv"
    got = pd.read_csv(saved, dtype={"customer_id": str})
    want = pd.read_csv(io.BytesIO(labeled_csv(expected)), dtype={"customer_id": str})
    assert len(got) == len(table)
    pd.testing.assert_frame_equal(got, want)

    go_to(page, "Projections")
    page_done(page, "Projections")
    page.get_by_role("tab", name="RFM 3D").click()  # only the open tab runs: this one now
    expect(page.get_by_text("Log axes;")).to_be_visible()

    go_to(page, "Anomalies")
    expect_metric(page, "Customers flagged", f"{anomalies.n_flagged:,}")
    page_done(page, "Anomalies")


@pytest.mark.e2e
def test_a_data_folder_file_is_processed_on_the_server(page: Page, data_dir: Path) -> None:
    from rfm_core.customers.engine import connect, open_file, rfm_on_engine

    path = data_dir / "served.parquet"
    source, mapping = open_file(path, backend=connect("duckdb"))
    run = rfm_on_engine(source, name=path.name, mapping=mapping)

    expect(page.get_by_text("Mapped: ")).to_be_visible()
    page.get_by_text("Larger files").click()
    page.get_by_role("button", name="Open this file").click()
    expect(
        page.get_by_text(f"Mapped: {run.n_in:,} lines → {run.rfm.n_customers:,}")
    ).to_be_visible()
    go_to(page, "Cleaning")
    expect_metric(page, "Rows kept", f"{run.n_kept:,}")
    expect(page.get_by_text("stay on the server")).to_be_visible()
    go_to(page, "RFM")
    expect_metric(page, "Customers", f"{run.rfm.n_customers:,}")
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
