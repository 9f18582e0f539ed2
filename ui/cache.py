"""Cached calls into rfm_core, keyed by the dataset id (sha256 of the bytes and name), never frames.

The dataset names where the data comes from: a file in memory, a file of the server's data
folder (DuckDB), or a published run (:func:`published_run`). The functions the pages call
(:func:`pipeline_for`, :func:`anomalies_for`, :func:`selection_for`, :func:`segmentation_for`, …)
answer for all three; for a published run they return what was published, refitting nothing.

Every cache is session-scoped and bounded (``max_entries``): one user's data is never served to
another session, and memory stays bounded however many files a session tries. ``cache_resource``
hands back the same immutable result objects without pickling copies; pages must not mutate them.
"""

from __future__ import annotations

import streamlit as st

from rfm_core.customers.engine import (
    EngineRun,
    connect,
    customer_orders_on_engine,
    distinct_values,
    open_file,
    rfm_on_engine,
    sample_of,
    scan_file,
)
from rfm_core.customers.pipeline import RfmPipelineResult, customer_orders, run_rfm
from rfm_core.customers.result import CustomerRun
from rfm_core.customers.rfm import DEFAULT_SEGMENTS, SegmentRule, relabel, score_edges
from rfm_core.customers.scores import QUANTILES, ScoreBinning, Scoring, rescore
from rfm_core.errors import LoadError, RfmError
from rfm_core.ingest.folder import folder_file
from rfm_core.ingest.io import LoadedTable, load_bytes
from rfm_core.ingest.schema import ColumnMapping, infer_mapping
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.outputs.export import cleaning_report_dict, engine_report_dict
from rfm_core.outputs.persistence import installation_key
from rfm_core.outputs.runs import PublishedRun, open_run
from rfm_core.outputs.store import RunStore, store_url
from rfm_core.segments.anomalies import detector_agreement
from rfm_core.segments.clustering import dendrogram, k_distance, silhouette_profile, stability
from rfm_core.segments.embedding import pca_projection, tsne_projection
from rfm_core.segments.features import transformed_features
from rfm_core.segments.profiles import feature_importances, segment_rules
from rfm_core.segments.segmentation import (
    AnomalySettings,
    SegmentationResult,
    SegmentationSettings,
    choose_k,
    find_anomalies,
    segment_customers,
    train_classifier,
)
from ui.state import Dataset, data_folder, stored_file


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def loaded_table(dataset_id: str, sheet: str | None) -> LoadedTable:
    """Read the stored bytes of a dataset of this session."""
    stored = stored_file(dataset_id)
    if stored is None:
        raise LoadError("this file is no longer in memory; please upload it again")
    return load_bytes(stored.data, file_name=stored.file_name, sheet=sheet)


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def detected_mapping(dataset_id: str, sheet: str | None) -> ColumnMapping:
    """Detect the roles of a dataset's columns."""
    return infer_mapping(loaded_table(dataset_id, sheet))


@st.cache_resource(scope="session", max_entries=6, show_spinner=False)
def rfm_result(
    dataset_id: str,
    sheet: str | None,
    mapping: tuple[tuple[str, str | None], ...],
    date_order: str,
    rules: CleaningRules,
) -> RfmPipelineResult:
    """Map, clean and aggregate a dataset (the whole ingest pipeline)."""
    loaded = loaded_table(dataset_id, sheet)
    return run_rfm(loaded, mapping=dict(mapping), date_order=date_order, rules=rules)


def pipeline_for(dataset: Dataset, rules: CleaningRules) -> CustomerRun:
    """Return the cached pipeline result of the current dataset and rules.

    Files of the data folder run on DuckDB (:class:`rfm_core.customers.engine.EngineRun`: the same
    counts and RFM table, without the kept lines in memory); either is read as a
    :class:`rfm_core.customers.result.CustomerRun`.
    """
    if dataset.run_id:
        return published_run(dataset.run_id)
    if dataset.in_folder:
        return folder_run(dataset.file_name, dataset.dataset_id, dataset.mapping, rules)
    return rfm_result(dataset.dataset_id, dataset.sheet, dataset.mapping, dataset.date_order, rules)


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def scoring_for(
    dataset: Dataset,
    rules: CleaningRules,
    binning: ScoreBinning,
    segments: tuple[SegmentRule, ...],
) -> Scoring:
    """The customers scored with a binning and assigned the rule segments
    (:func:`rfm_core.customers.scores.rescore`)."""
    return rescore(pipeline_for(dataset, rules).rfm.table, binning, segments)


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def _quantile_edges(dataset: Dataset, rules: CleaningRules) -> dict:
    return score_edges(pipeline_for(dataset, rules).rfm.table)


