"""Every failing case of the bad-inputs corpus uploaded through the Upload page (AppTest).

The page must show the core's specific message as ``st.error`` (no exception element, no
traceback), and the session must stay usable: the next, good upload becomes current and maps.
"""

from __future__ import annotations

import functools

import pytest
from streamlit.testing.v1 import AppTest

import ui.cache
from rfm_core.ingest.io import load_bytes
from tests.app.apptest_support import check, sidebar_texts, upload
from tests.bad_inputs import FAILING, Case, good_csv

pytestmark = pytest.mark.filterwarnings("ignore:.*ties leave only:UserWarning")


# the browser refuses other extensions before anything reaches the app (see below)
APP_CASES = [case for case in FAILING if case.name != "unsupported extension"]


@pytest.mark.parametrize("case", APP_CASES, ids=lambda case: case.name)
def test_a_bad_upload_shows_its_message_and_the_next_upload_works(
    app: AppTest, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.upload_only:  # the case's small limit stands in for the 200 MB one
        monkeypatch.setattr(
            ui.cache, "load_bytes", functools.partial(load_bytes, max_bytes=case.max_bytes)
        )

    check(upload(app, case.file_name, case.data))

    assert not app.exception
    errors = [e.value for e in app.error]
    shown = [e for e in errors if e.startswith(f"{case.file_name}: ")]
    assert len(shown) == 1, errors
    for phrase in case.message:
        assert phrase in shown[0], (phrase, shown[0])
    assert "Traceback" not in " ".join(errors)

    check(upload(app, "good.csv", good_csv(note=case.name)))
    assert not app.error
    assert sidebar_texts(app) == ["good.csv"]
    assert app.success[0].value.startswith("Mapped: 3 lines → 2 customers after cleaning")


def test_the_uploader_refuses_other_extensions(app: AppTest) -> None:
    """A browser greys out other files; a forged upload is refused by Streamlit itself, whose
    error details are redacted (``client.showErrorDetails = "none"``): no traceback leaks."""
    upload(app, "orders.json", b'{"customer": "A"}')
    assert len(app.exception) == 1
    assert "redacted" in app.exception[0].value
    assert not app.exception[0].stack_trace

    check(app.run())  # the session goes on: the next upload works
    check(upload(app, "good.csv", good_csv(note="after json")))
    assert sidebar_texts(app) == ["good.csv"]
    assert app.success[0].value.startswith("Mapped: 3 lines → 2 customers after cleaning")
