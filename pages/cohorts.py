"""Cohorts: do new customers come back? Retention of each month's new customers."""

import streamlit as st

from ui.charts.trends import cohort_heatmap
from ui.components import cached, current_pipeline, show_frame
from ui.exports import rfm_csv
from ui.formats import kind_columns
from ui.labels import COHORT_MEASURE_LABELS
from ui.router import through_app
from ui.trends import cohort_table, cohorts_for

through_app()

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
    list(COHORT_MEASURE_LABELS),
    horizontal=True,
    key="cohort_measure",
    format_func=COHORT_MEASURE_LABELS.get,
)
share = measure == "share"
next_month = cohorts.retention(1)
a, b, c = st.columns(3)
a.metric("Cohorts", f"{len(cohorts.sizes):,}")
b.metric("Customers", f"{int(cohorts.sizes.sum()):,}")
c.metric("Back in the next month", "–" if next_month is None else f"{next_month:.1%}")
matrix = cohorts.share if share else cohorts.counts
st.plotly_chart(cohort_heatmap(matrix, share=share), key="cohort_heatmap")

table = cohort_table(cohorts, share=share)  # one row per month of data: small
months = kind_columns(table.columns[1:], "share" if share else "count")
show_frame(table, key="cohort_table", overrides=months)
st.download_button(
    "Download the cohort table (CSV)",
    lambda: rfm_csv(table),
    file_name=f"cohorts_{measure}.csv",
    mime="text/csv",
    on_click="ignore",
    key="download_cohorts",
)
