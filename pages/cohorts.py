"""Cohorts: do new customers come back? Retention of each month's new customers."""

import pandas as pd
import streamlit as st

from rfm_core.outputs.export import rfm_csv
from ui.components import cached, current_pipeline
from ui.trend_charts import cohort_heatmap
from ui.trends import cohorts_for

st.title("Cohorts")
current_pipeline()
cohorts = cached(cohorts_for)
st.caption(
    "A cohort is the customers whose first order fell in that month. Each cell: how many of them "
    "ordered again n months later (month 0 is the first month: 100%). Cells after the end of the "
    "data are empty."
)
measure = st.radio(
    "Cells show",
    ["share", "customers"],
    horizontal=True,
    key="cohort_measure",
    format_func={"share": "share of the cohort", "customers": "customers"}.get,
)
share = measure == "share"
matrix = cohorts.share if share else cohorts.counts

# month-1 retention over the cohorts that have a month 1 in the data
observed = cohorts.counts[1].notna() if 1 in cohorts.counts.columns else pd.Series(dtype=bool)
month_one = (
    cohorts.counts.loc[observed, 1].sum() / cohorts.sizes[observed].sum()
    if observed.any()
    else None
)
a, b, c = st.columns(3)
a.metric("Cohorts", f"{len(cohorts.sizes):,}")
b.metric("Customers", f"{int(cohorts.sizes.sum()):,}")
c.metric("Back in the next month", "–" if month_one is None else f"{month_one:.1%}")
st.plotly_chart(cohort_heatmap(matrix, share=share), key="cohort_heatmap")

table = matrix.copy()
table.insert(0, "customers", cohorts.sizes)
table.columns = [str(c) for c in table.columns]
cell = st.column_config.NumberColumn(format="percent" if share else "%d")
st.dataframe(  # one row per month of data: small
    table, key="cohort_table", column_config={c: cell for c in table.columns[1:]}
)
st.download_button(
    "Download the cohort table (CSV)",
    lambda: rfm_csv(table),
    file_name=f"cohorts_{measure}.csv",
    mime="text/csv",
    key="download_cohorts",
)
