"""A screenshot walk through every page, on the demo and on a CDNOW-shaped upload.

Each page of the sidebar navigation is opened in turn, left to finish, and saved as a full-page
PNG (under pytest's tmp dir, or ``--screenshots DIR``; the paths are printed) so that a reviewer
sees what a stakeholder sees. What the page drew is then read back from the browser and checked:
no table header, chart title, axis or legend title written as a code name (``share_customers``),
no raw float (``359965.4123``), no ``None`` or ``nan`` in a cell, log axes labelled at powers of
ten only, and no exception. (Number cells are drawn on a canvas, and their accessible text is the
raw value: their formats are checked from the column config by tests/app/test_app_screens.py.)
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.cdnow_shaped import cdnow_shaped_log
from tests.e2e.test_e2e_browser import upload

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
RAW_FLOAT = re.compile(r"\d\.\d{3,}")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?(e[-+]?\d+)?$")
MISSING = {"None", "nan", "NaN", "<NA>", "NaT", "null"}
LOG_TICK = re.compile(r"^(0\.0*1|10*|10*[kMB])$")  # 0.01, 0.1, 1, 10, 100, 1k, 10k, 1M…
QUIET = 1.5  # seconds without a running script or a spinner before a page counts as drawn
PAGE_LIMIT = 240  # seconds for the slowest page (model selection) to finish
BUSY = '[data-testid="stSpinner"], [data-testid="stStatusWidget"]'

# what the browser drew: table headers and cells, metrics, and the text of every plotly chart
# (read from the figure's full layout, so charts in tabs not shown count too)
DRAWN = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const texts = (selector) => [...main.querySelectorAll(selector)].map(e => e.innerText.trim());
  const plain = (t) => (t || '').replace(/<[^>]+>/g, '').trim();
  const charts = [...main.querySelectorAll('.js-plotly-plot')].map(gd => {
    const layout = gd._fullLayout || {};
    const titles = [];
    const logTicks = [];
    const axes = Object.keys(layout).filter(k => /^[xy]axis\\d*$/.test(k));
    for (const key of axes) {
      const axis = layout[key];
      titles.push(plain(axis.title && axis.title.text));
      if (axis.type === 'log' && axis.visible !== false && axis.showticklabels !== false) {
        logTicks.push(...(axis._vals || []).map(v => plain(v.text)));
      }
    }
    for (const key of Object.keys(layout).filter(k => /^scene\\d*$/.test(k))) {
      for (const a of ['xaxis', 'yaxis', 'zaxis']) {
        titles.push(plain(layout[key][a] && layout[key][a].title && layout[key][a].title.text));
      }
    }
    titles.push(plain(layout.legend && layout.legend.title && layout.legend.title.text));
    for (const trace of gd._fullData || []) {
      if (trace.colorbar && trace.colorbar.title) titles.push(plain(trace.colorbar.title.text));
    }
    const coloraxis = layout.coloraxis && layout.coloraxis.colorbar;
    if (coloraxis && coloraxis.title) titles.push(plain(coloraxis.title.text));
    const legend = (gd._fullData || [])
      .filter(t => t.showlegend !== false && layout.showlegend !== false)
      .map(t => plain(t.name));
    return {title: plain(layout.title && layout.title.text), titles, legend, logTicks};
  });
  return {
    headers: texts('table[role="grid"] th'),
    cells: texts('table[role="grid"] td'),
    metrics: texts('[data-testid="stMetricValue"]'),
    exceptions: texts('[data-testid="stException"]'),
    charts,
  };
}"""


def settled(page: Page) -> None:
    """Wait until the script has finished and no spinner has shown for :data:`QUIET` seconds."""
    start = last_busy = time.monotonic()
    while time.monotonic() - start < PAGE_LIMIT:
        running = page.locator('[data-testid="stApp"][data-test-script-state="running"]').count()
        busy = any(element.is_visible() for element in page.locator(BUSY).all())
        if running or busy:
            last_busy = time.monotonic()
        elif time.monotonic() - last_busy >= QUIET:
            return
        time.sleep(0.2)
    pytest.fail(f"{page.url} still running after {PAGE_LIMIT} s")


