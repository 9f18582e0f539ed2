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
        st.Page("pages/rfm.py", title="RFM", icon=":material/table_chart:"),
    ],
}
navigation = st.navigation(pages)

dataset = ensure_dataset()
with st.sidebar:
    st.markdown("**Dataset**")
    st.text(f"{'Demo: ' if dataset.is_demo else ''}{dataset.file_name}")
    if dataset.sheet:
        st.text(f"Sheet: {dataset.sheet}")

navigation.run()
