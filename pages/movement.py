"""Movement: each customer's segment at two dates, the flows between them, who slipped."""

import streamlit as st

from ui.charts.trends import sankey_figure, transition_heatmap
from ui.components import current_pipeline, show_frame, show_notes
from ui.exports import rfm_csv
from ui.labels import MOVE_BY_LABELS
from ui.router import through_app
from ui.state import current_currency, forget_dates_outside
from ui.trends import movement, movement_dates

through_app()

st.title("Movement between segments")
current_pipeline()
first, last, default_from, default_to = movement_dates()
forget_dates_outside(("move_from", "move_to"), first, last)  # a date of another file: default
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
by = st.radio(
    "Segments", list(MOVE_BY_LABELS), format_func=MOVE_BY_LABELS.get, horizontal=True,
    key="move_by",
)  # fmt: skip
moves = movement(by, date_from, date_to)
show_notes(moves.notes)

a, b, c, d, e = st.columns(5)
a.metric(f"Customers on {date_from}", f"{len(moves.everyone) - len(moves.new):,}")
b.metric(f"Customers on {date_to}", f"{len(moves.everyone):,}")
c.metric("New customers", f"{len(moves.new):,}")
d.metric("Moved to a worse segment", f"{len(moves.worse):,}")
e.metric("Lapsed (no purchase since)", f"{len(moves.lapsed):,}")

st.plotly_chart(sankey_figure(moves.counts, date_from=date_from, date_to=date_to), key="sankey")
st.subheader("Transition matrix")
measure = st.radio(
    "Cells show",
    ["customers", "revenue"],
    horizontal=True,
    key="move_measure",
    help="revenue: the customers' monetary value on the later date",
)
matrix = moves.counts if measure == "customers" else moves.revenue
heatmap = transition_heatmap(matrix, measure=measure, currency=current_currency())
st.plotly_chart(heatmap, key="transition_heatmap")

st.subheader("Who moved")
tabs = st.tabs(["Moved to a worse segment", "New customers", "Lapsed", "Everyone"])
lists = (
    (moves.worse, "movers_worse.csv", "download_worse"),
    (moves.new, "movers_new.csv", "download_new"),
    (moves.lapsed, "movers_lapsed.csv", "download_lapsed"),
    (moves.everyone, "transitions.csv", "download_transitions"),
)
for tab, (frame, file_name, key) in zip(tabs, lists, strict=True):
    with tab:
        st.caption(f"{len(frame):,} customers")
        show_frame(frame, key=f"{key}_table")
        st.download_button(
            f"Download {file_name}",
            lambda frame=frame: rfm_csv(frame),
            file_name=file_name,
            mime="text/csv",
            on_click="ignore",
            key=key,
        )
