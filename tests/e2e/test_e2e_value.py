"""End to end in a real browser: Lifetime value (download clv.csv) → Backtest, on the demo.

Every number expected is the core's on the demo log the app opens on; the CSV downloaded from the
Lifetime value page must equal the core's export of the same customers.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from rfm_core.customers.clv import clv_table, customer_lifetime_value
from rfm_core.customers.migration import data_range
from rfm_core.outputs.export import rfm_csv
from rfm_core.segments.backtest import backtest
from tests.e2e.test_e2e_browser import (
    DEMO,
    click_download,
    core_on,
    expect_metric,
    go_to,
    wait_idle,
)
from tests.e2e.test_e2e_trends import no_exception

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


@pytest.mark.e2e
def test_lifetime_value_and_backtest_on_the_demo(page: Page, tmp_path: Path) -> None:
    result = core_on(DEMO)
    value = customer_lifetime_value(result.lines, customers=result.rfm.table.index)
    tested = backtest(result.transactions, result.lines, span=data_range(result.rfm.table))

    expect(page.get_by_text("Mapped: ")).to_be_visible()
    go_to(page, "Lifetime value")
    expect_metric(page, "CLV over 12 weeks", f"{value.customers['clv'].sum():,.0f}")
    expect_metric(page, "Expected purchases", f"{value.customers['expected_purchases'].sum():,.0f}")
    no_exception(page, "Download clv.csv")
    wait_idle(page)
    button = page.locator('[data-testid="stDownloadButton"]', has_text="clv.csv")
    saved = tmp_path / "clv.csv"
    click_download(page, button.locator("button")).save_as(saved)
    got = pd.read_csv(saved, dtype={"customer_id": str})
    table = clv_table(value.customers, result.rfm.table["rfm_segment"])
    want = pd.read_csv(io.BytesIO(rfm_csv(table)), dtype={"customer_id": str})
    pd.testing.assert_frame_equal(got, want)

    go_to(page, "Backtest")
    expect(page.get_by_text("Choose a cut date and run it")).to_be_visible()  # waits to be asked
    page.get_by_role("button", name="Run the backtest").click()
    expect(page.get_by_text(tested.sentence)).to_be_visible()
    expect_metric(page, f"Customers on {tested.cut}", f"{len(tested.customers):,}")
    purchases = tested.comparison.loc["clv", "predicted_purchases"]
    expect_metric(page, "Purchases predicted by CLV", f"{purchases:,.0f}")
    expect(page.get_by_text(f"Backtest with the lines up to {tested.cut}")).to_be_visible()
    no_exception(page, "Download backtest_customers.csv")
