"""Exports for stakeholders: per-segment zip, workbook, HTML report; hostile strings stay inert."""

from __future__ import annotations

import html
import io
import re
import zipfile
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from rfm_core.cli import main
from rfm_core.customers.pipeline import run_rfm
from rfm_core.errors import RfmError
from rfm_core.ingest.io import load_bytes
from rfm_core.ingest.synthetic import generate_transactions
from rfm_core.labels import column_label
from rfm_core.outputs.export import cleaning_report_dict, labeled_csv
from rfm_core.outputs.reports import (
    WORKBOOK_SHEETS,
    excel_workbook,
    html_report,
    run_report,
    segment_csv_zip,
)
from rfm_core.segments.profiles import default_actions
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationSettings,
    find_anomalies,
    labeled_customers,
    segment_customers,
    train_classifier,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*distinct score:UserWarning")

EVIL_ID = '=HYPERLINK("http://evil.example","click")'
SCRIPT_ID = "<script>alert(1)</script>"
EVIL_COLUMN = "<script>alert(2)</script>"  # the customer column's name
FORMULA_COLUMN = "=SUM(A1:A9)"  # the product column's name
RENAMED = {0: '=HYPERLINK("http://evil.example","best")', 1: "<img src=x onerror=alert(3)>"}


def hostile_log() -> bytes:
    """A generated log with hostile column names, a hostile first customer id and a hostile id
    for its biggest spender (flagged, so listed among the strangest customers of the report)."""
    generated = generate_transactions(300, random_state=17)
    log, truth = generated.transactions, generated.customers
    whale = truth["monetary"].idxmax()
    log["CustomerID"] = log["CustomerID"].replace({"10001": EVIL_ID, whale: SCRIPT_ID})
    log = log.rename(columns={"CustomerID": EVIL_COLUMN, "Description": FORMULA_COLUMN})
    return log.to_csv(index=False).encode("utf-8")


@pytest.fixture(scope="module")
def run():
    loaded = load_bytes(hostile_log(), file_name="shop <b>export</b>.csv")
    result = run_rfm(loaded, mapping={"customer": EVIL_COLUMN, "product": FORMULA_COLUMN})
    table = result.rfm.table
    anomalies = find_anomalies(table, AnomalySettings())
    segmentation = segment_customers(table, SegmentationSettings(k_max=6), anomalies=anomalies)
    classifier = train_classifier(table, anomalies, AnomalySettings())
    report = run_report(
        cleaning_report_dict(result), table, segmentation, anomalies, renamed=RENAMED,
        classifier=classifier,
    )  # fmt: skip
    return result, anomalies, segmentation, report


def test_the_run_report_gathers_the_run(run):
    result, anomalies, segmentation, report = run
    table = result.rfm.table
    assert {EVIL_ID, SCRIPT_ID} <= set(table.index)
    assert anomalies.table.loc[SCRIPT_ID, "anomaly"]
    expected = labeled_customers(table, segmentation, anomalies, renamed=RENAMED)
    pd.testing.assert_frame_equal(report.labeled, expected)
    names = {**segmentation.names, **RENAMED}
    assert report.segments["name"].to_dict() == names
    actions = default_actions(names).set_index("segment")
    assert report.segments["goal"].to_dict() == actions["goal"].to_dict()
    assert report.segments["customers"].sum() == len(table) == 300
    assert report.removals["rows"].sum() == result.n_in - result.n_kept
    assert report.recommended_k == segmentation.selection.recommended_k
    assert report.anomaly["flagged"] == anomalies.n_flagged


