"""Export & score: take the results away, or score a new log with a saved model."""

import streamlit as st

from rfm_core.ingest.io import SUPPORTED_SUFFIXES
from rfm_core.outputs.export import labeled_csv
from rfm_core.outputs.persistence import dump_bundle, installation_key
from rfm_core.outputs.reports import excel_workbook, html_report, segment_csv_zip
from ui import components
from ui.components import (
    current_anomalies,
    current_customers,
    current_segmentation_result,
    ensure_dataset,
    safe_md,
    show_frame,
    show_notes,
    show_warnings,
    user_errors,
)
from ui.exports import ExportKey, actions_key, bundle_for, report_for, score_upload
from ui.state import (
    current_anomaly_settings,
    current_rules,
    current_segmentation,
    current_segments,
    segment_actions,
    segment_renames,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

st.title("Export & score")
st.caption(
    "Take the results of the current file and settings away, or score a new transaction log "
    "with a saved model: same cleaning, same segments, no refit."
)
table = current_customers()
segmentation = current_segmentation_result()
anomalies = current_anomalies()
dataset = ensure_dataset()

st.subheader("Downloads")
with_classifier = st.toggle(
    "Include the anomaly classifier in the saved model",
    value=len(table) <= components.LARGE_CUSTOMERS,
    key="bundle_classifier",
    help="SMOTE + gradient boosting trained on the detector's flags (Anomalies page).",
)
key = ExportKey(
    dataset, current_rules(), current_segments(), current_segmentation(),
    current_anomaly_settings(), tuple(sorted(segment_renames().items())),
    actions_key(segment_actions()), with_classifier,
)  # fmt: skip
with user_errors(), st.spinner("Preparing the exports…"):
    report = report_for(key)
    bundle = bundle_for(key)
    signing_key = installation_key()
st.caption(
    f"{safe_md(dataset.file_name)}: {len(report.labeled):,} customers in {segmentation.n_clusters} "
    f"segments ({segmentation.settings.method}), {anomalies.n_flagged:,} flagged as anomalous "
    "(kept and marked in every export). Names and actions are those of the Segments page."
)
a, b, c = st.columns(3)
a.download_button(
    "Labeled customers (CSV)", lambda: labeled_csv(report.labeled),
    file_name="customers_labeled.csv", mime="text/csv", key="download_export_labeled",
    help="Every customer: RFM values, scores, rule segment, cluster, segment name, "
    "probabilities and anomaly columns.",
)  # fmt: skip
b.download_button(
    "One CSV per segment (zip)", lambda: segment_csv_zip(report.labeled),
    file_name="segments.zip", mime="application/zip", key="download_segments_zip",
    help="Ready for a campaign tool: one file of customers per segment.",
)  # fmt: skip
c.download_button(
    "Excel workbook", lambda: excel_workbook(report), file_name="rfm_segments.xlsx",
    mime=XLSX, key="download_workbook",
    help="Summary, segment profiles, customers, cleaning report, model selection.",
)  # fmt: skip
a.download_button(
    "HTML report", lambda: html_report(report).encode("utf-8"), file_name="rfm_report.html",
    mime="text/html", key="download_html",
    help="One self-contained file that opens offline in any browser.",
)  # fmt: skip
b.download_button(
    "Model bundle (.rfm)", lambda: dump_bundle(bundle, key=signing_key),
    file_name="segments_model.rfm", mime="application/octet-stream", key="download_bundle",
    help="Signed with this installation's key; score new data below or with "
    "python -m rfm_core score --model segments_model.rfm INPUT -o OUT.csv",
)  # fmt: skip
if with_classifier and bundle.classifier is None:
    st.caption("Too few flagged customers to train the anomaly classifier: the model has none.")

st.subheader("Score new data")
st.caption(
    "A model saved on this installation (here or with `segment --save-model`) and a log with "
    "the same columns. Bundles are signed: a file that was altered or saved elsewhere is refused "
    "before it is opened, because loading a model runs code."
)
a, b = st.columns(2)
bundle_file = a.file_uploader("Model bundle (.rfm)", type=["rfm"], key="score_bundle")
new_file = b.file_uploader(
    "Transaction log", type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES], key="score_file"
)
score_basis = st.radio(
    "R, F, M scores and rule segments",
    ["model", "file"],
    format_func={
        "model": "as among the model's training customers",
        "file": "ranked within the new log",
    }.get,
    horizontal=True,
    key="score_basis",
    help="Keep the model's score edges to compare a batch with the training customers; rank "
    "within the log when it is the whole customer base, re-scored for a new period.",
)
if bundle_file is None or new_file is None:
    st.info("Upload a model bundle and a transaction log to score them.", icon=":material/info:")
else:
    with user_errors(), st.spinner(f"Scoring {safe_md(new_file.name)}…"):
        scored = score_upload(
            bundle_file.getvalue(), new_file.getvalue(), new_file.name, scores=score_basis
        )
    show_warnings((*scored.bundle.warnings, *scored.result.warnings))
    labeled = scored.labeled
    a, b, c = st.columns(3)
    a.metric("Customers scored", f"{len(labeled):,}")
    if "anomaly" in labeled.columns:
        b.metric("Flagged as anomalous", f"{int(labeled['anomaly'].sum()):,}")
    c.metric("Model saved", scored.bundle.created[:10])
    show_notes(
        (
            f"Segments of the saved {scored.bundle.segmentation.method} model, reference date "
            f"{scored.result.rfm.reference_date}; nothing was refitted.",
        )
    )
    counts = labeled["segment_name"].value_counts().rename_axis("segment").rename("customers")
    st.dataframe(counts.to_frame(), key="scored_counts")
    show_frame(labeled, key="scored_preview")
    st.download_button(
        "Scored customers (CSV)", lambda: labeled_csv(labeled), file_name="customers_scored.csv",
        mime="text/csv", key="download_scored",
    )  # fmt: skip
