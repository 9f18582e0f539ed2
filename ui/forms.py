"""The parameter forms: on the Model selection page what to compare customers on and the method
to fit (keys ``sweep_*`` and ``fit_*``), on the RFM page how the scores are cut (``binning_*``)
and the rule segments (``segments_*``), on the Segments page the names and actions, on the
Anomalies page the detector. Each draws its widgets and, when submitted, changes this session's
settings and reruns the app. A published run is read-only: the forms that would change it draw
nothing then (the names and actions are shown as a table)."""

from __future__ import annotations

import streamlit as st

from rfm_core.segments.segmentation import SegmentationSettings
from ui import formats
from ui.components import safe_md, show_frame, show_warnings, shown_errors
from ui.customers import (
    RULE_COLUMNS,
    SCORE_LEVEL_COLUMNS,
    binning_choice,
    binning_from_form,
    binning_inputs,
    preview_binning,
    rules_table,
)
from ui.labels import (
    BINNING_LABELS,
    CHOICE_LABELS,
    DETECTOR_LABELS,
    FEATURE_LABELS,
    FEATURES,
    LINKAGES,
    METHOD_LABELS,
    NAME_SCHEMES,
    TRANSFORMS,
)
from ui.segments import EDITOR_COLUMNS, names_table
from ui.state import (
    actions_table,
    current_anomaly_settings,
    current_binning,
    read_only,
    save_segment_names,
    set_binning,
    set_segment_actions,
    set_segments,
    set_segments_from_frame,
    update_anomaly_settings,
    update_segmentation,
)

__all__ = [
    "anomaly_form",
    "binning_form",
    "fit_form",
    "names_and_actions_form",
    "segment_rules_form",
    "sweep_form",
]
_CUT_EXAMPLES = {
    "recency": "days, e.g. 30, 90, 180, 365: R 5 within 30 days … R 1 beyond 365",
    "frequency": "orders, e.g. 2, 3, 5, 10: F 1 one order … F 5 ten or more",
    "monetary": "amount spent, e.g. 100, 250, 500, 1000: M 5 for 1000 or more",
}


def binning_form() -> None:
    """How the scores are cut: a method or typed cut points; *Preview* counts the customers
    who would change rule segment, *Apply* makes it the session's binning."""
    if read_only():
        return
    with st.expander("Change how the scores are cut"):
        choices = list(BINNING_LABELS)
        with st.form("binning_form"):
            choice = st.radio(
                "Cut the scores by", choices,
                index=choices.index(binning_choice(current_binning())),
                format_func=BINNING_LABELS.get, key="binning_method",
            )  # fmt: skip
            st.caption(
                "Fixed cut points: four increasing numbers per score, each belonging to the "
                "better score; leave a score empty to keep its quantiles."
            )
            shown = binning_inputs()
            texts = {}
            for column, feature in zip(st.columns(3), _CUT_EXAMPLES, strict=True):
                texts[feature] = column.text_input(
                    f"{feature.capitalize()} cut points", value=shown[feature],
                    key=f"binning_{feature}", help=_CUT_EXAMPLES[feature],
                )  # fmt: skip
            preview, apply = st.columns(2)
            asked_preview = preview.form_submit_button("Preview changes")
            asked_apply = apply.form_submit_button("Apply", type="primary")
        if not (asked_preview or asked_apply):
            return
        with shown_errors():
            candidate = binning_from_form(choice, texts)
            if asked_apply:
                set_binning(candidate)
                st.rerun()
            _show_preview(candidate)


def _show_preview(candidate) -> None:
    result = preview_binning(candidate)
    changes = result.changes
    st.metric(
        "Customers who would change rule segment",
        f"{changes.changed:,} of {changes.customers:,}",
        f"{changes.changed / max(changes.customers, 1):.1%}", delta_color="off",
    )  # fmt: skip
    show_warnings(result.notes)
    moves, levels = st.columns(2)
    moves.markdown(f"**Moves** ({safe_md(candidate.describe())}; *Apply* to keep it)")
    with moves:
        show_frame(changes.moves, hide_index=True, key="binning_moves")
    levels.markdown("**Its scores**")
    with levels:
        show_frame(
            result.levels, overrides=SCORE_LEVEL_COLUMNS, hide_index=True, key="binning_levels"
        )


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
                rules_table(), num_rows="dynamic", hide_index=True, key="segments_editor",
                column_config=RULE_COLUMNS,
            )  # fmt: skip
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
        show_frame(actions_table(names), hide_index=True, key="actions_table")
        return
    with st.form("names_form"):
        st.caption("Rename a segment: the new name is used in every chart and export.")
        edited = st.data_editor(
            names_table(segmentation), hide_index=True, disabled=["cluster"],
            key="names_editor", column_config=EDITOR_COLUMNS,
        )  # fmt: skip
        if st.form_submit_button("Save names"):
            with shown_errors():
                save_segment_names(segmentation.names, edited)
                st.rerun()
    with st.form("actions_form"):
        st.caption("Suggested actions per segment; edit them for your campaign plan.")
        edited_actions = st.data_editor(
            actions_table(names), hide_index=True, key="actions_editor",
            disabled=["segment", "name"], column_config=EDITOR_COLUMNS,
            row_height=formats.WRAPPED_ROW_HEIGHT,
        )  # fmt: skip
        save, reset = st.columns(2)
        if save.form_submit_button("Save actions"):
            set_segment_actions(edited_actions.to_dict("records"))
            st.rerun()
        if reset.form_submit_button("Restore suggested actions"):
            set_segment_actions(None)
            st.rerun()


def anomaly_form() -> None:
    """The detector and the share of customers it flags (keys ``anomaly_*``), unless read-only:
    a published run keeps the detector it was published with."""
    if read_only():
        return
    settings = current_anomaly_settings()
    with st.form("anomaly_form"):
        a, b = st.columns(2)
        detectors = list(DETECTOR_LABELS)
        method = a.selectbox(
            "Detector", detectors, index=detectors.index(settings.method),
            format_func=DETECTOR_LABELS.get, key="anomaly_method",
        )  # fmt: skip
        share = b.slider(
            "Share of customers to flag (%)", 0.5, 10.0, settings.contamination * 100, step=0.5,
            key="anomaly_share",
            help="The isolation forest and LOF flag this share, the mixture the least dense "
            "share. The robust z-score flags the customers more than 3.5 robust standard "
            "deviations from the median on some feature, at most this share (the most extreme "
            "first).",
        )  # fmt: skip
        if st.form_submit_button("Detect", type="primary"):
            update_anomaly_settings(method=method, contamination=round(share / 100, 4))
            st.rerun()
