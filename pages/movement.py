"""Movement: each customer's segment at two dates, the flows between them, who slipped."""

import streamlit as st

from rfm_core.customers.migration import default_dates
from rfm_core.outputs.export import rfm_csv
from ui.components import (
    cached,
    current_pipeline,
    current_segmentation_result,
    show_frame,
    show_notes,
)
from ui.state import (
    current_anomaly_settings,
    current_segmentation,
    current_segments,
    segment_renames,
)
from ui.trend_charts import sankey_figure, transition_heatmap
from ui.trends import migration_for, span_for

BY = {"rule": "Rule segments", "cluster": "Clusters (the fitted model of the Segments page)"}

st.title("Movement between segments")
current_pipeline()
first, last = cached(span_for)
default_from, default_to = default_dates(first, last)
for key in ("move_from", "move_to"):
    kept = st.session_state.get(key)
    if kept is not None and not first <= kept <= last:
        del st.session_state[key]  # a date of another file: back to the default
a, b = st.columns(2)
date_from = a.date_input(
    "From", value=default_from, min_value=first, max_value=last, key="move_from"
)
date_to = b.date_input("To", value=default_to, min_value=first, max_value=last, key="move_to")
st.caption(
    "Each date's segments use only the lines dated up to it (included): recency is counted from "
    "that date and scores rank the customers known then. Worse means a segment further down the "
    "rule table (Champions … Lost), or a higher cluster number."
)
by = st.radio("Segments", list(BY), format_func=BY.get, horizontal=True, key="move_by")
settings = anomaly_settings = None
names: dict = {}
if by == "cluster":
    segmentation = current_segmentation_result()
    settings, anomaly_settings = current_segmentation(), current_anomaly_settings()
    names = {**segmentation.names, **segment_renames()}
with st.spinner("Computing the segments at both dates…"):
    moves = cached(
        migration_for, current_segments(), date_from, date_to, settings, anomaly_settings
    )
show_notes(moves.notes)

customers = moves.customers
if by == "cluster":

    def label(value):
        return f"{value}: {names.get(value, value)}" if value in names else value

    counts = moves.cluster_counts.rename(index=label, columns=label)
    revenue = moves.cluster_revenue.rename(index=label, columns=label)
    worse = customers[customers["cluster_moved"] == "worse"]
else:
    counts, revenue, worse = moves.counts, moves.revenue, moves.worse
new, lapsed = moves.new_customers, moves.lapsed

a, b, c, d, e = st.columns(5)
a.metric(f"Customers on {date_from}", f"{len(customers) - len(new):,}")
b.metric(f"Customers on {date_to}", f"{len(customers):,}")
c.metric("New customers", f"{len(new):,}")
d.metric("Moved to a worse segment", f"{len(worse):,}")
e.metric("Lapsed (no purchase since)", f"{len(lapsed):,}")

st.plotly_chart(sankey_figure(counts, date_from=date_from, date_to=date_to), key="sankey")
st.subheader("Transition matrix")
measure = st.radio(
    "Cells show",
    ["customers", "revenue"],
    horizontal=True,
    key="move_measure",
    help="revenue: the customers' monetary value on the later date",
)
matrix = counts if measure == "customers" else revenue
st.plotly_chart(transition_heatmap(matrix, measure=measure), key="transition_heatmap")

st.subheader("Who moved")
tabs = st.tabs(["Moved to a worse segment", "New customers", "Lapsed", "Everyone"])
lists = (
    (worse, "movers_worse.csv", "download_worse"),
    (new, "movers_new.csv", "download_new"),
    (lapsed, "movers_lapsed.csv", "download_lapsed"),
    (customers, "transitions.csv", "download_transitions"),
)
for tab, (frame, file_name, key) in zip(tabs, lists, strict=True):
    with tab:
        st.caption(f"{len(frame):,} customers")
        ordered = frame.sort_values("monetary_to", ascending=False)
        show_frame(ordered, key=f"{key}_table")
        st.download_button(
            f"Download {file_name}",
            lambda frame=ordered: rfm_csv(frame),
            file_name=file_name,
            mime="text/csv",
            key=key,
        )
