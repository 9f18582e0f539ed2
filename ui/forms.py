"""The two parameter forms of the Model selection page: what to compare customers on, and the
method to fit. Each draws its widgets (keys ``sweep_*`` and ``fit_*``) and, when submitted,
changes this session's segmentation settings and reruns the app."""

from __future__ import annotations

import streamlit as st

from rfm_core.segments.segmentation import SegmentationSettings
from ui.labels import (
    CHOICE_LABELS,
    FEATURE_LABELS,
    FEATURES,
    LINKAGES,
    METHOD_LABELS,
    NAME_SCHEMES,
    TRANSFORMS,
)
from ui.state import update_segmentation

__all__ = ["fit_form", "sweep_form"]


def sweep_form(settings: SegmentationSettings) -> None:
    """Features, scaling, the k values to compare and the business range of the k sweep."""
    with st.form("sweep_form"):
        st.markdown("**What to compare customers on**")
        a, b, c = st.columns([3, 1, 2])
        features = a.multiselect(
            "Features", FEATURES, default=list(settings.features),
            format_func=FEATURE_LABELS.get, key="sweep_features",
        )  # fmt: skip
        transform = b.selectbox(
            "Scaling", TRANSFORMS, index=TRANSFORMS.index(settings.transform),
            format_func=CHOICE_LABELS.get, key="sweep_transform",
            help="Log, then standardized: the log of each value, centred and scaled (default; "
            "RFM values are skewed). Min–max: rescaled to 0–1. Quantiles: each value's rank share.",
        )  # fmt: skip
        k_range = c.slider(
            "k values to compare", 2, 15, (settings.k_min, settings.k_max), key="sweep_k"
        )
        business = c.slider(
            "Segments your team can act on", 2, 15, settings.business_range,
            key="sweep_business", help="The recommendation stays inside this range.",
        )  # fmt: skip
        if st.form_submit_button("Compare", type="primary"):
            if not features:
                st.error("Choose at least one feature.", icon=":material/error:")
            else:
                update_segmentation(
                    features=tuple(features), transform=transform, k_min=k_range[0],
                    k_max=k_range[1], business_range=tuple(business),
                )  # fmt: skip
                st.rerun()


def fit_form(settings: SegmentationSettings, *, recommended_k: int) -> None:
    """Method, k, naming scheme and the options of each method."""
    with st.form("fit_form"):
        a, b, c = st.columns(3)
        methods = list(METHOD_LABELS)
        method = a.selectbox(
            "Method", methods, index=methods.index(settings.method),
            format_func=METHOD_LABELS.get, key="fit_method",
        )  # fmt: skip
        k = b.number_input(
            "Number of segments (k)", 2, 30, settings.n_clusters or recommended_k, key="fit_k",
            help="Ignored by DBSCAN and HDBSCAN, which find their own number.",
        )  # fmt: skip
        scheme = c.selectbox(
            "Names", NAME_SCHEMES, index=NAME_SCHEMES.index(settings.name_scheme),
            format_func=CHOICE_LABELS.get, key="fit_names",
            help="Champions / Loyal / … or Platinum / Gold / …",
        )  # fmt: skip
        with st.expander("Method options"):
            d, e, f, g = st.columns(4)
            linkage = d.selectbox(
                "Linkage (agglomerative)", LINKAGES, index=LINKAGES.index(settings.linkage),
                key="fit_linkage",
            )  # fmt: skip
            eps = e.number_input(
                "eps (DBSCAN; 0 = from k-distance)", 0.0, 50.0, float(settings.eps or 0.0),
                step=0.05, key="fit_eps",
            )  # fmt: skip
            min_samples = f.number_input(
                "min samples (DBSCAN, HDBSCAN)", 2, 500, settings.min_samples,
                key="fit_min_samples",
            )  # fmt: skip
            min_cluster = g.number_input(
                "min cluster size (HDBSCAN; 0 = auto)", 0, 100_000,
                settings.min_cluster_size or 0, key="fit_min_cluster",
            )  # fmt: skip
            seed = d.number_input(
                "Random seed", 0, 2**31 - 1, settings.random_state, key="fit_seed"
            )
        exclude = st.checkbox(
            "Fit without the anomalous customers, then assign them to their nearest segment",
            value=settings.exclude_anomalies, key="fit_exclude",
        )  # fmt: skip
        if st.form_submit_button("Fit segments", type="primary"):
            update_segmentation(
                method=method, n_clusters=int(k), name_scheme=scheme, linkage=linkage,
                eps=float(eps) or None, min_samples=int(min_samples),
                min_cluster_size=int(min_cluster) or None, random_state=int(seed),
                exclude_anomalies=exclude,
            )  # fmt: skip
            st.rerun()
