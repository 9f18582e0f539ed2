"""Five browser sessions at once, each with its own file and rules: nothing leaks, memory bounded.

Every session uploads a different generated log (different customer counts, so the numbers a page
shows identify its file) and applies different cleaning rules. The steps are interleaved: each
step is started in all five sessions before any is awaited, so the server runs the five scripts
at the same time. Afterwards every session must still show its own file, rules and counts, and
download its own RFM table, equal to the core's. The server's peak resident memory over the test
is measured (``VmHWM``, reset at the start through ``/proc/<pid>/clear_refs``) and bounded.
"""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from rfm_core.customers.pipeline import run_rfm
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.outputs.export import rfm_csv
from tests.e2e.test_e2e_browser import (
    click_download,
    expect_metric,
    go_to,
    no_exception,
    sidebar,
    upload,
    wait_idle,
)

# (customers, seed, returns, drop duplicates): five files and five sets of rules
SESSIONS = (
    (120, 61, "drop", True),
    (160, 62, "drop", False),
    (200, 63, "net", True),
    (240, 64, "net", False),
    (280, 65, "drop", True),
)
# Peak resident memory of the server over the test, the five sessions included. Measured: about
# 70 MB before the first session imports the app, a peak of about 470 MB with the five sessions
# (Streamlit, pandas, scikit-learn, DuckDB and plotly loaded; each session holding its last two
# files and its bounded caches). Run after the rest of the browser suite the server starts
# higher; unbounded caches or frames kept in session state would grow with every session.
PEAK_RSS_BOUND_MB = 1_000


def server_pid(app_url: str) -> int:
    """The pid of the ``streamlit run`` process serving ``app_url`` (found by its port)."""
    port = str(urlparse(app_url).port)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            args = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        flag = b"--server.port"
        if b"streamlit" in args and flag in args and args[args.index(flag) + 1].decode() == port:
            return int(entry)
    raise AssertionError(f"no streamlit process serves port {port}")


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


class PeakMemory:
    """The peak RSS of a process from now on: VmHWM after a reset, and sampled VmRSS."""

    def __init__(self, pid: int) -> None:
        self.pid, self.sampled_kb, self._stop = pid, 0, threading.Event()
        try:  # "5" resets the peak RSS counter (Linux 4.0+); without it VmHWM is the lifetime peak
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            self.reset = True
        except OSError:
            self.reset = False
        self.start_kb = status_kb(pid, "VmRSS")
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.sampled_kb = max(self.sampled_kb, status_kb(self.pid, "VmRSS"))
            except (OSError, AssertionError):  # the server stopped (end of the suite)
                return
            time.sleep(0.05)

    def stop(self) -> int:
        """Stop sampling; return the peak in kB."""
        self._stop.set()
        self._thread.join()
        peak = self.sampled_kb
        if self.reset:
            peak = max(peak, status_kb(self.pid, "VmHWM"))
        return peak


def rules_of(returns: str, drop_duplicates: bool) -> CleaningRules:
    return CleaningRules(returns=returns, drop_duplicates=drop_duplicates)


@pytest.mark.e2e
def test_five_simultaneous_sessions_keep_their_own_data(
    new_page, app_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    memory = PeakMemory(server_pid(app_url))
    files, results = [], []
    for n_customers, seed, returns, dedupe in SESSIONS:
        path = tmp_path / f"shop_{n_customers}.csv"
        generate_transactions(n_customers, random_state=seed).transactions.to_csv(path, index=False)
        loaded = load_bytes(path.read_bytes(), file_name=path.name)
        files.append(path)
        results.append(run_rfm(loaded, rules=rules_of(returns, dedupe)))
    assert len({r.rfm.n_customers for r in results}) == len(SESSIONS)  # numbers identify files

    pages: list[Page] = [new_page() for _ in SESSIONS]
    for page in pages:
        expect(page.get_by_text("Mapped: ")).to_be_visible()

    # all five upload, then all five are awaited
    for page, path in zip(pages, files, strict=True):
        upload(page, path)
    for page, path in zip(pages, files, strict=True):
        expect(sidebar(page)).to_contain_text(path.name)
        no_exception(page, "Upload")

    # all five choose their rules on the Cleaning page
    for page in pages:
        go_to(page, "Cleaning")
    for page, (_, _, returns, dedupe) in zip(pages, SESSIONS, strict=True):
        expect(page.get_by_role("button", name="Apply rules")).to_be_visible()
        if returns == "net":
            page.get_by_text("net them against purchases").click()
        if not dedupe:
            page.get_by_text("Drop exact duplicate rows").click()
    for page in pages:
        page.get_by_role("button", name="Apply rules").click()

    # each shows its own file, rules and counts, after all the others acted
    for page, path, result, settings in zip(pages, files, results, SESSIONS, strict=True):
        _, _, returns, dedupe = settings
        expect_metric(page, "Rows read", f"{result.cleaning.n_in:,}")
        expect_metric(page, "Rows kept", f"{result.cleaning.n_kept:,}")
        expect_metric(page, "Customers", f"{result.rfm.n_customers:,}")
        duplicates = page.get_by_role("checkbox", name="Drop exact duplicate rows")
        expect(duplicates).to_be_checked(checked=dedupe)
        net = page.get_by_role("radio", name="net them against purchases")
        expect(net).to_be_checked(checked=returns == "net")
        expect(sidebar(page)).to_contain_text(path.name)
        for other in files:
            if other != path:
                expect(sidebar(page)).not_to_contain_text(other.name)
        no_exception(page, "Cleaning")

    # all five open the RFM page; each downloads its own table
    for page in pages:
        go_to(page, "RFM")
    for page, path, result in zip(pages, files, results, strict=True):
        expect_metric(page, "Customers", f"{result.rfm.n_customers:,}")
        expect_metric(page, "Reference date", result.rfm.reference_date.isoformat())
        no_exception(page, "RFM")
        wait_idle(page)
        button = page.locator(
            '[data-testid="stDownloadButton"]', has_text="Download RFM table (CSV)"
        )
        download = click_download(page, button.locator("button"))
        saved = tmp_path / f"downloaded_{path.stem}.csv"
        download.save_as(saved)
        got = pd.read_csv(saved, dtype={"customer_id": str})
        want = pd.read_csv(io.BytesIO(rfm_csv(result.rfm.table)), dtype={"customer_id": str})
        pd.testing.assert_frame_equal(got, want)
        expect(sidebar(page)).to_contain_text(path.name)

    peak_mb = memory.stop() / 1024
    elapsed = time.monotonic() - started
    print(
        f"\n5 sessions: server RSS {memory.start_kb / 1024:,.0f} MB at the start, peak "
        f"{peak_mb:,.0f} MB ({'VmHWM after reset' if memory.reset else 'sampled VmRSS'}), "
        f"{elapsed:.1f} s (a repeated download click shows as a LostClickWarning)"
    )
    assert peak_mb < PEAK_RSS_BOUND_MB
