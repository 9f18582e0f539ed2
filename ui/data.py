"""What the Upload and Cleaning pages show of a file: its first rows, the server's data folder,
the countries to filter on, the removal report and the kept lines."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow.compute as pc
import streamlit as st

from rfm_core.customers.result import CustomerRun
from rfm_core.ingest.folder import FolderFile, list_folder
from rfm_core.ingest.io import SUPPORTED_SUFFIXES, LoadedTable
from rfm_core.labels import REASON_LABELS, column_label
from rfm_core.lines.cleaning import duplicate_warnings
from rfm_core.outputs.export import cleaned_lines_csv
from ui.access import is_analyst
from ui.cache import folder_values
from ui.components import PREVIEW_ROWS, ensure_dataset, user_errors
from ui.state import data_folder

__all__ = [
    "REMOVAL_COLUMNS",
    "UPLOAD_TYPES",
    "cleaned_csv",
    "cleaning_metrics",
    "country_choices",
    "date_span",
    "duplicate_note",
    "first_rows",
    "kept_lines_preview",
    "other_warnings",
    "removal_table",
    "served_files",
]

UPLOAD_TYPES = [suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES]


def served_files() -> list[FolderFile]:
    """The files of the server's data folder (none when it does not exist); analysts only."""
    if not is_analyst():
        return []
    return list_folder(data_folder())


def first_rows(loaded: LoadedTable) -> pd.DataFrame:
    """The first :data:`ui.components.PREVIEW_ROWS` rows of a file, as read."""
    return loaded.table.slice(0, PREVIEW_ROWS).to_pandas()


def country_choices(result: CustomerRun) -> list[str]:
    """The countries of the file, sorted (read again by DuckDB when the lines stay there)."""
    if result.lines is None:
        dataset = ensure_dataset()
        with user_errors():
            return folder_values(dataset.file_name, dataset.dataset_id, dataset.mapping, "country")
    return sorted(result.lines.column("country").drop_null().unique().to_pylist())


REMOVAL_COLUMNS = {  # how the removal table is shown: the reason in words, its share in percent
    "reason": None,
    "rows": st.column_config.NumberColumn("Rows removed", format="%,d"),
    "share": st.column_config.NumberColumn(
        column_label("share"), format="%.2f%%", help="share in CSV downloads, in percent"
    ),
    "customers": st.column_config.NumberColumn(
        "Customers lost",
        format="%,d",
        help="Customers with no purchase left, counted under the reason that removed most of "
        "their rows",
    ),
}


def removal_table(result: CustomerRun) -> pd.DataFrame:
    """The reasons that removed rows or lost customers, in words (``cleaning_rule``; the code
    stays in ``reason``), with the share in percent (shown with two decimals) and the customers
    lost under each (:func:`rfm_core.lines.cleaning.customers_lost`)."""
    report = result.report
    acted = report[(report["rows"] > 0) | (report["customers"] > 0)]
    table = acted.assign(share=acted["share"] * 100).reset_index(drop=True)
    table.insert(0, "cleaning_rule", table["reason"].map(lambda r: REASON_LABELS.get(r, r)))
    return table


def cleaning_metrics(result: CustomerRun) -> list[tuple[str, str, str | None]]:
    """The headline numbers of the Cleaning page as ``(label, value, help)``: rows read, kept
    and removed (a plain count, never a negative delta), customers kept and lost."""
    lost = int(result.report["customers"].sum())
    return [
        ("Rows read", f"{result.n_in:,}", None),
        ("Rows kept", f"{result.n_kept:,}", None),
        ("Rows removed", f"{result.n_in - result.n_kept:,}", None),
        ("Customers", f"{result.rfm.n_customers:,}", "Customers with a kept purchase"),
        ("Customers lost", f"{lost:,}", "Customers whose every purchase line was removed"),
    ]


def date_span(result: CustomerRun) -> tuple[dt.date, dt.date]:
    """The first and last date of the file: of every line read when they are in memory, of
    the kept purchases when they stay on the engine (today's date when nothing is known)."""
    if result.transactions is not None:
        bounds = pc.min_max(result.transactions.table.column("timestamp")).as_py()
        if bounds["min"] is not None:
            return bounds["min"].date(), bounds["max"].date()
    table = result.rfm.table
    if len(table):
        return table["first_purchase"].min(), table["last_purchase"].max()
    today = dt.date.today()
    return today, today


def duplicate_note(result: CustomerRun) -> str | None:
    """The warning that exact copies may be real repeat orders (a file without invoice
    numbers), shown beside the switch that keeps them; None when it does not apply."""
    notes = duplicate_warnings(result.report, result.mapping)
    return notes[0] if notes else None


def other_warnings(result: CustomerRun) -> tuple[str, ...]:
    """The run's warnings without :func:`duplicate_note` (shown beside its switch)."""
    note = duplicate_note(result)
    return tuple(w for w in result.warnings if w != note)


def kept_lines_preview(result: CustomerRun) -> pd.DataFrame | None:
    """The first kept lines, or None when they stay on the engine."""
    if result.lines is None:
        return None
    return result.lines.slice(0, PREVIEW_ROWS).drop_columns(["row_id"]).to_pandas()


def cleaned_csv(result: CustomerRun) -> bytes:
    """Every kept line as CSV (:func:`rfm_core.outputs.export.cleaned_lines_csv`)."""
    return cleaned_lines_csv(result)
