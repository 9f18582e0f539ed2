"""Overview: revenue, orders and customers over time, where they come from, who brings them."""

import streamlit as st

from ui.charts import trends as charts
from ui.components import cached, current_customers, current_pipeline, money, show_frame
from ui.labels import PERIODS
from ui.router import through_app
from ui.state import current_binning, current_currency, current_segments
from ui.trends import activity_for, breakdowns_for, named_cluster_kpis, span_for, value_for

through_app()

st.title("Overview")
current_pipeline()
table = current_customers()
currency = current_currency()
first, last = cached(span_for)
freq = st.radio("Period", list(PERIODS), index=2, horizontal=True, key="trend_freq")
trend = cached(activity_for, freq)

a, b, c, d = st.columns(4)
a.metric("Revenue", money(trend["revenue"].sum()))
b.metric("Orders", f"{trend['orders'].sum():,}")
c.metric("Customers", f"{len(table):,}")
d.metric("Last purchase", f"{last}", f"first {first}", delta_color="off", delta_arrow="off")
st.caption(
    "Revenue: sum of the kept line amounts (returns kept as 'net' reduce it). Orders: distinct "
    "invoices with a purchase. Active customers: customers with an order in the period."
)
measures = (("revenue", "Revenue"), ("orders", "Orders"), ("customers", "Active customers"))
for column, (measure, title) in zip(st.columns(3), measures, strict=True):
    figure = charts.trend_figure(
        trend, measure, title=f"{title} per {freq}", freq=freq, currency=currency
    )
    column.plotly_chart(figure, key=f"trend_{measure}")

breakdowns = cached(breakdowns_for)
st.subheader("New and returning customers")
st.caption(
    "New: the month of the customer's first order. Returning: any later month with an order."
)
split_by = st.radio("Show", ["customers", "revenue"], horizontal=True, key="new_returning_measure")
split = charts.new_returning_figure(breakdowns.new_returning, measure=split_by, currency=currency)
st.plotly_chart(split, key="new_returning")

left, right = st.columns(2)
with left:
    st.subheader("Countries")
    if breakdowns.countries is None:
        st.info("The log has no country column.", icon=":material/info:")
    else:
        countries = charts.country_bars(breakdowns.countries, currency=currency)
        st.plotly_chart(countries, key="countries_chart")
        show_frame(breakdowns.countries, hide_index=True, key="countries_table", of_columns=2)
with right:
    st.subheader("Products")
    if breakdowns.products is None:
        st.info("The log has no product column.", icon=":material/info:")
    else:
        products = charts.product_bars(breakdowns.products, currency=currency)
        st.plotly_chart(products, key="products_chart")
        show_frame(breakdowns.products, hide_index=True, key="products_table", of_columns=2)

st.subheader("Segments: who brings the revenue")
st.page_link(
    "pages/rfm.py",
    label="Distributions of recency, orders and total spend, and the R × F grid: RFM page",
    icon=":material/table_chart:",
)
value = cached(value_for, current_segments(), current_binning())
st.plotly_chart(charts.segment_treemap(value.kpis, currency=currency), key="revenue_treemap")
st.caption(
    "Average order value: the segment's revenue divided by its orders. Rule segments are listed "
    "best first."
)
show_frame(value.kpis, key="rule_kpis")
if st.toggle("Also for the clusters of the Segments page", key="overview_clusters"):
    show_frame(named_cluster_kpis(), key="cluster_kpis")

st.subheader("Concentration of revenue")
pareto = value.pareto
for column, share in zip(st.columns(3), (0.01, 0.1, 0.2), strict=True):
    column.metric(
        f"Top {share:.0%} of customers",
        f"{pareto.share_of(share):.1%} of revenue",
        f"{int(pareto.points.loc[share, 'customers']):,} customers",
        delta_color="off",
        delta_arrow="off",
    )
st.plotly_chart(charts.pareto_figure(pareto), key="pareto")
