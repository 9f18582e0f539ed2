"""The Cleaning page, driven headlessly with AppTest and checked against the core."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.customers.pipeline import RfmPipelineResult
from rfm_core.lines.cleaning import CleaningRules
from tests.app.apptest_support import (
    RULES_SUBMIT,
    check,
    core,
    frame_with,
    generated_csv,
    metric,
    submit,
    upload,
)

SPRING = (dt.date(2023, 3, 1), dt.date(2023, 6, 30))


def count(text: str) -> int:
    return int(text.replace(",", ""))


def shown_counts(at: AppTest) -> tuple[int, int, int]:
    """Rows read, rows kept and customers as the page shows them."""
    return tuple(count(metric(at, label)) for label in ("Rows read", "Rows kept", "Customers"))


def shown_report(at: AppTest) -> dict[str, int]:
    report = frame_with(at, "reason", "rows")
    return dict(zip(report["reason"], report["rows"].astype(int), strict=True))


def core_report(result: RfmPipelineResult) -> dict[str, int]:
    report = result.cleaning.report
    return dict(zip(report["reason"], report["rows"].astype(int), strict=True))


def core_counts(result: RfmPipelineResult) -> tuple[int, int, int]:
    return result.cleaning.n_in, result.cleaning.n_kept, result.rfm.n_customers


@pytest.fixture
def cleaning(on_generated: AppTest) -> AppTest:
    """The Cleaning page of a session in which the generated log was uploaded."""
    return check(on_generated.switch_page("pages/cleaning.py").run())


def test_the_report_accounts_for_every_row(
    cleaning: AppTest, gen_result: RfmPipelineResult
) -> None:
    rows_read, rows_kept, customers = shown_counts(cleaning)
    report = frame_with(cleaning, "reason", "rows", "share")

    assert rows_read == rows_kept + int(report["rows"].sum())
    assert (rows_read, rows_kept, customers) == core_counts(gen_result)
    assert shown_report(cleaning) == core_report(gen_result)
    np.testing.assert_allclose(report["share"], gen_result.cleaning.report["share"] * 100)
    # the generated log carries every kind of mess; each is counted under its own reason
    removed = shown_report(cleaning)
    for reason in ("missing_customer_id", "duplicate_row", "cancellation", "non_positive_price"):
        assert removed[reason] > 0, reason


def _keep_duplicates(at: AppTest) -> None:
    at.checkbox(key="rule_duplicates").uncheck()


def _z_limit(at: AppTest) -> None:
    at.number_input(key="rule_max_z").set_value(3.0)


def _spring_window(at: AppTest) -> None:
    at.checkbox(key="rule_use_window").check()
    at.date_input(key="rule_window").set_value(SPRING)


def _net_returns(at: AppTest) -> None:
    at.radio(key="rule_returns").set_value("net")


def _quantity_cap(at: AppTest) -> None:
    at.number_input(key="rule_max_quantity").set_value(40.0)


@pytest.mark.parametrize(
    ("change", "rules"),
    [
        (_keep_duplicates, CleaningRules(drop_duplicates=False)),
        (_z_limit, CleaningRules(max_zscore=3.0)),
        (_spring_window, CleaningRules(date_from=SPRING[0], date_to=SPRING[1])),
        (_net_returns, CleaningRules(returns="net")),
        (_quantity_cap, CleaningRules(max_quantity=40.0)),
    ],
    ids=["no-duplicate-rule", "z-score-limit", "date-window", "net-returns", "quantity-cap"],
)
def test_a_rule_changes_the_kept_lines_as_the_core_predicts(
    cleaning: AppTest,
    gen_csv: bytes,
    gen_result: RfmPipelineResult,
    change: Callable[[AppTest], None],
    rules: CleaningRules,
) -> None:
    expected = core(gen_csv, "generated.csv", rules=rules)
    assert expected.cleaning.n_kept != gen_result.cleaning.n_kept  # the rule matters here

    change(cleaning)
    check(submit(cleaning, RULES_SUBMIT))

    assert not cleaning.error
    assert shown_counts(cleaning) == core_counts(expected)
    assert shown_report(cleaning) == core_report(expected)
    rows_read, rows_kept, _ = shown_counts(cleaning)
    assert rows_read == rows_kept + sum(shown_report(cleaning).values())

    # the rules hold on the RFM page too
    check(cleaning.switch_page("pages/rfm.py").run())
    assert metric(cleaning, "Customers") == f"{expected.rfm.n_customers:,}"
    assert metric(cleaning, "Reference date") == expected.rfm.reference_date.isoformat()


def test_the_form_shows_the_rules_applied(cleaning: AppTest) -> None:
    cleaning.checkbox(key="rule_duplicates").uncheck()
    cleaning.number_input(key="rule_max_z").set_value(2.5)
    check(submit(cleaning, RULES_SUBMIT))
    check(cleaning.switch_page("pages/upload.py").run())
    check(cleaning.switch_page("pages/cleaning.py").run())

    assert cleaning.checkbox(key="rule_duplicates").value is False
    assert cleaning.number_input(key="rule_max_z").value == 2.5


def test_rules_reset_when_another_file_is_opened(cleaning: AppTest) -> None:
    cleaning.number_input(key="rule_max_z").set_value(3.0)
    check(submit(cleaning, RULES_SUBMIT))
    other = generated_csv(200, seed=5)

    check(cleaning.switch_page("pages/upload.py").run())
    check(upload(cleaning, "other.csv", other))
    check(cleaning.switch_page("pages/cleaning.py").run())

    assert cleaning.number_input(key="rule_max_z").value == 0.0
    assert shown_counts(cleaning) == core_counts(core(other, "other.csv"))


def test_the_cleaned_lines_can_be_downloaded(cleaning: AppTest) -> None:
    button = cleaning.download_button(key="download_cleaned")
    assert button.label == "Download cleaned lines (CSV)"
    assert not button.disabled
