"""A hostile file in a real browser: its markup is shown as text, nothing is injected or run.

Customer ids, products, countries and column names of the uploaded log are HTML and Markdown
(``<img src=x onerror=alert(1)>``, ``<a href=…>``, ``[link](javascript:…)``, ``**bold**``). On the
pages that draw them (tables, messages, plotly labels and hover text) no ``<img src=x>`` element
and no injected link may appear, and no dialog may open.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from rfm_core.ingest.synthetic import generate_transactions
from tests.e2e.test_e2e_browser import go_to, no_exception, sidebar, upload

IMG = "<img src=x onerror=alert(1)>"
HOSTILE = (
    IMG,
    '<a href="http://evil.example">click</a>',
    "[link](javascript:alert(1))",
    "**bold**",
)


def injected(page: Page) -> dict[str, int]:
    """Elements the hostile strings would create if they were rendered as markup."""
    return {
        "img[src=x]": page.locator("img[src=x]").count(),
        # plotly writes its links as SVG <a xlink:href=…>; text shown literally may sit in a
        # title or aria-label, which is harmless: only link and source attributes count
        "evil link": page.evaluate(
            "() => [...document.querySelectorAll('*')].filter(node => [...node.attributes]"
            ".some(a => /^(xlink:)?href$|^src$|^action$/i.test(a.name)"
            " && /evil\\.example|^\\s*javascript:/i.test(a.value))).length"
        ),
        "inline handler": page.evaluate(
            "() => [...document.querySelectorAll('*')].filter(node => [...node.attributes]"
            ".some(a => /^on/i.test(a.name) && /alert/.test(a.value))).length"
        ),
    }


@pytest.mark.e2e
def test_a_hostile_file_injects_nothing(page: Page, tmp_path: Path) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log = generate_transactions(150, random_state=9).transactions
    ids = log["CustomerID"].dropna().unique()
    for customer, hostile in zip(ids[: len(HOSTILE)], HOSTILE, strict=True):
        log.loc[log["CustomerID"] == customer, "CustomerID"] = hostile
    log["Description"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(log))]
    log["Country"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(log))]
    log[IMG] = 1  # an unmapped column named with markup
    path = tmp_path / "hostile.csv"
    log.to_csv(path, index=False)
    clean = {"img[src=x]": 0, "evil link": 0, "inline handler": 0}

    expect(page.get_by_text("Mapped: ")).to_be_visible()
    upload(page, path)
    expect(sidebar(page)).to_contain_text("hostile.csv")
    no_exception(page, "Upload")
    assert injected(page) == clean

    go_to(page, "Overview")
    expect(page.get_by_text("Revenue by country").first).to_be_visible()
    # the country bars' tick labels show the markup as text
    expect(page.locator(".js-plotly-plot").get_by_text(IMG).first).to_be_attached()
    assert injected(page) == clean

    go_to(page, "Segments")
    expect(page.get_by_text("Labeled customers (CSV)")).to_be_attached()
    page.get_by_label("Customer id").fill(IMG)
    page.get_by_label("Customer id").press("Enter")
    expect(page.get_by_text("Orders over time")).to_be_attached()
    page.get_by_label("Customer id").fill("**bold** nobody")
    page.get_by_label("Customer id").press("Enter")
    expect(page.get_by_text("'**bold** nobody'", exact=False)).to_be_visible()  # literal
    assert injected(page) == clean

    go_to(page, "Anomalies")
    expect(page.get_by_text("Flagged customers", exact=True)).to_be_visible()
    assert injected(page) == clean
    assert dialogs == []
