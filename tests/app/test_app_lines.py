"""A data-folder file is cleaned once per session for every line-level page (ui/lines.py)."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from streamlit.testing.v1 import AppTest

import rfm_core.customers.trends as trends
import ui.lines
from rfm_core.customers.engine import connect, open_file
from rfm_core.customers.migration import cohort_retention
from rfm_core.customers.trends import activity_trend, kept_lines_on_engine
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.lines.cleaning import CleaningRules
from tests.app.apptest_support import check, metric, new_session

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    path = data / "shop.parquet"
    generate_transactions(300, random_state=21).transactions.to_parquet(path, index=False)
    monkeypatch.setenv("RFM_DATA_DIR", str(data))
    return path


@pytest.fixture
def cleanings(monkeypatch) -> list:
    """Every cleaning of the lines of a file (an expression that flags every line), as built."""
    built = []
    original = trends.flagged_lines

    def spy(*args, **kwargs):
        built.append(args[2] if len(args) > 2 else kwargs.get("rules"))
        return original(*args, **kwargs)

    monkeypatch.setattr(trends, "flagged_lines", spy)
    return built


@pytest.fixture
def cleaned(monkeypatch) -> list:
    """The lines cleaned once by :mod:`ui.lines`, in the order they were made."""
    made = []
    original = ui.lines.clean_lines_on_engine

    def spy(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ui.lines, "clean_lines_on_engine", spy)
    return made


def open_page(at: AppTest, page: str) -> AppTest:
    return check(at.switch_page(f"pages/{page}.py").run())


def opened(folder) -> AppTest:
    at = new_session()
    at.button(key="open_folder_file").click()
    return check(at.run())


def test_line_level_pages_clean_the_file_once(folder, cleanings) -> None:
    at = open_page(opened(folder), "overview")
    at = open_page(at, "cohorts")
    at = open_page(at, "clv")
    at = open_page(at, "overview")
    assert cleanings == [CleaningRules()]
    source, mapping = open_file(folder, backend=connect("duckdb"))
    kept = kept_lines_on_engine(source, mapping)
    backend = source._find_backend()
    at = open_page(at, "overview")
    assert metric(at, "Orders") == f"{activity_trend(kept, backend=backend)['orders'].sum():,}"
    at = open_page(at, "cohorts")
    cohorts = cohort_retention(kept, backend=backend)
    assert metric(at, "Customers") == f"{cohorts.sizes.sum():,}"


def test_other_rules_clean_again_and_at_most_two_cleanings_stay_open(folder, cleaned) -> None:
    at = open_page(opened(folder), "cohorts")
    for cap in (50.0, 20.0):
        at.session_state["rules"] = asdict(CleaningRules(max_quantity=cap))
        at = check(at.run())
    assert [lines.kept.count().execute() > 0 for lines in cleaned[1:]] == [True, True]
    assert len(cleaned) == 3
    first = cleaned[0]
    with pytest.raises(Exception):  # noqa: B017 - its connection is closed, whatever DuckDB says
        first.kept.count().execute()
    at.session_state["rules"] = asdict(CleaningRules(max_quantity=50.0))
    check(at.run())
    assert len(cleaned) == 3  # still cached
