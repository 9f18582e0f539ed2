"""Published runs in the app: an analyst publishes from the Export page; a link (``?run=<id>``)
opens the run read-only on every customer page, for a viewer too, without the file and without
refitting; the Segment history page compares runs of one model."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.outputs.persistence import installation_key
from rfm_core.outputs.runs import open_run
from rfm_core.outputs.store import RunRecord, RunStore
from tests.app.apptest_support import APP, TIMEOUT, check, generated_csv, metric, upload
from tests.app.test_app_access import AUTH, ROLES, signed_in

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


@pytest.fixture(autouse=True)
def _store_and_key(tmp_path, tmp_path_factory, monkeypatch) -> None:
    """A store per test; one key for the module (the app caches what it signed, as a server
    whose key never changes would)."""
    monkeypatch.delenv("RFM_BUNDLE_KEY", raising=False)
    key = tmp_path_factory.getbasetemp() / "runs-key" / "bundle.key"
    monkeypatch.setenv("RFM_BUNDLE_KEY_FILE", str(key))
    monkeypatch.setenv("RFM_STORE", str(tmp_path / "runs.duckdb"))


@pytest.fixture(scope="module")
def shop_csv() -> bytes:
    return generated_csv(250, seed=17)


def publish(at: AppTest, name: str) -> str:
    """Publish the session's work from the Export page; return the new run's id."""
    check(at.switch_page("pages/export.py").run())
    at.text_input(key="publish_name").set_value(name)
    at.button(key="FormSubmitter:publish_form-Publish").click()
    check(at.run())
    assert at.success, [e.value for e in at.error]
    return at.session_state["last_published"]


def viewer_on(run_id: str) -> AppTest:
    """A viewer's new session opened on the link of a run."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.secrets["auth"], at.secrets["roles"] = AUTH, ROLES
    at.user = signed_in("bob@example.com")
    at.query_params["run"] = run_id
    return check(at.run())


