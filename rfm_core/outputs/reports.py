"""What stakeholders take away: a CSV per segment, an Excel workbook, a self-contained HTML report.

Every function returns bytes or text; writing them is the caller's business. One
:class:`RunReport` (:func:`run_report`) gathers what a run found, so that the workbook and the
HTML report show the same numbers.

Safety
------
Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is prefixed with a single quote in the CSV files and in every cell of the
workbook (see :func:`rfm_core.outputs.export.neutralise_formulas`), so no workbook cell is a
formula. Characters that cannot be stored in a workbook (control characters) are removed there. In
the HTML report every piece of text goes through :func:`html.escape`, and the charts' data is JSON
in which plotly writes ``<`` as ``\\u003c``, so a customer id or segment name cannot open a tag;
text drawn inside a chart goes through :func:`escape_plotly` too, because plotly renders a subset of
HTML (``<b>``, ``<a href>``…) in labels, legends and hover text. The report loads nothing from the
network: plotly.js is inlined once, in the head.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rfm_core.customers.rfm import score_edges
from rfm_core.customers.scores import ScoreBinning, describe_scores
from rfm_core.labels import (
    CHOICE_LABELS,
    DATE_FORMAT_LABELS,
    DETECTOR_LABELS,
    METHOD_LABELS,
    REASON_LABELS,
    SETTING_LABELS,
    column_kind,
    column_label,
    currency_prefix,
    decimals_for,
    format_value,
    log_ticks,
    segment_colours,
    with_currency,
)
from rfm_core.lines.cleaning import removal_report
from rfm_core.outputs.export import FORMULA_PREFIXES, rfm_csv

if TYPE_CHECKING:
    from rfm_core.segments.anomalies import AnomalyResult, ClassifierReport
    from rfm_core.segments.segmentation import SegmentationResult

__all__ = [
    "EXCEL_MAX_ROWS",
    "WORKBOOK_SHEETS",
    "RunReport",
    "escape_plotly",
    "excel_workbook",
    "html_report",
    "run_report",
    "segment_csv_zip",
]

WORKBOOK_SHEETS = (
    "Summary",
    "Scores",
    "Segment profiles",
    "Customers",
    "Cleaning report",
    "Model selection",
)
EXCEL_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows, less the header
SCATTER_SAMPLE = 2_000  # customers drawn in the report's scatter plot
TOP_ANOMALIES = 20  # flagged customers listed in the report
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so that the same segments give the same bytes
_ANOMALY_COLUMNS = (
    "segment_name", "recency", "frequency", "monetary", "anomaly_score", "anomaly_category",
    "anomaly_reason",
)  # fmt: skip
_SEGMENT_COLUMNS = (
    "name", "customers", "share_customers", "revenue", "share_revenue", "mean_recency",
    "mean_frequency", "mean_monetary", "median_monetary",
)  # fmt: skip
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class RunReport:
    """What one run found, laid out for the workbook and the HTML report.

    Attributes
    ----------
    account : dict
        :func:`rfm_core.outputs.export.cleaning_report_dict` or ``engine_report_dict``: file,
        mapping, rules, rows read and kept, customers, reference date, warnings.
    removals : pandas.DataFrame
        ``reason, description, rows, share``: every cleaning rule in order.
    labeled : pandas.DataFrame
        :func:`rfm_core.segments.segmentation.labeled_customers`, the user's names applied.
    segments : pandas.DataFrame
        Index ``cluster``; ``name``, the profile (sizes, revenue, means and medians) and the
        ``goal, action, channel`` of each segment.
    settings : dict
        The segmentation settings.
    anomaly : dict or None
        ``method, contamination, flagged, threshold`` of the detector.
    selection : pandas.DataFrame or None
        The k sweep (index ``k``), when one was run.
    recommended_k : int or None
    recommendation : str or None
        Why the recommended k was chosen.
    classifier : pandas.DataFrame or None
        Held-out metrics of the anomaly classifier (index ``validation, test``).
    classifier_note : str or None
    notes : tuple of str
        What the segmentation says a reader should know.
    scores : pandas.DataFrame
        Every score level in words with its customers
        (:func:`rfm_core.customers.scores.describe_scores`).
    binning : str
        How the scores were cut, in words (:meth:`rfm_core.customers.scores.ScoreBinning.describe`).
    currency : str
        Written before amounts (``""``: none).
    """

    account: dict[str, Any]
    removals: pd.DataFrame
    labeled: pd.DataFrame
    segments: pd.DataFrame
    settings: dict[str, Any]
    anomaly: dict[str, Any] | None
    selection: pd.DataFrame | None
    recommended_k: int | None
    recommendation: str | None
    classifier: pd.DataFrame | None
    classifier_note: str | None
    notes: tuple[str, ...]
    scores: pd.DataFrame
    binning: str
    currency: str = ""


def run_report(
    account: Mapping[str, Any],
    customers: pd.DataFrame,
    segmentation: SegmentationResult,
    anomalies: AnomalyResult | None = None,
    *,
    renamed: Mapping[int, str] | None = None,
    actions: pd.DataFrame | None = None,
    classifier: ClassifierReport | None = None,
    edges: Mapping[str, tuple[float, ...] | None] | None = None,
    binning: ScoreBinning | None = None,
    currency: str = "",
) -> RunReport:
    """Gather what a run found into a :class:`RunReport`.

    Parameters
    ----------
    account : mapping
        :func:`rfm_core.outputs.export.cleaning_report_dict` or
        :func:`rfm_core.outputs.export.engine_report_dict` of the run.
    customers : pandas.DataFrame
        The RFM table (with the session's rule segments).
    segmentation : SegmentationResult
    anomalies : AnomalyResult, optional
    renamed : mapping of label to name, optional
    actions : pandas.DataFrame, optional
        Columns :data:`rfm_core.segments.profiles.ACTION_COLUMNS`; default: the suggested actions.
    classifier : ClassifierReport, optional
    edges : mapping, optional
        The score edges ``customers`` were scored with (``Scoring.edges`` of
        :func:`rfm_core.customers.scores.rescore`); default: their quantile edges.
    binning : ScoreBinning, optional
        The binning the edges come from (default: quantiles).
    currency : str, default ""
        The symbol or code written before amounts in the workbook and the HTML report (the
        anomaly reasons carry the currency ``anomalies`` was worded with).

    Returns
    -------
    RunReport
    """
    from rfm_core.segments.profiles import default_actions
    from rfm_core.segments.segmentation import labeled_customers

    names = segmentation.names_with(renamed)
    if actions is None:
        actions = default_actions(names)
    plan = actions.assign(segment=actions["segment"].astype("int64")).set_index("segment")
    segments = segmentation.profile.copy()
    segments.index = segments.index.astype("int64").rename("cluster")
    segments.insert(0, "name", [names.get(int(k), str(k)) for k in segments.index])
    segments = segments.join(plan[["goal", "action", "channel"]], how="left")
    selection = segmentation.selection
    anomaly = None
    if anomalies is not None:
        detector = anomalies.detector
        anomaly = {
            "method": anomalies.method,
            "contamination": float(detector.contamination),
            "features": list(detector.features),
            "transform": detector.transform,
            "random_state": int(detector.random_state),
            "flagged": int(anomalies.n_flagged),
            "threshold": float(anomalies.threshold),
        }
    return RunReport(
        account=dict(account),
        removals=removal_report(
            dict(account["rows_removed"]),
            int(account["rows_in"]),
            customers_lost=dict(account.get("customers_lost", {})),
        ),
        labeled=labeled_customers(customers, segmentation, anomalies, renamed=renamed),
        segments=segments,
        settings={
            k: list(v) if isinstance(v, tuple) else v
            for k, v in vars(segmentation.settings).items()
        },
        anomaly=anomaly,
        selection=None if selection is None else selection.table,
        recommended_k=None if selection is None else int(selection.recommended_k),
        recommendation=None if selection is None else selection.reason,
        classifier=None if classifier is None else classifier.metrics,
        classifier_note=None if classifier is None else classifier.note,
        notes=tuple(segmentation.notes),
        scores=describe_scores(score_edges(customers) if edges is None else edges, customers),
        binning=(binning or ScoreBinning()).describe(),
        currency=str(currency or "").strip(),
    )


# -- one CSV per segment --------------------------------------------------------------------


def segment_csv_zip(labeled: pd.DataFrame) -> bytes:
    """Return a zip archive with one CSV of customers per segment.

    Parameters
    ----------
    labeled : pandas.DataFrame
        :func:`rfm_core.segments.segmentation.labeled_customers` with a segmentation (columns
        ``cluster`` and ``segment_name``).

    Returns
    -------
    bytes
        Files ``01_<name>.csv``, ``02_<name>.csv``… in cluster order (noise last), each with
        every column of ``labeled`` (``customer_id`` first, formulas neutralised as in
        :func:`rfm_core.outputs.export.rfm_csv`). Names keep letters, digits, ``-`` and ``_``. The
        same table always gives the same bytes.
    """
    missing = [c for c in ("cluster", "segment_name") if c not in labeled.columns]
    if missing:
        from rfm_core.errors import RfmError

        raise RfmError(f"the labeled table has no {', '.join(missing)} column: segment it first")
    labels = sorted(labeled["cluster"].unique(), key=lambda label: (label < 0, label))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for position, label in enumerate(labels, start=1):
            rows = labeled[labeled["cluster"] == label]
            info = zipfile.ZipInfo(
                f"{position:02d}_{_file_stem(str(rows['segment_name'].iloc[0]))}.csv", _ZIP_TIME
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, rfm_csv(rows))
    return buffer.getvalue()


def _file_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_-")[:60]
    return stem or "segment"


# -- shared facts ---------------------------------------------------------------------------


def _summary_rows(report: RunReport) -> list[tuple[str, Any]]:
    """The data summary as (item, value) pairs: what was read, kept and found."""
    account, labeled = report.account, report.labeled
    date_format = account.get("date_format")
    rows: list[tuple[str, Any]] = [
        ("file", account.get("file")),
        ("engine", account.get("engine")),
        ("dates read", DATE_FORMAT_LABELS.get(date_format, date_format)),
        *[(f"column for {role}", column) for role, column in account["mapping"].items() if column],
        ("rows read", int(account["rows_in"])),
        ("rows kept", int(account["rows_kept"])),
        ("rows removed", int(account["rows_in"]) - int(account["rows_kept"])),
        ("customers", int(account["customers"])),
        ("customers lost", sum(account.get("customers_lost", {}).values())),
        ("reference date", account["reference_date"]),
    ]
    if len(labeled):
        rows += [
            ("first purchase", str(labeled["first_purchase"].min())),
            ("last purchase", str(labeled["last_purchase"].max())),
            (_revenue_item(report), round(float(labeled["monetary"].sum()), 2)),
        ]
    method = report.settings["method"]
    rows += [
        ("segmentation method", METHOD_LABELS.get(method, method)),
        ("segments", len(report.segments[report.segments.index >= 0])),
    ]
    if report.anomaly is not None:
        detector = report.anomaly["method"]
        rows += [
            ("anomaly detector", DETECTOR_LABELS.get(detector, detector)),
            ("customers flagged as anomalous", report.anomaly["flagged"]),
        ]
    if "assigned_after_fit" in labeled.columns:
        rows.append(("customers left out of the fit", int(labeled["assigned_after_fit"].sum())))
    if report.classifier is not None:
        test = report.classifier.loc["test"]
        rows.append(
            ("anomaly classifier F1 on the test split (1 = imitates the detector perfectly)",
             round(float(test["f1"]), 2))
        )  # fmt: skip
    rows += [("warning", text) for text in account.get("warnings", [])]
    rows += [("note", text) for text in report.notes]
    return rows


def _revenue_item(report: RunReport) -> str:
    return with_currency("revenue (sum of total spend)", report.currency)


def _settings_rows(report: RunReport) -> list[tuple[str, Any]]:
    rows = [
        (f"segmentation: {_setting(k)}", _setting_value(k, v)) for k, v in report.settings.items()
    ]
    if report.anomaly is not None:
        rows += [
            (f"anomalies: {_setting(k)}", _setting_value(k, v, detector=True))
            for k, v in report.anomaly.items()
            if k not in ("flagged", "threshold")
        ]
    return rows


def _rule_rows(report: RunReport) -> list[tuple[str, Any]]:
    return [(_setting(name), _setting_value(name, value)) for name, value in
            report.account.get("rules", {}).items()]  # fmt: skip


def _setting(name: str) -> str:
    return SETTING_LABELS.get(name, column_label(name).lower())


def _setting_value(name: str, value: Any, *, detector: bool = False) -> Any:
    """A setting in words: methods, scalings and features by their labels."""
    if name == "method" and isinstance(value, str):
        return (DETECTOR_LABELS if detector else METHOD_LABELS).get(value, value)
    if name == "features" and isinstance(value, list | tuple):
        return ", ".join(column_label(feature) for feature in value)
    if isinstance(value, str):
        return CHOICE_LABELS.get(value, value)
    return _plain(value)


def _plain(value: Any) -> Any:
    """A setting as one cell: lists joined, None as "not set", flags as yes or no."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


def _top_anomalies(labeled: pd.DataFrame) -> pd.DataFrame | None:
    if "anomaly" not in labeled.columns:
        return None
    flagged = labeled[labeled["anomaly"]].sort_values(
        "anomaly_score", ascending=False, kind="stable"
    )
    columns = [c for c in _ANOMALY_COLUMNS if c in flagged.columns]
    return flagged.loc[:, columns].head(TOP_ANOMALIES)


# -- Excel ----------------------------------------------------------------------------------


def excel_workbook(report: RunReport) -> bytes:
    """Return an .xlsx workbook with the sheets :data:`WORKBOOK_SHEETS`.

    *Summary* (what was read, kept and found, and the settings), *Scores* (how the R, F and M
    scores were cut, every score in words with its customers), *Segment profiles* (names,
    sizes, revenue, means and medians, actions), *Customers* (the labeled table; at most
    :data:`EXCEL_MAX_ROWS` rows, the CSV has every customer), *Cleaning report* (rows removed
    per rule, then the rules) and *Model selection* (the k sweep and why k was chosen). Headers
    are the columns' labels in words (:func:`rfm_core.labels.column_label`), bold and frozen,
    each with its code name (the CSV header) as a comment; numbers keep their values and are
    shown by kind: amounts with the report's currency and thousands separators, shares as
    percentages, days and counts whole. Columns are sized to their content, and no cell is a
    formula.

    Parameters
    ----------
    report : RunReport
        :func:`run_report` of the run.

    Returns
    -------
    bytes
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    summary = _summary_rows(report)
    labeled = report.labeled.reset_index()
    if len(labeled) > EXCEL_MAX_ROWS:
        summary.append(
            ("note", f"the Customers sheet holds the first {EXCEL_MAX_ROWS:,} of "
             f"{len(labeled):,} customers (Excel's limit); the CSV export has them all")
        )  # fmt: skip
        labeled = labeled.head(EXCEL_MAX_ROWS)
    pairs = pd.DataFrame([*summary, *_settings_rows(report)], columns=["item", "value"])
    sheets: dict[str, list[pd.DataFrame]] = {
        "Summary": [pairs],
        "Scores": [
            _scores_frame(report),
            pd.DataFrame({"item": ["scores cut by"], "value": [report.binning]}),
        ],
        "Segment profiles": [report.segments.reset_index()],
        "Customers": [labeled],
        "Cleaning report": [
            _removals_frame(report.removals),
            pd.DataFrame(_rule_rows(report), columns=["rule", "value"]),
        ],
        "Model selection": [_selection_frame(report)],
    }
    money_items = {_revenue_item(report)}
    for title, blocks in sheets.items():
        _write_sheet(workbook, title, blocks, currency=report.currency, money_items=money_items)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _removals_frame(removals: pd.DataFrame) -> pd.DataFrame:
    """The cleaning report with its rule in words first and the customers lost under each rule
    (the code last, as in the CSV)."""
    words = removals["reason"].map(lambda reason: REASON_LABELS.get(reason, reason))
    frame = removals.rename(columns={"customers": "customers_lost"})
    columns = ["description", "rows", "share", "customers_lost", "reason"]
    frame = frame.loc[:, [c for c in columns if c in frame.columns]]
    frame.insert(0, "cleaning_rule", words)
    return frame


def _selection_frame(report: RunReport) -> pd.DataFrame:
    if report.selection is None:
        method = report.settings["method"]
        return pd.DataFrame(
            {"note": [f"no k sweep was run: {METHOD_LABELS.get(method, method)} with the "
                      "settings given"]}
        )  # fmt: skip
    table = report.selection.reset_index()
    chosen = table["k"] == report.recommended_k
    return table.assign(
        recommended=chosen, reason=np.where(chosen, report.recommendation or "", None)
    )


def _write_sheet(
    workbook, title: str, blocks: Sequence[pd.DataFrame], *, currency: str, money_items=()
) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title)
    widths: dict[int, int] = {}
    for frame in blocks:
        for i, column in enumerate(frame.columns):
            sample = frame[column].head(200).astype("string").str.len().max()
            sample = 0 if pd.isna(sample) else int(sample)
            widths[i] = max(widths.get(i, 0), len(column_label(column)), sample)
    for i, width in widths.items():
        sheet.column_dimensions[get_column_letter(i + 1)].width = min(max(width + 2, 8), 60)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    for number, frame in enumerate(blocks):
        if number:
            sheet.append([])
        header = []
        for column in frame.columns:
            cell = WriteOnlyCell(sheet, value=_cell(column_label(column)))
            cell.font = bold
            if str(column) != column_label(column) and str(column).isidentifier():
                cell.comment = Comment(f"{column} in CSV files", "rfm")
            header.append(cell)
        sheet.append(header)
        formats = [_number_format(frame, column, currency) for column in frame.columns]
        pairs = list(frame.columns) == ["item", "value"]
        for row in frame.itertuples(index=False, name=None):
            row_formats = formats
            if pairs:
                row_formats = [None, _pair_format(row, currency, money_items)]
            sheet.append(
                [
                    _formatted(sheet, _cell(value), number_format)
                    if number_format
                    else _cell(value)
                    for value, number_format in zip(row, row_formats, strict=True)
                ]
            )


def _excel_number(kind: str, values, currency: str) -> str | None:
    """An Excel number format for numbers of ``kind`` (see :mod:`rfm_core.labels`)."""
    if kind == "share":
        return "0.0%"
    places = decimals_for(kind, values)
    digits = "#,##0" + ("." + "0" * places if places else "")
    if kind == "money":
        prefix = currency_prefix(currency).replace('"', "")
        return f'"{prefix}"{digits}' if prefix else digits
    if kind in ("days", "count", "score", "ratio", "statistic"):
        return digits
    return None


def _number_format(frame: pd.DataFrame, column: Any, currency: str) -> str | None:
    """The format of a column: by the kind of its name for numbers, a plain date for dates;
    None keeps openpyxl's default."""
    values = frame[column]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        kind = column_kind(column)
        if kind in ("text", "date", "flag"):
            kind = "count" if pd.api.types.is_integer_dtype(values) else "statistic"
        return _excel_number(kind, values.dropna().to_numpy(), currency)
    first = values.dropna().head(1).tolist()
    if first and isinstance(first[0], dt.date) and not isinstance(first[0], dt.datetime):
        return "yyyy-mm-dd"
    return None


def _pair_format(row: tuple, currency: str, money_items) -> str | None:
    """The format of one summary value: money, whole numbers with separators, or none."""
    item, value = row
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return None
    kind = "money" if item in money_items else "count" if float(value).is_integer() else "ratio"
    return _excel_number(kind, [value], currency)


def _formatted(sheet, value: Any, number_format: str):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _cell(value: Any) -> Any:
    """A value openpyxl stores as data, never as a formula.

    Text is quoted as :func:`rfm_core.outputs.export.neutralise_formulas` quotes it, cell by cell,
    so that numbers in a column of mixed values stay numbers.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, str):
        value = _ILLEGAL_XML.sub("", value)
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    return value


# -- HTML -----------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #1f2933; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.4rem; border-bottom:
       2px solid #3b6fb6; padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.88rem; }
.wide { overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid #d3d9e0; padding: 0.3rem 0.55rem; text-align: left;
         vertical-align: top; }
th { background: #eef2f7; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #616e7c; } .chart { margin: 1rem 0; }
nav a { margin-right: 1rem; }
"""

_SECTIONS = (
    ("summary", "Data summary"),
    ("cleaning", "Cleaning"),
    ("scores", "Scores"),
    ("segments", "Segments"),
    ("anomalies", "Anomalies"),
    ("method", "Method and settings"),
)


def html_report(report: RunReport, *, title: str = "Customer segments") -> str:
    """Return a self-contained HTML report a stakeholder can open offline.

    Sections: data summary, cleaning (rows removed per rule and the rules), scores (every R, F
    and M score in words with its customers), segments (names,
    sizes, revenue, profiles, actions, charts), anomalies (how many, categories, the strangest
    customers with their reasons) and the method and settings used (k sweep and reason,
    classifier metrics, library versions). plotly.js is inlined once; nothing is loaded from the
    network. Every piece of text is escaped. The same report always gives the same text.

    Parameters
    ----------
    report : RunReport
    title : str
        Heading and window title.

    Returns
    -------
    str
    """
    from plotly.offline import get_plotlyjs

    from rfm_core.outputs.persistence import library_versions

    account = report.account
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">{_e(account.get("file"))}: {int(account["customers"]):,} customers, '
        f"reference date {_e(account['reference_date'])}.</p>",
        "<nav>" + "".join(f'<a href="#{k}">{_e(t)}</a>' for k, t in _SECTIONS) + "</nav>",
        _section(
            "summary",
            "Data summary",
            _pairs_table(
                _summary_rows(report),
                money_items={_revenue_item(report)},
                currency=report.currency,
            ),
        ),
        _section("cleaning", "Cleaning", _cleaning_html(report)),
        _section("scores", "Scores", _scores_html(report)),
        _section("segments", "Segments", _segments_html(report)),
        _section("anomalies", "Anomalies", _anomalies_html(report)),
        _section(
            "method",
            "Method and settings",
            _method_html(report)
            + "<h3>Library versions</h3>"
            + _pairs_table(list(library_versions().items())),
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _section(key: str, heading: str, body: str) -> str:
    return f'<section id="{key}"><h2>{_e(heading)}</h2>\n{body}\n</section>'


def _text(value: Any, kind: str, *, currency: str = "", decimals: int | None = None) -> str:
    """Text of a cell (:func:`rfm_core.labels.format_value`; booleans as yes or no)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float | np.floating) and math.isnan(value):
        return ""
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        if kind in ("text", "date", "flag"):
            kind = "count"
    elif isinstance(value, float | np.floating) and kind in ("text", "date", "flag"):
        kind = "statistic"
    return format_value(value, kind, currency=currency, decimals=decimals)


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _frame_table(frame: pd.DataFrame, *, index: bool = True, currency: str = "") -> str:
    """An HTML table of a frame: headers in words (the code name as a tooltip), numbers by
    kind with the currency; every header and cell escaped."""
    names = ([frame.index.name] if index else []) + list(frame.columns)
    head = "".join(
        f'<th title="{_e(name)}">{_e(column_label(name))}</th>'
        if name is not None and column_label(name) != str(name)
        else f"<th>{_e(column_label(name))}</th>"
        for name in names
    )
    columns = [frame.index.to_series()] if index else []
    columns += [frame[c] for c in frame.columns]
    kinds = [column_kind(name) for name in names]
    places = [
        decimals_for(kind, [v for v in values if _numeric(v)])
        if kind in ("money", "statistic")
        else None
        for kind, values in zip(kinds, columns, strict=True)
    ]
    # wide tables (segment profiles) scroll inside their box instead of widening the page
    lines = [f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>']
    for position in range(len(frame)):
        shown = []
        for values, kind, decimals in zip(columns, kinds, places, strict=True):
            value = values.iloc[position]
            text = _text(value, kind, currency=currency, decimals=decimals)
            numeric = _numeric(value) and text != ""
            shown.append(f'<td class="num">{_e(text)}</td>' if numeric else f"<td>{_e(text)}</td>")
        lines.append(f"<tr>{''.join(shown)}</tr>")
    lines.append("</tbody></table></div>")
    return "\n".join(lines)


def _pairs_table(rows: Sequence[tuple[str, Any]], *, money_items=(), currency: str = "") -> str:
    """Item–value pairs; amounts with the currency, whole numbers with separators."""
    lines = ['<div class="wide"><table><thead><tr><th>Item</th><th>Value</th></tr></thead><tbody>']
    for item, value in rows:
        value = _plain(value)
        if item in money_items and _numeric(value):
            text = format_value(value, "money", currency=currency)
        elif _numeric(value):
            text = format_value(value, "count" if float(value).is_integer() else "ratio")
        else:
            text = "" if value is None else str(value)
        cell = f'<td class="num">{_e(text)}</td>' if _numeric(value) else f"<td>{_e(text)}</td>"
        lines.append(f"<tr><td>{_e(item)}</td>{cell}</tr>")
    lines.append("</tbody></table></div>")
    return "\n".join(lines)


def _cleaning_html(report: RunReport) -> str:
    account = report.account
    acted = (report.removals["rows"] > 0) | (report.removals.get("customers", 0) > 0)
    removed = _removals_frame(report.removals[acted])
    intro = (
        f"<p>{int(account['rows_in']):,} rows read, {int(account['rows_kept']):,} kept; every "
        "removed row is counted under the first rule it breaks.</p>"
    )
    table = (
        _frame_table(removed.drop(columns="reason"), index=False)
        if len(removed)
        else "<p>No row was removed.</p>"
    )
    return intro + table + "<h3>Rules</h3>" + _pairs_table(_rule_rows(report))


def _scores_html(report: RunReport) -> str:
    intro = (
        f"<p>Scores 1–5 cut by {_e(report.binning)}. Each customer's R, F and M score puts them "
        "in a rule segment (column <code>rfm_segment</code>); the clusters below are found "
        "separately and named <em>Cluster N · …</em>.</p>"
    )
    return intro + _frame_table(_scores_frame(report), index=False)


def _scores_frame(report: RunReport) -> pd.DataFrame:
    """The score levels as shown: their ``share`` is a share of customers, not of rows."""
    return report.scores.rename(columns={"share": "share_customers"})


def _segments_html(report: RunReport) -> str:
    segments = report.segments
    shown = [c for c in _SEGMENT_COLUMNS if c in segments.columns]
    plan = segments.set_index("name")[["goal", "action", "channel"]]
    method = report.settings["method"]
    money = with_currency("total spend", report.currency)
    return "\n".join(
        [
            f"<p>{len(segments):,} segments found with "
            f"{_e(METHOD_LABELS.get(method, method))}; segment 0 is the most valuable. Recency "
            f"in days, {_e(money)} per customer.</p>",
            _frame_table(segments[shown], currency=report.currency),
            _chart("chart-segment-shares", _shares_figure(segments)),
            _chart("chart-segment-scatter", _scatter_figure(report.labeled, report.currency)),
            '<p class="muted">Recency is drawn one day later, so that customers who bought on '
            "the reference date have a place on the log axis.</p>",
            "<h3>Actions</h3>",
            _frame_table(plan),
        ]
    )


def _anomalies_html(report: RunReport) -> str:
    if report.anomaly is None:
        return "<p>No anomaly detector was run.</p>"
    labeled, anomaly = report.labeled, report.anomaly
    n = len(labeled)
    flagged = labeled[labeled["anomaly"]]
    revenue = float(labeled["monetary"].sum())
    share = float(flagged["monetary"].sum()) / revenue if revenue > 0 else 0.0
    detector = DETECTOR_LABELS.get(anomaly["method"], anomaly["method"])
    parts = [
        f"<p>{anomaly['flagged']:,} of {n:,} customers flagged by {_e(detector)} "
        f"({share:.1%} of revenue). They are marked, never removed: every export keeps them "
        "with the reason they stand out.</p>"
    ]
    if len(flagged):
        counts = flagged["anomaly_category"].value_counts().rename("customers")
        counts.index.name = "anomaly_category"
        parts.append(_frame_table(counts.to_frame()))
        parts.append(
            f"<h3>The {min(TOP_ANOMALIES, len(flagged))} strangest customers</h3>"
            + _frame_table(_top_anomalies(labeled), currency=report.currency)
        )
    return "\n".join(parts)


def _method_html(report: RunReport) -> str:
    parts = [_pairs_table(_settings_rows(report))]
    if report.recommendation:
        parts.append(f"<p><strong>Number of segments.</strong> {_e(report.recommendation)}</p>")
    if report.selection is not None:
        parts.append(_frame_table(report.selection))
        parts.append(
            '<p class="muted">Silhouette, Calinski–Harabasz and stability: higher is better. '
            "Davies–Bouldin, AIC and BIC: lower is better. Inertia always falls as k grows: "
            "look for where it bends.</p>"
        )
    parts += [f'<p class="muted">{_e(note)}</p>' for note in report.notes]
    if report.classifier is not None:
        parts += [
            "<h3>Anomaly classifier</h3>",
            _frame_table(report.classifier),
            f'<p class="muted">{_e(report.classifier_note)} Precision: of the customers it flags, '
            "the share the detector flags too; recall: of the detector's flags, the share it "
            "finds; F1 combines both (1 = perfect).</p>",
        ]
    return "\n".join(parts)


def escape_plotly(text: Any) -> str:
    """Return ``text`` for a plotly label, legend, tick or hover text, shown literally.

    Plotly draws a subset of HTML in those (``<b>``, ``<br>``, ``<a href=…>``) and turns the
    entities ``&amp;``, ``&lt;`` and ``&gt;`` back into characters, so escaping exactly these
    three shows a customer id, product or segment name as written (``&quot;`` would stay
    visible as such: quotes are left alone).

    Parameters
    ----------
    text : object
        A label; None gives an empty string, anything else its ``str``.

    Returns
    -------
    str
    """
    return html.escape("" if text is None else str(text), quote=False)


def _chart(div_id: str, figure) -> str:
    body = figure.to_html(
        full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False}
    )
    return f'<div class="chart">{body}</div>'


def _shares_figure(segments: pd.DataFrame):
    import plotly.graph_objects as go

    names = [escape_plotly(name) for name in segments["name"]]
    colours = segment_colours(segments["name"])
    fill = [colours[str(name)] for name in segments["name"]]
    figure = go.Figure(
        [
            go.Bar(name="Share of customers (hatched)", x=names, y=segments["share_customers"],
                   marker={"color": fill, "pattern_shape": "/", "pattern_fillmode": "replace"}),
            go.Bar(name="Share of revenue (solid)", x=names, y=segments["share_revenue"],
                   marker={"color": fill}),
        ]
    )  # fmt: skip
    figure.update_layout(
        title="Customers and revenue by segment", barmode="group", height=380,
        yaxis_tickformat=".0%", margin={"t": 50, "b": 40}, legend={"orientation": "h"},
    )  # fmt: skip
    figure.update_xaxes(type="category")
    return figure


def _scatter_figure(labeled: pd.DataFrame, currency: str = ""):
    import plotly.graph_objects as go

    drawn = labeled
    if len(drawn) > SCATTER_SAMPLE:
        rng = np.random.default_rng(0)
        drawn = drawn.iloc[np.sort(rng.choice(len(drawn), SCATTER_SAMPLE, replace=False))]
    figure = go.Figure()
    colours = segment_colours(labeled["segment_name"].astype(str).unique())
    recency = drawn["recency"].clip(lower=0) + 1
    monetary = drawn["monetary"].clip(lower=0.01)
    for name, group in drawn.groupby("segment_name", sort=False, observed=True):
        figure.add_trace(
            go.Scatter(
                x=recency.loc[group.index],
                y=monetary.loc[group.index],
                mode="markers",
                name=escape_plotly(name),
                marker={"size": 5, "opacity": 0.7, "color": colours[str(name)]},
            )
        )
    sampled = (
        f" ({len(drawn):,} of {len(labeled):,} customers)" if len(drawn) < len(labeled) else ""
    )
    spend = with_currency("Total spend", currency)
    figure.update_layout(
        title=f"Recency (days) vs {spend[0].lower()}{spend[1:]}, by segment{sampled}",
        height=420, margin={"t": 50, "b": 40}, legend_title_text="Segment",
        xaxis={"type": "log", "title": "Recency (days)", **log_ticks(recency)},
        yaxis={"type": "log", "title": spend, **log_ticks(monetary)},
    )  # fmt: skip
    return figure
