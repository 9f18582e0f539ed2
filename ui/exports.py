"""Exports and scoring: what every download button serves, and the cached exports and scoring
of the Export & score page (session-scoped, bounded caches).

The keys are the small values the other caches use (Dataset, CleaningRules, settings) plus the
session's segment names and actions as tuples; uploaded files are keyed by the sha256 of their
bytes, which are passed unhashed (``_``-prefixed arguments).

The files themselves are written by :mod:`rfm_core.outputs`; the pages reach those writers
through this module only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd
import streamlit as st

from rfm_core.customers.result import CustomerRun
from rfm_core.customers.rfm import SegmentRule
from rfm_core.customers.scores import QUANTILES, ScoreBinning
from rfm_core.errors import RfmError
from rfm_core.ingest.io import dataset_id, load_bytes
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.outputs.export import labeled_csv, rfm_csv
from rfm_core.outputs.persistence import (
    ModelBundle,
    ScoreBasis,
    build_bundle,
    dump_bundle,
    installation_key,
    load_bundle,
    rfm_for_bundle,
    score_transactions,
)
from rfm_core.outputs.reports import (
    RunReport,
    excel_workbook,
    html_report,
    run_report,
    segment_csv_zip,
)
from rfm_core.segments.profiles import ACTION_COLUMNS
from rfm_core.segments.segmentation import AnomalySettings, SegmentationSettings
from ui.cache import (
    account_for,
    anomalies_for,
    classifier_for,
    customers_for,
    edges_for,
    named_segmentation_for,
    pipeline_for,
    published_run,
    worded_anomalies_for,
)
from ui.components import ensure_dataset, stages
from ui.state import (
    Dataset,
    current_anomaly_settings,
    current_binning,
    current_currency,
    current_rules,
    current_segmentation,
    current_segments,
    segment_actions,
    segment_renames,
)

__all__ = [
    "Download",
    "ExportKey",
    "ScoredUpload",
    "bundle_for",
    "current_export_key",
    "downloads",
    "excel_workbook",
    "html_report",
    "installation_key",
    "labeled_csv",
    "prepare",
    "report_for",
    "rfm_csv",
    "score_upload",
    "segment_csv_zip",
    "signed_bundle_for",
    "waiting_note",
]

Actions = tuple[tuple[object, ...], ...] | None
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportKey:
    """Everything the exports of the current dataset depend on (hashable)."""

    dataset: Dataset
    rules: CleaningRules
    segments: tuple[SegmentRule, ...]
    settings: SegmentationSettings
    anomaly_settings: AnomalySettings
    renames: tuple[tuple[int, str], ...]
    actions: Actions
    with_classifier: bool
    binning: ScoreBinning = QUANTILES
    currency: str = ""


def current_export_key(*, with_classifier: bool) -> ExportKey:
    """The export key of this session's dataset, rules, settings, names, actions and currency."""
    return ExportKey(
        ensure_dataset(), current_rules(), current_segments(), current_segmentation(),
        current_anomaly_settings(), tuple(sorted(segment_renames().items())),
        actions_key(segment_actions()), with_classifier, current_binning(), current_currency(),
    )  # fmt: skip


def actions_key(records: list[dict] | None) -> Actions:
    """The session's edited actions table as a hashable tuple (None for the suggestions)."""
    if not records:
        return None
    return tuple(tuple(record.get(column) for column in ACTION_COLUMNS) for record in records)


def _actions(key: ExportKey) -> pd.DataFrame | None:
    return None if key.actions is None else pd.DataFrame(key.actions, columns=list(ACTION_COLUMNS))


def _customers(key: ExportKey) -> pd.DataFrame:
    return customers_for(key.dataset, key.rules, key.segments, key.binning)


def _segmentation(key: ExportKey):
    return named_segmentation_for(
        key.dataset, key.rules, key.settings, key.anomaly_settings, key.segments, key.binning
    )


def _edges(key: ExportKey) -> dict:
    return edges_for(key.dataset, key.rules, key.segments, key.binning)


def _classifier(key: ExportKey):
    """The anomaly classifier if asked for and trainable (too few flagged: none)."""
    if not key.with_classifier:
        return None
    try:
        return classifier_for(key.dataset, key.rules, key.anomaly_settings)
    except RfmError:
        return None


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def report_for(key: ExportKey) -> RunReport:
    """What the workbook and the HTML report show, for the current dataset and settings."""
    return run_report(
        account_for(key.dataset, key.rules),
        _customers(key),
        _segmentation(key),
        worded_anomalies_for(key.dataset, key.rules, key.anomaly_settings, key.currency),
        renamed=dict(key.renames),
        actions=_actions(key),
        classifier=_classifier(key),
        edges=_edges(key),
        binning=key.binning,
        currency=key.currency,
    )


