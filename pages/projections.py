"""Projections: the customers in two or three dimensions, coloured by segment or anomaly flag."""

import streamlit as st

from ui.cache import projection_for
from ui.charts.base import MAX_POINTS, drawn_at_floor
from ui.charts.projections import projection_scatter, rfm_cube
from ui.components import cached, current_anomalies, current_customers, current_segmentation_result
from ui.labels import COLOUR_BY_LABELS
from ui.on_request import ask_or_show
from ui.router import through_app
from ui.segments import customer_colours, pca_axis_titles
from ui.state import current_anomaly_settings, current_currency, current_segmentation

through_app()

st.title("Projections")
table = current_customers()
settings = current_segmentation()
segmentation = current_segmentation_result()
anomalies = current_anomalies()
colours = customer_colours(table, segmentation, anomalies)
colour = st.radio(
    "Colour by", list(COLOUR_BY_LABELS), format_func=COLOUR_BY_LABELS.get, horizontal=True,
    key="colour_by",
)  # fmt: skip
is_anomaly = anomalies.table["anomaly"]
st.caption(
    f"At most {MAX_POINTS:,} customers are drawn (a seeded sample that keeps every anomaly); "
    "the models use every customer."
)


def scatter(coords, *, three_d: bool, title: str, axes: tuple[str, ...] = ()):
    """The customers at ``coords``, coloured as chosen, anomalies always drawn."""
    return projection_scatter(
        coords, colours, colour=colour, keep=is_anomaly, three_d=three_d, title=title,
        axis_titles=axes, currency=current_currency(),
    )  # fmt: skip


# only the open tab runs and draws (a 3D scene costs the browser a second or more)
tabs = st.tabs(["PCA 2D", "PCA 3D", "t-SNE", "RFM 3D"], key="projection_tab", on_change="rerun")
pca_tab, pca3_tab, tsne_tab, rfm_tab = tabs
with pca_tab:
    if pca_tab.open:
        pca = cached(projection_for, settings, current_anomaly_settings(), "pca2", 0)
        ratio = pca.explained_variance_ratio
        st.caption(
            f"Explained variance: PC1 {ratio[0]:.0%}, PC2 {ratio[1]:.0%} "
            f"(together {sum(ratio):.0%})."
        )
        axes = pca_axis_titles(ratio)
        figure = scatter(pca.coords, three_d=False, title="PCA", axes=axes)
        st.plotly_chart(figure, key="pca2")
with pca3_tab:
    if pca3_tab.open:
        pca3 = cached(projection_for, settings, current_anomaly_settings(), "pca3", 0)
        if pca3.coords.shape[1] < 3:
            st.info("Three components need at least three features.")
        else:
            total = sum(pca3.explained_variance_ratio)
            st.caption(f"Explained variance of the three components: {total:.0%}.")
            axes = pca_axis_titles(pca3.explained_variance_ratio)
            figure = scatter(pca3.coords, three_d=True, title="PCA 3D", axes=axes)
            st.plotly_chart(figure, key="pca3")
with tsne_tab:
    if tsne_tab.open:
        size = st.number_input(
            "Customers in the t-SNE sample", 500, 20_000, 5_000, step=500, key="tsne_size",
            help="t-SNE is fitted on a seeded sample so that it stays interactive; larger samples "
            "take longer.",
        )  # fmt: skip
        tsne = ask_or_show(
            projection_for, settings, current_anomaly_settings(), "tsne", int(size), name="tsne",
            ask="Place the customers with t-SNE",
            explain=f"t-SNE places a seeded sample of {min(int(size), len(table)):,} customers so "
            "that neighbours stay together (a few seconds for 5,000).",
            doing="t-SNE:",
        )  # fmt: skip
        if tsne is not None:
            if tsne.sampled:
                shown, total = len(tsne.coords), tsne.n_total
                st.caption(f"t-SNE of a seeded sample of {shown:,} of {total:,} customers.")
            tsne_axes = ("t-SNE 1 (no unit)", "t-SNE 2 (no unit)")
            figure = scatter(tsne.coords, three_d=False, title="t-SNE", axes=tsne_axes)
            st.plotly_chart(figure, key="tsne")
with rfm_tab:
    if rfm_tab.open:
        cube = rfm_cube(table, colours, colour=colour, keep=is_anomaly, currency=current_currency())
        st.plotly_chart(cube, key="rfm3d")
        st.caption(
            f"Log axes; {drawn_at_floor(table):,} customers with monetary 0 are drawn at 0.01."
        )
