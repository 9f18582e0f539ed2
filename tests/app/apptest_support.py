"""Helpers of the AppTest suite: drive the app by widget key, read what it shows, ask the core.

Expectations are computed with :mod:`rfm_core` on the very same bytes the app is given, so the
pages are checked against the core rather than against hard-coded numbers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from rfm_core.customers.pipeline import RfmPipelineResult, run_rfm
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
DEMO = REPO / "assets" / "demo_transactions.csv"
TIMEOUT = 60  # seconds per script run; a run on these small logs takes well under one
MAPPING_SUBMIT = "FormSubmitter:mapping_form-Apply mapping"
RULES_SUBMIT = "FormSubmitter:rules_form-Apply rules"


def check(at: AppTest) -> AppTest:
    """Fail with the app's own error when the last run raised."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def new_session() -> AppTest:
    """Return a fresh session of the app, run once (it opens on the demo data)."""
    return check(AppTest.from_file(str(APP), default_timeout=TIMEOUT).run())


def upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    """Upload ``data`` as ``name`` on the Upload page and run the app."""
    at.file_uploader(key="upload").set_value((name, data, mime))
    return at.run()


def submit(at: AppTest, button_key: str) -> AppTest:
    """Click a form's submit button and run the app."""
    at.button(key=button_key).click()
    return at.run()


def metric(at: AppTest, label: str) -> str:
    """Return the displayed value of the one metric labelled ``label``."""
    values = [m.value for m in at.metric if m.label == label]
    assert len(values) == 1, (label, [m.label for m in at.metric])
    return values[0]


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """Return the one ``st.dataframe`` showing all ``columns``.

    AppTest gives display-only dataframes no key (they have no element id), so a table is
    recognised by its columns.
    """
    frames = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert len(frames) == 1, (columns, [list(d.value.columns) for d in at.dataframe])
    return frames[0]


def sidebar_texts(at: AppTest) -> list[str]:
    """Return the ``st.text`` lines of the sidebar (dataset name, sheet)."""
    return [t.value for t in at.sidebar.text]


def core(data: bytes, name: str, *, sheet: str | None = None, **kwargs) -> RfmPipelineResult:
    """Return the core pipeline's result on the same bytes the app was given."""
    return run_rfm(load_bytes(data, file_name=name, sheet=sheet), **kwargs)


def generated_log(n_customers: int, seed: int) -> pd.DataFrame:
    """Return a seeded synthetic log, with its mess (missing ids, cancellations, duplicates)."""
    return generate_transactions(n_customers, random_state=seed).transactions


def generated_csv(n_customers: int, seed: int) -> bytes:
    """Return :func:`generated_log` as the CSV bytes a user would upload."""
    return generated_log(n_customers, seed).to_csv(index=False).encode("utf-8")


def workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> bytes:
    """Write ``sheets``, in order, to an .xlsx workbook with openpyxl; return its bytes."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return path.read_bytes()


class Downloads:
    """The media manager of the last AppTest run, to fetch what a download button serves."""

    manager: MediaFileManager | None = None

    def bytes_of(self, at: AppTest, key: str) -> bytes:
        button = at.download_button(key=key)
        url = self.manager.execute_deferred(button.proto.deferred_file_id)
        return self.manager.read_file(Path(url).name).content
