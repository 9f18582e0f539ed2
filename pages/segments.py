"""Segments: profiles, names and actions, what drives them, and one customer's story."""

import streamlit as st

from ui import components, segments
from ui.cache import orders_for
from ui.charts import segments as charts
from ui.components import cached, safe_md, show_frame
from ui.exports import labeled_csv
from ui.forms import names_and_actions_form
from ui.labels import METHOD_LABELS
from ui.router import through_app
from ui.state import current_currency

through_app()

st.title("Segments")
table = components.current_customers()
segmentation = components.current_segmentation_result()
anomalies = components.current_anomalies()
names = segments.segment_names(segmentation)
components.show_notes(segmentation.notes)

profile = segments.named_profile(segmentation)
st.subheader("Profiles")
st.caption(
    f"{segmentation.n_clusters} segments found with {METHOD_LABELS[segmentation.settings.method]}."
    " Shares are each segment's part of all customers and of all revenue; means and medians are "
    "per customer."
)
show_frame(profile, key="profile_table", column_order=segments.profile_order(profile))
a, b = st.columns(2)
a.plotly_chart(charts.share_bars(profile), key="share_bars")
snake = segments.snake_data(table, segmentation)
b.plotly_chart(charts.snake_figure(snake, names), key="snake_plot")

st.subheader("Names and actions")
names_and_actions_form(segmentation, names)  # read-only in a published run

st.subheader("What separates the segments")
importances, tree = segments.current_explanations()
st.plotly_chart(charts.importance_bars(importances), key="importances")
st.markdown(
    f"**Rules a person can apply** (decision tree of depth {tree.max_depth}, "
    f"agrees with the segments for {tree.accuracy:.0%} of customers)"
)
if tree.unexplained:
    unexplained = ", ".join(str(names.get(label, label)) for label in tree.unexplained)
    st.caption(f"No rule of this depth singles out: {safe_md(unexplained)}.")
show_frame(tree.rules, hide_index=True, key="rules_table", column_order=segments.RULE_ORDER)

st.subheader("Rule segments × clusters")
cross = segments.rule_crosswalk(table, segmentation)
st.plotly_chart(charts.crosswalk_heatmap(cross), key="crosswalk")

st.subheader("One customer")
labeled = segments.labeled_table(table, segmentation, anomalies)
customer = st.text_input("Customer id", key="drill_customer", placeholder=str(table.index[0]))
if customer:
    customer = customer.strip()
    if customer not in labeled.index:
        kept = f"among the {len(labeled):,} customers kept"
        st.warning(f"No customer {safe_md(repr(customer))} {kept}.")
    else:
        components.show_customer(labeled.loc[customer])
        orders = cached(orders_for, customer)
        if orders is None:
            st.caption("A published run keeps no orders: see the customer's segment history.")
        else:
            timeline = charts.orders_timeline(orders, currency=current_currency())
            st.plotly_chart(timeline, key="customer_timeline")
            show_frame(orders, key="customer_orders")

st.subheader("Download")
st.download_button(
    "Labeled customers (CSV)", lambda: labeled_csv(labeled), file_name="customers_labeled.csv",
    mime="text/csv", on_click="ignore", key="download_labeled",
)  # fmt: skip
show_frame(labeled.head(200), key="labeled_preview")
