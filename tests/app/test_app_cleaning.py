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
    """The core's rows per reason, for the reasons that removed rows or lost customers (the
    page lists no others)."""
    report = result.cleaning.report
    report = report[(report["rows"] > 0) | (report["customers"] > 0)]
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
    acted = gen_result.cleaning.report.query("rows > 0 or customers > 0")
    np.testing.assert_allclose(report["share"], acted["share"] * 100)
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


# -- issue 17: what the page says about a real log ----------------------------------------------


@pytest.fixture(scope="module")
def cdnow_csv() -> bytes:
    """A CDNOW-shaped log: no invoice column, most customers buy once, zero-value orders."""
    from rfm_core.ingest.synthetic import generate_cdnow_like

    return generate_cdnow_like(600, random_state=3).to_csv(index=False).encode("utf-8")


@pytest.fixture
def cdnow_cleaning(app: AppTest, cdnow_csv: bytes) -> AppTest:
    check(upload(app, "cdnow.csv", cdnow_csv))
    return check(app.switch_page("pages/cleaning.py").run())


def test_customers_lost_are_reported_by_reason(cdnow_cleaning: AppTest, cdnow_csv: bytes):
    expected = core(cdnow_csv, "cdnow.csv")
    report = frame_with(cdnow_cleaning, "reason", "rows", "customers")
    lost = dict(zip(report["reason"], report["customers"].astype(int), strict=True))
    assert lost["non_positive_price"] > 0
    core_lost = expected.cleaning.report.set_index("reason")["customers"]
    assert lost == {r: int(core_lost[r]) for r in lost}
    assert count(metric(cdnow_cleaning, "Customers lost")) == int(core_lost.sum())
    assert count(metric(cdnow_cleaning, "Customers")) + int(core_lost.sum()) == 600


def test_only_reasons_that_acted_are_listed(cdnow_cleaning: AppTest) -> None:
    report = frame_with(cdnow_cleaning, "reason", "rows", "customers")
    assert ((report["rows"] > 0) | (report["customers"] > 0)).all()
    assert set(report["reason"]) == {"duplicate_row", "non_positive_price"}


def test_rows_removed_is_a_plain_count(cdnow_cleaning: AppTest, cdnow_csv: bytes) -> None:
    expected = core(cdnow_csv, "cdnow.csv").cleaning
    assert count(metric(cdnow_cleaning, "Rows removed")) == expected.n_in - expected.n_kept
    kept = next(m for m in cdnow_cleaning.metric if m.label == "Rows kept")
    assert not kept.delta  # no "↓ -2,185" beside the rows kept


def test_without_invoices_the_duplicate_switch_says_what_it_removes(
    cdnow_cleaning: AppTest, cdnow_csv: bytes
) -> None:
    removed = int(core(cdnow_csv, "cdnow.csv").cleaning.report.set_index("reason").loc[
        "duplicate_row", "rows"
    ])  # fmt: skip
    assert removed > 0
    notes = [w.value for w in cdnow_cleaning.warning if "repeat orders" in w.value]
    assert len(notes) == 1 and f"the {removed:,} rows removed as exact duplicates" in notes[0]
    cdnow_cleaning.checkbox(key="rule_duplicates").uncheck()
    check(submit(cdnow_cleaning, RULES_SUBMIT))
    assert not [w for w in cdnow_cleaning.warning if "repeat orders" in w.value]


def test_an_invoice_column_needs_no_duplicate_note(cleaning: AppTest) -> None:
    assert not [w for w in cleaning.warning if "repeat orders" in w.value]


def test_the_date_window_defaults_to_the_span_of_the_data(
    cleaning: AppTest, gen_result: RfmPipelineResult
) -> None:
    stamps = gen_result.transactions.table.column("timestamp")
    first = min(v for v in stamps.to_pylist() if v is not None).date()
    last = max(v for v in stamps.to_pylist() if v is not None).date()
    assert cleaning.date_input(key="rule_window").value == (first, last)


def test_caps_show_no_decimals_when_none_are_set(cleaning: AppTest) -> None:
    for key in ("rule_max_quantity", "rule_max_amount"):
        widget = cleaning.number_input(key=key)
        assert widget.value == 0.0
        assert widget.proto.format == "%g"  # "0", not "0.00"
