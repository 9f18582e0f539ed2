"""What the Upload and Cleaning pages show of a file: its first rows, the server's data folder,
the countries to filter on, the removal report and the kept lines."""

from __future__ import annotations

import pandas as pd

from rfm_core.customers.result import CustomerRun
from rfm_core.ingest.folder import FolderFile, list_folder
from rfm_core.ingest.io import SUPPORTED_SUFFIXES, LoadedTable
from rfm_core.outputs.export import cleaned_lines_csv
from ui.access import is_analyst
from ui.cache import folder_values
from ui.components import PREVIEW_ROWS, ensure_dataset, user_errors
from ui.state import data_folder

__all__ = [
    "UPLOAD_TYPES",
    "cleaned_csv",
    "country_choices",
    "first_rows",
    "kept_lines_preview",
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


def removal_table(result: CustomerRun) -> pd.DataFrame:
    """The removal report with its share in percent (shown with two decimals)."""
    report = result.report
    return report.assign(share=report["share"] * 100)


def kept_lines_preview(result: CustomerRun) -> pd.DataFrame | None:
    """The first kept lines, or None when they stay on the engine."""
    if result.lines is None:
        return None
    return result.lines.slice(0, PREVIEW_ROWS).drop_columns(["row_id"]).to_pandas()


def cleaned_csv(result: CustomerRun) -> bytes:
    """Every kept line as CSV (:func:`rfm_core.outputs.export.cleaned_lines_csv`)."""
    return cleaned_lines_csv(result)