def customers_for(
    dataset: Dataset, rules: CleaningRules, segments: tuple[SegmentRule, ...], binning: ScoreBinning
):
    """The RFM table with a session's binning and rule segments (the pipeline's own table, not a
    copy, when both are the defaults)."""
    if binning != QUANTILES:
        return scoring_for(dataset, rules, binning, segments).table
    table = pipeline_for(dataset, rules).rfm.table
    return table if segments == DEFAULT_SEGMENTS else relabel(table, segments)


def edges_for(
    dataset: Dataset, rules: CleaningRules, segments: tuple[SegmentRule, ...], binning: ScoreBinning
) -> dict:
    """The score edges of a session's binning (what the cut points in words and the cluster
    names read)."""
    if binning != QUANTILES:
        return scoring_for(dataset, rules, binning, segments).edges
    return _quantile_edges(dataset, rules)


def named_segmentation_for(
    dataset: Dataset,
    rules: CleaningRules,
    settings: SegmentationSettings,
    anomaly_settings: AnomalySettings,
    segments: tuple[SegmentRule, ...],
    binning: ScoreBinning,
) -> SegmentationResult:
    """The fitted segmentation, its cluster names borrowing from the session's rule segments
    under its binning (the fit itself is cached without them: renaming refits nothing)."""
    result = segmentation_for(dataset, rules, settings, anomaly_settings)
    if segments == DEFAULT_SEGMENTS and binning == QUANTILES:
        return result
    return result.with_rule_names(segments, edges_for(dataset, rules, segments, binning))


def run_store() -> RunStore:
    """The run store of this installation (``RFM_STORE``, default ``data/runs.duckdb``)."""
    return RunStore(store_url())


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def published_run(run_id: str) -> PublishedRun:
    """A published run, read from the store and its bundle verified (runs never change)."""
    return open_run(run_store().load(run_id), key=installation_key())


def account_for(dataset: Dataset, rules: CleaningRules) -> dict:
    """What was read, removed and kept, as the reports write it."""
    result = pipeline_for(dataset, rules)
    if dataset.run_id:
        return published_run(dataset.run_id).stored.facts["account"]
    # the account names the file and how its lines were read: only a run in memory has them
    return engine_report_dict(result) if result.lines is None else cleaning_report_dict(result)


def preview_for(dataset: Dataset) -> LoadedTable:
    """The table the Upload page previews and maps: the file, or a data-folder file's sample."""
    if dataset.in_folder:
        return folder_sample(dataset.file_name, dataset.dataset_id)
    return loaded_table(dataset.dataset_id, dataset.sheet)


def folder_table(name: str, mapping: ColumnMapping | None = None):
    """A file of the data folder opened on a new DuckDB connection: with ``mapping``, its
    columns in their roles; without, every column as text (for the preview)."""
    path = folder_file(data_folder(), name)
    if mapping is None:
        return scan_file(path, backend=connect("duckdb"), all_text=True)
    return open_file(path, backend=connect("duckdb"), mapping=mapping)[0]


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def folder_sample(name: str, stamp: str) -> LoadedTable:
    """The first rows of a data-folder file, as text (``stamp`` changes with the file)."""
    return sample_of(folder_table(name), name=name)


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def folder_run(
    name: str, stamp: str, mapping: tuple[tuple[str, str | None], ...], rules: CleaningRules
) -> EngineRun:
    """Clean and aggregate a data-folder file on DuckDB; only counts and customers come back."""
    columns = ColumnMapping(**dict(mapping))
    return rfm_on_engine(folder_table(name, columns), name=name, mapping=columns, rules=rules)


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def folder_values(name: str, stamp: str, mapping, role: str) -> list[str]:
    """Distinct values of a role's column in a data-folder file (e.g. its countries)."""
    columns = ColumnMapping(**dict(mapping))
    return distinct_values(folder_table(name, columns), columns, role)