def test_a_published_run_opens_read_only_by_link(shop_csv: bytes, tmp_path) -> None:
    analyst = check(AppTest.from_file(str(APP), default_timeout=TIMEOUT).run())
    check(upload(analyst, "shop.csv", shop_csv))
    run_id = publish(analyst, "June segments")
    assert f"?run={run_id}" in analyst.code[0].value

    stored = RunStore(tmp_path / "runs.duckdb").load(run_id)
    run = open_run(stored, key=installation_key())
    assert stored.name == "June segments" and stored.source_name == "shop.csv"
    assert stored.author  # local mode: the server's user

    at = viewer_on(run_id)
    assert at.query_params["run"] == run_id  # the address stays shareable
    assert at.title[0].value == "Overview"
    assert metric(at, "Customers") == f"{run.rfm.n_customers:,}"
    assert "June segments" in [t.value for t in at.sidebar.text]
    assert "leave_run" not in [b.key for b in at.sidebar.button]  # a viewer has no data of own

    check(at.switch_page("pages/rfm.py").run())
    assert metric(at, "Customers") == f"{run.rfm.n_customers:,}"
    assert at.slider(key="slider_r").value == (0, int(run.rfm.table["recency"].max()))
    assert not [e for e in at.expander if e.label == "Edit the segment rules"]

    check(at.switch_page("pages/segments.py").run())
    buttons = [b.key for b in at.button]
    assert "FormSubmitter:names_form-Save names" not in buttons
    assert "FormSubmitter:actions_form-Save actions" not in buttons
    profile = [d.value for d in at.dataframe if "share_revenue" in d.value.columns]
    assert len(profile) == 1 and len(profile[0]) == run.segmentation.n_clusters

    check(at.switch_page("pages/anomalies.py").run())
    assert metric(at, "Customers flagged") == f"{run.anomalies.n_flagged:,}"
    assert "anomaly_method" not in {s.key for s in at.selectbox}

    check(at.switch_page("pages/projections.py").run())
    check(at.switch_page("pages/export.py").run())
    assert at.download_button(key="download_bundle")
    assert "publish_name" not in {t.key for t in at.text_input}
    assert not at.get("file_uploader")  # no scoring in a run

    for path in ("pages/upload.py", "pages/cleaning.py", "pages/movement.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(path)


def test_a_viewer_opens_a_run_from_the_list(shop_csv: bytes) -> None:
    analyst = check(AppTest.from_file(str(APP), default_timeout=TIMEOUT).run())
    check(upload(analyst, "shop.csv", shop_csv))
    run_id = publish(analyst, "for bob")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.secrets["auth"], at.secrets["roles"] = AUTH, ROLES
    at.user = signed_in("bob@example.com")
    check(at.run())
    assert at.title[0].value == "Published runs"
    assert at.selectbox(key="run_pick").value == run_id
    at.button(key="open_run").click()
    check(at.run())
    assert at.title[0].value == "Overview"
    assert at.query_params["run"] == run_id
    assert "for bob" in [t.value for t in at.sidebar.text]


def test_an_analyst_looks_at_a_run_then_goes_back_to_their_data(shop_csv: bytes) -> None:
    at = check(AppTest.from_file(str(APP), default_timeout=TIMEOUT).run())
    check(upload(at, "shop.csv", shop_csv))
    run_id = publish(at, "first")
    check(at.switch_page("pages/runs.py").run())
    assert at.selectbox(key="run_pick").value == run_id
    at.button(key="open_run").click()
    check(at.run())
    assert at.title[0].value == "Overview"
    assert "first" in [t.value for t in at.sidebar.text]
    at.sidebar.button(key="leave_run").click()
    check(at.run())
    assert "run" not in at.query_params
    assert at.sidebar.text[0].value == "shop.csv"  # the session's own file is still there


def test_an_unknown_link_says_so_and_opens_nothing() -> None:
    at = viewer_on("0123456789ab")
    assert "no published run has the id '0123456789ab'" in at.error[0].value
    assert at.title[0].value == "Published runs"
    assert "run" not in at.query_params


def test_the_history_page_lists_who_moved(shop_csv: bytes, tmp_path) -> None:
    at = check(AppTest.from_file(str(APP), default_timeout=TIMEOUT).run())
    check(upload(at, "shop.csv", shop_csv))
    first = publish(at, "week 1")
    # the same model again, published later: as a scheduled score of the same file would be
    store = RunStore(str(tmp_path / "runs.duckdb"))
    stored = store.load(first)
    segments = pd.DataFrame(
        {
            "customer_id": stored.tables["customers"].index.astype("string"),
            "segment": "At Risk",
            "cluster": 1,
            "rfm_segment": "At Risk",
            "anomaly": False,
        }
    )
    record = RunRecord(
        "week 2",
        "cron",
        "score",
        "shop.csv",
        "",
        stored.bundle,
        stored.facts,
        stored.tables,
        segments,
    )
    second = store.publish(record)
    view = viewer_on(second)
    check(view.switch_page("pages/history.py").run())
    assert view.selectbox(key="history_run").value == second
    changes = store.changes(second)
    moved = int((changes.table["change"] == "moved").sum())
    assert metric(view, "Moved") == f"{moved:,}"
    was_at_risk = int((store.segment_history(first)["segment"] == "At Risk").sum())
    assert moved == len(segments) - was_at_risk > 0
    view.multiselect(key="history_targets").set_value(["At Risk"])
    check(view.run())
    assert metric(view, "Moved") == f"{moved:,}"
    view.text_input(key="history_customer").set_value(segments["customer_id"].iloc[0])
    check(view.run())
    path = next(d.value for d in view.dataframe if "published_at" in d.value.columns)
    assert list(path["name"]) == ["week 1", "week 2"]


def test_a_run_shows_amounts_in_the_publishers_currency_unless_the_viewer_chose_one(
    shop_csv: bytes,
) -> None:
    analyst = check(AppTest.from_file(str(APP), default_timeout=TIMEOUT).run())
    check(upload(analyst, "shop.csv", shop_csv))
    analyst.text_input(key="currency").set_value("£")
    run_id = publish(analyst, "In pounds")

    at = viewer_on(run_id)
    assert at.text_input(key="currency").value == "£"
    assert metric(at, "Revenue").startswith("£")

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.secrets["auth"], at.secrets["roles"] = AUTH, ROLES
    at.user = signed_in("bob@example.com")
    at.session_state["currency"] = "CHF"  # typed before the link was followed
    at.query_params["run"] = run_id
    check(at.run())
    assert at.text_input(key="currency").value == "CHF"
