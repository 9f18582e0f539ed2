"""How tables show their numbers: ``st.column_config`` formats, so that values stay numeric
(sorting and downloads keep the real numbers) while a person reads separators and percents."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

__all__ = [
    "BACKTEST_FORMATS",
    "CLASSIFIER_FORMATS",
    "CLEANING_REPORT_FORMATS",
    "CLV_FORMATS",
    "KPI_FORMATS",
    "RULE_FORMATS",
    "SHARE_FORMATS",
    "VALUE_GROUP_FORMATS",
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
CLEANING_REPORT_FORMATS = {"share": st.column_config.NumberColumn("share %", format="%.2f")}
RULE_FORMATS = {
    "precision": st.column_config.NumberColumn(format="percent"),
    "recall": st.column_config.NumberColumn(format="percent"),
}
CLASSIFIER_FORMATS = {
    metric: st.column_config.NumberColumn(format="%.3f")
    for metric in ("accuracy", "precision", "recall", "f1")
}

# lifetime value per customer (rfm_core.customers.clv.ClvResult.customers) and per segment
CLV_FORMATS = {
    "x": st.column_config.NumberColumn("repeat purchase days", format="%d"),
    "t_x_weeks": st.column_config.NumberColumn("weeks to the last purchase", format="%.1f"),
    "T_weeks": st.column_config.NumberColumn("weeks as a customer", format="%.1f"),
    "monetary_value": st.column_config.NumberColumn("mean repeat purchase", format="%.2f"),
    "p_alive": st.column_config.NumberColumn("P(alive)", format="percent"),
    "expected_purchases": st.column_config.NumberColumn("expected purchases", format="%.2f"),
    "expected_avg_value": st.column_config.NumberColumn("expected value", format="%.2f"),
    "clv": st.column_config.NumberColumn("CLV", format="%.2f"),
    "clv_note": st.column_config.TextColumn("note"),
    "clv_sum": st.column_config.NumberColumn("CLV", format="%.0f"),
    "clv_median": st.column_config.NumberColumn("median CLV", format="%.2f"),
    "share_clv": st.column_config.NumberColumn("share of CLV", format="percent"),
    "described": st.column_config.NumberColumn("with a prediction", format="%d"),
    "expected_purchases_sum": st.column_config.NumberColumn("expected purchases", format="%.0f"),
    "expected_purchases_median": st.column_config.NumberColumn(
        "median expected purchases", format="%.2f"
    ),
    "p_alive_median": st.column_config.NumberColumn("median P(alive)", format="percent"),
    "expected_avg_value_median": st.column_config.NumberColumn(
        "median expected value", format="%.2f"
    ),
}
# a backtest: the methods compared (rfm_core.segments.backtest.Backtest.comparison) …
BACKTEST_FORMATS = {
    "best_group": st.column_config.TextColumn("best group"),
    "best_group_share": st.column_config.NumberColumn("its share of customers", format="percent"),
    "repeat_lift": st.column_config.NumberColumn("lift: bought again", format="%.2f×"),
    "revenue_lift": st.column_config.NumberColumn("lift: revenue per customer", format="%.2f×"),
    "concordance": st.column_config.NumberColumn("concordance (decides)", format="percent"),
    "spearman": st.column_config.NumberColumn("Spearman ρ", format="%.3f"),
    "predicted_purchases": st.column_config.NumberColumn("purchases predicted", format="%.0f"),
    "actual_purchases": st.column_config.NumberColumn("purchases made", format="%.0f"),
}
# … and its groups (rfm_core.segments.backtest.Backtest.groups)
VALUE_GROUP_FORMATS = {
    **SHARE_FORMATS,
    "bought_again": st.column_config.NumberColumn("bought again", format="percent"),
    "revenue_per_customer": st.column_config.NumberColumn("revenue per customer", format="%.2f"),
    "purchases_per_customer": st.column_config.NumberColumn(
        "purchases per customer", format="%.2f"
    ),
    "predicted_purchases_per_customer": st.column_config.NumberColumn(
        "predicted purchases", format="%.2f"
    ),
    "predicted_revenue_per_customer": st.column_config.NumberColumn(
        "predicted revenue", format="%.2f"
    ),
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
