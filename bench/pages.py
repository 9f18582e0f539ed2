"""First-visit time of every page, measured in a real browser (issue 21).

``python -m bench pages [--dataset cdnow|log_1m] [--repeats N] [--revisit] [--pages TITLES]
[--screenshots DIR]``

Each repeat is a fresh session on a fresh server: ``streamlit run app.py`` served as the browser
tests serve it (:func:`tests.e2e.conftest.serve_app`, same flags and environment variables, its
own data folder, key file and run store), driven through Debian's chromium by Playwright (never
a downloaded browser). The data is made ready as a user would:

* ``cdnow``: the CDNOW-shaped log of 23,500 customers (:func:`tests.cdnow_shaped.cdnow_shaped_log`,
  ``random_state=0``), written once as CSV in ``bench/data/`` and uploaded on the Upload page;
* ``log_1m``: ``bench/data/log_1000000_seed1.parquet`` (``python -m bench.datasets 1000000``),
  opened from the server's data folder ("Larger files" → "Open this file").

"Data ready" is timed from the upload (or the click on "Open this file") until the Upload page
shows the mapped customers and is quiet. Then every page of the sidebar navigation is opened by
clicking its link (so the session is kept), the Upload page last as it was open already, and
timed from the click until the page is done: its title is drawn (not a stale one) and no
spinner, status box, progress bar or "running" indicator has shown for :data:`QUIET` seconds;
the figure is the moment that quiet window began. ``--revisit`` then opens every page once more.
``--pages`` opens only the pages it names, in its order: what a page finds done depends on the
pages before it (a visit to Model selection first waits for the background fit, flags included).

The report is a Markdown table (medians over the repeats) with each page's goal: 3 s up to
25,000 customers, 8 s beyond (the issue's figure at a million). It measures; it asserts nothing,
and exits 0 when goals are missed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import re
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.datasets import DATA, ROOT, synthetic_path

OUT = ROOT / "bench" / "out" / "pages"  # server logs (not tracked)
CDNOW_CUSTOMERS = 23_500
SMALL = 25_000  # up to this many customers a page's goal is SMALL_GOAL
SMALL_GOAL, LARGE_GOAL = 3.0, 8.0  # seconds, first visit
QUIET = 1.0  # seconds without any busy sign before a page counts as done
POLL = 0.05  # seconds between two looks at the page
VIEWPORT = {"width": 1400, "height": 900}
BUSY = ", ".join(
    f'[data-testid="{testid}"]'
    for testid in (
        "stSpinner",
        "stStatusWidget",
        "stProgress",
        "stExpanderIconSpinner",  # a running st.status box
        "stSkeleton",  # a page whose first elements have not arrived yet
    )
)

# One look at the page: is the session busy, and which title does the main area show?
PROBE = """([busy, withTexts]) => {
  const visible = (e) => e.getClientRects().length > 0
    && getComputedStyle(e).visibility !== 'hidden';
  const fresh = (e) => {
    const box = e.closest('[data-testid="stElementContainer"]');
    return !box || box.getAttribute('data-stale') !== 'true';
  };
  const app = document.querySelector('[data-testid="stApp"]');
  const running = !!app && app.getAttribute('data-test-script-state') === 'running';
  const main = document.querySelector('[data-testid="stMain"]');
  const title = main ? [...main.querySelectorAll('h1')].find(h => visible(h) && fresh(h)) : null;
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  return {
    running,
    busy: running || [...document.querySelectorAll(busy)].some(visible),
    title: title ? title.innerText.trim() : null,
    path: location.pathname,
    sidebar: withTexts && sidebar ? sidebar.innerText : '',
    main: withTexts && main ? [...main.querySelectorAll('[data-testid="stElementContainer"]')]
      .filter(fresh).map(e => e.innerText).join('\\n') : '',
  };
}"""

# What went wrong on a page: exceptions and error boxes drawn in the main area
PROBLEMS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return [];
  const texts = (selector, kind) => [...main.querySelectorAll(selector)]
    .map(e => kind + ': ' + e.innerText.trim().split('\\n')[0].slice(0, 160));
  return [...texts('[data-testid="stException"]', 'exception'),
          ...texts('[data-testid="stAlertContentError"]', 'error')];
}"""


