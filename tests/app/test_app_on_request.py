"""The heavy optional analyses start on request, with a progress bar, and are cached per session;
the segments are fitted in the background once the customers are known (ui.prefetch)."""

from __future__ import annotations

import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.apptest_support import check, generated_csv, upload
from ui import cache


@pytest.fixture(scope="module")
def log_csv() -> bytes:
    return generated_csv(600, seed=5)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Count the calls that reach the core's heavy functions, with what they heard.

    Every AppTest session has the same id, so a session cache outlives its test: cleared here,
    so that each test counts its own computations.
    """
    st.cache_resource.clear()
    seen: dict[str, list] = {"agreement": [], "tsne": [], "classifier": [], "select_k": []}

    def spy(name: str, function):
        def called(*args, progress=None, **kwargs):
            heard: list = []
            seen[name].append(heard)
            if progress is not None:
                kwargs["progress"] = lambda done, text: (heard.append(done), progress(done, text))
            return function(*args, **kwargs)

        return called

    monkeypatch.setattr(cache, "detector_agreement", spy("agreement", cache.detector_agreement))
    monkeypatch.setattr(cache, "tsne_projection", spy("tsne", cache.tsne_projection))
    monkeypatch.setattr(cache, "train_classifier", spy("classifier", cache.train_classifier))
    monkeypatch.setattr(cache, "choose_k", spy("select_k", cache.choose_k))
    return seen


def open_page(at: AppTest, page: str) -> AppTest:
    at = check(at.switch_page(f"pages/{page}.py").run())
    if page == "projections":  # t-SNE has a tab of its own; only the open tab runs
        at.session_state["projection_tab"] = "t-SNE"
        at = check(at.run())
    return at


def test_nothing_heavy_runs_until_asked(app: AppTest, log_csv: bytes, calls) -> None:
    at = open_page(check(upload(app, "log.csv", log_csv)), "anomalies")
    assert {"ask_agreement", "ask_classifier"} <= {b.key for b in at.button}
    at = open_page(at, "projections")
    assert "ask_tsne" in {b.key for b in at.button}
    assert calls["agreement"] == calls["tsne"] == calls["classifier"] == []


@pytest.mark.parametrize(
    ("page", "name", "chart_or_table"),
    [
        ("anomalies", "agreement", "agreement_heatmap"),
        ("anomalies", "classifier", None),
        ("projections", "tsne", "tsne"),
    ],
)
def test_asked_once_runs_once_with_progress(
    app: AppTest, log_csv: bytes, calls, page: str, name: str, chart_or_table: str | None
) -> None:
    at = open_page(check(upload(app, "log.csv", log_csv)), page)
    at.button(key=f"ask_{name}").click().run()
    check(at)
    assert len(calls[name]) == 1
    assert f"ask_{name}" not in [b.key for b in at.button]  # the result in its place
    heard = calls[name][0]
    assert heard[0] == 0.0 and heard[-1] == 1.0 and heard == sorted(heard)  # a bar that fills
    if chart_or_table:
        assert chart_or_table in [c.key for c in at.get("plotly_chart")]
    else:
        assert [d for d in at.dataframe if "f1" in d.value.columns]
    # away and back: drawn from the session's cache, not computed again, no button
    at = open_page(open_page(at, "rfm"), page)
    assert len(calls[name]) == 1
    assert f"ask_{name}" not in [b.key for b in at.button]


def test_the_tsne_sample_size_asks_again(app: AppTest, log_csv: bytes, calls) -> None:
    at = open_page(check(upload(app, "log.csv", log_csv)), "projections")
    at.button(key="ask_tsne").click().run()
    at.number_input(key="tsne_size").set_value(1000).run()
    assert "tsne" not in [c.key for c in check(at).get("plotly_chart")]
    at.button(key="ask_tsne").click().run()
    assert "tsne" in [c.key for c in check(at).get("plotly_chart")]
    assert len(calls["tsne"]) == 2


def test_the_segments_are_fitted_in_the_background(
    app: AppTest, log_csv: bytes, calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a page has the customers, a thread of the session fits the segments of its
    settings: the Model selection page then finds the sweep done and does not sweep again."""
    monkeypatch.setenv("RFM_PREFETCH", "1")
    at = check(upload(app, "log.csv", log_csv))
    at = open_page(at, "rfm")  # computes the customers; the thread starts after the page
    deadline = time.monotonic() + 60
    while not calls["select_k"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(calls["select_k"]) == 1  # the background sweep
    at = open_page(at, "model_selection")  # waits for it if still running
    assert len(calls["select_k"]) == 1
    assert any("Recommended" in s.value for s in at.success)


def test_no_background_fit_when_switched_off(app: AppTest, log_csv: bytes, calls) -> None:
    at = open_page(check(upload(app, "log.csv", log_csv)), "rfm")
    time.sleep(0.5)
    assert calls["select_k"] == []
    open_page(at, "model_selection")
    assert len(calls["select_k"]) == 1
