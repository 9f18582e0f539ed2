"""Files the user takes away: the RFM table and labeled customers as CSV, reports as JSON.

These functions return bytes or text; writing them to disk is the caller's business.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) are prefixed with a single quote in CSV exports, so that an id or a
product name from an uploaded file can never execute in the analyst's spreadsheet.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rfm_core.customers.pipeline import RfmPipelineResult
from rfm_core.customers.scores import ScoreBinning, cut_points, describe_scores

if TYPE_CHECKING:
    from rfm_core.customers.engine import EngineRun
    from rfm_core.segments.anomalies import AnomalyResult, ClassifierReport
    from rfm_core.segments.segmentation import SegmentationResult

__all__ = [
    "cleaned_lines_csv",
    "cleaning_report_dict",
    "engine_report_dict",
    "labeled_csv",
    "neutralise_formulas",
    "neutralised_lines",
    "rfm_csv",
    "scores_report_dict",
    "segmentation_report_dict",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot start a spreadsheet formula (quote prefixed).

    Parameters
    ----------
    table : pandas.DataFrame
        Any table; it is not changed.

    Returns
    -------
    pandas.DataFrame
        The same values, text cells and text index entries that start with one of
        :data:`FORMULA_PREFIXES` prefixed with ``'``.
    """
    table = table.copy()
    for column in table.columns:
        values = table[column]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            text = values.astype("string")
            risky = text.str.startswith(FORMULA_PREFIXES, na=False)
            if risky.any():
                table[column] = text.where(~risky, "'" + text)
    if table.index.dtype == object or isinstance(table.index.dtype, pd.StringDtype):
        index = table.index.astype("string")
        risky = index.str.startswith(FORMULA_PREFIXES)
        if risky.any():
            table.index = pd.Index(index.where(~risky, "'" + index), name=table.index.name)
    return table


def rfm_csv(table: pd.DataFrame) -> bytes:
    """Return the per-customer table as UTF-8 CSV, ``customer_id`` first.

    Text cells are neutralised (see the module docstring) and carriage returns inside them become
    line feeds. The table goes through Arrow and DuckDB's CSV writer: a million labeled customers
    take ~1 s where ``DataFrame.to_csv`` took ~7 s. Missing values are empty fields, booleans
    ``true``/``false``, dates ISO.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by ``customer_id`` (e.g. :attr:`rfm_core.customers.rfm.RfmResult.table`).

    Returns
    -------
    bytes
        The CSV file.
    """
    return _write_csv(_safe_text(_to_arrow(table.reset_index())))


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Arrow columns of a frame; object columns of mixed types become text."""
    columns = {}
    for name in frame.columns:
        values = frame[name]
        try:
            columns[str(name)] = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[str(name)] = pa.array(values.astype("string"), from_pandas=True)
    return pa.table(columns)


def _safe_text(table: pa.Table) -> pa.Table:
    """Quote-prefix text cells that would start a formula; carriage returns become line feeds."""
    risky_start = "^[" + "".join(re.escape(prefix) for prefix in FORMULA_PREFIXES) + "]"
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        risky = pc.fill_null(pc.match_substring_regex(column, risky_start), False)
        if pc.any(risky).as_py():
            quote, empty = pa.scalar("'", column.type), pa.scalar("", column.type)
            column = pc.if_else(risky, pc.binary_join_element_wise(quote, column, empty), column)
        if pc.any(pc.match_substring(column, "\r")).as_py():
            column = pc.replace_substring(pc.replace_substring(column, "\r\n", "\n"), "\r", "\n")
        table = table.set_column(i, name, column)
    return table


def neutralised_lines(lines: ir.Table) -> ir.Table:
    """The same expression with text cells that cannot start a spreadsheet formula.

    As for every CSV this package writes: text that starts with one of
    :data:`FORMULA_PREFIXES` gets a leading ``'`` and carriage returns become line feeds, on
    the engine that holds the lines (nothing is brought into Python).

    Parameters
    ----------
    lines : ibis Table
        Lines about to be written as CSV.

    Returns
    -------
    ibis Table
        The same columns, text columns neutralised.
    """
    risky_start = "^[" + "".join(re.escape(prefix) for prefix in FORMULA_PREFIXES) + "]"
    columns = {}
    for name, dtype in lines.schema().items():
        value = lines[name]
        if dtype.is_string():
            value = ibis.ifelse(value.re_search(risky_start).fill_null(False), "'" + value, value)
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        columns[name] = value
    return lines.select(**columns)


def _write_csv(table: pa.Table) -> bytes:
    """CSV bytes of an Arrow table, written by DuckDB (fields quoted only when needed)."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="rfm-csv-") as folder:
        path = Path(folder) / "table.csv"
        connection = duckdb.connect()
        try:
            connection.from_arrow(table).write_csv(str(path), header=True)
        finally:
            connection.close()
        return path.read_bytes()


