"""Projections: the customers in two or three dimensions, coloured by segment or anomaly flag."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from ui.cache import projection_for
from ui.charts import MAX_POINTS, PALETTE, escaped, sample_for_display
from ui.components import cached, current_anomalies, current_customers, current_segmentation_result
from ui.state import (
    current_anomaly_settings,
    current_segmentation,
    segment_renames,
)

COLOUR_BY = {"cluster": "Cluster segment", "rfm_segment": "Rule segment", "anomaly": "Anomaly"}

st.title("Projections")
table = current_customers()
settings = current_segmentation()
segmentation = current_segmentation_result()
anomalies = current_anomalies()
colours = pd.DataFrame(
    {
        "cluster": segmentation.segment_names(segment_renames()),
        "rfm_segment": table["rfm_segment"],
        "anomaly": anomalies.table["anomaly"].map({True: "anomaly", False: "normal"}),
        "recency": table["recency"],
        "frequency": table["frequency"],
        "monetary": table["monetary"],
    }
)
colour = st.radio(
    "Colour by", list(COLOUR_BY), format_func=COLOUR_BY.get, horizontal=True, key="colour_by"
)
is_anomaly = anomalies.table["anomaly"]
st.caption(
    f"At most {MAX_POINTS:,} customers are drawn (a seeded sample that keeps every anomaly); "
    "the models use every customer."
)


def scatter(coords: pd.DataFrame, *, three_d: bool, title: str, log: bool = False):
    """Draw a sample of the coordinates, coloured and with the customer's values on hover."""
    drawn = sample_for_display(coords.join(colours), keep=is_anomaly)
    drawn = drawn.reset_index().rename(columns={"index": "customer_id"})
    drawn[colour] = drawn[colour].astype(str)
    drawn = escaped(drawn, ["customer_id", colour])
    hover = {"customer_id": True, "recency": True, "frequency": True, "monetary": ":,.2f"}
    common = {
        "color": colour,
        "hover_data": hover,
        "color_discrete_sequence": PALETTE,
        "title": title,
        "category_orders": {colour: sorted(drawn[colour].unique())},
    }
    if three_d:
        figure = px.scatter_3d(drawn, x="x", y="y", z="z", log_x=log, log_z=log, **common)
        figure.update_traces(marker={"size": 2.5})
    else:
        figure = px.scatter(drawn, x="x", y="y", **common)
        figure.update_traces(marker={"size": 5, "opacity": 0.7})
    figure.update_layout(height=560, margin={"t": 40, "b": 10}, legend_title_text="")
    return figure


pca_tab, pca3_tab, tsne_tab, rfm_tab = st.tabs(["PCA 2D", "PCA 3D", "t-SNE", "RFM 3D"])
with pca_tab:
    pca = cached(projection_for, settings, current_anomaly_settings(), "pca2", 0)
    ratio = pca.explained_variance_ratio
    st.caption(
        f"Explained variance: PC1 {ratio[0]:.0%}, PC2 {ratio[1]:.0%} (together {sum(ratio):.0%})."
    )
    st.plotly_chart(scatter(pca.coords, three_d=False, title="PCA"), key="pca2")
with pca3_tab:
    pca3 = cached(projection_for, settings, current_anomaly_settings(), "pca3", 0)
    if pca3.coords.shape[1] < 3:
        st.info("Three components need at least three features.")
    else:
        total = sum(pca3.explained_variance_ratio)
        st.caption(f"Explained variance of the three components: {total:.0%}.")
        st.plotly_chart(scatter(pca3.coords, three_d=True, title="PCA 3D"), key="pca3")
with tsne_tab:
    with st.form("tsne_form"):
        size = st.number_input(
            "Customers in the t-SNE sample",
            500,
            20_000,
            5_000,
            step=500,
            key="tsne_size",
            help="t-SNE is fitted on a seeded sample so that it stays "
            "interactive; larger samples take longer.",
        )
        st.form_submit_button("Update t-SNE")
    tsne = cached(projection_for, settings, current_anomaly_settings(), "tsne", int(size))
    if tsne.sampled:
        st.caption(
            f"t-SNE of a seeded sample of {len(tsne.coords):,} of {tsne.n_total:,} customers."
        )
    st.plotly_chart(scatter(tsne.coords, three_d=False, title="t-SNE"), key="tsne")
with rfm_tab:
    coords = pd.DataFrame(
        {
            "x": table["recency"].clip(lower=0) + 1,
            "y": table["frequency"],
            "z": table["monetary"].clip(lower=0.01),
        }
    )
    figure = scatter(
        coords, three_d=True, title="Recency + 1 (x), frequency (y), monetary (z)", log=True
    )
    figure.update_layout(
        scene={
            "xaxis_title": "recency + 1 (days)",
            "yaxis_title": "orders",
            "zaxis_title": "monetary",
            "yaxis_type": "log",
        }
    )
    st.plotly_chart(figure, key="rfm3d")
    st.caption(
        f"Log axes; {int(np.sum(table['monetary'] <= 0)):,} customers with monetary 0 "
        "are drawn at 0.01."
    )
