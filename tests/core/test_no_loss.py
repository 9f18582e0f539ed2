"""Nothing is lost: every row is accounted for, every customer reaches every export exactly once.

Random messy logs (hypothesis): random customers with leading zeros and formula-like ids, exact
duplicate rows, cancellations and returns, missing ids, unreadable dates, several countries;
returns dropped or netted; an optional country filter. Then

- every input row is kept or counted under exactly one reason (``n_in = n_kept + Σ removed``), and
  the counts of four reasons equal an independent pandas count;
- every customer with a kept purchase appears exactly once in the RFM CSV, the labeled CSV, the
  per-segment zip, the workbook's Customers sheet and the output of a saved model's scoring;
- the same input and seed give byte-identical labeled CSVs;
- the labeled CSV read back equals the labeled table it was written from.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rfm_core.customers.pipeline import RfmPipelineResult, run_rfm
from rfm_core.ingest.io import load_bytes
from rfm_core.labels import column_label
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.outputs.export import FORMULA_PREFIXES, cleaning_report_dict, labeled_csv, rfm_csv
from rfm_core.outputs.persistence import build_bundle, score_transactions
from rfm_core.outputs.reports import excel_workbook, run_report, segment_csv_zip
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    find_anomalies,
    labeled_customers,
    segment_customers,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*distinct score:UserWarning", "ignore:.*returned more than:UserWarning"
)

START = dt.datetime(2023, 1, 2, 9, 30)
BAD_DATES = ("31/02/2023x", "not a date", "2023-13-45")
COUNTRIES = ("United Kingdom", "France", "Germany")
COLUMNS = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
           "Country"]  # fmt: skip
SEGMENTS = SegmentationSettings(n_clusters=3, k_min=2, k_max=4)
FLAGS = AnomalySettings(contamination=0.1)


@st.composite
def messy_logs(draw) -> tuple[pd.DataFrame, CleaningRules]:
    """A random log (as text cells, the way a CSV holds it) and the rules to clean it with."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_customers = draw(st.integers(10, 24))
    returns = draw(st.sampled_from(["drop", "net"]))
    countries = draw(st.sampled_from([None, ("United Kingdom",), ("United Kingdom", "France")]))
    rng = np.random.default_rng(seed)
    ids = [f"{i:05d}" for i in rng.choice(99_999, n_customers, replace=False)]
    ids[:3] = ["=7", "-3", "A7 b"]  # formula-like and spaced ids reach the exports too
    # ten customers at home, so that a country filter leaves enough to segment
    home = {c: COUNTRIES[0] if i < 10 else str(rng.choice(COUNTRIES)) for i, c in enumerate(ids)}
    rows: list[list[object]] = []
    invoice = 50_000
    for customer in ids:
        for _ in range(int(rng.integers(1, 5))):
            invoice += 1
            day = START + dt.timedelta(days=int(rng.integers(0, 300)), minutes=int(invoice % 600))
            for _ in range(int(rng.integers(1, 3))):
                rows.append([str(invoice), f"P{rng.integers(1, 9)}", int(rng.integers(1, 6)),
                             day.strftime("%Y-%m-%d %H:%M"),
                             f"{rng.choice([0.5, 1.25, 2.95, 10.0]):.2f}", customer,
                             home[customer]])  # fmt: skip
    purchases = np.array(rows, dtype=object)
    mess = []
    for _ in range(int(rng.integers(0, 8))):  # cancellations and returns of real lines
        line = list(purchases[rng.integers(len(purchases))])
        line[0], line[2] = "C" + str(line[0]), -int(line[2])
        mess.append(line)
    for _ in range(int(rng.integers(0, 6))):  # missing customer ids
        line = list(purchases[rng.integers(len(purchases))])
        line[5] = ""
        mess.append(line)
    for _ in range(int(rng.integers(0, 5))):  # unreadable dates
        line = list(purchases[rng.integers(len(purchases))])
        line[3] = str(rng.choice(BAD_DATES))
        mess.append(line)
    for _ in range(int(rng.integers(0, 4))):  # a customer who only returns
        mess.append([f"C{invoice + 1}", "P1", -1, purchases[0][3], "1.25", "99999x", COUNTRIES[0]])
    log = pd.DataFrame([*rows, *mess], columns=COLUMNS)
    log = log.iloc[rng.permutation(len(log))].reset_index(drop=True)
    copies = log.iloc[rng.integers(0, len(log), int(rng.integers(0, 8)))]  # exact duplicates
    log = pd.concat([log, copies], ignore_index=True)
    return log.astype(str), CleaningRules(returns=returns, countries=countries)


def as_csv(log: pd.DataFrame) -> bytes:
    return log.to_csv(index=False).encode("utf-8")


def pipeline(log: pd.DataFrame, rules: CleaningRules) -> RfmPipelineResult:
    return run_rfm(load_bytes(as_csv(log), file_name="random.csv"), rules=rules)


def as_exported(customer_id: str) -> str:
    """A customer id as the CSV and workbook exports write it (formulas neutralised)."""
    return "'" + customer_id if customer_id.startswith(FORMULA_PREFIXES) else customer_id


