"""Export & score: take the results away, or score a new log with a saved model."""

import streamlit as st

from ui import components, exports
from ui.components import safe_md, show_frame, show_notes, show_warnings, user_errors
from ui.data import UPLOAD_TYPES
from ui.exports import current_export_key, downloads, labeled_csv, score_upload
from ui.labels import METHOD_LABELS, SCORE_BASIS_LABELS
from ui.router import through_app
from ui.runs import publish_form
from ui.state import read_only

through_app()

st.title("Export & score")
st.caption(
    "Take the results of the current file and settings away, or score a new transaction log "
    "with a saved model: same cleaning, same segments, no refit."
)
table = components.current_customers()
segmentation = components.current_segmentation_result()
anomalies = components.current_anomalies()
dataset = components.ensure_dataset()

st.subheader("Downloads")
with_classifier = st.toggle(
    "Train the anomaly classifier and add its metrics to the workbook and HTML report",
    value=False,
    key="bundle_classifier",
    help="A classifier (gradient boosting) trained on the detector's flags (Anomalies page). The "
    "saved model never holds it: scoring applies the saved detector itself.",
)
key = current_export_key(with_classifier=with_classifier)
with user_errors(), st.spinner("Preparing the exports…"):
    report, bundle, signed = exports.prepare(key)
st.caption(
    f"{safe_md(dataset.file_name)}: {len(report.labeled):,} customers in {segmentation.n_clusters} "
    f"segments ({METHOD_LABELS[segmentation.settings.method]}), {anomalies.n_flagged:,} flagged "
    "as anomalous (kept and marked in every export). Names and actions are those of the Segments "
    "page."
)
a, b, c = st.columns(3)
for column, item in zip((a, b, c, a, b), downloads(report, signed), strict=True):
    column.download_button(
        item.label, item.data, file_name=item.file_name, mime=item.mime, key=item.key,
        help=item.help, on_click="ignore",
    )  # fmt: skip
if with_classifier and report.classifier is None:
    st.caption("Too few flagged customers to train the anomaly classifier: the reports have none.")
if read_only():
    st.stop()  # a published run is looked at, not changed: no publishing, no scoring

st.subheader("Publish for the team")
publish_form(with_classifier=with_classifier)

st.subheader("Score new data")
st.caption(
    "A model saved on this installation (here or with `segment --save-model`) and a log with "
    "the same columns. Bundles are signed: a file that was altered or saved elsewhere is refused "
    "before it is opened, because loading a model runs code."
)
a, b = st.columns(2)
bundle_file = a.file_uploader("Model bundle (.rfm)", type=["rfm"], key="score_bundle")
new_file = b.file_uploader("Transaction log", type=UPLOAD_TYPES, key="score_file")
score_basis = st.radio(
    "R, F, M scores and rule segments", list(SCORE_BASIS_LABELS),
    format_func=SCORE_BASIS_LABELS.get, horizontal=True, key="score_basis",
    help="Keep the model's score edges to compare a batch with the training customers; rank "
    "within the log when it is the whole customer base, re-scored for a new period.",
)  # fmt: skip
if bundle_file is None or new_file is None:
    names = [None if f is None else safe_md(f.name) for f in (bundle_file, new_file)]
    st.info(exports.waiting_note(*names), icon=":material/info:")
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
    note = (
        f"Segments of the saved {METHOD_LABELS[scored.bundle.segmentation.method]} model, "
        f"reference date {scored.result.rfm.reference_date}; nothing was refitted."
    )
    show_notes((note,))
    show_frame(scored.segment_counts, key="scored_counts")
    show_frame(labeled, key="scored_preview")
    st.download_button(
        "Scored customers (CSV)", lambda: labeled_csv(labeled), file_name="customers_scored.csv",
        mime="text/csv", on_click="ignore", key="download_scored",
    )  # fmt: skip
