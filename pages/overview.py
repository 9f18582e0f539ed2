"""Overview: revenue, orders and customers over time, where they come from, who brings them."""

import plotly.express as px
import streamlit as st

from rfm_core.customers.migration import data_range
from rfm_core.customers.trends import FREQUENCIES
from ui.charts import escaped
from ui.components import (
    MAX_TABLE_ROWS,
    cached,
    current_customers,
    current_pipeline,
    current_segmentation_result,
)
from ui.state import (
    current_anomaly_settings,
    current_segmentation,
    current_segments,
    segment_renames,
)
from ui.trend_charts import new_returning_figure, pareto_figure, segment_treemap, trend_figure
from ui.trends import activity_for, breakdowns_for, cluster_kpis_for, value_for

KPI_FORMATS = {
    "share_customers": st.column_config.NumberColumn("share of customers", format="percent"),
    "share_revenue": st.column_config.NumberColumn("share of revenue", format="percent"),
    "revenue": st.column_config.NumberColumn(format="%.0f"),
    "avg_order_value": st.column_config.NumberColumn("average order value", format="%.2f"),
    "orders_per_customer": st.column_config.NumberColumn("orders per customer", format="%.2f"),
    "median_recency": st.column_config.NumberColumn("median recency (days)", format="%.0f"),
}

st.title("Overview")
current_pipeline()
table = current_customers()
first, last = data_range(table)
freq = st.radio("Period", list(FREQUENCIES), index=2, horizontal=True, key="trend_freq")
trend = cached(activity_for, freq)

a, b, c, d = st.columns(4)
a.metric("Revenue", f"{trend['revenue'].sum():,.0f}")
b.metric("Orders", f"{trend['orders'].sum():,}")
c.metric("Customers", f"{len(table):,}")
d.metric("Last purchase", f"{last}", f"first {first}", delta_color="off", delta_arrow="off")
st.caption(
    "Revenue: sum of the kept line amounts (returns kept as 'net' reduce it). Orders: distinct "
    "invoices with a purchase. Active customers: customers with an order in the period."
)
columns = st.columns(3)
for column, (measure, title) in zip(
    columns,
    (("revenue", "Revenue"), ("orders", "Orders"), ("customers", "Active customers")),
    strict=True,
):
    figure = trend_figure(trend, measure, title=f"{title} per {freq}", freq=freq)
    column.plotly_chart(figure, key=f"trend_{measure}")

breakdowns = cached(breakdowns_for)
st.subheader("New and returning customers")
st.caption(
    "New: the month of the customer's first order. Returning: any later month with an order."
)
split_by = st.radio("Show", ["customers", "revenue"], horizontal=True, key="new_returning_measure")
st.plotly_chart(
    new_returning_figure(breakdowns.new_returning, measure=split_by), key="new_returning"
)

left, right = st.columns(2)
with left:
    st.subheader("Countries")
    if breakdowns.countries is None:
        st.info("The log has no country column.", icon=":material/info:")
    else:
        countries = breakdowns.countries
        bars = px.bar(
            escaped(countries.head(15), ["country"]),
            x="revenue",
            y="country",
            orientation="h",
            title="Revenue by country (top 15)",
        )
        bars.update_layout(height=380, margin={"t": 40, "b": 10}, yaxis={"autorange": "reversed"})
        st.plotly_chart(bars, key="countries_chart")
        st.dataframe(
            countries.head(MAX_TABLE_ROWS),
            hide_index=True,
            key="countries_table",
            column_config=KPI_FORMATS,
        )
with right:
    st.subheader("Products")
    if breakdowns.products is None:
        st.info("The log has no product column.", icon=":material/info:")
    else:
        products = breakdowns.products
        bars = px.bar(
            escaped(products, ["product"]),
            x="revenue",
            y="product",
            orientation="h",
            title=f"Top {len(products)} products by revenue",
        )
        bars.update_layout(height=380, margin={"t": 40, "b": 10}, yaxis={"autorange": "reversed"})
        bars.update_yaxes(type="category")
        st.plotly_chart(bars, key="products_chart")
        st.dataframe(products, hide_index=True, key="products_table", column_config=KPI_FORMATS)

st.subheader("Segments: who brings the revenue")
st.page_link(
    "pages/rfm.py",
    label="Distributions of recency, frequency and monetary, and the R × F grid: RFM page",
    icon=":material/table_chart:",
)
value = cached(value_for, current_segments())
st.plotly_chart(segment_treemap(value.kpis), key="revenue_treemap")
st.caption(
    "Average order value: the segment's revenue divided by its orders. Rule segments are listed "
    "best first."
)
st.dataframe(value.kpis, key="rule_kpis", column_config=KPI_FORMATS)
if st.toggle("Also for the clusters of the Segments page", key="overview_clusters"):
    segmentation = current_segmentation_result()
    kpis = cached(cluster_kpis_for, current_segmentation(), current_anomaly_settings())
    names = {**segmentation.names, **segment_renames()}
    kpis = kpis.rename(index=lambda label: f"{label}: {names.get(label, label)}")
    st.dataframe(kpis, key="cluster_kpis", column_config=KPI_FORMATS)

st.subheader("Concentration of revenue")
pareto = value.pareto
a, b, c = st.columns(3)
for column, share in zip((a, b, c), (0.01, 0.1, 0.2), strict=True):
    column.metric(
        f"Top {share:.0%} of customers",
        f"{pareto.share_of(share):.1%} of revenue",
        f"{int(pareto.points.loc[share, 'customers']):,} customers",
        delta_color="off",
        delta_arrow="off",
    )
st.plotly_chart(pareto_figure(pareto), key="pareto")
