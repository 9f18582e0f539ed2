"""Upload: choose a file (or the demo), a sheet, and check which column plays which role."""

import streamlit as st

from rfm_core.ingest.folder import list_folder
from rfm_core.ingest.io import SUPPORTED_SUFFIXES
from rfm_core.ingest.schema import OPTIONAL_ROLES, ROLE_LABELS, ROLES
from ui.cache import preview_for
from ui.components import (
    PREVIEW_ROWS,
    current_pipeline,
    open_demo,
    open_file,
    open_folder_file,
    safe_md,
    select_sheet,
    user_errors,
)
from ui.state import Dataset, current_dataset, data_folder, set_dataset

st.title("Upload transactions")
st.caption(
    "Excel, CSV or Parquet with one row per order line: who bought (customer id), when, "
    "and what was paid (quantity × unit price, or an amount). Column names can be anything."
)

left, right = st.columns([3, 1])
with left:
    upload = st.file_uploader(
        "Transaction log", type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES], key="upload"
    )
with right:
    st.write("")
    if st.button("Use demo data", key="use_demo", help="A generated log with known segments"):
        with user_errors():
            open_demo()
        st.rerun()  # the sidebar, drawn before this page, names the current file

if upload is not None and st.session_state.get("opened_upload") != upload.file_id:
    st.session_state["opened_upload"] = upload.file_id
    with user_errors(), st.spinner(f"Reading {safe_md(upload.name)}…"):
        open_file(upload.getvalue(), upload.name)
    st.rerun()  # the sidebar, drawn before this page, names the current file

served = list_folder(data_folder())
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
                open_folder_file(names[picked])
            st.rerun()
dataset = current_dataset()

with user_errors():
    loaded = preview_for(dataset)
mapping = dict(dataset.mapping)
none = "—"
# keyed widgets keep a user's last choice across files, and lose it on other pages: show the
# current dataset's settings whenever the dataset changed or the widget state was dropped
order_labels = {"auto": "detect", "dayfirst": "day first (31/12)",
                "monthfirst": "month first (12/31)"}  # fmt: skip
shown = (dataset.dataset_id, dataset.sheet, dataset.mapping, dataset.date_order)
changed = st.session_state.get("widgets_show") != shown
st.session_state["widgets_show"] = shown
widget_values = {f"map_{role}": mapping.get(role) or none for role in ROLES}
widget_values["date_order"] = dataset.date_order
if len(loaded.sheet_names) > 1:
    widget_values["sheet"] = loaded.sheet
for key, value in widget_values.items():
    if changed or key not in st.session_state:
        st.session_state[key] = value

if len(loaded.sheet_names) > 1:
    sheet = st.selectbox("Sheet", loaded.sheet_names, key="sheet")
    if sheet != dataset.sheet:
        with user_errors():
            select_sheet(dataset, sheet)
        st.rerun()

if dataset.in_folder:
    n_columns = len(loaded.columns)
    st.subheader(f"{safe_md(loaded.file_name)}: first {loaded.n_rows:,} rows × {n_columns} columns")
    st.caption("A file of the server's data folder: counted and cleaned by DuckDB in place.")
else:
    shape = f"{loaded.n_rows:,} rows × {len(loaded.columns)} columns"
    st.subheader(f"{safe_md(loaded.file_name)}: {shape}")
st.dataframe(loaded.table.slice(0, PREVIEW_ROWS).to_pandas(), key="preview")

st.subheader("Columns")
with st.form("mapping_form"):
    cols = st.columns(4)
    chosen = {}
    for i, role in enumerate(ROLES):
        label = ROLE_LABELS[role] + (" (optional)" if role in OPTIONAL_ROLES else "")
        chosen[role] = cols[i % 4].selectbox(label, [none, *loaded.columns], key=f"map_{role}")
    date_order = st.radio(
        "Date order",
        list(order_labels),
        format_func=order_labels.get,
        horizontal=True,
        key="date_order",
    )
    if st.form_submit_button("Apply mapping"):
        explicit = tuple((r, None if c == none else c) for r, c in chosen.items())
        set_dataset(
            Dataset(dataset.dataset_id, dataset.file_name, dataset.sheet, explicit, date_order,
                    dataset.is_demo, dataset.in_folder)
        )  # fmt: skip
        dataset = current_dataset()

result = current_pipeline()
dates = getattr(result, "transactions", None) and result.transactions.dates
if dates and dates.ambiguous:
    st.warning(
        "Every date fits both day-first and month-first order; they were read "
        f"{'day first' if dates.format == 'dayfirst' else 'month first'}. "
        "Choose the date order above if that is wrong.",
        icon=":material/calendar_month:",
    )
st.success(
    f"Mapped: {result.n_in:,} lines → {result.rfm.n_customers:,} customers "
    f"after cleaning (dates read as {result.date_format})."
)
st.page_link(
    "pages/cleaning.py", label="Next: review the cleaning", icon=":material/cleaning_services:"
)
