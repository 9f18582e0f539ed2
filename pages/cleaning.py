"""Cleaning: choose the rules, see what each removed and why, download the kept lines."""

import datetime as dt

import streamlit as st

from ui.charts.cleaning import waterfall_figure
from ui.components import current_pipeline, show_frame, show_warnings, shown_errors, user_errors
from ui.data import REMOVAL_COLUMNS, cleaned_csv, country_choices, kept_lines_preview, removal_table
from ui.labels import RETURNS_LABELS
from ui.state import current_rules, set_rules_from_form

st.title("Cleaning")
rules = current_rules()
result = current_pipeline()

with st.form("rules_form"):
    st.markdown("**Rules** — every removed row is counted under the first rule that matches it.")
    left, middle, right = st.columns(3)
    returns = left.radio(
        "Cancellations and returns", list(RETURNS_LABELS),
        index=list(RETURNS_LABELS).index(rules.returns), format_func=RETURNS_LABELS.get,
        key="rule_returns",
    )  # fmt: skip
    drop_duplicates = left.checkbox(
        "Drop exact duplicate rows", value=rules.drop_duplicates, key="rule_duplicates"
    )
    countries = None
    if result.mapping.country is not None:
        all_countries = country_choices(result)
        countries = middle.multiselect(
            "Keep only these countries (empty = all)", all_countries,
            default=[c for c in rules.countries or () if c in all_countries], key="rule_countries",
        )  # fmt: skip
    use_window = middle.checkbox(
        "Limit to a date window", value=rules.date_from is not None, key="rule_use_window"
    )
    window = middle.date_input(
        "Date window", value=(rules.date_from or dt.date(2000, 1, 1),
                              rules.date_to or dt.date.today()), key="rule_window",
    )  # fmt: skip
    reference = middle.date_input(
        "Reference date (empty = day after the last purchase)", value=rules.reference_date,
        key="rule_reference",
    )  # fmt: skip
    max_quantity = right.number_input(
        "Cap on |quantity| per line (0 = none)", min_value=0.0,
        value=float(rules.max_quantity or 0), key="rule_max_quantity",
    )  # fmt: skip
    max_amount = right.number_input(
        "Cap on |line amount| (0 = none)", min_value=0.0,
        value=float(rules.max_line_amount or 0), key="rule_max_amount",
    )  # fmt: skip
    max_z = right.number_input(
        "Drop customers with an R, F or M z-score above (0 = off)", min_value=0.0,
        value=float(rules.max_zscore or 0), step=0.5, key="rule_max_z",
    )  # fmt: skip
    if st.form_submit_button("Apply rules"):
        with shown_errors(icon=None):
            set_rules_from_form(
                returns=returns, drop_duplicates=drop_duplicates, countries=countries,
                window=window if use_window else None, reference=reference,
                max_quantity=max_quantity, max_line_amount=max_amount, max_zscore=max_z,
            )  # fmt: skip
        st.rerun()

a, b, c = st.columns(3)
a.metric("Rows read", f"{result.n_in:,}")
n_removed = result.n_in - result.n_kept
b.metric("Rows kept", f"{result.n_kept:,}", f"-{n_removed:,}", delta_color="off")
c.metric("Customers", f"{result.rfm.n_customers:,}")
show_warnings(result.warnings)

show_frame(removal_table(result), overrides=REMOVAL_COLUMNS, hide_index=True, key="cleaning_report")
st.plotly_chart(
    waterfall_figure(result.report, n_in=result.n_in, n_kept=result.n_kept), key="waterfall"
)

kept = kept_lines_preview(result)
if kept is None:
    st.info(
        "The kept lines of a data-folder file stay on the server. Export them with the command "
        "line, next to the file: `python -m rfm_core rfm FILE --engine duckdb -o rfm.csv`.",
        icon=":material/info:",
    )
else:
    st.subheader(f"Kept lines (first {len(kept)})")
    show_frame(kept, key="kept", hide_index=True)
    with user_errors():
        st.download_button(
            "Download cleaned lines (CSV)", lambda: cleaned_csv(result),
            file_name="cleaned_transactions.csv", mime="text/csv", key="download_cleaned",
        )  # fmt: skip
st.page_link("pages/rfm.py", label="Next: the RFM table", icon=":material/table_chart:")
