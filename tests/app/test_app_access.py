"""Login and roles: local mode without [auth]; with it, only the login page until signed in, and a
viewer never reaches the Upload page or the data folder, by navigation, page switch or state."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.ingest.synthetic import generate_transactions
from tests.app.apptest_support import APP, TIMEOUT, check
from ui.access import role_for
from ui.state import Dataset

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "c" * 32,
    "client_id": "rfm-dashboard",
    "client_secret": "not-used-here",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ROLES = {"analyst": ["alice@example.com", "group:rfm-analysts"], "viewer": ["@example.com"]}
ANALYST_ONLY = ("pages/upload.py", "pages/cleaning.py", "pages/model_selection.py")


def session(user: dict | None = None) -> AppTest:
    """A session of the app with [auth] and [roles] configured, as ``user``."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.secrets["roles"] = ROLES
    at.user = user if user is not None else {}
    return check(at.run())


def signed_in(email: str, **claims) -> dict:
    return {"is_logged_in": True, "email": email, "name": email.split("@")[0], **claims}


def pages_of(at: AppTest) -> set[str]:
    """The script paths the navigation of the last run registered."""
    return {info["script_path"].split("/pages/")[-1] for info in at._registered_pages.values()}


def test_without_auth_the_app_is_local_and_says_so() -> None:
    at = check(AppTest.from_file(str(APP), default_timeout=TIMEOUT).run())
    assert at.title[0].value == "Upload transactions"
    assert any("Local mode: no login is configured" in c.value for c in at.sidebar.caption)
    assert "login" not in [b.key for b in at.button]
    assert "upload.py" in pages_of(at)


def test_before_login_there_is_only_the_login_page() -> None:
    at = session()
    assert [t.value for t in at.title] == ["RFM segments"]
    assert [b.key for b in at.button] == ["login"]
    assert pages_of(at) == {"login.py"}
    assert not at.sidebar.text  # no dataset is named
    for path in ANALYST_ONLY:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(path)


def test_a_viewer_sees_published_runs_only_and_never_the_upload_page(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RFM_STORE", str(tmp_path / "runs.duckdb"))
    at = session(signed_in("bob@example.com"))
    assert at.title[0].value == "Published runs"
    assert pages_of(at) == {"runs.py", "history.py"}
    assert any("Signed in as bob" in c.value and "viewer" in c.value for c in at.sidebar.caption)
    for path in ANALYST_ONLY:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(path)
    # a dataset of the data folder pushed into the session state is never shown
    at.session_state["dataset"] = Dataset("folder:x", "served.parquet", in_folder=True)
    check(at.run())
    assert pages_of(at) == {"runs.py", "history.py"}
    assert not at.get("file_uploader") and not at.sidebar.text


def test_an_analyst_reaches_every_page() -> None:
    at = session(signed_in("alice@example.com"))
    assert at.title[0].value == "Upload transactions"
    assert {"upload.py", "cleaning.py", "model_selection.py", "runs.py"} <= pages_of(at)
    assert [b.key for b in at.sidebar.button] == ["logout"]
    grouped = session(signed_in("carol@partner.org", groups=["RFM-Analysts"]))
    assert "upload.py" in pages_of(grouped)


def test_someone_without_a_role_is_told_so() -> None:
    at = session(signed_in("mallory@elsewhere.org"))
    assert "which has no role in this dashboard" in at.warning[0].value
    assert pages_of(at) == {"login.py"}


def folder_script() -> None:
    """A page that lists the data folder and tries to open its file."""
    import streamlit as st

    from ui.components import open_folder_file
    from ui.data import served_files

    files = served_files()
    st.write(f"listed {len(files)}")
    from rfm_core.ingest.folder import list_folder
    from ui.state import data_folder

    open_folder_file(list_folder(data_folder())[0])
    st.write("opened")


@pytest.mark.parametrize(("email", "listed", "opened"), [
    ("bob@example.com", 0, False), ("alice@example.com", 1, True),
])  # fmt: skip
def test_only_an_analyst_lists_or_opens_the_data_folder(
    tmp_path, monkeypatch, email: str, listed: int, opened: bool
) -> None:
    monkeypatch.setenv("RFM_DATA_DIR", str(tmp_path))
    generate_transactions(60, random_state=2).transactions.to_parquet(tmp_path / "s.parquet")
    at = AppTest.from_function(folder_script, default_timeout=TIMEOUT)
    at.secrets["auth"], at.secrets["roles"] = AUTH, ROLES
    at.user = signed_in(email)
    check(at.run())
    texts = [m.value for m in at.markdown]
    assert f"listed {listed}" in texts
    assert ("opened" in texts) is opened
    assert bool(at.error) is not opened
    if not opened:
        assert at.error[0].value == "Only analysts can do this."


def test_roles_by_email_domain_group_and_star() -> None:
    assert role_for("Alice@Example.com", [], ROLES) == "analyst"
    assert role_for("bob@example.com", [], ROLES) == "viewer"
    assert role_for("eve@example.org", [], ROLES) is None
    assert role_for("eve@example.org", ["rfm-analysts"], ROLES) == "analyst"
    assert role_for("eve@example.org", "rfm-analysts", ROLES) == "analyst"
    assert role_for("", [], {"viewer": "*"}) == "viewer"
    assert role_for("x@bad-example.com", [], {"viewer": ["@example.com"]}) is None