def orders_for(dataset: Dataset, rules: CleaningRules, customer_id: str):
    """One customer's kept orders, from memory or, for a data-folder file, from DuckDB (None for
    a published run)."""
    if dataset.run_id:
        return None  # a published run keeps no order lines
    result = pipeline_for(dataset, rules)
    if result.lines is not None:
        return customer_orders(result, customer_id)
    columns = ColumnMapping(**dict(dataset.mapping))
    source = folder_table(dataset.file_name, columns)
    return customer_orders_on_engine(source, columns, rules, customer_id)


def anomalies_for(dataset: Dataset, rules: CleaningRules, settings: AnomalySettings):
    """Flag anomalous customers of the current pipeline result (a run's: as published)."""
    if dataset.run_id:
        anomalies = published_run(dataset.run_id).anomalies
        if anomalies is None:
            raise RfmError("this run was published without anomaly flags")
        return anomalies
    return _anomalies(dataset, rules, settings)


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def _anomalies(dataset: Dataset, rules: CleaningRules, settings: AnomalySettings):
    return find_anomalies(pipeline_for(dataset, rules).rfm.table, settings)


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def worded_anomalies_for(
    dataset: Dataset, rules: CleaningRules, settings: AnomalySettings, currency: str
):
    """:func:`anomalies_for` with reasons whose amounts carry ``currency`` (the detector is
    not refitted: only the reasons are written again)."""
    anomalies = anomalies_for(dataset, rules, settings)
    if not currency:
        return anomalies
    return anomalies.reworded(pipeline_for(dataset, rules).rfm.table, currency=currency)


def selection_for(
    dataset: Dataset,
    rules: CleaningRules,
    settings: SegmentationSettings,
    anomaly_settings: AnomalySettings,
):
    """Sweep k; only the settings that change the sweep are part of the cache key."""
    if dataset.run_id:
        selection = published_run(dataset.run_id).selection
        if selection is None:
            raise RfmError("this run's segments were not chosen by a k sweep here (a given k, or "
                           "scored with a saved model)")  # fmt: skip
        return selection
    sweep = SegmentationSettings(
        features=settings.features,
        transform=settings.transform,
        k_min=settings.k_min,
        k_max=settings.k_max,
        business_range=settings.business_range,
        exclude_anomalies=settings.exclude_anomalies,
        random_state=settings.random_state,
    )
    flags = anomaly_settings if settings.exclude_anomalies else None
    return _selection(dataset, rules, sweep, flags)


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def _selection(
    dataset: Dataset,
    rules: CleaningRules,
    sweep: SegmentationSettings,
    anomaly_settings: AnomalySettings | None,
):
    anomalies = anomalies_for(dataset, rules, anomaly_settings) if anomaly_settings else None
    return choose_k(pipeline_for(dataset, rules).rfm.table, sweep, anomalies=anomalies)


def segmentation_for(
    dataset: Dataset,
    rules: CleaningRules,
    settings: SegmentationSettings,
    anomaly_settings: AnomalySettings,
):
    """Fit the segmentation of the settings (the k sweep comes from its own cache); a run's
    segments as published."""
    if dataset.run_id:
        return published_run(dataset.run_id).segmentation
    return _segmentation(dataset, rules, settings, anomaly_settings)


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def _segmentation(
    dataset: Dataset,
    rules: CleaningRules,
    settings: SegmentationSettings,
    anomaly_settings: AnomalySettings,
):
    table = pipeline_for(dataset, rules).rfm.table
    anomalies = anomalies_for(dataset, rules, anomaly_settings)
    selection = selection_for(dataset, rules, settings, anomaly_settings)
    return segment_customers(table, settings, anomalies=anomalies, selection=selection)