def labeled_csv(table: pd.DataFrame) -> bytes:
    """Return the labeled customers as CSV (as :func:`rfm_csv` writes it).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`rfm_core.segments.segmentation.labeled_customers`.

    Returns
    -------
    bytes
        The CSV file: what ``python -m rfm_core segment`` writes.
    """
    return rfm_csv(table)


def cleaned_lines_csv(result: RfmPipelineResult) -> bytes:
    """Return the kept transaction lines (canonical columns) as UTF-8 CSV, text neutralised.

    Parameters
    ----------
    result : RfmPipelineResult
        An in-memory run (its kept lines).

    Returns
    -------
    bytes
        The CSV file, without the internal ``row_id``.
    """
    return _write_csv(_safe_text(result.cleaning.transactions.drop_columns(["row_id"])))


def cleaning_report_dict(result: RfmPipelineResult) -> dict[str, Any]:
    """Return a JSON-ready account of what was read, removed and kept.

    Parameters
    ----------
    result : RfmPipelineResult
        An in-memory run.

    Returns
    -------
    dict
        ``file, dataset_id, engine, mapping, date_format, rules, rows_in, rows_kept,
        rows_removed`` (by reason, reasons that removed rows only), ``customers_lost`` (by
        reason, reasons that lost customers only; see
        :func:`rfm_core.lines.cleaning.customers_lost`), ``customers,
        reference_date, warnings``.
    """
    cleaning = result.cleaning
    return {
        "file": result.transactions.file_name,
        "dataset_id": result.transactions.dataset_id,
        "engine": "memory",
        "mapping": result.transactions.mapping.as_dict(),
        "date_format": result.transactions.dates.format,
        **_account(cleaning.rules, cleaning.report, cleaning.n_in, cleaning.n_kept, result.rfm),
        "warnings": list(result.warnings),
    }


def engine_report_dict(run: EngineRun) -> dict[str, Any]:
    """The account of :func:`cleaning_report_dict` for a run on an engine.

    Parameters
    ----------
    run : EngineRun
        :func:`rfm_core.customers.engine.rfm_on_engine`.

    Returns
    -------
    dict
        ``file, dataset_id, engine, mapping, date_format, rules, rows_in, rows_kept,
        rows_removed`` (by reason, reasons that removed rows only), ``customers_lost`` (by
        reason, reasons that lost customers only; see
        :func:`rfm_core.lines.cleaning.customers_lost`), ``customers,
        reference_date, warnings``. ``dataset_id`` is None (the engine read no bytes here).
    """
    return {
        "file": run.name,
        "dataset_id": None,
        "engine": run.engine,
        "mapping": run.mapping.as_dict(),
        "date_format": "native",
        **_account(run.rules, run.report, run.n_in, run.n_kept, run.rfm),
        "warnings": list(run.warnings),
    }


