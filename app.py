"""RFM segmentation dashboard: the router and the sidebar every page shares."""

import streamlit as st

from ui.components import ensure_dataset

st.set_page_config(page_title="RFM segments", page_icon="🛒", layout="wide")

pages = {
    "Data": [
        st.Page("pages/upload.py", title="Upload", icon=":material/upload_file:", default=True),
        st.Page("pages/cleaning.py", title="Cleaning", icon=":material/cleaning_services:"),
    ],
    "Customers": [
        st.Page("pages/overview.py", title="Overview", icon=":material/monitoring:"),
        st.Page("pages/rfm.py", title="RFM", icon=":material/table_chart:"),
        st.Page("pages/movement.py", title="Movement", icon=":material/swap_horiz:"),
        st.Page("pages/cohorts.py", title="Cohorts", icon=":material/grid_on:"),
    ],
    "Segments": [
        st.Page("pages/model_selection.py", title="Model selection", icon=":material/tune:"),
        st.Page("pages/segments.py", title="Segments", icon=":material/groups:"),
        st.Page("pages/projections.py", title="Projections", icon=":material/scatter_plot:"),
        st.Page("pages/anomalies.py", title="Anomalies", icon=":material/crisis_alert:"),
    ],
    "Value": [
        st.Page("pages/clv.py", title="Lifetime value", icon=":material/savings:"),
        st.Page("pages/backtest.py", title="Backtest", icon=":material/fact_check:"),
    ],
    "Export": [
        st.Page("pages/export.py", title="Export & score", icon=":material/download:"),
    ],
}
navigation = st.navigation(pages, expanded=True)  # every page listed: no "View 3 more"

dataset = ensure_dataset()
with st.sidebar:
    st.markdown("**Dataset**")
    st.text(f"{'Demo: ' if dataset.is_demo else ''}{dataset.file_name}")
    if dataset.sheet:
        st.text(f"Sheet: {dataset.sheet}")

navigation.run()
