"""RFM: the per-customer table, its distributions, the R × F grid, segments and RFM sliders."""

import streamlit as st

from ui import components, forms
from ui.charts.customers import distribution_figures, rule_segment_treemap, score_grid_heatmap
from ui.components import log_spaced_stops, money, show_frame, show_warnings
from ui.customers import (
    SCORE_LEVEL_COLUMNS,
    customers_in_range,
    rule_segment_summary,
    score_levels,
    score_warnings,
    scores_in_words,
)
from ui.exports import rfm_csv
from ui.labels import column_label
from ui.router import through_app
from ui.state import current_currency

through_app()

st.title("Recency, Frequency, Monetary")
rfm = components.current_pipeline().rfm
table = components.current_customers()
currency = current_currency()
show_warnings(score_warnings())
a, b, c, d = st.columns(4)
a.metric("Customers", f"{rfm.n_customers:,}")
b.metric("Reference date", rfm.reference_date.isoformat())
c.metric("Median recency (days)", f"{table['recency'].median():,.0f}")
d.metric("Revenue", money(table["monetary"].sum()))
st.caption(
    "Recency: days from the last purchase to the reference date. Orders: distinct invoices. "
    "Total spend: sum of kept line amounts."
)

st.subheader("Scores")
st.caption(
    f"R, F and M scores 1–5, cut by {scores_in_words()}; equal values share a score. "
    "The scores put every customer in a rule segment."
)
show_frame(score_levels(), overrides=SCORE_LEVEL_COLUMNS, hide_index=True, key="score_levels")
forms.binning_form()  # nothing to change in a published run
st.subheader("Explore with RFM sliders")


@st.fragment
def explore() -> None:
    """The sliders and what they select: moving one reruns this part only, not the page."""
    s1, s2, s3 = st.columns(3)
    r_max = max(int(table["recency"].max()), 1)
    recency = s1.slider(column_label("recency"), 0, r_max, (0, r_max), key="slider_r")
    # heavy-tailed features get log-spaced stops, so the common small values stay selectable
    f_stops = log_spaced_stops(table["frequency"], decimals=0)
    frequency = s2.select_slider(
        column_label("frequency"), f_stops, (f_stops[0], f_stops[-1]),
        format_func=lambda v: f"{v:,.0f}", key="slider_f",
    )  # fmt: skip
    m_stops = log_spaced_stops(table["monetary"], decimals=2)
    monetary = s3.select_slider(
        column_label("monetary"), m_stops, (m_stops[0], m_stops[-1]), key="slider_m",
        format_func=lambda v: money(v, decimals=2),
    )  # fmt: skip
    selected = customers_in_range(table, recency=recency, frequency=frequency, monetary=monetary)
    st.metric(
        "Customers in range", f"{selected.count:,} of {len(table):,}",
        f"{selected.revenue_share:.1%} of revenue", delta_color="off",
    )  # fmt: skip
    show_frame(selected.top, key="rfm_table", total=selected.count)
    st.download_button(
        "Download RFM table (CSV)", lambda: rfm_csv(table), file_name="rfm_customers.csv",
        mime="text/csv", on_click="ignore", key="download_rfm",
    )  # fmt: skip
    st.download_button(
        "Download the customers in range (CSV)", lambda: rfm_csv(table[selected.mask]),
        file_name="rfm_customers_selected.csv", mime="text/csv", on_click="ignore",
        key="download_rfm_selected",
    )  # fmt: skip


explore()

st.subheader("Distributions")
log_axis = st.toggle("Log scale for orders and total spend", value=True, key="log_axis")
for column, name in zip(st.columns(3), ("recency", "frequency", "monetary"), strict=True):
    log = log_axis and name != "recency"
    hist, box = distribution_figures(table[name], name=name, log=log, currency=currency)
    column.plotly_chart(hist, key=f"hist_{name}")
    column.plotly_chart(box, key=f"box_{name}")

st.plotly_chart(score_grid_heatmap(table), key="rf_heatmap")

st.subheader("Rule-based segments")
summary = rule_segment_summary(table)
by = st.radio("Size by", ["customers", "revenue"], horizontal=True, key="treemap_by")
st.plotly_chart(rule_segment_treemap(summary, by=by, currency=currency), key="treemap")
show_frame(summary, hide_index=True, key="segment_table")

forms.segment_rules_form()  # nothing to edit in a published run
