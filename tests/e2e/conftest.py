"""Fixtures of the browser suite: the app served by ``streamlit run``, and Debian's chromium.

The browser is the system's chromium driven by the Playwright package; nothing is ever downloaded.
Without a chromium binary the suite is skipped (CI installs the apt package, so it runs there).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60  # seconds for the server to answer its health check
UI_TIMEOUT = 30_000  # milliseconds for any expected text or element to appear
VIEWPORT = {"width": 1400, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and everything it started (its own process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's data folder: one generated log as Parquet."""
    from rfm_core.ingest.synthetic import generate_transactions

    folder = tmp_path_factory.mktemp("data")
    generate_transactions(300, random_state=51).transactions.to_parquet(
        folder / "served.parquet", index=False
    )
    return folder


@contextlib.contextmanager
def serve_app(
    log: Path, *, port: int | None = None, env: dict[str, str], args: tuple[str, ...] = ()
) -> Iterator[str]:
    """Serve ``app.py`` with ``streamlit run`` (on ``port``, else a free one) until the block
    ends; yield its base URL. ``env`` is added to the environment, ``args`` to the command."""
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port), "--server.headless", "true",
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *args,
    ]  # fmt: skip
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **env},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {STARTUP_TIMEOUT} s:\n{log.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[str]:
    """Serve ``app.py`` with ``streamlit run`` on a free port; yield its base URL."""
    folder = tmp_path_factory.mktemp("streamlit")
    # the key that signs saved models and the run store live in the test's folder
    env = {
        "RFM_DATA_DIR": str(data_dir),
        "RFM_BUNDLE_KEY_FILE": str(folder / "bundle.key"),
        "RFM_STORE": str(folder / "runs.duckdb"),
    }
    with serve_app(folder / "server.log", env=env) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, launched headless once for the whole suite."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).is_file():
        pytest.skip("no chromium binary (apt-get install chromium); the suite never downloads one")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        # assertions wait as long as actions do (the default 5 s is short on a busy CI host)
        from playwright.sync_api import expect

        expect.set_options(timeout=UI_TIMEOUT)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, app_url: str):
    """Return ``new_page()``: a page of a fresh browser context (a new app session) on the app."""
    contexts = []

    def _new_page():
        context = browser.new_context(accept_downloads=True, viewport=VIEWPORT)
        context.set_default_timeout(UI_TIMEOUT)
        contexts.append(context)
        page = context.new_page()
        page.goto(app_url)
        return page

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A page of a fresh browser context on the app."""
    return new_page()