def _table(dataset: Dataset, rules: CleaningRules):
    return pipeline_for(dataset, rules).rfm.table


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def silhouette_for(dataset, rules, settings, anomaly_settings):
    """Silhouette of every (sampled) customer under the fitted segmentation."""
    labels = segmentation_for(dataset, rules, settings, anomaly_settings).labels
    return silhouette_profile(
        _table(dataset, rules), labels.to_numpy(), features=settings.features,
        transform=settings.transform, random_state=settings.random_state,
    )  # fmt: skip


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def stability_for(dataset, rules, settings, anomaly_settings):
    """Agreement of the fitted model with refits on subsamples."""
    segmentation = segmentation_for(dataset, rules, settings, anomaly_settings)
    return stability(
        _table(dataset, rules), segmentation.segmenter, random_state=settings.random_state
    )


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def k_distance_for(dataset, rules, settings):
    """Distances to the k-th neighbour, to choose DBSCAN's eps."""
    return k_distance(
        _table(dataset, rules), min_samples=settings.min_samples, features=settings.features,
        transform=settings.transform, random_state=settings.random_state,
    )  # fmt: skip


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def dendrogram_for(dataset, rules, settings):
    """Hierarchical merge tree of a sample of customers."""
    return dendrogram(
        _table(dataset, rules), linkage=settings.linkage, features=settings.features,
        transform=settings.transform, random_state=settings.random_state,
    )  # fmt: skip


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def projection_for(
    dataset, rules, settings, anomaly_settings, kind: str, size: int, _progress=None
):
    """PCA (2 or 3 components) or t-SNE of a sample of ``size`` customers.

    The t-SNE sample is stratified by segment, so that small segments stay visible;
    ``_progress`` (not part of the key) hears how far t-SNE is.
    """
    features = transformed_features(
        _table(dataset, rules), features=settings.features, transform=settings.transform,
        random_state=settings.random_state,
    )  # fmt: skip
    if kind == "tsne":
        labels = segmentation_for(dataset, rules, settings, anomaly_settings).labels
        return tsne_projection(
            features, sample_size=size, stratify=labels, random_state=settings.random_state,
            progress=_progress,
        )  # fmt: skip
    return pca_projection(features, n_components=3 if kind == "pca3" else 2)


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def explanations_for(dataset, rules, settings, anomaly_settings, renames=()):
    """Feature importances and the decision-tree rules of the segments (with the user's names,
    given as ``(label, name)`` pairs)."""
    segmentation = segmentation_for(dataset, rules, settings, anomaly_settings)
    table = _table(dataset, rules)
    importances = feature_importances(
        table, segmentation.labels, features=settings.features,
        random_state=settings.random_state,
    )  # fmt: skip
    rules_ = segment_rules(
        table, segmentation.labels, names=segmentation.names_with(dict(renames)),
        random_state=settings.random_state,
    )  # fmt: skip
    return importances, rules_


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def agreement_for(dataset, rules, anomaly_settings, _progress=None):
    """Which customers each of the four detectors flags (``_progress``, not part of the key,
    hears each detector start)."""
    return detector_agreement(
        _table(dataset, rules), contamination=anomaly_settings.contamination,
        features=anomaly_settings.features, transform=anomaly_settings.transform,
        random_state=anomaly_settings.random_state, progress=_progress,
    )  # fmt: skip


def classifier_for(dataset, rules, anomaly_settings, _progress=None):
    """SMOTE + gradient boosting trained to reproduce the detector's flags (a run's: the one
    published in its model, if any)."""
    if dataset.run_id:
        classifier = published_run(dataset.run_id).bundle.classifier
        if classifier is None:
            raise RfmError("this run was published without the anomaly classifier")
        return classifier
    return _classifier(dataset, rules, anomaly_settings, _progress)


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def _classifier(dataset, rules, anomaly_settings, _progress=None):
    anomalies = anomalies_for(dataset, rules, anomaly_settings)
    return train_classifier(_table(dataset, rules), anomalies, anomaly_settings, progress=_progress)
