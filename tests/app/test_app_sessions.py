"""Sessions do not share datasets: two AppTest sessions uploading different files."""

from __future__ import annotations

import itertools

import pytest
from streamlit.runtime.scriptrunner import script_runner

from rfm_core.lines.cleaning import CleaningRules
from tests.app.apptest_support import (
    DEMO,
    RULES_SUBMIT,
    check,
    core,
    generated_csv,
    metric,
    new_session,
    sidebar_texts,
    submit,
    upload,
)


@pytest.fixture
def own_session_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give every AppTest its own session id, as a server gives every browser tab.

    AppTest runs every instance as ``"test session id"``, so caches with ``scope="session"``
    (where the app keeps uploaded bytes and results) would be shared between instances and the
    isolation under test would be assumed rather than checked.
    """
    original = script_runner.ScriptRunner.__init__
    numbers = itertools.count(1)
    ids: dict[int, tuple[object, str]] = {}  # id(session state) -> (state kept alive, session id)

    def init(self: script_runner.ScriptRunner, *args: object, **kwargs: object) -> None:
        state = kwargs["session_state"]
        kwargs["session_id"] = ids.setdefault(id(state), (state, f"apptest-{next(numbers)}"))[1]
        original(self, *args, **kwargs)

    monkeypatch.setattr(script_runner.ScriptRunner, "__init__", init)


@pytest.mark.usefixtures("own_session_ids")
def test_two_sessions_keep_their_own_dataset_and_rules() -> None:
    data_a, data_b = generated_csv(250, seed=21), generated_csv(200, seed=22)
    result_a, result_b = core(data_a, "a.csv"), core(data_b, "b.csv")
    assert result_a.rfm.n_customers != result_b.rfm.n_customers

    a, b = new_session(), new_session()
    check(upload(a, "a.csv", data_a))
    check(upload(b, "b.csv", data_b))
    check(a.run())

    assert sidebar_texts(a) == ["a.csv"]
    assert sidebar_texts(b) == ["b.csv"]
    assert a.subheader[0].value.startswith("a.csv: ")
    assert b.subheader[0].value.startswith("b.csv: ")

    # rules chosen in one session leave the other alone
    check(a.switch_page("pages/cleaning.py").run())
    a.checkbox(key="rule_duplicates").uncheck()
    check(submit(a, RULES_SUBMIT))
    result_a = core(data_a, "a.csv", rules=CleaningRules(drop_duplicates=False))
    assert metric(a, "Rows kept") == f"{result_a.cleaning.n_kept:,}"
    check(b.switch_page("pages/cleaning.py").run())
    assert b.checkbox(key="rule_duplicates").value is True
    assert metric(b, "Rows kept") == f"{result_b.cleaning.n_kept:,}"

    for at, result in ((b, result_b), (a, result_a)):
        check(at.switch_page("pages/rfm.py").run())
        assert metric(at, "Customers") == f"{result.rfm.n_customers:,}"
        assert metric(at, "Reference date") == result.rfm.reference_date.isoformat()

    # a session opened meanwhile still starts on the demo
    c = new_session()
    assert sidebar_texts(c) == [f"Demo: {DEMO.name}"]
    assert sidebar_texts(check(a.run())) == ["a.csv"]
