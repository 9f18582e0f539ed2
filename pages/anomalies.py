"""Anomalies: unusual customers, why they stand out, where detectors agree, a classifier."""

import streamlit as st

from ui import components, forms
from ui.anomalies import customers_with_flags, flagged_csv, flagged_table, revenue_share
from ui.cache import agreement_for, classifier_for
from ui.charts import anomalies as charts
from ui.components import cached, current_anomalies, show_frame, show_notes
from ui.labels import DETECTOR_LABELS
from ui.router import through_app
from ui.state import current_anomaly_settings, current_currency

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

st.subheader("Flagged customers")
show_frame(flagged_table(table, anomalies), key="anomaly_table")
st.download_button(
    "Flagged customers (CSV)", lambda: flagged_csv(table, anomalies),
    file_name="anomalous_customers.csv", mime="text/csv", key="download_anomalies",
)  # fmt: skip

large = len(table) > components.LARGE_CUSTOMERS
st.subheader("Where the detectors agree")
if large and not st.toggle(
    f"Compare the four detectors ({len(table):,} customers: about half a minute)",
    key="run_agreement",
):
    st.caption("Switch on to fit the four detectors and compare what they flag.")
else:
    agreement = cached(agreement_for, settings, doing="Fitting the four detectors…")
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
if not st.toggle(
    f"Train the classifier ({len(table):,} customers" + (": up to a minute)" if large else ")"),
    key="run_classifier",
):
    st.caption(
        "Switch on to train a classifier on the detector's flags and see how well it imitates "
        "them. Saved models and scoring use the detector itself."
    )
else:
    report = cached(classifier_for, settings, doing="Training the classifier…")
    st.info(report.note, icon=":material/info:")
    show_frame(report.metrics, key="classifier_metrics")
    st.caption(
        "Precision: of the customers it flags, the share the detector flags too. Recall: of the "
        "detector's flags, the share it finds. F1 combines both (1 = perfect). How: SMOTE "
        "oversamples the flagged customers in the training split only (synthetic look-alikes of "
        "the few flagged), then gradient boosting learns the detector's decision; the two "
        "held-out splits are left untouched."
    )
