"""RFM segmentation dashboard: the router and the sidebar every page shares."""

import streamlit as st

from ui.access import current_user, show_user, visible_pages
from ui.components import ensure_dataset
from ui.prefetch import warm_up
from ui.router import mark_routed
from ui.runs import follow_link, go_to_opened_run, open_run_id, show_open_run
from ui.state import CURRENCY_KEY, MAX_CURRENCY_CHARS, take_offered_currency

st.set_page_config(page_title="RFM segments", page_icon="🛒", layout="wide")

user = current_user()
if user.role is not None:
    follow_link()  # ?run=<id>: look at a published run, read-only
navigation = st.navigation(visible_pages(user, in_run=open_run_id() is not None), expanded=True)
go_to_opened_run()

with st.sidebar:
    if open_run_id() is not None:
        show_open_run()
    elif user.role == "analyst":
        dataset = ensure_dataset()
        st.markdown("**Dataset**")
        st.text(f"{'Demo: ' if dataset.is_demo else ''}{dataset.file_name}")
        if dataset.sheet:
            st.text(f"Sheet: {dataset.sheet}")
    if user.may_enter:
        take_offered_currency()
        # drawn here, on every page, so that it keeps its value across pages
        st.text_input(
            "Currency", key=CURRENCY_KEY, max_chars=MAX_CURRENCY_CHARS,
            placeholder="none (e.g. £, €, CHF)",
            help="Written before every amount in tables, charts and reports, and saved with the "
            "model bundle. Amounts are never converted.",
        )  # fmt: skip
        show_user(user)

mark_routed()
navigation.run()
warm_up()  # the segments of the session's settings, fitted before a page asks
