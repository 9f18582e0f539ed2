"""A link to a page as the very first request a fresh server gets (local mode).

Streamlit keeps a legacy mode for apps with a ``pages/`` folder: until a session has run
``app.py``, a page URL runs the page's script alone (no sidebar, no navigation of sections, the
folder's file names as links), and the whole server stays so. ``ui.router.through_app`` sends such
a run back through ``app.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import UI_TIMEOUT, VIEWPORT, serve_app

pytestmark = pytest.mark.e2e


def test_a_page_link_first_after_start_gets_the_apps_navigation(browser, tmp_path: Path, data_dir):
    env = {
        "RFM_DATA_DIR": str(data_dir),
        "RFM_BUNDLE_KEY_FILE": str(tmp_path / "bundle.key"),
        "RFM_STORE": str(tmp_path / "runs.duckdb"),
    }
    with serve_app(tmp_path / "server.log", env=env) as url:
        for _visitor in range(2):  # the first request, and a later session
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(UI_TIMEOUT)
            page = context.new_page()
            page.goto(f"{url}/rfm")
            heading = page.get_by_role("heading", name="Recency, Frequency, Monetary", level=1)
            expect(heading).to_be_visible()
            nav = page.locator('[data-testid="stSidebarNav"]')
            expect(nav).to_contain_text("Customers")  # the app's sections, not file names
            expect(nav.get_by_role("link", name="login")).to_have_count(0)
            expect(page.get_by_text("Local mode:")).to_be_visible()  # app.py's sidebar
            context.close()