def _account(rules, report: pd.DataFrame, n_in: int, n_kept: int, rfm) -> dict[str, Any]:
    settings = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in vars(rules).items()
    }
    return {
        "rules": json.loads(json.dumps(settings, default=list)),
        "rows_in": n_in,
        "rows_kept": n_kept,
        "rows_removed": {row.reason: int(row.rows) for row in report.itertuples() if row.rows},
        "customers_lost": {
            row.reason: int(row.customers) for row in report.itertuples() if row.customers
        },
        "customers": rfm.n_customers,
        "reference_date": rfm.reference_date.isoformat(),
    }


def scores_report_dict(
    edges: dict[str, tuple[float, ...] | None], binning: ScoreBinning | None = None
) -> dict[str, Any]:
    """Return a JSON-ready account of how the R, F and M scores were cut.

    Parameters
    ----------
    edges : dict
        The score edges (``Scoring.edges`` of :func:`rfm_core.customers.scores.rescore`, or
        :func:`rfm_core.customers.rfm.score_edges`).
    binning : ScoreBinning, optional
        The binning they come from (default: quantiles).

    Returns
    -------
    dict
        ``binning`` (as ``--score-edges`` reads it) and ``in_words``, ``cut_points`` (days,
        orders and money, each belonging to the better score: when they increase, a file of
        them fixes these scores for another run) and ``levels`` ("R 5: last purchase within
        12 days", …).
    """
    binning = binning or ScoreBinning()
    levels = describe_scores(edges)
    return {
        "binning": binning.to_dict(),
        "in_words": binning.describe(),
        "cut_points": {
            feature: [int(v) if float(v).is_integer() else v for v in values]
            for feature, values in cut_points(edges).items()
        },
        "levels": [f"{row.score}: {row.meaning}" for row in levels.itertuples(index=False)],
    }


def segmentation_report_dict(
    segmentation: SegmentationResult,
    anomalies: AnomalyResult | None = None,
    classifier: ClassifierReport | None = None,
) -> dict[str, Any]:
    """Return a JSON-ready account of the segments, the k sweep and the anomaly flags.

    Parameters
    ----------
    segmentation : SegmentationResult
        The fitted segments.
    anomalies : AnomalyResult, optional
        The detector's flags.
    classifier : ClassifierReport, optional
        The classifier that imitates the detector.

    Returns
    -------
    dict
        ``method, settings, n_clusters, segments`` (one entry per cluster), ``notes``,
        ``selection`` (the k sweep, or None when k was given), and ``anomalies`` and
        ``classifier`` when given.
    """
    settings = segmentation.settings
    profile = segmentation.profile
    report: dict[str, Any] = {
        "method": settings.method,
        "settings": json.loads(json.dumps(vars(settings), default=list)),
        "n_clusters": segmentation.n_clusters,
        "segments": [
            {
                "cluster": int(label),
                "name": segmentation.names.get(int(label), str(label)),
                "customers": int(row["customers"]),
                "share_customers": float(row["share_customers"]),
                "share_revenue": float(row["share_revenue"]),
            }
            for label, row in profile.iterrows()
        ],
        "notes": list(segmentation.notes),
        "selection": None,
    }
    selection = segmentation.selection
    if selection is not None:
        table = selection.table.reset_index()
        report["selection"] = {
            "recommended_k": int(selection.recommended_k),
            "reason": selection.reason,
            "silhouette_sampled": bool(selection.silhouette_sampled),
            "table": json.loads(table.to_json(orient="records")),
        }
    if anomalies is not None:
        report["anomalies"] = {
            "method": anomalies.method,
            "flagged": int(anomalies.n_flagged),
            "threshold": float(anomalies.threshold),
        }
    if classifier is not None:
        metrics = classifier.metrics
        report["classifier"] = {
            **{split: json.loads(metrics.loc[split].to_json()) for split in metrics.index},
            "note": classifier.note,
        }
    return report
