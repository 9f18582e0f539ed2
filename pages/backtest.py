"""Backtest: segment on the lines up to a date, then see which segmentation predicted best what
the customers did after it."""

import streamlit as st

from ui import value
from ui.charts.value import calibration_figure, repeat_rate_figure
from ui.components import current_pipeline, safe_md, show_frame, show_notes
from ui.labels import BACKTEST_METHOD_LABELS
from ui.router import through_app
from ui.state import backtest_cut, forget_dates_outside, set_backtest_cut

through_app()

st.title("Backtest: does a segmentation predict?")
customers = current_pipeline().rfm.n_customers
first, last, default_cut = value.cut_range()
forget_dates_outside(("backtest_cut",), first, last)  # a date of another file: default
with st.form("backtest_form"):
    chosen = st.date_input(
        "Cut date: the segmentations see the lines up to this day", key="backtest_date",
        value=backtest_cut() or default_cut, min_value=first, max_value=last,
    )  # fmt: skip
    if st.form_submit_button("Run the backtest", type="primary"):
        set_backtest_cut(chosen)
st.caption(
    "Rule segments, clusters (this session's settings, fitted again) and lifetime value are "
    "computed from the lines up to the cut date only, then compared with what each customer did "
    f"after it, up to the last purchase ({last}). A segment predicts that its customers do what "
    "the segment did in the same number of days before the cut; CLV predicts each customer."
)
cut = backtest_cut()  # set by the button: the backtest runs only when asked
if cut is None:
    st.info(
        f"The backtest fits the clusters and the lifetime-value models of the {customers:,} "
        f"customers again ({value.backtest_duration(customers)}). Choose a cut date and run it.",
        icon=":material/info:",
    )
    st.stop()
result = value.run_backtest(cut)
st.success(safe_md(result.sentence), icon=":material/emoji_events:")
show_notes(result.notes)

bought = result.customers["bought_again"]
clv_row = result.comparison.loc["clv"]
a, b, c, d = st.columns(4)
a.metric(f"Customers on {result.cut}", f"{len(bought):,}")
b.metric(f"Bought again in {result.days} days", f"{bought.mean():.1%}")
c.metric("Purchases predicted by CLV", f"{clv_row['predicted_purchases']:,.0f}")
d.metric("Purchases made", f"{clv_row['actual_purchases']:,.0f}")

st.subheader("Side by side")
show_frame(value.comparison_table(result), key="backtest_comparison")
st.caption(
    "Best group: the one each segmentation ranks first (the first rule segment, cluster 0, CLV "
    "decile 1). Lift: its share who bought again, and its revenue per customer, over that of all "
    "customers. Concordance: of two customers who spent different amounts after the cut, how "
    "often the one predicted to spend more did (a tie counts half; 50 % is a coin flip). "
    "Spearman ρ: rank correlation of predicted and actual revenue, shown but not deciding: it "
    "rewards predicting the same 0 for the many customers who buy nothing."
)
st.plotly_chart(calibration_figure(result.calibration, BACKTEST_METHOD_LABELS), key="calibration")
st.plotly_chart(repeat_rate_figure(result.groups, BACKTEST_METHOD_LABELS), key="repeat_rates")

st.subheader("Groups")
tabs = st.tabs(list(BACKTEST_METHOD_LABELS.values()))
for tab, (method, frame) in zip(tabs, result.groups.items(), strict=True):
    with tab:
        show_frame(frame, key=f"backtest_groups_{method}")
with st.expander(f"Lifetime value fitted on the lines up to {result.cut}"):
    for sentence in value.fit_sentences(result.clv):
        st.markdown(safe_md(sentence))
    show_frame(
        value.parameters_table(result.clv), key="backtest_parameters",
        overrides=value.PARAMETER_COLUMNS,
    )  # fmt: skip
st.download_button(
    "Download backtest_customers.csv", lambda: value.backtest_csv(result), mime="text/csv",
    file_name="backtest_customers.csv", on_click="ignore", key="download_backtest",
)  # fmt: skip
