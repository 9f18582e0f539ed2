"""A team in real browsers: the app behind a real OpenID Connect provider running locally
(``oidc-provider-mock``), analysts and viewers, published runs that survive a restart.

The provider is a Flask app served on 127.0.0.1 in a thread of the test process; its authorize
page has one button per predefined user. The app reads ``[auth]`` and ``[roles]`` from a
secrets file of the test (``--secrets.files``), its runs from a DuckDB file of the test.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import UI_TIMEOUT, VIEWPORT, _free_port, serve_app

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

USERS = {  # subject → claims of the provider's predefined users
    "alice": {"email": "alice@example.com", "name": "Alice Analyst"},
    "carol": {"email": "carol@example.com", "name": "Carol Analyst"},
    "bob": {"email": "bob@example.com", "name": "Bob Viewer"},
}
ROLES = '[roles]\nanalyst = ["alice@example.com", "carol@example.com"]\nviewer = ["@example.com"]\n'


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The OpenID Connect provider on 127.0.0.1 (a free port); yield its base URL."""
    werkzeug = pytest.importorskip("werkzeug.serving")
    mock = pytest.importorskip("oidc_provider_mock")
    users = [mock.User(sub=sub, claims=claims) for sub, claims in USERS.items()]
    server = werkzeug.make_server("127.0.0.1", _free_port(), mock.app(user_claims=users))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


class TeamServer:
    """The app with login, on a fixed port (the provider redirects there), restartable."""

    def __init__(self, folder: Path, provider: str, data_dir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        secrets = folder / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "{self.url}/oauth2callback"\n'
            f'cookie_secret = "{"s" * 48}"\n'
            'client_id = "rfm-dashboard"\n'
            'client_secret = "test-secret"\n'
            f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n\n' + ROLES,
            encoding="utf-8",
        )
        self.env = {
            "RFM_DATA_DIR": str(data_dir),
            "RFM_BUNDLE_KEY_FILE": str(folder / "bundle.key"),
            "RFM_STORE": str(folder / "runs.duckdb"),
        }
        self.args = ("--secrets.files", str(secrets))
        self.log = folder / "server.log"
        self._server = None

    def start(self) -> None:
        self._server = serve_app(self.log, port=self.port, env=self.env, args=self.args)
        self._server.__enter__()

    def stop(self) -> None:
        if self._server is not None:
            self._server.__exit__(None, None, None)
            self._server = None


@pytest.fixture(scope="module")
def team(tmp_path_factory, provider: str, data_dir: Path) -> Iterator[TeamServer]:
    server = TeamServer(tmp_path_factory.mktemp("team"), provider, data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def browse(browser, team: TeamServer):
    """Return ``browse()``: a page of a fresh browser context (a person of their own)."""
    contexts = []

    def _browse():
        context = browser.new_context(accept_downloads=True, viewport=VIEWPORT)
        context.set_default_timeout(UI_TIMEOUT)
        contexts.append(context)
        return context.new_page()

    yield _browse
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest):
    """Return ``shot(page, name)``: with ``--screenshots DIR``, keep the page's screenshot as
    ``DIR/teams/name.png`` for the person checking by hand; without it, take none."""
    chosen = request.config.getoption("--screenshots")
    folder = Path(chosen) / "teams" if chosen else None

    def _shot(page, name: str) -> None:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{name}.png"), full_page=False)

    return _shot


def log_in(page, team: TeamServer, who: str, path: str = "") -> None:
    """Open the app, log in at the provider as ``who``, come back signed in."""
    page.goto(f"{team.url}/{path}")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name=who, exact=True).click()  # the provider's predefined user
    page.wait_for_url(re.compile(re.escape(team.url)))
    page.get_by_text(f"Signed in as {USERS[who]['name']}").wait_for()


def wait_title(page, title: str) -> None:
    page.get_by_role("heading", name=title, level=1).wait_for()


def test_logged_out_there_is_only_the_login_page(browse, team: TeamServer, shot) -> None:
    page = browse()
    page.goto(team.url)
    wait_title(page, "RFM segments")
    page.get_by_role("button", name="Log in").wait_for()
    shot(page, "login")
    page.goto(f"{team.url}/upload")
    wait_title(page, "RFM segments")
    assert page.get_by_text("Upload transactions").count() == 0
    assert page.locator('[data-testid="stFileUploader"]').count() == 0


