"""Anomalies: unusual customers, why they stand out, where detectors agree, a classifier."""

import plotly.express as px
import streamlit as st

from rfm_core.config import ANOMALY_METHODS
from rfm_core.outputs.export import labeled_csv
from rfm_core.segments.segmentation import AnomalySettings, labeled_customers
from ui import components
from ui.cache import agreement_for, classifier_for
from ui.charts import PALETTE, escaped, sample_for_display
from ui.components import cached, current_anomalies, current_pipeline, show_frame
from ui.state import current_anomaly_settings, set_anomaly_settings

METHOD_LABELS = {
    "iforest": "Isolation forest",
    "gmm": "Gaussian mixture density",
    "lof": "Local outlier factor",
    "zscore": "Robust z-score (median / MAD)",
}

st.title("Anomalous customers")
st.caption(
    "Anomalies are flagged, never removed: every export keeps them, with the reason they stand "
    "out. Use them to check data errors, call wholesale buyers, or leave them out of the fit "
    "(Model selection page)."
)
result = current_pipeline()
table = result.rfm.table
settings = current_anomaly_settings()

with st.form("anomaly_form"):
    a, b = st.columns(2)
    method = a.selectbox(
        "Detector",
        ANOMALY_METHODS,
        index=ANOMALY_METHODS.index(settings.method),
        format_func=METHOD_LABELS.get,
        key="anomaly_method",
    )
    share = b.slider(
        "Share of customers to flag (%)",
        0.5,
        10.0,
        settings.contamination * 100,
        step=0.5,
        key="anomaly_share",
        help="The isolation forest and LOF flag this share, the mixture the least dense share. "
        "The robust z-score ignores it: it flags every customer more than 3.5 robust "
        "standard deviations from the median on some feature.",
    )
    if st.form_submit_button("Detect", type="primary"):
        set_anomaly_settings(
            AnomalySettings(
                method=method,
                contamination=round(share / 100, 4),
                features=settings.features,
                transform=settings.transform,
                random_state=settings.random_state,
            )
        )
        st.rerun()

anomalies = current_anomalies()
flags = anomalies.table
a, b, c = st.columns(3)
a.metric("Customers flagged", f"{anomalies.n_flagged:,}", f"of {len(flags):,}", delta_color="off")
revenue = table["monetary"].where(flags["anomaly"], 0).sum() / max(table["monetary"].sum(), 1e-9)
b.metric("Their share of revenue", f"{revenue:.1%}")
c.metric("Detector", METHOD_LABELS[anomalies.method])

view = table[["recency", "frequency", "monetary"]].join(flags)
view["flag"] = view["anomaly"].map({True: "anomaly", False: "normal"})
drawn = sample_for_display(view, keep=view["anomaly"]).reset_index()
drawn = escaped(drawn, ["customer_id", "anomaly_reason"])
drawn["recency + 1"] = drawn["recency"].clip(lower=0) + 1
drawn["monetary "] = drawn["monetary"].clip(lower=0.01)
hover = {
    "customer_id": True,
    "recency": True,
    "frequency": True,
    "monetary": ":,.2f",
    "anomaly_reason": True,
    "recency + 1": False,
    "monetary ": False,
}
pairs = [("recency + 1", "frequency"), ("recency + 1", "monetary "), ("frequency", "monetary ")]
for column, (x, y) in zip(st.columns(3), pairs, strict=True):
    figure = px.scatter(
        drawn.sort_values("anomaly"),
        x=x,
        y=y,
        color="flag",
        log_x=True,
        log_y=True,
        hover_data=hover,
        color_discrete_map={"normal": "#b0b8c4", "anomaly": PALETTE[3]},
        title=f"{x.strip()} × {y.strip()}",
    )
    figure.update_traces(marker={"size": 5})
    figure.update_layout(
        height=380,
        margin={"t": 40, "b": 10},
        legend={"title_text": "", "orientation": "h", "y": -0.25},
    )
    column.plotly_chart(figure, key=f"scatter_{x}_{y}")

st.subheader("Flagged customers")
flagged = view[view["anomaly"]].sort_values("anomaly_score", ascending=False)
show_frame(
    flagged[
        ["recency", "frequency", "monetary", "anomaly_score", "anomaly_category", "anomaly_reason"]
    ],
    key="anomaly_table",
)
st.download_button(
    "Flagged customers (CSV)",
    lambda: labeled_csv(labeled_customers(table, None, anomalies).loc[flagged.index]),
    file_name="anomalous_customers.csv",
    mime="text/csv",
    key="download_anomalies",
)

# the comparison and the classifier refit models: on large logs they wait for the user's say-so
large = len(table) > components.LARGE_CUSTOMERS
st.subheader("Where the detectors agree")
if large and not st.toggle(
    f"Compare the four detectors ({len(table):,} customers: about half a minute)",
    key="run_agreement",
):
    st.caption("Switch on to fit the four detectors and compare what they flag.")
else:
    agreement = cached(agreement_for, settings)
    a, b = st.columns(2)
    pairwise = px.imshow(
        agreement.pairwise,
        text_auto=".2f",
        zmin=0,
        zmax=1,
        aspect="auto",
        color_continuous_scale="Blues",
        title="Overlap of flagged sets (Jaccard)",
    )
    pairwise.update_layout(height=340, margin={"t": 40, "b": 10})
    a.plotly_chart(pairwise, key="agreement_heatmap")
    counts = agreement.counts.rename_axis("detectors").reset_index(name="customers")
    counts = counts[counts["detectors"] > 0]
    bars = px.bar(
        counts,
        x="detectors",
        y="customers",
        text_auto=True,
        title="Customers flagged by n of the 4 detectors",
    )
    bars.update_layout(height=340, margin={"t": 40, "b": 10})
    bars.update_xaxes(type="category")
    b.plotly_chart(bars, key="agreement_counts")

st.subheader("A classifier for new customers")
if large and not st.toggle(
    f"Train the classifier ({len(table):,} customers: up to a minute)", key="run_classifier"
):
    st.caption("Switch on to train SMOTE + gradient boosting on the detector's flags.")
else:
    report = cached(classifier_for, settings)
    st.info(report.note, icon=":material/info:")
    metrics = report.metrics.copy()
    st.dataframe(
        metrics,
        key="classifier_metrics",
        column_config={
            m: st.column_config.NumberColumn(format="%.3f")
            for m in ("accuracy", "precision", "recall", "f1")
        },
    )
    st.caption(
        "SMOTE oversamples the flagged customers in the training split only, then gradient "
        "boosting learns the detector's decision; validation and test splits are stratified and "
        "untouched."
    )
