"""Segments: profiles, names and actions, what drives them, and one customer's story."""

import pandas as pd
import plotly.express as px
import streamlit as st

from rfm_core.outputs.export import labeled_csv
from rfm_core.segments.profiles import crosswalk, default_actions, snake_plot_data
from rfm_core.segments.segmentation import labeled_customers
from ui.cache import explanations_for, orders_for
from ui.charts import escape_plotly, escaped, snake_figure
from ui.components import (
    cached,
    current_anomalies,
    current_customers,
    current_segmentation_result,
    safe_md,
    show_frame,
    show_notes,
)
from ui.state import (
    current_anomaly_settings,
    current_segmentation,
    segment_actions,
    segment_renames,
    set_segment_actions,
    set_segment_renames,
)

st.title("Segments")
table = current_customers()
segmentation = current_segmentation_result()
anomalies = current_anomalies()
settings = current_segmentation()
names = {**segmentation.names, **segment_renames()}
show_notes(segmentation.notes)

profile = segmentation.profile.rename(index=names)
profile.index.name = "segment"
st.subheader("Profiles")
st.caption(
    f"{segmentation.n_clusters} segments from {settings.method}; 'share_revenue' is each "
    "segment's part of the total monetary value. Means and medians per customer."
)
st.dataframe(
    profile,
    key="profile_table",
    column_config={
        "share_customers": st.column_config.NumberColumn("share of customers", format="percent"),
        "share_revenue": st.column_config.NumberColumn("share of revenue", format="percent"),
        "revenue": st.column_config.NumberColumn(format="%.0f"),
        **{
            column: st.column_config.NumberColumn(format="%.1f")
            for column in profile.columns
            if column.startswith(("mean_", "median_"))
        },
    },
)
a, b = st.columns(2)
shares = profile.reset_index()[["segment", "share_customers", "share_revenue"]]
long = escaped(shares, ["segment"]).melt("segment", var_name="share of", value_name="share")
bars = px.bar(long, x="segment", y="share", color="share of", barmode="group", labels={"share": ""})
bars.update_layout(
    height=340, margin={"t": 30, "b": 10}, yaxis_tickformat=".0%", title="Customers and revenue"
)
bars.update_xaxes(type="category")
a.plotly_chart(bars, key="share_bars")
snake = snake_plot_data(table, segmentation.labels)
snake_chart = snake_figure(snake, names)
snake_chart.update_layout(title="Snake plot: standardized means")
b.plotly_chart(snake_chart, key="snake_plot")

st.subheader("Names and actions")
with st.form("names_form"):
    st.caption("Rename a segment: the new name is used in every chart and export.")
    editable = pd.DataFrame(
        {"cluster": list(segmentation.names), "name": [names[k] for k in segmentation.names]}
    )
    edited = st.data_editor(editable, hide_index=True, disabled=["cluster"], key="names_editor")
    if st.form_submit_button("Save names"):
        renamed = dict(zip(edited["cluster"].astype(int), edited["name"].astype(str), strict=True))
        if len(set(renamed.values())) < len(renamed) or any(
            not v.strip() for v in renamed.values()
        ):
            st.error("Each segment needs its own, non-empty name.", icon=":material/error:")
        else:
            set_segment_renames(renamed)
            st.rerun()

actions = pd.DataFrame(segment_actions() or default_actions(names).to_dict("records"))
with st.form("actions_form"):
    st.caption("Suggested actions per segment; edit them for your campaign plan.")
    edited_actions = st.data_editor(
        actions, hide_index=True, key="actions_editor", disabled=["segment", "name"]
    )
    save, reset = st.columns(2)
    if save.form_submit_button("Save actions"):
        set_segment_actions(edited_actions.to_dict("records"))
        st.rerun()
    if reset.form_submit_button("Restore suggested actions"):
        set_segment_actions(None)
        st.rerun()

st.subheader("What separates the segments")
importances, tree = cached(
    explanations_for, settings, current_anomaly_settings(), tuple(segment_renames().items())
)
a, b = st.columns([1, 2])
importance_chart = px.bar(
    importances.sort_values(), orientation="h", labels={"value": "importance", "index": ""}
)
importance_chart.update_layout(
    height=300,
    showlegend=False,
    margin={"t": 30, "b": 10},
    title="Random forest feature importance",
)
a.plotly_chart(importance_chart, key="importances")
b.markdown(
    f"**Rules a person can apply** (decision tree of depth {tree.max_depth}, "
    f"agrees with the segments for {tree.accuracy:.0%} of customers)"
)
rules = tree.rules
if tree.unexplained:
    unexplained = ", ".join(str(names.get(label, label)) for label in tree.unexplained)
    b.caption(f"No rule of this depth singles out: {safe_md(unexplained)}.")
b.dataframe(
    rules,
    hide_index=True,
    key="rules_table",
    column_config={
        "precision": st.column_config.NumberColumn(format="percent"),
        "recall": st.column_config.NumberColumn(format="percent"),
    },
)

st.subheader("Rule segments × clusters")
cross = crosswalk(table["rfm_segment"], segmentation.segment_names(segment_renames()))
cross = cross.rename(index=escape_plotly, columns=escape_plotly)
heat = px.imshow(
    cross,
    text_auto=True,
    color_continuous_scale="Blues",
    aspect="auto",
    labels={"x": "cluster segment", "y": "rule segment", "color": "customers"},
)
heat.update_layout(height=420, margin={"t": 10, "b": 10})
st.plotly_chart(heat, key="crosswalk")

st.subheader("One customer")
labeled = labeled_customers(table, segmentation, anomalies, renamed=segment_renames())
customer = st.text_input("Customer id", key="drill_customer", placeholder=str(table.index[0]))
if customer:
    customer = customer.strip()
    if customer not in labeled.index:
        st.warning(
            f"No customer {safe_md(repr(customer))} among the {len(labeled):,} customers kept."
        )
    else:
        row = labeled.loc[customer]
        a, b, c, d = st.columns(4)
        a.metric("Segment", safe_md(row["segment_name"]))
        b.metric("Recency (days)", f"{row['recency']:,}")
        c.metric("Orders", f"{row['frequency']:,}")
        d.metric("Monetary", f"{row['monetary']:,.2f}")
        if row.get("anomaly", False):
            reason = safe_md(row["anomaly_reason"])
            st.warning(f"Anomalous customer: {reason}", icon=":material/warning:")
        orders = cached(orders_for, customer)
        timeline = px.bar(
            escaped(orders, ["order"]),
            x="timestamp",
            y="amount",
            color="is_return",
            hover_data=["order", "lines"],
            title="Orders over time",
        )
        timeline.update_layout(height=300, margin={"t": 40, "b": 10})
        st.plotly_chart(timeline, key="customer_timeline")
        show_frame(orders, key="customer_orders")

st.subheader("Download")
st.download_button(
    "Labeled customers (CSV)",
    lambda: labeled_csv(labeled),
    file_name="customers_labeled.csv",
    mime="text/csv",
    key="download_labeled",
)
show_frame(labeled.head(200), key="labeled_preview")
