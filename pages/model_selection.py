"""Model selection: metrics against k, a recommended k in words, then the method and k to fit."""

from dataclasses import replace

import streamlit as st

from rfm_core.config import DEFAULT_FEATURES, LINKAGES, METHODS, OPTIONAL_FEATURES, TRANSFORMS
from rfm_core.segments.features import FEATURE_LABELS
from ui.cache import dendrogram_for, k_distance_for, silhouette_for, stability_for
from ui.charts import dendrogram_figure, k_distance_figure, selection_figures, silhouette_figure
from ui.components import cached, current_segmentation_result, current_selection, show_notes
from ui.state import current_anomaly_settings, current_segmentation, set_segmentation

METHOD_LABELS = {
    "kmeans": "K-means",
    "gmm": "Gaussian mixture",
    "bgmm": "Bayesian Gaussian mixture",
    "dbscan": "DBSCAN",
    "hdbscan": "HDBSCAN",
    "agglomerative": "Agglomerative (hierarchical)",
}

st.title("Choose the number of segments")
settings = current_segmentation()

with st.form("sweep_form"):
    st.markdown("**What to compare customers on**")
    a, b, c = st.columns([3, 1, 2])
    features = a.multiselect(
        "Features",
        [*DEFAULT_FEATURES, *OPTIONAL_FEATURES],
        default=list(settings.features),
        format_func=FEATURE_LABELS.get,
        key="sweep_features",
    )
    transform = b.selectbox(
        "Scaling",
        TRANSFORMS,
        index=TRANSFORMS.index(settings.transform),
        key="sweep_transform",
        help="log-standard: log of each value, then standardized (default; RFM is skewed). "
        "minmax: rescaled to 0–1. quantile: rank share.",
    )
    k_range = c.slider(
        "k values to compare", 2, 15, (settings.k_min, settings.k_max), key="sweep_k"
    )
    business = c.slider(
        "Segments your team can act on",
        2,
        15,
        settings.business_range,
        key="sweep_business",
        help="The recommendation stays inside this range.",
    )
    if st.form_submit_button("Compare", type="primary"):
        if not features:
            st.error("Choose at least one feature.", icon=":material/error:")
        else:
            set_segmentation(
                replace(
                    settings,
                    features=tuple(features),
                    transform=transform,
                    k_min=k_range[0],
                    k_max=k_range[1],
                    business_range=tuple(business),
                )
            )
            st.rerun()

selection = current_selection()
st.success(
    f"**Recommended:** {selection.reason}",
    icon=":material/recommend:",
)
if selection.silhouette_sampled:
    st.caption(
        f"Silhouette is computed on a seeded sample of {selection.silhouette_sample_size:,} of "
        f"{selection.n_customers:,} customers (sampled); the other metrics use every customer."
    )
figures = selection_figures(selection)
for row in (figures[:3], figures[3:]):
    for column, figure in zip(st.columns(3), row, strict=False):
        column.plotly_chart(figure, key=f"metric_{figure.layout.title.text[:12]}")
with st.expander("The metrics table"):
    st.dataframe(selection.table, key="selection_table")

st.subheader("Method and number of segments")
with st.form("fit_form"):
    a, b, c = st.columns(3)
    method = a.selectbox(
        "Method",
        METHODS,
        index=METHODS.index(settings.method),
        format_func=METHOD_LABELS.get,
        key="fit_method",
    )
    k = b.number_input(
        "Number of segments (k)",
        2,
        30,
        settings.n_clusters or selection.recommended_k,
        key="fit_k",
        help="Ignored by DBSCAN and HDBSCAN, which find their own number.",
    )
    scheme = c.selectbox(
        "Names",
        ["lifecycle", "tiers"],
        index=["lifecycle", "tiers"].index(settings.name_scheme),
        help="Champions / Loyal / … or Platinum / Gold / …",
        key="fit_names",
    )
    with st.expander("Method options"):
        d, e, f, g = st.columns(4)
        linkage = d.selectbox(
            "Linkage (agglomerative)",
            LINKAGES,
            index=LINKAGES.index(settings.linkage),
            key="fit_linkage",
        )
        eps = e.number_input(
            "eps (DBSCAN; 0 = from k-distance)",
            0.0,
            50.0,
            float(settings.eps or 0.0),
            step=0.05,
            key="fit_eps",
        )
        min_samples = f.number_input(
            "min samples (DBSCAN, HDBSCAN)", 2, 500, settings.min_samples, key="fit_min_samples"
        )
        min_cluster = g.number_input(
            "min cluster size (HDBSCAN; 0 = auto)",
            0,
            100_000,
            settings.min_cluster_size or 0,
            key="fit_min_cluster",
        )
        random_state = d.number_input(
            "random_state", 0, 2**31 - 1, settings.random_state, key="fit_seed"
        )
    exclude = st.checkbox(
        "Fit without the anomalous customers, then assign them to their nearest segment",
        value=settings.exclude_anomalies,
        key="fit_exclude",
    )
    if st.form_submit_button("Fit segments", type="primary"):
        set_segmentation(
            replace(
                settings,
                method=method,
                n_clusters=int(k),
                name_scheme=scheme,
                linkage=linkage,
                eps=float(eps) or None,
                min_samples=int(min_samples),
                min_cluster_size=int(min_cluster) or None,
                random_state=int(random_state),
                exclude_anomalies=exclude,
            )
        )
        st.rerun()

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

stable = cached(stability_for, settings, current_anomaly_settings())
st.metric(
    "Stability (adjusted Rand, refits on 80% subsamples)",
    f"{stable.mean:.2f}",
    f"lowest {stable.minimum:.2f} over {stable.n_runs} refits",
    delta_color="off",
    help="1 means every refit puts the same customers together; below ~0.7 the segments "
    "depend on chance and should not drive decisions.",
)

st.subheader("Silhouette of each customer")
profile = cached(silhouette_for, settings, current_anomaly_settings())
if profile.sampled:
    st.caption(f"Computed on a seeded sample of {len(profile.samples):,} customers (sampled).")
st.caption(
    "Each band is a segment, customers sorted by silhouette: near 1 = well inside the segment, "
    "below 0 = closer to another segment."
)
st.plotly_chart(
    silhouette_figure(profile.samples, segmentation.names, profile.average),
    key="silhouette_samples",
)

if settings.method == "dbscan":
    st.subheader("Choosing eps")
    st.plotly_chart(k_distance_figure(cached(k_distance_for, settings)), key="k_distance")
if settings.method == "agglomerative":
    st.subheader("Dendrogram")
    tree = cached(dendrogram_for, settings)
    if tree.sampled:
        st.caption(f"Drawn from a seeded sample of {len(tree.customer_ids):,} customers.")
    st.plotly_chart(dendrogram_figure(tree), key="dendrogram")
