"""Cleaning: choose the rules, see what each removed and why, download the kept lines."""

import datetime as dt

import plotly.graph_objects as go
import streamlit as st

from rfm_core.errors import CleaningError
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.outputs.export import cleaned_lines_csv
from ui.cache import folder_values
from ui.components import PREVIEW_ROWS, current_pipeline, safe_md, show_warnings, user_errors
from ui.state import current_dataset, current_rules, set_rules

st.title("Cleaning")
rules = current_rules()
result = current_pipeline()
lines = result.lines  # None for a data-folder file: its lines stay in DuckDB
has_country = result.mapping.country is not None


def _countries() -> list[str]:
    if lines is None:
        dataset = current_dataset()
        with user_errors():
            return folder_values(dataset.file_name, dataset.dataset_id, dataset.mapping, "country")
    return sorted(lines.column("country").drop_null().unique().to_pylist())


def _optional(value: float) -> float | None:
    return value if value > 0 else None


with st.form("rules_form"):
    st.markdown("**Rules** — every removed row is counted under the first rule that matches it.")
    left, middle, right = st.columns(3)
    returns = left.radio(
        "Cancellations and returns", ["drop", "net"], index=["drop", "net"].index(rules.returns),
        format_func={"drop": "drop them", "net": "net them against purchases"}.get,
        key="rule_returns",
    )  # fmt: skip
    drop_duplicates = left.checkbox(
        "Drop exact duplicate rows", value=rules.drop_duplicates, key="rule_duplicates"
    )
    countries = None
    if has_country:
        all_countries = _countries()
        picked = middle.multiselect(
            "Keep only these countries (empty = all)", all_countries,
            default=[c for c in rules.countries or () if c in all_countries], key="rule_countries",
        )  # fmt: skip
        countries = tuple(picked) or None
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
        date_from = date_to = None
        if use_window and isinstance(window, tuple) and len(window) == 2:
            date_from, date_to = window
        try:
            set_rules(
                CleaningRules(
                    returns=returns, drop_duplicates=drop_duplicates, countries=countries,
                    date_from=date_from, date_to=date_to, max_quantity=_optional(max_quantity),
                    max_line_amount=_optional(max_amount), max_zscore=_optional(max_z),
                    reference_date=reference or None,
                )
            )  # fmt: skip
        except CleaningError as exc:
            st.error(safe_md(exc))
        st.rerun()

a, b, c = st.columns(3)
a.metric("Rows read", f"{result.n_in:,}")
n_removed = result.n_in - result.n_kept
b.metric("Rows kept", f"{result.n_kept:,}", f"-{n_removed:,}", delta_color="off")
c.metric("Customers", f"{result.rfm.n_customers:,}")
show_warnings(result.warnings)

report = result.report
st.dataframe(
    report.assign(share=report["share"] * 100),
    column_config={"share": st.column_config.NumberColumn("share %", format="%.2f")},
    hide_index=True, key="cleaning_report",
)  # fmt: skip

removed = report[report["rows"] > 0]
waterfall = go.Figure(
    go.Waterfall(
        x=["rows read", *removed["reason"], "rows kept"],
        y=[result.n_in, *(-removed["rows"]), result.n_kept],
        measure=["absolute", *["relative"] * len(removed), "total"],
        connector={"line": {"color": "#bbb"}},
    )
)
waterfall.update_layout(title="Where the rows went", height=380, margin={"t": 40, "b": 20})
st.plotly_chart(waterfall, key="waterfall")

if lines is None:
    st.info(
        "The kept lines of a data-folder file stay on the server. Export them with the command "
        "line, next to the file: `python -m rfm_core rfm FILE --engine duckdb -o rfm.csv`.",
        icon=":material/info:",
    )
else:
    st.subheader(f"Kept lines (first {PREVIEW_ROWS})")
    st.dataframe(lines.slice(0, PREVIEW_ROWS).drop_columns(["row_id"]).to_pandas(), key="kept")
    with user_errors():
        st.download_button(
            "Download cleaned lines (CSV)", lambda: cleaned_lines_csv(result),
            file_name="cleaned_transactions.csv", mime="text/csv", key="download_cleaned",
        )  # fmt: skip
st.page_link("pages/rfm.py", label="Next: the RFM table", icon=":material/table_chart:")
