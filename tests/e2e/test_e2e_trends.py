"""End to end in a real browser: Overview → Movement (download the movers) → Cohorts, on the demo.

Every number expected is the core's on the demo log the app opens on; the movers CSV downloaded
from the Movement page must equal the core's export of the same customers.
"""

from __future__ import annotations

import io
from pathlib import Path

import ibis
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from rfm_core.customers.migration import cohort_retention, data_range, migrate
from rfm_core.customers.trends import kept_lines, pareto_curve
from rfm_core.outputs.export import rfm_csv
from tests.e2e.test_e2e_browser import DEMO, click_download, core_on, expect_metric, go_to

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


def no_exception(page: Page, last_text: str) -> None:
    """Wait for the last element a page draws, then check that no exception was drawn."""
    expect(page.get_by_text(last_text).first).to_be_attached()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


@pytest.mark.e2e
def test_overview_movement_and_cohorts_on_the_demo(page: Page, tmp_path: Path) -> None:
    result = core_on(DEMO)
    table = result.rfm.table
    moves = migrate(result.transactions, span=data_range(table))
    cohorts = cohort_retention(kept_lines(result), backend=ibis.duckdb.connect())
    share = pareto_curve(table).share_of(0.2)

    expect(page.get_by_text("Mapped: ")).to_be_visible()
    go_to(page, "Overview")
    expect_metric(page, "Customers", f"{result.rfm.n_customers:,}")
    expect_metric(page, "Top 20% of customers", f"{share:.1%} of revenue")
    no_exception(page, "Pareto curve")

    go_to(page, "Movement")
    expect_metric(page, "New customers", f"{len(moves.new_customers):,}")
    expect_metric(page, "Moved to a worse segment", f"{len(moves.worse):,}")
    button = page.locator('[data-testid="stDownloadButton"]', has_text="movers_worse.csv")
    download = click_download(page, button.locator("button"))
    assert download.suggested_filename == "movers_worse.csv"
    saved = tmp_path / "movers_worse.csv"
    download.save_as(saved)
    got = pd.read_csv(saved, dtype={"customer_id": str})
    worse = moves.worse.sort_values("monetary_to", ascending=False)
    want = pd.read_csv(io.BytesIO(rfm_csv(worse)), dtype={"customer_id": str})
    assert len(got) == len(moves.worse) > 0
    pd.testing.assert_frame_equal(got, want)
    assert set(got["moved"]) == {"worse"}
    no_exception(page, "Download transitions.csv")

    go_to(page, "Cohorts")
    expect_metric(page, "Cohorts", f"{len(cohorts.sizes):,}")
    expect_metric(page, "Customers", f"{int(cohorts.sizes.sum()):,}")
    no_exception(page, "Download the cohort table (CSV)")