def test_the_labeled_export_has_every_column_and_customer(run):
    result, anomalies, _, _ = run
    settings = SegmentationSettings(method="gmm", n_clusters=3, exclude_anomalies=True)
    table = result.rfm.table
    segmentation = segment_customers(table, settings, anomalies=anomalies)
    labeled = labeled_customers(table, segmentation, anomalies)
    back = pd.read_csv(io.BytesIO(labeled_csv(labeled)), dtype={"customer_id": str})
    assert len(back) == len(table) and back["customer_id"].is_unique
    wanted = ["customer_id", "recency", "frequency", "monetary", "r_score", "f_score", "m_score",
              "rfm_segment", "cluster", "segment_name", "p_cluster_0", "p_cluster_1",
              "p_cluster_2", "assigned_after_fit", "anomaly", "anomaly_score", "anomaly_reason",
              "anomaly_category"]  # fmt: skip
    assert [c for c in back.columns if c in wanted] == wanted
    # the flagged customers are the ones left out of the fit, and all are kept
    assert back["assigned_after_fit"].sum() == back["anomaly"].sum() == anomalies.n_flagged
    assert "'" + EVIL_ID in set(back["customer_id"])


# -- one CSV per segment ---------------------------------------------------------------------


def test_segment_zip_by_hand():
    labeled = pd.DataFrame(
        {
            "cluster": [1, 0, -1, 1, 0],
            "segment_name": [
                "=cmd|' /C calc'!A0",
                "Champions",
                "Unassigned",
                "=cmd|' /C calc'!A0",
                "Champions",
            ],
            "monetary": [10.0, 250.5, 3.0, -4.0, 99.0],
        },
        index=pd.Index(["c1", "+c2", "c3", "c4", "c5"], name="customer_id"),
    )
    data = segment_csv_zip(labeled)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["01_Champions.csv", "02_cmd_C_calc_A0.csv", "03_Unassigned.csv"]
    champions = archive.read("01_Champions.csv").decode()
    assert champions == (
        "customer_id,cluster,segment_name,monetary\n'+c2,0,Champions,250.5\nc5,0,Champions,99.0\n"
    )
    second = archive.read("02_cmd_C_calc_A0.csv").decode().splitlines()
    assert second[1] == "c1,1,'=cmd|' /C calc'!A0,10.0"
    assert second[2] == "c4,1,'=cmd|' /C calc'!A0,-4.0"  # numbers stay numbers
    assert segment_csv_zip(labeled) == data  # same table, same bytes
    with pytest.raises(RfmError, match="segment it first"):
        segment_csv_zip(labeled.drop(columns="cluster"))


def test_segment_zip_of_a_run_holds_every_customer_once(run):
    labeled = run[3].labeled
    archive = zipfile.ZipFile(io.BytesIO(segment_csv_zip(labeled)))
    parts = [pd.read_csv(archive.open(name), dtype={"customer_id": str})
             for name in archive.namelist()]  # fmt: skip
    assert sum(len(p) for p in parts) == len(labeled)
    assert all(p["segment_name"].nunique() == 1 for p in parts)
    assert archive.namelist()[0] == "01_HYPERLINK_http_evil_example_best.csv"


# -- workbook ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(run):
    return openpyxl.load_workbook(io.BytesIO(excel_workbook(run[3])))


def test_the_workbook_has_the_five_sheets_and_no_formula(workbook):
    assert workbook.sheetnames == list(WORKBOOK_SHEETS)
    formulas = [
        (sheet.title, cell.coordinate)
        for sheet in workbook
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == []
    for sheet in workbook:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])
        widths = [d.width for d in sheet.column_dimensions.values()]
        assert widths and all(8 <= w <= 62 for w in widths)


