"""Cleaning: choose the rules, see what each removed and why, download the kept lines."""

import streamlit as st

from ui import components, data
from ui.charts.cleaning import waterfall_figure
from ui.labels import RETURNS_LABELS
from ui.router import through_app
from ui.state import current_rules, set_rules_from_form

through_app()

st.title("Cleaning")
rules = current_rules()
result = components.current_pipeline()

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
    if (note := data.duplicate_note(result)) is not None:
        left.warning(components.safe_md(note), icon=":material/content_copy:")
    countries = None
    if result.mapping.country is not None:
        all_countries = data.country_choices(result)
        countries = middle.multiselect(
            "Keep only these countries (empty = all)", all_countries,
            default=[c for c in rules.countries or () if c in all_countries], key="rule_countries",
        )  # fmt: skip
    use_window = middle.checkbox(
        "Limit to a date window", value=rules.date_from is not None, key="rule_use_window"
    )
    first_day, last_day = data.date_span(result)
    window = middle.date_input(
        "Date window", value=(rules.date_from or first_day, rules.date_to or last_day),
        key="rule_window",
    )  # fmt: skip
    reference = middle.date_input(
        "Reference date (empty = day after the last purchase)", value=rules.reference_date,
        key="rule_reference",
    )  # fmt: skip
    max_quantity = right.number_input(
        "Cap on |quantity| per line (0 = none)", min_value=0.0, step=1.0, format="%g",
        value=float(rules.max_quantity or 0), key="rule_max_quantity",
    )  # fmt: skip
    max_amount = right.number_input(
        "Cap on |line amount| (0 = none)", min_value=0.0, step=10.0, format="%g",
        value=float(rules.max_line_amount or 0), key="rule_max_amount",
    )  # fmt: skip
    max_z = right.number_input(
        "Drop customers with an R, F or M z-score above (0 = off)", min_value=0.0,
        value=float(rules.max_zscore or 0), step=0.5, format="%g", key="rule_max_z",
    )  # fmt: skip
    if st.form_submit_button("Apply rules"):
        with components.shown_errors(icon=None):
            set_rules_from_form(
                returns=returns, drop_duplicates=drop_duplicates, countries=countries,
                window=window if use_window else None, reference=reference,
                max_quantity=max_quantity, max_line_amount=max_amount, max_zscore=max_z,
            )  # fmt: skip
        st.rerun()

components.show_metrics(data.cleaning_metrics(result))
components.show_warnings(data.other_warnings(result))

removals = data.removal_table(result)
if removals.empty:
    st.success("No rule removed any row.", icon=":material/check:")
else:
    components.show_frame(
        removals, overrides=data.REMOVAL_COLUMNS, hide_index=True, key="cleaning_report"
    )
st.plotly_chart(
    waterfall_figure(result.report, n_in=result.n_in, n_kept=result.n_kept), key="waterfall"
)

kept = data.kept_lines_preview(result)
if kept is None:
    st.info(
        "The kept lines of a data-folder file stay on the server. Export them with the command "
        "line, next to the file: `python -m rfm_core clean FILE --engine duckdb -o "
        "kept.parquet --removed removed.csv` (the removed lines with their reason are optional).",
        icon=":material/info:",
    )
else:
    st.subheader(f"Kept lines (first {len(kept):,})")
    components.show_frame(kept, key="kept", hide_index=True)
    with components.user_errors():
        st.download_button(
            "Download cleaned lines (CSV)", lambda: data.cleaned_csv(result), on_click="ignore",
            file_name="cleaned_transactions.csv", mime="text/csv", key="download_cleaned",
        )  # fmt: skip
st.page_link("pages/rfm.py", label="Next: the RFM table", icon=":material/table_chart:")
