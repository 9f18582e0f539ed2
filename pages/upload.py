"""Upload: choose a file (or the demo), a sheet, and check which column plays which role."""

import streamlit as st

from ui import components
from ui.cache import preview_for
from ui.components import EMPTY_CELL, current_pipeline, safe_md, user_errors
from ui.data import UPLOAD_TYPES, first_rows, served_files
from ui.labels import DATE_FORMAT_LABELS, DATE_ORDER_LABELS, MAPPING_LABELS, NO_COLUMN
from ui.router import through_app
from ui.state import current_dataset, set_mapping, show_dataset_in_widgets, take_new_upload

through_app()

st.title("Upload transactions")
st.caption(
    "Excel, CSV or Parquet with one row per order line: who bought (customer id), when, "
    "and what was paid (quantity × unit price, or an amount). Column names can be anything."
)

left, right = st.columns([3, 1])
with left:
    upload = st.file_uploader("Transaction log", type=UPLOAD_TYPES, key="upload")
with right:
    st.write("")
    if st.button("Use demo data", key="use_demo", help="A generated log with known segments"):
        with user_errors():
            components.open_demo()
        st.rerun()  # the sidebar, drawn before this page, names the current file

if upload is not None and take_new_upload(upload.file_id):
    with user_errors(), st.spinner(f"Reading {safe_md(upload.name)}…"):
        components.open_file(upload.getvalue(), upload.name)
    st.rerun()  # the sidebar, drawn before this page, names the current file

served = served_files()
if served:
    with st.expander(f"Larger files: the server's data folder ({len(served)} files)"):
        st.caption(
            "Files beyond the upload limit are placed in the server's data folder "
            "(RFM_DATA_DIR) and processed there by DuckDB, without loading every row."
        )
        names = {f.name: f for f in served}
        picked = st.selectbox(
            "File", list(names), key="folder_file",
            format_func=lambda n: f"{n} ({names[n].size / 2**20:,.1f} MB)",
        )  # fmt: skip
        if st.button("Open this file", key="open_folder_file"):
            with user_errors(), st.spinner(f"Reading the first rows of {safe_md(picked)}…"):
                components.open_folder_file(names[picked])
            st.rerun()
dataset = current_dataset()
with user_errors():
    loaded = preview_for(dataset)
show_dataset_in_widgets(dataset, loaded)

if len(loaded.sheet_names) > 1:
    sheet = st.selectbox("Sheet", loaded.sheet_names, key="sheet")
    if sheet != dataset.sheet:
        with user_errors():
            components.select_sheet(dataset, sheet)
        st.rerun()

shape = f"{loaded.n_rows:,} rows × {len(loaded.columns)} columns"
if dataset.in_folder:
    st.subheader(f"{safe_md(loaded.file_name)}: first {shape}")
    st.caption("A file of the server's data folder: counted and cleaned by DuckDB in place.")
else:
    st.subheader(f"{safe_md(loaded.file_name)}: {shape}")
st.dataframe(first_rows(loaded), key="preview", placeholder=EMPTY_CELL)  # the file's headers

st.subheader("Columns")
with st.form("mapping_form"):
    cols = st.columns(4)
    chosen = {}
    for i, (role, label) in enumerate(MAPPING_LABELS.items()):
        chosen[role] = cols[i % 4].selectbox(label, [NO_COLUMN, *loaded.columns], key=f"map_{role}")
    date_order = st.radio(
        "Date order", list(DATE_ORDER_LABELS), format_func=DATE_ORDER_LABELS.get,
        horizontal=True, key="date_order",
    )  # fmt: skip
    if st.form_submit_button("Apply mapping"):
        set_mapping(dataset, chosen, date_order)

result = current_pipeline()
if result.dates_ambiguous:
    st.warning(
        "Every date fits both day-first and month-first order; they were read "
        f"{'day first' if result.date_format == 'dayfirst' else 'month first'}. "
        "Choose the date order above if that is wrong.",
        icon=":material/calendar_month:",
    )
dates = DATE_FORMAT_LABELS.get(result.date_format, result.date_format)
st.success(
    f"Mapped: {result.n_in:,} lines → {result.rfm.n_customers:,} customers "
    f"after cleaning (dates read {dates})."
)
st.page_link(
    "pages/cleaning.py", label="Next: review the cleaning", icon=":material/cleaning_services:"
)
