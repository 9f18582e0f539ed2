"""Model selection: metrics against k, a recommended k in words, then the method and k to fit."""

import streamlit as st

from ui.cache import dendrogram_for, k_distance_for, silhouette_for, stability_for
from ui.charts import selection as charts
from ui.components import (
    cached,
    current_segmentation_result,
    current_selection,
    show_frame,
    show_notes,
)  # fmt: skip
from ui.forms import fit_form, sweep_form
from ui.labels import METHOD_LABELS, METRIC_NOTES
from ui.router import through_app
from ui.state import current_anomaly_settings, current_segmentation

through_app()

st.title("Choose the number of segments")
settings = current_segmentation()
sweep_form(settings)

selection = current_selection()
st.success(f"**Recommended:** {selection.reason}", icon=":material/recommend:")
if selection.silhouette_sampled:
    st.caption(
        f"Silhouette is computed on a seeded sample of {selection.silhouette_sample_size:,} of "
        f"{selection.n_customers:,} customers (sampled); the other metrics use every customer."
    )
figures = list(charts.selection_figures(selection).items())
for row in (figures[:3], figures[3:]):
    for column, (metric, figure) in zip(st.columns(3), row, strict=False):
        column.plotly_chart(figure, key=f"metric_{metric}")
        column.caption(METRIC_NOTES[metric])
with st.expander("The metrics table"):
    show_frame(selection.table, key="selection_table")

st.subheader("Method and number of segments")
fit_form(settings, recommended_k=selection.recommended_k)

segmentation = current_segmentation_result()
fitted = segmentation.segmenter
a, b, c = st.columns(3)
a.metric("Method", METHOD_LABELS[settings.method])
b.metric("Segments found", fitted.n_clusters_)
if settings.method == "bgmm":
    c.metric(
        "Effective components",
        fitted.n_effective_components_,
        help="Components that keep a noticeable weight; the others were switched off.",
    )
show_notes(segmentation.notes)

stable = cached(stability_for, settings, current_anomaly_settings(), doing="Refitting on samples…")
st.metric(
    "Stability (adjusted Rand, refits on 80% subsamples)",
    f"{stable.mean:.2f}",
    f"lowest {stable.minimum:.2f} over {stable.n_runs} refits",
    delta_color="off",
    help="Adjusted Rand index of refits on 80% subsamples. Higher is better: 1 means every refit "
    "puts the same customers together; below ~0.7 the segments depend on chance.",
)

st.subheader("Silhouette of each customer")
profile = cached(
    silhouette_for,
    settings,
    current_anomaly_settings(),
    doing="Measuring each customer's silhouette…",
)
if profile.sampled:
    st.caption(f"Computed on a seeded sample of {len(profile.samples):,} customers (sampled).")
st.caption(
    "Each band is a segment, customers sorted by silhouette: near 1 = well inside the segment, "
    "below 0 = closer to another segment."
)
st.plotly_chart(
    charts.silhouette_figure(profile.samples, segmentation.names, profile.average),
    key="silhouette_samples",
)

if settings.method == "dbscan":
    st.subheader("Choosing eps")
    st.plotly_chart(charts.k_distance_figure(cached(k_distance_for, settings)), key="k_distance")
if settings.method == "agglomerative":
    st.subheader("Dendrogram")
    tree = cached(dendrogram_for, settings)
    if tree.sampled:
        st.caption(f"Drawn from a seeded sample of {len(tree.customer_ids):,} customers.")
    st.plotly_chart(charts.dendrogram_figure(tree), key="dendrogram")
