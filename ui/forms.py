"""The parameter forms of the Model selection page (what to compare customers on, the method to
fit) and the RFM page's segment rules. Each draws its widgets (keys ``sweep_*``, ``fit_*``,
``segments_*``) and, when submitted, changes this session's settings and reruns the app. A
published run is read-only: :func:`segment_rules_form` draws nothing then."""

from __future__ import annotations

import streamlit as st

from rfm_core.segments.segmentation import SegmentationSettings
from ui.components import shown_errors
from ui.customers import rules_table
from ui.labels import FEATURE_LABELS, FEATURES, LINKAGES, METHOD_LABELS, NAME_SCHEMES, TRANSFORMS
from ui.segments import names_table
from ui.state import (
    actions_table,
    read_only,
    save_segment_names,
    set_segment_actions,
    set_segments,
    set_segments_from_frame,
    update_segmentation,
)

__all__ = ["fit_form", "names_and_actions_form", "segment_rules_form", "sweep_form"]


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
            key="sweep_transform",
            help="log-standard: log of each value, then standardized (default; RFM is skewed). "
            "minmax: rescaled to 0–1. quantile: rank share.",
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
            help="Champions / Loyal / … or Platinum / Gold / …", key="fit_names",
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
                "random_state", 0, 2**31 - 1, settings.random_state, key="fit_seed"
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


def segment_rules_form() -> None:
    """The editable table of rule segments (R, F, M score ranges → name), unless read-only."""
    if read_only():
        return
    with st.expander("Edit the segment rules"):
        st.caption(
            "Each row gives a segment to the customers whose R, F and M scores lie in its ranges "
            "(inclusive). Together the rows must cover every combination of scores exactly once."
        )
        with st.form("segments_form"):
            edited = st.data_editor(
                rules_table(), num_rows="dynamic", hide_index=True, key="segments_editor"
            )
            apply, reset = st.columns(2)
            if apply.form_submit_button("Apply segment rules"):
                with shown_errors():
                    set_segments_from_frame(edited)
                    st.rerun()
            if reset.form_submit_button("Restore the default rules"):
                set_segments(None)
                st.rerun()


def names_and_actions_form(segmentation, names: dict[int, str]) -> None:
    """The Segments page's names and actions: two editable tables, or the run's, read-only."""
    if read_only():
        st.dataframe(actions_table(names), hide_index=True, key="actions_table")
        return
    with st.form("names_form"):
        st.caption("Rename a segment: the new name is used in every chart and export.")
        edited = st.data_editor(
            names_table(segmentation), hide_index=True, disabled=["cluster"], key="names_editor"
        )
        if st.form_submit_button("Save names"):
            with shown_errors():
                save_segment_names(segmentation.names, edited)
                st.rerun()
    with st.form("actions_form"):
        st.caption("Suggested actions per segment; edit them for your campaign plan.")
        edited_actions = st.data_editor(
            actions_table(names), hide_index=True, key="actions_editor",
            disabled=["segment", "name"],
        )  # fmt: skip
        save, reset = st.columns(2)
        if save.form_submit_button("Save actions"):
            set_segment_actions(edited_actions.to_dict("records"))
            st.rerun()
        if reset.form_submit_button("Restore suggested actions"):
            set_segment_actions(None)
            st.rerun()
