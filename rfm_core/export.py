"""Files the user takes away: the RFM table as CSV, the cleaning report as JSON.

These functions return bytes or text; writing them to disk is the caller's business.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from rfm_core.pipeline import RfmPipelineResult

__all__ = ["cleaned_lines_csv", "cleaning_report_dict", "rfm_csv"]


def rfm_csv(table: pd.DataFrame) -> bytes:
    """Return the per-customer table as UTF-8 CSV, ``customer_id`` first.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by ``customer_id`` (e.g. :attr:`rfm_core.rfm.RfmResult.table`).
    """
    return table.reset_index().to_csv(index=False, lineterminator="\n").encode("utf-8")


def cleaned_lines_csv(result: RfmPipelineResult) -> bytes:
    """Return the kept transaction lines (canonical columns) as UTF-8 CSV."""
    lines = result.cleaning.transactions.drop_columns(["row_id"]).to_pandas()
    return lines.to_csv(index=False, lineterminator="\n").encode("utf-8")


def cleaning_report_dict(result: RfmPipelineResult) -> dict[str, Any]:
    """Return a JSON-ready account of what was read, removed and kept."""
    cleaning, rfm = result.cleaning, result.rfm
    rules = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in vars(cleaning.rules).items()
    }
    return {
        "file": result.transactions.file_name,
        "dataset_id": result.transactions.dataset_id,
        "mapping": result.transactions.mapping.as_dict(),
        "date_format": result.transactions.dates.format,
        "rules": json.loads(json.dumps(rules, default=list)),
        "rows_in": cleaning.n_in,
        "rows_kept": cleaning.n_kept,
        "rows_removed": {
            row.reason: int(row.rows) for row in cleaning.report.itertuples() if row.rows
        },
        "customers": rfm.n_customers,
        "reference_date": rfm.reference_date.isoformat(),
        "warnings": list(result.warnings),
    }
