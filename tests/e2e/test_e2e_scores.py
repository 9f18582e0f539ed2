"""End to end: on the RFM page, switch how the scores are cut, preview the moves, apply.

The counts come from the core run on the demo log the app opens with.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from rfm_core.customers.pipeline import run_rfm
from rfm_core.customers.scores import QUANTILES, ScoreBinning, compare_segments, rescore
from rfm_core.ingest.io import load_bytes
from tests.e2e.conftest import UI_TIMEOUT
from tests.e2e.test_e2e_browser import go_to, wait_idle

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo_transactions.csv"
MOVED = "Customers who would change rule segment"


def moves(binning: ScoreBinning, before: ScoreBinning = QUANTILES) -> str:
    table = run_rfm(load_bytes(DEMO.read_bytes(), file_name=DEMO.name)).rfm.table
    changes = compare_segments(
        rescore(table, before).table["rfm_segment"], rescore(table, binning).table["rfm_segment"]
    )
    return f"{changes.changed:,} of {changes.customers:,}"


def expect_metric(page: Page, label: str, value: str) -> None:
    card = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True))
    expect(card.locator('[data-testid="stMetricValue"]')).to_have_text(value, timeout=UI_TIMEOUT)


def no_exception(page: Page) -> None:
    """The page ran to its end (the last expander is drawn) and shows no exception."""
    expect(page.get_by_text("Edit the segment rules")).to_be_visible(timeout=UI_TIMEOUT)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def form(page: Page):
    return page.locator('[data-testid="stForm"]').filter(has_text="Cut the scores by")


@pytest.mark.e2e
def test_switching_the_binning_changes_the_counts(page: Page) -> None:
    expect(page.get_by_text("Mapped: ")).to_be_visible(timeout=UI_TIMEOUT)
    go_to(page, "RFM")
    no_exception(page)
    expect(page.get_by_text("cut by quantiles", exact=False)).to_be_visible()
    page.get_by_text("Change how the scores are cut").click()

    # typed cut points: preview only
    fixed = ScoreBinning(recency=(30, 90, 180, 365), frequency=(2, 3, 5, 10))
    form(page).get_by_text("Fixed cut points (typed below)").click()
    form(page).get_by_role("textbox", name="Recency cut points").fill("30, 90, 180, 365")
    form(page).get_by_role("textbox", name="Frequency cut points").fill("2, 3, 5, 10")
    form(page).get_by_role("textbox", name="Monetary cut points").fill("")
    form(page).get_by_role("button", name="Preview changes").click()
    expect_metric(page, MOVED, moves(fixed))
    no_exception(page)

    # natural breaks: preview, apply, and the same preview now moves nobody
    jenks = ScoreBinning("jenks")
    form(page).get_by_text("Natural breaks (Jenks, found in the values)").click()
    form(page).get_by_role("button", name="Preview changes").click()
    expect_metric(page, MOVED, moves(jenks))
    wait_idle(page)
    form(page).get_by_role("button", name="Apply").click()
    expect(page.get_by_text("cut by natural breaks", exact=False)).to_be_visible(timeout=UI_TIMEOUT)
    no_exception(page)
    wait_idle(page)
    if not form(page).is_visible():
        page.get_by_text("Change how the scores are cut").click()
    form(page).get_by_role("button", name="Preview changes").click()
    expect_metric(page, MOVED, moves(jenks, before=jenks))
    # and quantiles from there move as many customers back as went
    form(page).get_by_text("Quantiles (about a fifth of the customers per score)").click()
    form(page).get_by_role("button", name="Preview changes").click()
    expect_metric(page, MOVED, moves(QUANTILES, before=jenks))
    assert moves(QUANTILES, before=jenks) == moves(jenks)
    no_exception(page)