@dataclass
class Visit:
    """One timed page visit: seconds (None: not done within the limit) and what went wrong
    (exceptions and error boxes drawn, or a note on the timing)."""

    title: str
    seconds: float | None
    problems: list[str] = field(default_factory=list)


@dataclass
class Session:
    """One fresh session: the app's opening, the data ready, and each page's visits."""

    opening: float | None = None
    data_ready: float | None = None
    customers: int | None = None
    first: dict[str, Visit] = field(default_factory=dict)  # nav title → first visit
    again: dict[str, Visit] = field(default_factory=dict)  # nav title → second visit


# --- data ----------------------------------------------------------------------------------------


def cdnow_path() -> Path:
    """The CDNOW-shaped CSV of 23,500 customers, written once in ``bench/data/``."""
    path = DATA / f"cdnow_shaped_{CDNOW_CUSTOMERS}_seed0.csv"
    if not path.exists():
        from tests.cdnow_shaped import cdnow_shaped_log

        DATA.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        cdnow_shaped_log(CDNOW_CUSTOMERS, random_state=0).to_csv(partial, index=False)
        partial.rename(path)
    return path


def log_1m_path() -> Path:
    """The million-customer Parquet log; it is made by ``python -m bench.datasets 1000000``."""
    path = synthetic_path(1_000_000, "parquet")
    if not path.exists():
        raise SystemExit(f"{path} is missing: run python -m bench.datasets 1000000 first")
    return path


def place_in_folder(source: Path, folder: Path) -> None:
    """Put the log in the server's data folder (which refuses symlinks): a hard link, else a
    copy."""
    target = folder / source.name
    try:
        os.link(source.resolve(), target)
    except OSError:
        shutil.copyfile(source.resolve(), target)


# --- the server and the browser ------------------------------------------------------------------