def screenshot(page: Page, path: Path) -> None:
    """A PNG of the whole page: the viewport grows to the height of the page's content."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": int(height) + 40})
    time.sleep(1.0)  # plotly redraws at the new size
    settled(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 900})
    print(f"screenshot: {path}")


def problems_on(title: str, drawn: dict) -> list[str]:
    """What a stakeholder should not have to read on one page."""
    found = [f"{title}: exception {text[:200]!r}" for text in drawn["exceptions"]]
    found += [f"{title}: header {h!r}" for h in drawn["headers"] if SNAKE.search(h)]
    # a number cell's accessible text is its raw value whatever its format (the AppTest walk,
    # tests/app/test_app_screens.py, checks that every number column has one): text cells only
    text_cells = [c for c in drawn["cells"] if not PLAIN_NUMBER.match(c)]
    found += [f"{title}: cell {c!r}" for c in text_cells if c in MISSING or RAW_FLOAT.search(c)]
    found += [f"{title}: metric {m!r}" for m in drawn["metrics"] if RAW_FLOAT.search(m)]
    for chart in drawn["charts"]:
        name = chart["title"] or "untitled chart"
        words = [chart["title"], *chart["titles"], *chart["legend"]]
        found += [f"{title}: {name}: code name {w!r}" for w in words if w and SNAKE.search(w)]
        if "+ 1" in chart["title"]:
            found.append(f"{title}: {name}: formula in the title")
        odd = [t for t in chart["logTicks"] if t and not LOG_TICK.match(t)]
        if odd:
            found.append(f"{title}: {name}: log axis ticks {odd}")
    return found


# what each page computes only when asked: the tabs and buttons a person clicks to see it
ASKED = {
    "Projections": (("tab", "t-SNE"), ("button", "Place the customers with t-SNE")),
    "Anomalies": (("button", "Compare the four detectors"), ("button", "Train the classifier")),
    "Backtest": (("button", "Run the backtest"),),
}


def ask(page: Page, title: str) -> bool:
    """Click what ``title`` offers on request (see :data:`ASKED`); whether it offered any."""
    for role, name in ASKED.get(title, ()):
        page.get_by_role(role, name=name, exact=True).click()
        time.sleep(0.5)
        settled(page)
    return title in ASKED


def walk(page: Page, folder: Path, prefix: str) -> list[str]:
    """Open every page of the navigation, screenshot it, and list the problems found."""
    settled(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in more.first.inner_text().lower():
        more.first.click()
    # a link reads "<icon name>\n\n<title>": the title is its last line
    links = {
        link.get_attribute("href"): link.inner_text().strip().splitlines()[-1]
        for link in nav.locator("a").all()
    }
    assert len(links) >= 11, links
    problems = []
    for number, (href, title) in enumerate(links.items()):
        nav.locator(f'a[href="{href}"]').click()
        time.sleep(0.5)
        settled(page)
        stem = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
        screenshot(page, folder / f"{prefix}_{number:02d}_{stem}.png")
        problems += problems_on(title, page.evaluate(DRAWN))
        if ask(page, title):
            screenshot(page, folder / f"{prefix}_{number:02d}_{stem}_asked.png")
            problems += problems_on(f"{title} (asked)", page.evaluate(DRAWN))
    return problems


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    chosen = request.config.getoption("--screenshots")
    folder = Path(chosen) if chosen else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.e2e
def test_every_page_reads_as_words_on_the_demo(page: Page, shots: Path) -> None:
    settled(page)
    expect(page.get_by_text("Mapped: ")).to_be_visible(timeout=60_000)
    problems = walk(page, shots, "demo")
    assert not problems, "\n".join(problems)


@pytest.mark.e2e
def test_every_page_reads_as_words_on_a_cdnow_shaped_upload(
    page: Page, shots: Path, tmp_path: Path
) -> None:
    path = tmp_path / "cdnow_orders.csv"
    cdnow_shaped_log(1_500, random_state=7).to_csv(path, index=False)
    settled(page)
    expect(page.get_by_text("Mapped: ")).to_be_visible(timeout=60_000)
    upload(page, path)
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(path.name, timeout=60_000)
    problems = walk(page, shots, "cdnow")
    assert not problems, "\n".join(problems)
