"""Published runs: what the team published, newest first; open one read-only."""

import streamlit as st

from ui.components import show_frame, user_errors
from ui.router import through_app
from ui.runs import open_run_id, open_run_view, run_choices, run_link, runs_table

through_app()

st.title("Published runs")
st.caption(
    "Runs an analyst published from the Export page or a scheduled job (`score --publish`). "
    "Opening one shows its customers, segments and flags read-only, without the raw file."
)
table = runs_table()
if table.empty:
    st.info("Nothing has been published yet.", icon=":material/info:")
    st.stop()
show_frame(table, key="runs_table")

choices = run_choices(table)
current = open_run_id()
picked = st.selectbox(
    "Run", list(choices), index=list(choices).index(current) if current in choices else 0,
    format_func=choices.get, key="run_pick",
)  # fmt: skip
if st.button("Open this run", key="open_run", type="primary", icon=":material/open_in_new:"):
    with user_errors():
        open_run_view(picked, go=True)
    st.rerun()  # the navigation of a run is built on the next run, which goes to its Overview
st.caption("Its address, to share (whoever opens it logs in first):")
st.code(run_link(picked), language=None)