@contextlib.contextmanager
def served_app(dataset: str, run: int) -> Iterator[str]:
    """Serve the app as the browser tests do, with a data folder of its own; yield its URL."""
    from tests.e2e.conftest import serve_app

    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"server_{dataset}_{run}.log"
    log.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA, prefix="pages_") as tmp:
        folder = Path(tmp)
        data = folder / "data"
        data.mkdir()
        if dataset == "log_1m":
            place_in_folder(log_1m_path(), data)
        env = {
            "RFM_DATA_DIR": str(data),
            "RFM_BUNDLE_KEY_FILE": str(folder / "bundle.key"),
            "RFM_STORE": str(folder / "runs.duckdb"),
            "RFM_PREFETCH": os.environ.get("RFM_PREFETCH", "1"),  # the app's default: on
        }
        with serve_app(log, env=env) as url:
            yield url


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """Debian's chromium driven by Playwright, headless; nothing is downloaded."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


# --- waiting and timing --------------------------------------------------------------------------


def look_at(page, *, texts: bool = False) -> dict:
    """One look at the page (:data:`PROBE`); ``texts``: with the sidebar's and main area's text."""
    return page.evaluate(PROBE, [BUSY, texts])


def wait_done(page, started: float, ready, limit: float, *, texts: bool = False) -> float | None:
    """Seconds from ``started`` until the page is done, or None after ``limit`` seconds.

    ``ready(look, saw_run)`` says whether a look at the page (:data:`PROBE`) shows what is
    wanted (``saw_run``: the script has been seen running since ``started``). Done: ready and not
    busy for :data:`QUIET` seconds; the figure is the start of that quiet window.
    """
    quiet_since = None
    saw_run = False
    while (now := time.perf_counter()) - started < limit:
        look = look_at(page, texts=texts)
        saw_run = saw_run or look["running"]
        if look["busy"] or not ready(look, saw_run):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= QUIET:
            return quiet_since - started
        time.sleep(POLL)
    return None


def nav_links(page) -> dict[str, str]:
    """The sidebar navigation: link (href) → page title, in the order shown."""
    nav = page.locator('[data-testid="stSidebarNav"]')
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in more.first.inner_text().lower():
        more.first.click()
    links = {}
    for link in nav.locator("a").all():
        # a link reads "<icon name>\n\n<title>": the title is its last line
        links[link.get_attribute("href")] = link.inner_text().strip().splitlines()[-1]
    return links


def chosen_pages(links: dict[str, str], titles: list[str]) -> list[str]:
    """The links of the pages titled ``titles`` (any case), in that order; an unknown title
    stops the run with the titles there are."""
    by_title = {title.lower(): href for href, title in links.items()}
    unknown = [title for title in titles if title.lower() not in by_title]
    if unknown:
        pages = ", ".join(links.values())
        raise SystemExit(f"no page titled {', '.join(map(repr, unknown))}; the pages: {pages}")
    return [by_title[title.lower()] for title in titles]


def url_path(href: str) -> str:
    """The path part of a link (``http://host:port/rfm`` → ``/rfm``)."""
    path = re.sub(r"^[a-z]+://[^/]+", "", href).split("?")[0]
    return path or "/"


def visit(page, href: str, title: str, limit: float) -> Visit:
    """Click the page's sidebar link and time it until done (see :func:`wait_done`)."""
    previous = look_at(page)["title"]
    path = url_path(href)

    def ready(look: dict, saw_run: bool) -> bool:
        # a title of the new page: either another text than the page before, or seen after a run
        new = look["title"] is not None and (look["title"] != previous or saw_run)
        return look["path"] == path and new

    link = page.locator(f'[data-testid="stSidebarNav"] a[href="{href}"]')
    started = time.perf_counter()
    link.click()
    seconds = wait_done(page, started, ready, limit)
    return Visit(title, seconds, page.evaluate(PROBLEMS))


def screenshot(page, path: Path, limit: float) -> None:
    """A PNG of the whole page: the viewport grows to the height of the main area's content
    (Streamlit scrolls inside ``stMain``), then shrinks back."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": int(height) + 40})
    time.sleep(1.0)  # charts redraw at the new size
    wait_done(page, time.perf_counter(), lambda look, saw_run: True, limit)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)


def customers_shown(text: str) -> int | None:
    """The customers of the Upload page's "Mapped: n lines → m customers" line."""
    found = re.search(r"Mapped: [\d,]+ lines → ([\d,]+) customers", text)
    return int(found.group(1).replace(",", "")) if found else None


# --- one session ---------------------------------------------------------------------------------


def open_app(page, url: str, limit: float) -> float | None:
    """Open the app (its first page, on the demo data) and time it until done."""
    started = time.perf_counter()
    page.goto(url)
    return wait_done(
        page, started, lambda look, saw_run: "Mapped: " in look["main"], limit, texts=True
    )


def make_data_ready(page, dataset: str, limit: float) -> float | None:
    """Upload the CDNOW-shaped CSV, or open the 1M Parquet from the data folder, and time it
    until the Upload page shows the new file's customers and is quiet."""
    if dataset == "cdnow":
        path = cdnow_path()
        started = time.perf_counter()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(path)
    else:
        path = log_1m_path()
        page.get_by_text("Larger files").click()
        button = page.get_by_role("button", name="Open this file")
        started = time.perf_counter()
        button.click()

    def ready(look: dict, saw_run: bool) -> bool:
        mapped = customers_shown(look["main"]) is not None
        return path.name in look["sidebar"] and "Demo:" not in look["sidebar"] and mapped

    return wait_done(page, started, ready, limit, texts=True)


def run_session(browser, url: str, args: argparse.Namespace, run: int) -> Session:
    """One fresh session: open the app, make the data ready, visit every page (Upload last)."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(60_000)
    page = context.new_page()
    session = Session()
    try:
        session.opening = open_app(page, url, args.page_limit)
        session.data_ready = make_data_ready(page, args.dataset, args.data_limit)
        if session.data_ready is None:
            return session
        session.customers = customers_shown(look_at(page, texts=True)["main"])
        links = nav_links(page)
        # the page open now (Upload) was opened to load the data: it comes last
        here = page.evaluate("() => location.pathname")
        order = sorted(links, key=lambda href: url_path(href) == here)
        if args.pages:
            order = chosen_pages(links, args.pages)
        unfinished = None  # a page left while its script still ran: the next one waits for it
        for number, href in enumerate(order):
            found = visit(page, href, links[href], args.page_limit)
            if unfinished:
                found.problems.append(
                    f"timed right after {unfinished} (not done): may include its stop"
                )
            unfinished = links[href] if found.seconds is None else None
            session.first[links[href]] = found
            print(f"  run {run}: {links[href]}: {seconds_text(found.seconds)}", flush=True)
            if args.screenshots and found.seconds is not None:
                stem = re.sub(r"[^a-z0-9]+", "_", links[href].lower()).strip("_")
                name = f"{args.dataset}_{run}_{number:02d}_{stem}.png"
                screenshot(page, args.screenshots / name, args.page_limit)
        if args.revisit:
            for href in order:
                session.again[links[href]] = visit(page, href, links[href], args.page_limit)
    finally:
        context.close()
    return session


# --- the report ----------------------------------------------------------------------------------


def median(values: list[float | None]) -> float | None:
    """The median, None (not done) counting as the slowest; None if the median is not done."""
    value = statistics.median([math.inf if v is None else v for v in values])
    return None if math.isinf(value) else value


def seconds_text(seconds: float | None, limit: float | None = None) -> str:
    if seconds is None:
        return f"not done in {limit:.0f} s" if limit else "not done"
    return f"{seconds:.1f}"


def goal_for(customers: int | None) -> float:
    """The first-visit goal of issue 21: 3 s up to 25,000 customers, 8 s beyond."""
    return SMALL_GOAL if customers is not None and customers <= SMALL else LARGE_GOAL


def git_head() -> str:
    """The commit measured (short hash and subject), marked when the work tree has changes."""

    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{git('log', '-1', '--format=%h %s')}{' (+ uncommitted changes)' if dirty else ''}"


def first_visits(sessions: list[Session], title: str) -> list[float | None]:
    """The page's first-visit seconds in each session (None: not done, or not reached)."""
    return [s.first[title].seconds if title in s.first else None for s in sessions]


def page_titles(sessions: list[Session]) -> list[str]:
    """Every page visited, in the order visited."""
    return list(dict.fromkeys(title for s in sessions for title in s.first))


def page_table(sessions: list[Session], args: argparse.Namespace, goal: float) -> str:
    """One row a page: median first visit (and revisit), the goal and whether it is met."""
    heading = ["Page", "First visit (s)", "Goal (s)", "Met"]
    if len(sessions) > 1:
        heading.insert(2, "Each run (s)")
    if args.revisit:
        heading.append("Second visit (s)")
    rows = ["| " + " | ".join(heading) + " |", "|" + "---|" * len(heading)]
    for title in page_titles(sessions):
        values = first_visits(sessions, title)
        first = median(values)
        met = "met" if first is not None and first <= goal else "not met"
        cells = [title, seconds_text(first, args.page_limit), f"{goal:.0f}", met]
        if len(sessions) > 1:
            cells.insert(2, ", ".join(seconds_text(v) for v in values))
        if args.revisit:
            again = [s.again[title].seconds if title in s.again else None for s in sessions]
            cells.append(seconds_text(median(again), args.page_limit))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def problems_text(sessions: list[Session]) -> list[str]:
    """Every exception, error box or timing note of a page, once, with the runs it was seen in."""
    seen: dict[str, list[int]] = {}
    for run, session in enumerate(sessions, 1):
        for visits in (session.first, session.again):
            for found in visits.values():
                for problem in found.problems:
                    seen.setdefault(f"{found.title}: {problem}", []).append(run)
    return [
        f"- {text} (run {', '.join(map(str, sorted(set(runs))))})" for text, runs in seen.items()
    ]


def report(sessions: list[Session], args: argparse.Namespace, loads: tuple[float, float]) -> str:
    """The Markdown report: what was measured, on what, then the table of pages."""
    customers = next((s.customers for s in sessions if s.customers), None)
    goal = goal_for(customers)
    titles = page_titles(sessions)
    met = sum((m := median(first_visits(sessions, t))) is not None and m <= goal for t in titles)
    label = {"cdnow": "CDNOW-shaped CSV, uploaded", "log_1m": "1M-customer Parquet, data folder"}
    lines = [
        f"## Pages, first visit in the browser: {label[args.dataset]}",
        "",
        f"- Date: {dt.datetime.now().isoformat(timespec='minutes')}; commit: {args.head}",
        f"- Command: `python -m bench pages {shlex.join(args.argv)}`".rstrip(),
        f"- Customers (after cleaning, as the Upload page shows): {customers or 0:,}",
        f"- 1-minute load average: {loads[0]:.2f} before, {loads[1]:.2f} after",
        f"- Medians of {len(sessions)} fresh session(s), each on a fresh server",
        f"- App opened (Upload page, demo data): "
        f"{seconds_text(median([s.opening for s in sessions]), args.page_limit)} s",
        f"- Data ready (upload or open → mapped customers shown, page quiet): "
        f"{seconds_text(median([s.data_ready for s in sessions]), args.data_limit)} s",
        f"- Goal met on {met} of {len(titles)} pages (goal {goal:.0f} s on the first visit)",
        "",
        page_table(sessions, args, goal),
    ]
    problems = problems_text(sessions)
    if problems:
        lines += ["", "Seen on the pages (exceptions, error boxes, timing notes):", *problems]
    return "\n".join(lines)


# --- command line --------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench pages", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--dataset", choices=("cdnow", "log_1m"), default="cdnow")
    parser.add_argument("--repeats", type=int, default=1, help="fresh sessions (median)")
    parser.add_argument("--revisit", action="store_true", help="also time a second visit")
    parser.add_argument(
        "--pages",
        type=lambda text: [title.strip() for title in text.split(",") if title.strip()],
        help="only these pages, in this order, by their titles in the sidebar, comma-separated "
        '(e.g. "Model selection,Anomalies"); default: every page, Upload last',
    )
    parser.add_argument("--screenshots", type=Path, help="folder for a PNG of every page")
    parser.add_argument(
        "--page-limit", type=float, default=300.0, help="seconds before a page counts as not done"
    )
    parser.add_argument(
        "--data-limit", type=float, default=900.0, help="seconds allowed for the data to be ready"
    )
    args = parser.parse_args(argv)
    args.argv = argv
    args.head = git_head()  # the code measured, read before the run
    return args


def main(argv: list[str] | None = None) -> int:
    """Measure every page in ``--repeats`` fresh sessions and print the Markdown report."""
    import sys

    args = parse(sys.argv[1:] if argv is None else list(argv))
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    if args.dataset == "cdnow":
        cdnow_path()  # written before the clock and the load average
    else:
        log_1m_path()
    before = os.getloadavg()[0]
    sessions = []
    with chromium() as browser:
        for run in range(1, args.repeats + 1):
            with served_app(args.dataset, run) as url:
                sessions.append(run_session(browser, url, args, run))
    print(report(sessions, args, (before, os.getloadavg()[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
