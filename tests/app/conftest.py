"""Fixtures of the AppTest suite: a fresh session per test and a small generated log."""

from __future__ import annotations

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

from rfm_core.customers.pipeline import RfmPipelineResult
from tests.app.apptest_support import (
    Downloads,
    check,
    core,
    generated_csv,
    new_session,
    sidebar_texts,
    upload,
)


@pytest.fixture(autouse=True)
def _run_app_py_on_every_rerun(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``app.py`` on every AppTest run, as the server does.

    ``AppTest`` resets ``PagesManager.uses_pages_directory`` before each run, and the
    ``PagesManager`` constructor sets it again because a ``pages/`` folder sits beside
    ``app.py``. A rerun on any page but the default then takes Streamlit's legacy pages-folder
    route, which executes the page script alone: ``app.py`` (the sidebar, ``ensure_dataset``)
    is skipped. A server clears the flag for good as soon as ``app.py`` calls
    ``st.navigation``; clearing it here reproduces the server (streamlit/streamlit#9446: its
    fix resets the flag before each run but does not clear it).
    """
    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def app() -> AppTest:
    """A fresh session of the app on the Upload page, the demo data current."""
    return new_session()


@pytest.fixture(scope="session")
def gen_csv() -> bytes:
    """A generated log of 300 customers (about 4,000 lines) as CSV bytes."""
    return generated_csv(300, seed=11)


@pytest.fixture(scope="session")
def gen_result(gen_csv: bytes) -> RfmPipelineResult:
    """The core's result on :func:`gen_csv` with default settings."""
    return core(gen_csv, "generated.csv")


@pytest.fixture
def on_generated(app: AppTest, gen_csv: bytes) -> AppTest:
    """A session in which ``generated.csv`` (:func:`gen_csv`) was uploaded."""
    check(upload(app, "generated.csv", gen_csv))
    assert sidebar_texts(app) == ["generated.csv"]
    return app


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Downloads:
    """Records the media manager of each AppTest run, to read what download buttons serve."""
    recorder = Downloads()

    class Recording(MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            recorder.manager = self

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)
    return recorder
