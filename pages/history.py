"""Segment history: who moved since the last run of the same model, and each customer's path."""

import streamlit as st

from ui.components import safe_md, show_frame
from ui.exports import rfm_csv
from ui.labels import HISTORY_BY_LABELS
from ui.router import through_app
from ui.runs import changes_for, customer_path, history_for, open_run_id, run_choices, runs_table

through_app()

st.title("Segment history")
st.caption(
    "Runs of the same model (a fit and the scheduled scores with its saved model) are compared "
    "in the order they were published: each customer's segment, the one before it, and since "
    "when."
)
table = runs_table()
if table.empty:
    st.info("Nothing has been published yet.", icon=":material/info:")
    st.stop()
choices = run_choices(table)
current = open_run_id()
a, b = st.columns([2, 1])
run_id = a.selectbox(
    "Run", list(choices), index=list(choices).index(current) if current in choices else 0,
    format_func=choices.get, key="history_run",
)  # fmt: skip
by = b.radio(
    "Segments", list(HISTORY_BY_LABELS), format_func=HISTORY_BY_LABELS.get, key="history_by"
)

changes = changes_for(run_id, by)
st.subheader("Changes since the last run")
if changes.previous is None:
    st.info("This is the first run of its model: there is nothing to compare yet.")
else:
    before = changes.previous
    st.caption(
        f"Compared with {safe_md(before['name'])} of {before['published_at']:%Y-%m-%d %H:%M} "
        "UTC. Moved: another segment; new: not in that run; gone: not in this one."
    )
    moved = changes.table
    targets = st.multiselect(
        "Moved to (empty = any segment)", sorted(moved["segment"].dropna().unique()),
        key="history_targets",
    )  # fmt: skip
    if targets:
        moved = moved[moved["segment"].isin(targets)]
    a, b, c = st.columns(3)
    for column, change in zip((a, b, c), ("moved", "new", "gone"), strict=True):
        column.metric(change.capitalize(), f"{int((moved['change'] == change).sum()):,}")
    show_frame(moved, key="changes_table", hide_index=True)
    st.download_button(
        "Changes since the last run (CSV)", lambda: rfm_csv(moved.set_index("customer_id")),
        file_name="segment_changes.csv", mime="text/csv", on_click="ignore", key="download_changes",
    )  # fmt: skip

st.subheader("Every customer: segment, previous segment, since")
history = history_for(run_id, by)
show_frame(history, key="history_table")
st.download_button(
    "Segment history (CSV)", lambda: rfm_csv(history), file_name="segment_history.csv",
    mime="text/csv", on_click="ignore", key="download_history",
)  # fmt: skip
customer = st.text_input("One customer's path", key="history_customer", placeholder="customer id")
if customer.strip():
    path = customer_path(run_id, customer.strip(), by)
    if path.empty:
        st.warning(f"No customer {safe_md(repr(customer.strip()))} in the runs of this model.")
    else:
        st.dataframe(path, hide_index=True, key="customer_path")