def test_the_workbook_holds_the_run(workbook, run):
    result, anomalies, segmentation, report = run
    customers = list(workbook["Customers"].values)
    # headers in words, each with the CSV's code name as its comment
    codes = ["customer_id", *report.labeled.columns]
    assert list(customers[0]) == [column_label(code) for code in codes]
    comments = [cell.comment.text if cell.comment else None for cell in workbook["Customers"][1]]
    assert comments[0] == "customer_id in CSV files"
    assert [c.split(" in CSV")[0] for c in comments if c] == [
        code for code in codes if column_label(code) != code
    ]
    assert len(customers) == 1 + 300
    ids = {row[0] for row in customers[1:]}
    assert {"'" + EVIL_ID, SCRIPT_ID} <= ids
    summary = dict(list(workbook["Summary"].values)[1:])
    assert summary["customers"] == 300
    assert summary["rows read"] == result.n_in
    assert summary["column for customer"] == EVIL_COLUMN
    assert summary["column for product"] == "'" + FORMULA_COLUMN
    assert summary["customers flagged as anomalous"] == anomalies.n_flagged
    profiles = list(workbook["Segment profiles"].values)
    assert profiles[1][:3] == (0, "'" + RENAMED[0], int(segmentation.profile["customers"].iloc[0]))
    cleaning = list(workbook["Cleaning report"].values)
    assert cleaning[0] == (
        "Removed because", "Description", "Rows", "Share of rows", "Customers lost", "Reason"
    )  # fmt: skip
    assert sum(row[2] for row in cleaning[1:15]) == result.n_in - result.n_kept
    selection = list(workbook["Model selection"].values)
    chosen = [row for row in selection[1:] if row[-2]]
    assert [row[0] for row in chosen] == [segmentation.selection.recommended_k]
    assert chosen[0][-1] == segmentation.selection.reason


# -- HTML report ------------------------------------------------------------------------------


