"""Lifetime value: the purchases each customer is expected to make, and what they are worth."""

import streamlit as st

from ui import value as clv
from ui.charts.value import clv_by_group_figure
from ui.components import current_pipeline, safe_md, show_frame, show_warnings
from ui.labels import MOVE_BY_LABELS
from ui.router import through_app
from ui.state import ClvOptions, current_clv_options, set_clv_options

through_app()

st.title("Customer lifetime value")
current_pipeline()
options = current_clv_options()
with st.form("clv_form"):
    a, b, c = st.columns(3)
    horizon = a.number_input(
        "Horizon (weeks)", 1, 520, int(options.horizon_weeks), key="clv_horizon",
        help="The weeks after the last purchase day over which purchases are counted.",
    )  # fmt: skip
    margin = b.number_input(
        "Margin (% of revenue)", 1.0, 100.0, options.margin * 100, step=1.0, key="clv_margin",
        help="The share of a purchase's value that is profit; 100 % gives CLV in revenue.",
    )  # fmt: skip
    discount = c.number_input(
        "Annual discount rate (%)", 0.0, 100.0, options.discount_rate * 100, step=0.5,
        key="clv_discount", help="Each week's expected purchases are discounted to its end.",
    )  # fmt: skip
    if st.form_submit_button("Compute", type="primary"):
        set_clv_options(ClvOptions(float(horizon), margin / 100, discount / 100))
        st.rerun()
st.caption(
    "BG/NBD predicts how many days each customer will still buy on and whether they are still a "
    "customer (P(alive)); Gamma-Gamma predicts what a purchase day of theirs is worth. CLV = "
    "margin × expected value × expected purchases over the horizon (discounted). A purchase is a "
    "day whose kept lines add up to a positive value."
)
value = clv.current_clv()
show_warnings(value.warnings)

rows = value.customers
a, b, c, d = st.columns(4)
a.metric(
    "Customers with a prediction", f"{rows['clv'].notna().sum():,}", f"of {len(rows):,}",
    delta_color="off", delta_arrow="off",
)  # fmt: skip
b.metric(f"CLV over {value.horizon_weeks:g} weeks", f"{rows['clv'].sum():,.0f}")
c.metric("Expected purchases", f"{rows['expected_purchases'].sum():,.0f}")
d.metric("Median P(alive)", f"{rows['p_alive'].median():.0%}")

st.subheader("The models")
for sentence in clv.fit_sentences(value):
    st.markdown(safe_md(sentence))
show_frame(clv.parameters_table(value), key="clv_parameters", overrides=clv.PARAMETER_COLUMNS)
st.caption(clv.correlation_text(value))

st.subheader("Per segment: sums and medians")
by = st.radio(
    "Segments", list(MOVE_BY_LABELS), format_func=MOVE_BY_LABELS.get, horizontal=True,
    key="clv_by",
)  # fmt: skip
groups = clv.clv_by(value, by)
st.plotly_chart(
    clv_by_group_figure(groups, title=f"Lifetime value over {value.horizon_weeks:g} weeks"),
    key="clv_by_group",
)
show_frame(groups, key="clv_groups")

st.subheader("Customers, highest lifetime value first")
top = clv.top_customers(value)
show_frame(top, key="clv_customers", total=len(rows))
st.download_button(
    "Download clv.csv", clv.clv_csv(value), file_name="clv.csv", mime="text/csv",
    on_click="ignore", key="download_clv",
)  # fmt: skip
