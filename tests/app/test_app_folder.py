"""A file of the server's data folder: listed on Upload, processed on DuckDB, explored as usual."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from rfm_core.customers.engine import connect, rfm_on_engine, scan_file
from rfm_core.ingest.synthetic import generate_transactions
from tests.app.apptest_support import check, frame_with, metric, new_session, sidebar_texts


@pytest.fixture
def folder(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    log = generate_transactions(400, random_state=21).transactions
    log.to_parquet(data / "shop.parquet", index=False)
    monkeypatch.setenv("RFM_DATA_DIR", str(data))
    return data


@pytest.fixture
def opened(folder) -> AppTest:
    at = new_session()
    assert at.selectbox(key="folder_file").value == "shop.parquet"
    at.button(key="open_folder_file").click()
    return check(at.run())


def expected(folder):
    return rfm_on_engine(
        scan_file(folder / "shop.parquet", backend=connect("duckdb")), name="shop.parquet"
    )


def test_folder_file_is_opened_and_mapped(opened, folder):
    run = expected(folder)
    assert sidebar_texts(opened) == ["shop.parquet"]
    assert any(
        f"Mapped: {run.n_in:,} lines → {run.rfm.n_customers:,} customers" in s.value
        for s in opened.success
    )


def test_cleaning_page_counts_without_the_lines(opened, folder):
    run = expected(folder)
    at = check(opened.switch_page("pages/cleaning.py").run())
    assert metric(at, "Rows read") == f"{run.n_in:,}"
    assert metric(at, "Rows kept") == f"{run.n_kept:,}"
    report = frame_with(at, "reason", "rows")
    acted = run.report.query("rows > 0 or customers > 0")  # the page lists no other reasons
    assert report["rows"].tolist() == acted["rows"].tolist()
    assert any("stay on the server" in i.value for i in at.info)
    at.multiselect(key="rule_countries").set_value(["France"])
    at.button(key="FormSubmitter:rules_form-Apply rules").click()
    at = check(at.run())
    before = run.rfm.n_customers
    assert int(metric(at, "Customers").replace(",", "")) < before


def test_segments_drill_down_reads_the_customer_from_duckdb(opened, folder):
    run = expected(folder)
    at = check(opened.switch_page("pages/segments.py").run())
    customer = run.rfm.table["frequency"].idxmax()
    at.text_input(key="drill_customer").set_value(customer).run()
    orders = frame_with(check(at), "order", "lines", "amount")
    assert len(orders) == run.rfm.table.loc[customer, "frequency"]
    assert pd.Series(orders["amount"]).sum() == pytest.approx(
        run.rfm.table.loc[customer, "monetary"], abs=0.01
    )