class _Tags(HTMLParser):
    """Tags and attributes of a page (script bodies are not parsed as markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def page(run) -> str:
    return html_report(run[3])


def test_the_html_report_escapes_every_user_string(page):
    for hostile in (SCRIPT_ID, EVIL_COLUMN, RENAMED[1], "<b>export</b>"):
        assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # a flagged customer's id
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page  # the customer column
    assert "&lt;img src=x onerror=alert(3)&gt;" in page  # a segment name
    assert "shop &lt;b&gt;export&lt;/b&gt;.csv" in page
    parser = _Tags()
    parser.feed(page)
    assert not [tag for tag, _ in parser.tags if tag in ("img", "iframe", "object", "embed")]
    assert all("onerror" not in attrs for _, attrs in parser.tags)


def test_the_html_report_charts_show_names_as_text(page):
    # plotly draws <a href>, <b>… found in trace names and category labels: they are escaped
    # before the figure is built (the JSON would otherwise hold \u003cimg…)
    assert "\\u003cimg" not in page and "\\u003ca " not in page
    charts = page[page.index('id="chart-segment-shares"') :]
    assert "&lt;img src=x onerror=alert(3)&gt;" in charts


def test_the_html_report_is_self_contained(page):
    assert page.count(get_plotlyjs()) == 1
    parser = _Tags()
    parser.feed(page)
    loaded = [
        value
        for _, attrs in parser.tags
        for name, value in attrs.items()
        if name in ("src", "href") and value and not value.startswith("#")
    ]
    assert loaded == []
    assert [tag for tag, _ in parser.tags].count("script") == 3  # plotly.js and two charts


def test_the_html_report_has_every_section(page, run):
    result, anomalies, segmentation, report = run
    for key in ("summary", "cleaning", "segments", "anomalies", "method"):
        assert f'<section id="{key}">' in page
    assert all(f"<td>{html.escape(name)}</td>" in page for name in report.segments["name"])
    assert f"{anomalies.n_flagged:,} of 300 customers flagged by Isolation forest" in page
    assert f"{result.n_in:,} rows read, {result.n_kept:,} kept" in page
    assert segmentation.selection.reason.split(":")[0] in page
    assert html_report(report) == page  # deterministic


# -- command line -----------------------------------------------------------------------------


def test_segment_writes_the_exports(tmp_path, capsys):
    log = tmp_path / "log.csv"
    log.write_bytes(
        generate_transactions(200, random_state=2).transactions.to_csv(index=False).encode()
    )
    out = tmp_path / "labeled.csv"
    paths = {"--segments-zip": tmp_path / "s.zip", "--workbook": tmp_path / "w.xlsx",
             "--html-report": tmp_path / "r.html"}  # fmt: skip
    argv = ["segment", str(log), "-o", str(out), "--k", "3", "--no-classifier"]
    assert main([*argv, *[str(x) for pair in paths.items() for x in pair]]) == 0
    result = run_rfm(load_bytes(log.read_bytes(), file_name="log.csv"))
    table = result.rfm.table
    anomalies = find_anomalies(table, AnomalySettings())
    segmentation = segment_customers(table, SegmentationSettings(n_clusters=3), anomalies=anomalies)
    expected = run_report(cleaning_report_dict(result), table, segmentation, anomalies)
    assert paths["--segments-zip"].read_bytes() == segment_csv_zip(expected.labeled)
    assert paths["--html-report"].read_text(encoding="utf-8") == html_report(expected)
    book = openpyxl.load_workbook(paths["--workbook"])
    again = openpyxl.load_workbook(io.BytesIO(excel_workbook(expected)))
    for name in WORKBOOK_SHEETS:
        assert list(book[name].values) == list(again[name].values)
    printed = capsys.readouterr().out
    assert all(f"→ {path}" in printed for path in paths.values())


# -- words, formats and the currency ----------------------------------------------------------


@pytest.fixture(scope="module")
def in_pounds(run):
    result, _, segmentation, _ = run
    table = result.rfm.table
    anomalies = find_anomalies(table, AnomalySettings(), currency="£")
    return run_report(
        cleaning_report_dict(result), table, segmentation, anomalies, currency="£"
    )  # fmt: skip


def test_the_html_report_reads_as_words_with_the_currency(in_pounds):
    page = html_report(in_pounds)
    segments = page[page.index('<section id="segments">') : page.index('<section id="anomalies">')]
    assert "<th>Share of customers</th>" not in segments  # headers carry their code as a title
    assert '<th title="share_customers">Share of customers</th>' in segments
    assert "share_customers</th>" not in page and "mean_recency</th>" not in page
    revenue = in_pounds.segments["revenue"].iloc[0]
    assert f"£{revenue:,.0f}" in segments or f"£{revenue:,.2f}" in segments
    assert "flagged by Isolation forest" in page and "found with K-means" in page
    text = re.sub(r"<script.*?</script>", "", page, flags=re.DOTALL)  # plotly.js and the charts
    assert "dates read" in text and ">None<" not in text and ">nan<" not in text
    # no raw float in any cell: at most 2 decimals, and shares as percentages
    cells = re.findall(r'<td class="num">([^<]*)</td>', page)
    assert cells and not [c for c in cells if re.search(r"\d\.\d{3,}", c)]
    assert "£" in page[page.index('<section id="anomalies">') :]  # the reasons' amounts


def test_the_workbook_formats_numbers_by_kind_with_the_currency(in_pounds):
    book = openpyxl.load_workbook(io.BytesIO(excel_workbook(in_pounds)))
    customers = book["Customers"]
    header = [cell.value for cell in customers[1]]
    formats = {name: customers.cell(row=2, column=i + 1).number_format
               for i, name in enumerate(header)}  # fmt: skip
    assert formats["Total spend"].startswith('"£"#,##0')
    assert formats["Recency (days)"] == formats["Orders"] == "#,##0"
    assert isinstance(customers.cell(row=2, column=header.index("Total spend") + 1).value, float)
    profiles = book["Segment profiles"]
    names = [cell.value for cell in profiles[1]]
    assert "Share of customers" in names and "share_customers" not in names
    assert (
        profiles.cell(row=2, column=names.index("Share of customers") + 1).number_format == "0.0%"
    )
    summary = {row[0].value: row[1] for row in book["Summary"].iter_rows(min_row=2) if row[0].value}
    revenue = summary["revenue (sum of total spend) (£)"]
    assert revenue.number_format.startswith('"£"') and isinstance(revenue.value, float)
    assert summary["segmentation method"].value == "K-means"


def test_segment_takes_a_currency(tmp_path):
    log = tmp_path / "log.csv"
    log.write_bytes(
        generate_transactions(200, random_state=2).transactions.to_csv(index=False).encode()
    )
    report = tmp_path / "r.html"
    argv = ["segment", str(log), "-o", str(tmp_path / "l.csv"), "--k", "3", "--no-classifier"]
    assert main([*argv, "--html-report", str(report), "--currency", "CHF"]) == 0
    page = report.read_text(encoding="utf-8")
    assert "revenue (sum of total spend) (CHF)" in page and "CHF " in page
