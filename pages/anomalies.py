"""Anomalies: unusual customers, why they stand out, where detectors agree, a classifier."""

import streamlit as st

from ui import components
from ui.anomalies import customers_with_flags, flagged_csv, flagged_table, revenue_share
from ui.cache import agreement_for, classifier_for
from ui.charts import anomalies as charts
from ui.components import cached, current_anomalies, current_pipeline, show_frame
from ui.formats import CLASSIFIER_FORMATS
from ui.labels import DETECTOR_LABELS
from ui.state import current_anomaly_settings, read_only, update_anomaly_settings

st.title("Anomalous customers")
st.caption(
    "Anomalies are flagged, never removed: every export keeps them, with the reason they stand "
    "out. Use them to check data errors, call wholesale buyers, or leave them out of the fit "
    "(Model selection page)."
)
table = current_pipeline().rfm.table
settings = current_anomaly_settings()

if not read_only():  # a published run keeps the detector it was published with
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
            help="The isolation forest and LOF flag this share, the mixture the least dense share. "
            "The robust z-score ignores it: it flags every customer more than 3.5 robust "
            "standard deviations from the median on some feature.",
        )  # fmt: skip
        if st.form_submit_button("Detect", type="primary"):
            update_anomaly_settings(method=method, contamination=round(share / 100, 4))
            st.rerun()

anomalies = current_anomalies()
a, b, c = st.columns(3)
a.metric(
    "Customers flagged", f"{anomalies.n_flagged:,}", f"of {len(anomalies.table):,}",
    delta_color="off",
)  # fmt: skip
b.metric("Their share of revenue", f"{revenue_share(table, anomalies):.1%}")
c.metric("Detector", DETECTOR_LABELS[anomalies.method])

scatters = charts.flag_scatters(customers_with_flags(table, anomalies))
for column, (axes, figure) in zip(st.columns(3), scatters.items(), strict=True):
    column.plotly_chart(figure, key=f"scatter_{axes}")

st.subheader("Flagged customers")
show_frame(flagged_table(table, anomalies), key="anomaly_table")
st.download_button(
    "Flagged customers (CSV)", lambda: flagged_csv(table, anomalies),
    file_name="anomalous_customers.csv", mime="text/csv", key="download_anomalies",
)  # fmt: skip

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
    a.plotly_chart(charts.agreement_heatmap(agreement.pairwise), key="agreement_heatmap")
    b.plotly_chart(charts.agreement_bars(agreement.counts), key="agreement_counts")

st.subheader("A classifier for new customers")
if large and not st.toggle(
    f"Train the classifier ({len(table):,} customers: up to a minute)", key="run_classifier"
):
    st.caption("Switch on to train SMOTE + gradient boosting on the detector's flags.")
else:
    report = cached(classifier_for, settings)
    st.info(report.note, icon=":material/info:")
    st.dataframe(report.metrics, key="classifier_metrics", column_config=CLASSIFIER_FORMATS)
    st.caption(
        "SMOTE oversamples the flagged customers in the training split only, then gradient "
        "boosting learns the detector's decision; validation and test splits are stratified and "
        "untouched."
    )
