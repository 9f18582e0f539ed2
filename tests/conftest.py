"""Options shared by every suite."""

from __future__ import annotations

import os

import pytest

# the app fits segments in the background once the customers are known (ui.prefetch); in the
# suite each test computes what it checks, so that a test's timing and caches are its own
# (tests/app/test_app_on_request.py turns it on). Inherited by the e2e suite's app servers.
os.environ.setdefault("RFM_PREFETCH", "0")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        default=None,
        help="write the e2e screenshot walk's full-page PNGs to DIR (default: pytest's tmp dir)",
    )
