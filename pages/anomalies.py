"""Anomalies: unusual customers, why they stand out, where detectors agree, a classifier."""

import streamlit as st

from ui import components, forms
from ui.anomalies import (
    agreement_seconds,
    classifier_seconds,
    customers_with_flags,
    flagged_csv,
    flagged_table,
    revenue_share,
    scatter_note,
)  # fmt: skip
from ui.cache import agreement_for, classifier_for
from ui.charts import anomalies as charts
from ui.components import current_anomalies, show_frame, show_notes
from ui.labels import DETECTOR_LABELS
from ui.on_request import ask_or_show
from ui.router import through_app
from ui.state import current_anomaly_settings, current_currency, read_only

through_app()

st.title("Anomalous customers")
st.caption(
    "Anomalies are flagged, never removed: every export keeps them, with the reason they stand "
    "out. Use them to check data errors, call wholesale buyers, or leave them out of the fit "
    "(Model selection page)."
)
table = components.current_customers()  # scores and rule segments of the session
settings = current_anomaly_settings()

forms.anomaly_form()  # nothing to change in a published run

anomalies = current_anomalies()
a, b, c = st.columns(3)
a.metric(
    "Customers flagged", f"{anomalies.n_flagged:,}", f"of {len(anomalies.table):,}",
    delta_color="off",
)  # fmt: skip
b.metric("Their share of revenue", f"{revenue_share(table, anomalies):.1%}")
c.metric("Detector", DETECTOR_LABELS[anomalies.method])
show_notes(anomalies.notes)

scatters = charts.flag_scatters(customers_with_flags(table, anomalies), currency=current_currency())
for column, (axes, figure) in zip(st.columns(3), scatters.items(), strict=True):
    column.plotly_chart(figure, key=f"scatter_{axes}")
if note := scatter_note(anomalies):
    st.caption(note)

st.subheader("Flagged customers")
show_frame(flagged_table(table, anomalies), key="anomaly_table")
st.download_button(
    "Flagged customers (CSV)", lambda: flagged_csv(table, anomalies),
    file_name="anomalous_customers.csv", mime="text/csv", key="download_anomalies",
    on_click="ignore",
)  # fmt: skip

st.subheader("Where the detectors agree")
agreement = ask_or_show(
    agreement_for, settings, name="agreement", ask="Compare the four detectors",
    explain=f"Fits four detectors on the {len(table):,} customers and compares what they flag "
    f"({agreement_seconds(len(table))}).",
    doing="Fitting the detectors:",
)  # fmt: skip
if agreement is not None:
    a, b = st.columns(2)
    a.plotly_chart(charts.agreement_heatmap(agreement.pairwise), key="agreement_heatmap")
    b.plotly_chart(
        charts.agreement_bars(agreement.counts, share=settings.contamination),
        key="agreement_counts",
    )
    st.caption(
        f"The headline counts the flags of the chosen detector ({anomalies.n_flagged:,}); "
        "a customer only one detector flags is a weak signal, one that all flag a strong one."
    )

st.subheader("A classifier that imitates the detector")
report = ask_or_show(
    classifier_for, settings, name="classifier", ask="Train the classifier",
    explain="Trains a classifier on the detector's flags and shows how well it imitates them "
    f"({classifier_seconds(len(table))}). Saved models and scoring use the detector itself.",
    doing="Training the classifier:", asked=read_only(),
)  # fmt: skip
if report is not None:
    st.info(report.note, icon=":material/info:")
    show_frame(report.metrics, key="classifier_metrics")
    st.caption(
        "Precision: of the customers it flags, the share the detector flags too. Recall: of the "
        "detector's flags, the share it finds. F1 combines both (1 = perfect). How: SMOTE "
        "oversamples the flagged customers in the training split only (synthetic look-alikes of "
        "the few flagged), then gradient boosting learns the detector's decision; the two "
        "held-out splits are left untouched."
    )