def bundle_for(key: ExportKey) -> ModelBundle:
    """The models and settings of the current dataset, ready to be signed and downloaded (the
    classifier is never part of it: scoring applies the saved detector; a published run's: its
    own)."""
    if key.dataset.run_id:
        return published_run(key.dataset.run_id).bundle
    return _bundle_for(replace(key, with_classifier=False))


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def _bundle_for(key: ExportKey) -> ModelBundle:
    """The models and settings of the current dataset, ready to be signed and downloaded."""
    result = pipeline_for(key.dataset, key.rules)
    return build_bundle(
        _customers(key),
        _segmentation(key),
        anomalies_for(key.dataset, key.rules, key.anomaly_settings),
        mapping=result.mapping,
        rules=key.rules,
        date_order=key.dataset.date_order,
        date_format=result.date_format,
        segments=key.segments,
        edges=_edges(key),
        renamed=dict(key.renames),
        actions=_actions(key),
        trained_on={
            "file": key.dataset.file_name,
            "reference_date": result.rfm.reference_date.isoformat(),
        },
        currency=key.currency,
    )


def signed_bundle_for(key: ExportKey) -> bytes:
    """The bundle signed with this installation's key, once: the download and a publish are the
    very same file (a published run's: the bytes it was published with)."""
    if key.dataset.run_id:
        return published_run(key.dataset.run_id).stored.bundle
    return _signed(replace(key, with_classifier=False))


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def _signed(key: ExportKey) -> bytes:
    return dump_bundle(bundle_for(key), key=installation_key())


def prepare(key: ExportKey) -> tuple[RunReport, ModelBundle, bytes]:
    """The report, the model bundle and the signed bundle of the exports; the first time, a
    status box lists the stages (classifier, report, model)."""
    with stages("Preparing the exports", ("exports", key)) as stage:
        if key.with_classifier:
            stage("Training the anomaly classifier")
            _classifier(key)
        stage("Writing the report")
        report = report_for(key)
        stage("Packing the model")
        return report, bundle_for(key), signed_bundle_for(key)


@dataclass(frozen=True)
class Download:
    """One download button: its label, what it serves (built when clicked) and as what."""

    label: str
    data: Callable[[], bytes]
    file_name: str
    mime: str
    key: str
    help: str


def downloads(report: RunReport, signed: bytes) -> list[Download]:
    """The files of the Export & score page: labeled customers, one CSV per segment, the
    workbook, the HTML report and the signed model bundle."""
    labeled = report.labeled
    return [
        Download(
            "Labeled customers (CSV)", lambda: labeled_csv(labeled), "customers_labeled.csv",
            "text/csv", "download_export_labeled",
            "Every customer: RFM values, scores, rule segment, cluster, segment name, "
            "probabilities and anomaly columns.",
        ),
        Download(
            "One CSV per segment (zip)", lambda: segment_csv_zip(labeled), "segments.zip",
            "application/zip", "download_segments_zip",
            "Ready for a campaign tool: one file of customers per segment.",
        ),
        Download(
            "Excel workbook", lambda: excel_workbook(report), "rfm_segments.xlsx", XLSX,
            "download_workbook",
            "Summary, segment profiles, customers, cleaning report, model selection.",
        ),
        Download(
            "HTML report", lambda: html_report(report).encode("utf-8"), "rfm_report.html",
            "text/html", "download_html",
            "One self-contained file that opens offline in any browser.",
        ),
        Download(
            "Model bundle (.rfm)", lambda: signed,
            "segments_model.rfm", "application/octet-stream", "download_bundle",
            "Signed with this installation's key; score new data below or with "
            "python -m rfm_core score --model segments_model.rfm INPUT -o OUT.csv",
        ),
    ]  # fmt: skip


@dataclass(frozen=True)
class ScoredUpload:
    """A new transaction log scored with an uploaded bundle."""

    bundle: ModelBundle
    result: CustomerRun
    labeled: pd.DataFrame

    @property
    def segment_counts(self) -> pd.DataFrame:
        """Customers per segment name, largest first."""
        counts = self.labeled["segment_name"].value_counts()
        return counts.rename_axis("segment").rename("customers").to_frame()


def waiting_note(bundle_name: str | None, log_name: str | None) -> str:
    """What the scoring section still needs, naming the file already given."""
    if bundle_name is None and log_name is None:
        return "Upload a model bundle and a transaction log to score them."
    if bundle_name is None:
        return f"Now upload the model bundle to score {log_name}."
    return f"Now upload a transaction log to score with {bundle_name}."


def score_upload(
    bundle_data: bytes, data: bytes, file_name: str, *, scores: ScoreBasis = "model"
) -> ScoredUpload:
    """Verify the bundle, then clean, aggregate and score the log (cached on both digests)."""
    digest = hashlib.sha256(bundle_data).hexdigest()
    return _scored(digest, dataset_id(data), file_name, scores, bundle_data, data)


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def _scored(
    bundle_digest: str,
    data_digest: str,
    file_name: str,
    scores: ScoreBasis,
    _bundle: bytes,
    _data: bytes,
) -> ScoredUpload:
    bundle = load_bundle(_bundle, key=installation_key())
    result = rfm_for_bundle(load_bytes(_data, file_name=file_name), bundle)
    labeled = score_transactions(result.rfm.table, bundle, scores=scores)
    return ScoredUpload(bundle, result, labeled)