def test_analyst_publishes_viewer_opens_by_link_and_runs_survive_a_restart(
    browse, team: TeamServer, shot
) -> None:
    analyst = browse()
    log_in(analyst, team, "alice")
    wait_title(analyst, "Upload transactions")
    analyst.get_by_text("Larger files: the server's data folder").wait_for()
    shot(analyst, "analyst_upload")
    analyst.goto(f"{team.url}/export")
    wait_title(analyst, "Export & score")
    analyst.get_by_role("textbox", name="Name of the run").fill("Demo segments")
    analyst.get_by_role("button", name="Publish", exact=True).click()
    analyst.get_by_text("Published. Anyone signed in can open it").wait_for()
    link = analyst.locator('[data-testid="stCode"]').first.inner_text().strip()
    run_id = link.rsplit("=", 1)[1]
    assert link == f"{team.url}/?run={run_id}"
    shot(analyst, "analyst_published")

    viewer = browse()
    log_in(viewer, team, "bob")
    wait_title(viewer, "Published runs")
    viewer.get_by_text(link).wait_for()  # the newest run is offered first, with its address
    shot(viewer, "viewer_runs")
    assert viewer.get_by_text("Larger files").count() == 0
    viewer.goto(link)
    wait_title(viewer, "Overview")
    viewer.get_by_text("Published run (read-only)").wait_for()
    viewer.goto(f"{team.url}/rfm?run={run_id}")
    wait_title(viewer, "Recency, Frequency, Monetary")
    viewer.get_by_text("Customers in range", exact=True).wait_for()
    assert viewer.get_by_text("Edit the segment rules").count() == 0
    shot(viewer, "viewer_rfm")
    # not even by URL: the page is not part of a viewer's app
    viewer.goto(f"{team.url}/upload")
    wait_title(viewer, "Published runs")  # a viewer's app has no such page: its first one
    shot(viewer, "viewer_upload_url")
    assert viewer.get_by_role("heading", name="Upload transactions").count() == 0
    assert viewer.locator('[data-testid="stFileUploader"]').count() == 0

    team.stop()
    team.start()
    later = browse()
    log_in(later, team, "bob")
    later.goto(link)
    wait_title(later, "Overview")
    later.get_by_text("Demo segments").first.wait_for()
    later.goto(f"{team.url}/segments?run={run_id}")
    wait_title(later, "Segments")
    later.get_by_role("heading", name="Profiles").wait_for()
    shot(later, "viewer_segments_after_restart")


def test_two_analysts_never_see_each_others_unpublished_work(browse, team: TeamServer) -> None:
    alice = browse()
    log_in(alice, team, "alice")
    wait_title(alice, "Upload transactions")
    secret = "alice_private_log.csv"
    log = (Path(__file__).resolve().parents[2] / "assets" / "demo_transactions.csv").read_bytes()
    alice.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        {"name": secret, "mimeType": "text/csv", "buffer": log}
    )
    alice.get_by_text(secret).first.wait_for()

    carol = browse()
    log_in(carol, team, "carol")
    wait_title(carol, "Upload transactions")
    carol.get_by_text("Demo: demo_transactions.csv").wait_for()
    assert carol.get_by_text(secret).count() == 0
    carol.goto(f"{team.url}/runs")
    wait_title(carol, "Published runs")
    assert carol.get_by_text(secret).count() == 0


def test_logout_ends_the_session(browse, team: TeamServer) -> None:
    page = browse()
    log_in(page, team, "bob")
    page.get_by_role("button", name="Log out").click()
    # the provider's end-session page, then back to the app, logged out
    end = page.get_by_role("button", name="End session")
    end.wait_for()
    end.click()
    page.goto(team.url)
    wait_title(page, "RFM segments")
    page.get_by_role("button", name="Log in").wait_for()
    assert page.get_by_text("Signed in as").count() == 0


def test_a_page_link_as_the_first_request_after_a_restart_still_asks_for_login(
    browse, team: TeamServer
) -> None:
    # Streamlit runs a page script without app.py until some session has run app.py: the
    # first visitor of a fresh server following a link must still meet the login
    team.stop()
    team.start()
    page = browse()
    page.goto(f"{team.url}/upload")
    wait_title(page, "RFM segments")
    page.get_by_role("button", name="Log in").wait_for()
    assert page.get_by_role("heading", name="Upload transactions").count() == 0
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
