"""RFM: the per-customer table, its distributions, the R × F grid, segments and RFM sliders."""

import pandas as pd
import plotly.express as px
import streamlit as st

from rfm_core.export import rfm_csv
from rfm_core.rfm import DEFAULT_SEGMENTS
from ui.charts import distribution_figures
from ui.components import current_pipeline, show_frame, show_warnings

st.title("Recency, Frequency, Monetary")
result = current_pipeline()
rfm = result.rfm
table = rfm.table
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
s1, s2, s3 = st.columns(3)
r_max = int(table["recency"].max())
f_max = int(table["frequency"].max())
m_min, m_max = float(table["monetary"].min()), float(table["monetary"].max())
recency = s1.slider("Recency (days)", 0, max(r_max, 1), (0, max(r_max, 1)), key="slider_r")
frequency = s2.slider("Frequency (orders)", 1, max(f_max, 2), (1, max(f_max, 2)), key="slider_f")
monetary = s3.slider("Monetary", m_min, max(m_max, m_min + 1), (m_min, max(m_max, m_min + 1)),
                     key="slider_m")  # fmt: skip
mask = (
    table["recency"].between(*recency)
    & table["frequency"].between(*frequency)
    & table["monetary"].between(*monetary)
)
selected = table[mask]
st.metric(
    "Customers in range",
    f"{len(selected):,} of {len(table):,}",
    f"{selected['monetary'].sum() / max(table['monetary'].sum(), 1e-9):.1%} of revenue",
    delta_color="off",
)
show_frame(selected.sort_values("monetary", ascending=False), key="rfm_table")
st.download_button(
    "Download RFM table (CSV)", lambda: rfm_csv(table), file_name="rfm_customers.csv",
    mime="text/csv", key="download_rfm",
)  # fmt: skip
st.download_button(
    "Download the customers in range (CSV)", lambda: rfm_csv(selected),
    file_name="rfm_customers_selected.csv", mime="text/csv", key="download_rfm_selected",
)  # fmt: skip

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
heat = px.imshow(grid, text_auto=True, color_continuous_scale="Blues", aspect="auto",
                 labels={"x": "R score (5 = most recent)", "y": "F score (5 = most orders)",
                         "color": "customers"})  # fmt: skip
heat.update_layout(height=360, margin={"t": 20, "b": 10})
heat.update_xaxes(type="category")
heat.update_yaxes(type="category")
st.plotly_chart(heat, key="rf_heatmap")

st.subheader("Rule-based segments")
segments = (
    table.groupby("rfm_segment", observed=True)
    .agg(customers=("recency", "size"), revenue=("monetary", "sum"),
         recency=("recency", "median"), frequency=("frequency", "median"))
    .reset_index()
)  # fmt: skip
by = st.radio("Size by", ["customers", "revenue"], horizontal=True, key="treemap_by")
treemap = px.treemap(segments, path=["rfm_segment"], values=by, color="recency",
                     color_continuous_scale="RdYlGn_r",
                     hover_data={"customers": True, "revenue": ":,.0f"})  # fmt: skip
treemap.update_layout(height=420, margin={"t": 10, "b": 10})
st.plotly_chart(treemap, key="treemap")
definitions = {rule.name: rule for rule in DEFAULT_SEGMENTS}
segments["definition"] = segments["rfm_segment"].map(
    lambda n: (
        f"R {definitions[n].r[0]}–{definitions[n].r[1]}, "
        f"F {definitions[n].f[0]}–{definitions[n].f[1]}: {definitions[n].description}"
        if n in definitions
        else ""
    )
)
st.dataframe(segments, hide_index=True, key="segment_table")
