"""RFM: the per-customer table, its distributions, the R × F grid, segments and RFM sliders."""

import pandas as pd
import plotly.express as px
import streamlit as st

from rfm_core.customers.rfm import (
    segment_summary,
    segments_from_frame,
    segments_to_frame,
    select_range,
)
from rfm_core.errors import SegmentDefinitionError
from rfm_core.outputs.export import rfm_csv
from ui.charts import distribution_figures, escaped
from ui.components import (
    MAX_TABLE_ROWS,
    current_customers,
    current_pipeline,
    log_spaced_stops,
    safe_md,
    show_frame,
    show_warnings,
)
from ui.state import current_segments, set_segments

st.title("Recency, Frequency, Monetary")
result = current_pipeline()
rfm = result.rfm
segments = current_segments()
table = current_customers()
show_warnings(rfm.warnings)

a, b, c, d = st.columns(4)
a.metric("Customers", f"{rfm.n_customers:,}")
b.metric("Reference date", rfm.reference_date.isoformat())
c.metric("Median recency (days)", f"{table['recency'].median():,.0f}")
d.metric("Revenue", f"{table['monetary'].sum():,.0f}")
st.caption(
    "Recency: days from the last purchase to the reference date. Frequency: distinct invoices. "
    "Monetary: sum of kept line amounts. Scores 1–5: 1 + ⌊5 × share of customers with a worse "
    "value⌋, so equal values share a score."
)

st.subheader("Explore with RFM sliders")


@st.fragment
def explore() -> None:
    """The sliders and what they select: moving one reruns this part only, not the page."""
    s1, s2, s3 = st.columns(3)
    r_max = max(int(table["recency"].max()), 1)
    recency = s1.slider("Recency (days)", 0, r_max, (0, r_max), key="slider_r")
    # heavy-tailed features get log-spaced stops, so the common small values stay selectable
    f_stops = log_spaced_stops(table["frequency"], decimals=0)
    frequency = s2.select_slider(
        "Frequency (orders)",
        f_stops,
        (f_stops[0], f_stops[-1]),
        format_func=lambda v: f"{v:,.0f}",
        key="slider_f",
    )
    m_stops = log_spaced_stops(table["monetary"], decimals=2)
    monetary = s3.select_slider(
        "Monetary",
        m_stops,
        (m_stops[0], m_stops[-1]),
        format_func=lambda v: f"{v:,.2f}",
        key="slider_m",
    )
    selected = select_range(
        table, recency=recency, frequency=frequency, monetary=monetary, top=MAX_TABLE_ROWS
    )
    st.metric(
        "Customers in range",
        f"{selected.count:,} of {len(table):,}",
        f"{selected.revenue_share:.1%} of revenue",
        delta_color="off",
    )
    # only the largest rows reach the browser
    show_frame(selected.top, key="rfm_table", total=selected.count)
    st.download_button(
        "Download RFM table (CSV)",
        lambda: rfm_csv(table),
        file_name="rfm_customers.csv",
        mime="text/csv",
        key="download_rfm",
    )
    st.download_button(
        "Download the customers in range (CSV)",
        lambda: rfm_csv(table[selected.mask]),
        file_name="rfm_customers_selected.csv",
        mime="text/csv",
        key="download_rfm_selected",
    )


explore()

st.subheader("Distributions")
log_axis = st.toggle("Log scale for frequency and monetary", value=True, key="log_axis")
columns = st.columns(3)
for column, name in zip(columns, ("recency", "frequency", "monetary"), strict=True):
    log = log_axis and name != "recency"
    hist, box = distribution_figures(table[name], name=name, log=log)
    column.plotly_chart(hist, key=f"hist_{name}")
    column.plotly_chart(box, key=f"box_{name}")

st.subheader("Recency × Frequency scores")
grid = pd.crosstab(table["f_score"], table["r_score"]).reindex(
    index=range(5, 0, -1), columns=range(1, 6), fill_value=0
)
grid.index, grid.columns = grid.index.astype(str), grid.columns.astype(str)
heat = px.imshow(
    grid,
    text_auto=True,
    color_continuous_scale="Blues",
    aspect="auto",
    labels={
        "x": "R score (5 = most recent)",
        "y": "F score (5 = most orders)",
        "color": "customers",
    },
)
heat.update_layout(height=360, margin={"t": 20, "b": 10})
heat.update_xaxes(type="category")
heat.update_yaxes(type="category")
st.plotly_chart(heat, key="rf_heatmap")

st.subheader("Rule-based segments")
summary = segment_summary(table, segments)
by = st.radio("Size by", ["customers", "revenue"], horizontal=True, key="treemap_by")
treemap = px.treemap(
    escaped(summary, ["rfm_segment"]),
    path=["rfm_segment"],
    values=by,
    color="median_recency",
    color_continuous_scale="RdYlGn_r",
    hover_data={"customers": True, "revenue": ":,.0f"},
)
treemap.update_layout(height=420, margin={"t": 10, "b": 10})
st.plotly_chart(treemap, key="treemap")
st.dataframe(
    summary,
    hide_index=True,
    key="segment_table",
    column_config={
        "share_customers": st.column_config.NumberColumn("share of customers", format="percent"),
        "share_revenue": st.column_config.NumberColumn("share of revenue", format="percent"),
        "revenue": st.column_config.NumberColumn(format="%.0f"),
    },
)

with st.expander("Edit the segment rules"):
    st.caption(
        "Each row gives a segment to the customers whose R, F and M scores lie in its ranges "
        "(inclusive). Together the rows must cover every combination of scores exactly once."
    )
    with st.form("segments_form"):
        edited = st.data_editor(
            segments_to_frame(segments),
            num_rows="dynamic",
            hide_index=True,
            key="segments_editor",
        )
        apply, reset = st.columns(2)
        if apply.form_submit_button("Apply segment rules"):
            try:
                set_segments(segments_from_frame(edited))
                st.rerun()
            except SegmentDefinitionError as exc:
                st.error(safe_md(exc), icon=":material/error:")
        if reset.form_submit_button("Restore the default rules"):
            set_segments(None)
            st.rerun()
