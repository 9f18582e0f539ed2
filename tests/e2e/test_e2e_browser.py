"""End to end in a real headless browser: upload, walk Upload → Cleaning → RFM, download.

Every expectation comes from the core run on the very bytes uploaded through the browser, and the
downloaded RFM table must equal the core's ``rfm_csv`` of them.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Download, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from rfm_core.customers.pipeline import RfmPipelineResult, run_rfm
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.outputs.export import rfm_csv

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo_transactions.csv"


def write_log(folder: Path, kind: str, seed: int) -> Path:
    """Write a generated log of 300 customers as ``.csv`` or ``.xlsx`` (openpyxl)."""
    log = generate_transactions(300, random_state=seed).transactions
    path = folder / f"generated_{seed}.{kind}"
    if kind == "csv":
        log.to_csv(path, index=False)
    else:
        log.to_excel(path, index=False, sheet_name="transactions", engine="openpyxl")
    return path


def core_on(path: Path) -> RfmPipelineResult:
    return run_rfm(load_bytes(path.read_bytes(), file_name=path.name))


# the last element each page draws: once it is there, the page's script ran to its end
PAGE_ENDS = {
    "Upload": "Next: review the cleaning",
    "Cleaning": "Next: the RFM table",
    "RFM": "Size by",
}


def no_exception(page: Page, title: str) -> None:
    """Wait for the end of the page, then check that no exception was drawn on it."""
    expect(page.get_by_text(PAGE_ENDS[title], exact=True)).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def wait_idle(page: Page) -> None:
    """Wait until the session's script has finished running (a download needs its last run)."""
    expect(page.locator('[data-testid="stApp"]')).to_have_attribute(
        "data-test-script-state", "notRunning"
    )


def sidebar(page: Page):
    return page.locator('[data-testid="stSidebar"]')


def go_to(page: Page, title: str) -> None:
    """Follow the sidebar's navigation link (same session; a new URL would start a new one)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()


def expect_metric(page: Page, label: str, value: str) -> None:
    card = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True))
    expect(card.locator('[data-testid="stMetricValue"]')).to_have_text(value)


FIRST_CLICK_TIMEOUT_MS = 15_000


class LostClickWarning(UserWarning):
    """A download button was clicked and no download started; the test clicked once more."""


def click_download(page: Page, button: Locator) -> Download:
    """Click a download ``button`` (the ``<button>`` itself); click once more if no download
    starts, as a user would.

    Under load a click now and then started no download and showed no error (once in a CI run of
    the whole suite; about one in ten with five sessions on two cores, ``test_e2e_sessions``);
    the next click worked. The repeat is
    reported as a :class:`LostClickWarning` in the run's warnings summary, never hidden, and a
    second lost click fails the test.
    """
    try:
        with page.expect_download(timeout=FIRST_CLICK_TIMEOUT_MS) as info:
            button.click()
        return info.value
    except PlaywrightTimeoutError:
        message = f"no download after a click on {page.url}: clicked again"
        warnings.warn(message, LostClickWarning, stacklevel=2)
    with page.expect_download() as info:
        button.click()
    return info.value


def upload(page: Page, path: Path) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(path)


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_upload_walk_the_pages_and_download_the_rfm_table(
    page: Page, tmp_path: Path, kind: str
) -> None:
    path = write_log(tmp_path, kind, seed=31)
    loaded = load_bytes(path.read_bytes(), file_name=path.name)
    result = core_on(path)
    n_in, n_kept = result.cleaning.n_in, result.cleaning.n_kept
    n_customers = result.rfm.n_customers

    # Upload: the app opens on the demo; the upload becomes current, sidebar included
    expect(sidebar(page)).to_contain_text(f"Demo: {DEMO.name}")
    expect(page.get_by_text("Mapped: ")).to_be_visible()
    upload(page, path)
    expect(page.get_by_text(f"{path.name}: {loaded.n_rows:,} rows")).to_be_visible()
    expect(sidebar(page)).to_contain_text(path.name)
    expect(sidebar(page)).not_to_contain_text("Demo:")
    mapped = f"Mapped: {n_in:,} lines → {n_customers:,} customers"
    expect(page.get_by_text(mapped)).to_be_visible()
    no_exception(page, "Upload")

    # Cleaning, through the sidebar navigation
    go_to(page, "Cleaning")
    expect(page).to_have_url(re.compile(r"/cleaning$"))
    expect_metric(page, "Rows read", f"{n_in:,}")
    expect_metric(page, "Rows kept", f"{n_kept:,}")
    expect_metric(page, "Customers", f"{n_customers:,}")
    expect(
        page.locator('[data-testid="stDownloadButton"]', has_text="Download cleaned lines (CSV)")
    ).to_be_visible()
    expect(sidebar(page)).to_contain_text(path.name)  # still the same session
    no_exception(page, "Cleaning")

    # RFM
    go_to(page, "RFM")
    expect(page).to_have_url(re.compile(r"/rfm$"))
    expect_metric(page, "Customers", f"{n_customers:,}")
    expect_metric(page, "Reference date", result.rfm.reference_date.isoformat())
    expect_metric(page, "Customers in range", f"{n_customers:,} of {n_customers:,}")
    no_exception(page, "RFM")
    wait_idle(page)

    button = page.locator('[data-testid="stDownloadButton"]', has_text="Download RFM table (CSV)")
    download = click_download(page, button.locator("button"))
    assert download.suggested_filename == "rfm_customers.csv"
    saved = tmp_path / "downloaded.csv"
    download.save_as(saved)

    downloaded = pd.read_csv(saved, dtype={"customer_id": str})
    expected = pd.read_csv(io.BytesIO(rfm_csv(result.rfm.table)), dtype={"customer_id": str})
    assert len(downloaded) == n_customers
    pd.testing.assert_frame_equal(downloaded, expected)
    no_exception(page, "RFM")


@pytest.mark.e2e
def test_browser_sessions_do_not_share_the_dataset(new_page, tmp_path: Path) -> None:
    path = write_log(tmp_path, "csv", seed=32)
    first = new_page()
    expect(first.get_by_text("Mapped: ")).to_be_visible()
    upload(first, path)
    expect(sidebar(first)).to_contain_text(path.name)
    no_exception(first, "Upload")

    second = new_page()  # another tab: another session, opened on the demo
    expect(sidebar(second)).to_contain_text(f"Demo: {DEMO.name}")
    go_to(second, "RFM")
    expect_metric(second, "Customers", f"{core_on(DEMO).rfm.n_customers:,}")
    no_exception(second, "RFM")

    go_to(first, "RFM")
    expect_metric(first, "Customers", f"{core_on(path).rfm.n_customers:,}")
    expect(sidebar(first)).to_contain_text(path.name)
    no_exception(first, "RFM")
