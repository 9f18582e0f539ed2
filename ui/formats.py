"""How tables show their numbers: ``st.column_config`` formats, so that values stay numeric
(sorting and downloads keep the real numbers) while a person reads separators and percents."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

__all__ = [
    "CLASSIFIER_FORMATS",
    "CLEANING_REPORT_FORMATS",
    "KPI_FORMATS",
    "RULE_FORMATS",
    "SHARE_FORMATS",
    "cohort_formats",
    "profile_formats",
]

SHARE_FORMATS = {
    "share_customers": st.column_config.NumberColumn("share of customers", format="percent"),
    "share_revenue": st.column_config.NumberColumn("share of revenue", format="percent"),
    "revenue": st.column_config.NumberColumn(format="%.0f"),
}
KPI_FORMATS = {
    **SHARE_FORMATS,
    "avg_order_value": st.column_config.NumberColumn("average order value", format="%.2f"),
    "orders_per_customer": st.column_config.NumberColumn("orders per customer", format="%.2f"),
    "median_recency": st.column_config.NumberColumn("median recency (days)", format="%.0f"),
}
CLEANING_REPORT_FORMATS = {
    "rows": st.column_config.NumberColumn("rows removed", format="localized"),
    "share": st.column_config.NumberColumn("share of rows %", format="%.2f"),
    "customers": st.column_config.NumberColumn(
        "customers lost",
        format="localized",
        help="Customers with no purchase left, counted under the reason that removed most of "
        "their rows",
    ),
}
RULE_FORMATS = {
    "precision": st.column_config.NumberColumn(format="percent"),
    "recall": st.column_config.NumberColumn(format="percent"),
}
CLASSIFIER_FORMATS = {
    metric: st.column_config.NumberColumn(format="%.3f")
    for metric in ("accuracy", "precision", "recall", "f1")
}


def profile_formats(columns: Iterable[str]) -> dict:
    """Segment profiles: shares in percent, revenue whole, means and medians to one decimal."""
    return {
        **SHARE_FORMATS,
        **{
            column: st.column_config.NumberColumn(format="%.1f")
            for column in columns
            if column.startswith(("mean_", "median_"))
        },
    }


def cohort_formats(columns: Iterable[str], *, share: bool) -> dict:
    """Cohort cells: percent of the cohort, or whole customers."""
    cell = st.column_config.NumberColumn(format="percent" if share else "%d")
    return dict.fromkeys(columns, cell)