def reference_counts(log: pd.DataFrame, rules: CleaningRules) -> dict[str, int]:
    """Four reasons counted independently with pandas, in the documented order."""
    missing = log["CustomerID"].isin(["", "nan"])
    bad_date = ~missing & log["InvoiceDate"].isin(BAD_DATES)
    duplicate = ~missing & ~bad_date & log.duplicated(keep="first")
    survivors = ~missing & ~bad_date & ~duplicate
    excluded = (
        survivors & ~log["Country"].isin(rules.countries)
        if rules.countries
        else pd.Series(False, index=log.index)
    )
    return {
        "missing_customer_id": int(missing.sum()),
        "unparseable_date": int(bad_date.sum()),
        "duplicate_row": int(duplicate.sum()),
        "country_excluded": int(excluded.sum()),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_logs())
def test_every_input_row_is_kept_or_counted_once(case) -> None:
    log, rules = case
    result = pipeline(log, rules)
    cleaning = result.cleaning
    removed = dict(zip(cleaning.report["reason"], cleaning.report["rows"], strict=True))
    assert cleaning.n_in == len(log)
    assert cleaning.n_kept + sum(removed.values()) == cleaning.n_in
    assert min(removed.values()) >= 0
    for reason, count in reference_counts(log, rules).items():
        assert removed[reason] == count, reason
    row_ids = cleaning.transactions.column("row_id").to_numpy()
    assert len(row_ids) == cleaning.n_kept == len(np.unique(row_ids))
    assert row_ids.min() >= 0 and row_ids.max() < cleaning.n_in
    # the account a user downloads says the same
    account = cleaning_report_dict(result)
    assert account["rows_kept"] + sum(account["rows_removed"].values()) == account["rows_in"]


def purchasers(result: RfmPipelineResult) -> set[str]:
    """Customers with at least one kept purchase (not a return), from the kept lines."""
    lines = result.cleaning.transactions.to_pandas()
    buying = lines[lines["quantity"].fillna(1) > 0] if "quantity" in lines else lines
    buying = buying[buying["amount"] > 0] if "amount" in buying else buying
    return set(buying["customer_id"])


def segmented(result: RfmPipelineResult):
    """The RFM table, its segmentation and anomaly flags (the argument order of
    :func:`rfm_core.segments.segmentation.labeled_customers`)."""
    table = result.rfm.table
    anomalies = find_anomalies(table, FLAGS)
    segmentation = segment_customers(table, SEGMENTS, anomalies=anomalies)
    return table, segmentation, anomalies


def ids_of_csv(data: bytes) -> list[str]:
    return pd.read_csv(io.BytesIO(data), dtype={"customer_id": str})["customer_id"].tolist()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_logs())
def test_every_customer_reaches_every_export_exactly_once(case) -> None:
    log, rules = case
    result = pipeline(log, rules)
    table, segmentation, anomalies = segmented(result)
    customers = purchasers(result)
    assert set(table.index) == customers and table.index.is_unique
    want = sorted(as_exported(c) for c in customers)
    labeled = labeled_customers(table, segmentation, anomalies)

    assert sorted(ids_of_csv(rfm_csv(table))) == want
    assert sorted(ids_of_csv(labeled_csv(labeled))) == want

    with zipfile.ZipFile(io.BytesIO(segment_csv_zip(labeled))) as archive:
        zipped = [i for name in archive.namelist() for i in ids_of_csv(archive.read(name))]
    assert sorted(zipped) == want

    report = run_report(cleaning_report_dict(result), table, segmentation, anomalies)
    sheet = openpyxl.load_workbook(io.BytesIO(excel_workbook(report)))["Customers"]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows)
    column = header.index(column_label("customer_id"))  # the workbook's headers are in words
    assert sorted(str(row[column]) for row in rows if row[column] is not None) == want

    bundle = build_bundle(
        table, segmentation, anomalies, mapping=result.mapping, rules=rules,
        date_format=result.date_format,
    )  # fmt: skip
    scored = score_transactions(load_bytes(as_csv(log), file_name="random.csv"), bundle)
    assert scored.index.is_unique and set(scored.index) == customers


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_logs())
def test_same_input_and_seed_give_the_same_bytes_and_the_csv_reads_back(case) -> None:
    log, rules = case
    first = labeled_customers(*segmented(pipeline(log, rules)))
    again = labeled_customers(*segmented(pipeline(log, rules)))
    data = labeled_csv(first)
    assert labeled_csv(again) == data

    back = pd.read_csv(io.BytesIO(data), dtype={"customer_id": str}, keep_default_na=False)
    back["customer_id"] = (
        back["customer_id"]
        .str.removeprefix("'")
        .where(
            back["customer_id"].str.startswith(tuple("'" + p for p in FORMULA_PREFIXES)),
            back["customer_id"],
        )
    )
    back = back.set_index("customer_id")
    assert list(back.index) == [str(i) for i in first.index]
    assert list(back.columns) == list(first.columns)
    for name in first.columns:
        shown, read = first[name], back[name]
        if pd.api.types.is_bool_dtype(shown):
            assert read.astype(str).str.lower().tolist() == shown.astype(str).str.lower().tolist()
        elif pd.api.types.is_numeric_dtype(shown):
            expected = shown.to_numpy(dtype=float)
            got = pd.to_numeric(read.replace("", np.nan)).to_numpy(dtype=float)
            np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True, err_msg=name)
        else:
            text = shown.astype(object).where(shown.notna(), "")
            text = text.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
            assert read.astype(str).tolist() == text.tolist(), name
