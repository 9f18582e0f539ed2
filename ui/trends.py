"""Cached calls of the Overview, Movement and Cohorts pages into rfm_core.customers.trends and
.migration, and what those pages show of them (named cluster KPIs, the moves, the cohort table).

Keyed like :mod:`ui.cache`: the dataset, the cleaning rules and small settings values, never
frames. Uploads keep their kept lines in memory (an embedded DuckDB reads them); files of the data
folder are cleaned once per session into a DuckDB table (:mod:`ui.lines`), where the same
expressions run, and only small tables come back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd
import streamlit as st

from rfm_core.customers.migration import (
    Cohorts,
    Migration,
    cohort_retention,
    data_range,
    default_dates,
    migrate,
)
from rfm_core.customers.rfm import SegmentRule
from rfm_core.customers.scores import QUANTILES, ScoreBinning
from rfm_core.customers.trends import (
    Pareto,
    activity_trend,
    kept_lines,
    new_vs_returning,
    pareto_curve,
    returned_lines,
    revenue_by_country,
    segment_kpis,
    top_products,
)
from rfm_core.errors import RfmError
from rfm_core.ingest.schema import ColumnMapping
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.outputs.runs import TOP_PRODUCTS, overview_tables
from rfm_core.segments.segmentation import AnomalySettings, SegmentationSettings
from ui.cache import (
    customers_for,
    folder_table,
    pipeline_for,
    published_run,
    segmentation_for,
)
from ui.components import cached, current_segmentation_result
from ui.labels import cluster_label
from ui.lines import lines_for
from ui.segments import segment_names
from ui.state import (
    Dataset,
    current_anomaly_settings,
    current_binning,
    current_segmentation,
    current_segments,
)


def folder_source(dataset: Dataset) -> tuple[ir.Table, ColumnMapping]:
    """A data-folder file opened on DuckDB with the dataset's mapping, and that mapping."""
    columns = ColumnMapping(**dict(dataset.mapping))
    return folder_table(dataset.file_name, columns), columns


def kept_lines_for(dataset: Dataset, rules: CleaningRules) -> tuple[ir.Table, ibis.BaseBackend]:
    """The kept lines as an Ibis table, and the backend that runs it (a data-folder file's:
    cleaned once per session, :func:`ui.lines.lines_for`)."""
    kept, _, backend = _kept_and_returned(dataset, rules)
    return kept, backend


def _kept_and_returned(
    dataset: Dataset, rules: CleaningRules
) -> tuple[ir.Table, ir.Table, ibis.BaseBackend]:
    """The kept lines and the returns cleaning removed, on one backend."""
    if dataset.run_id:
        raise RfmError(
            "a published run keeps no transaction lines: open the file itself for this page"
        )
    if dataset.in_folder:
        lines = lines_for(dataset, rules)
        return lines.kept, lines.returned, lines.backend
    result = pipeline_for(dataset, rules)
    return kept_lines(result), returned_lines(result), ibis.duckdb.connect()


def _published_table(dataset: Dataset, name: str) -> pd.DataFrame:
    table = published_run(dataset.run_id).table(name)
    if table is None:
        raise RfmError(f"this run was published without its {name.replace('_', ' ')} table")
    return table


@st.cache_resource(scope="session", max_entries=3, show_spinner=False)
def activity_for(dataset: Dataset, rules: CleaningRules, freq: str) -> pd.DataFrame:
    """Revenue, orders and active customers per period.

    See :func:`rfm_core.customers.trends.activity_trend`; a published run's, as published.
    """
    if dataset.run_id:
        return _published_table(dataset, f"activity_{freq}")
    kept, backend = kept_lines_for(dataset, rules)
    return activity_trend(kept, backend=backend, freq=freq)


@dataclass(frozen=True)
class Breakdowns:
    """New vs returning customers per month, revenue per country, top products."""

    new_returning: pd.DataFrame
    countries: pd.DataFrame | None
    products: pd.DataFrame | None


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def breakdowns_for(dataset: Dataset, rules: CleaningRules) -> Breakdowns:
    """The breakdowns of the Overview page (country and products: None without the column)."""
    if dataset.run_id:
        run = published_run(dataset.run_id)
        return Breakdowns(
            _published_table(dataset, "new_returning"), run.table("countries"),
            run.table("products"),
        )  # fmt: skip
    kept, returned, backend = _kept_and_returned(dataset, rules)
    return Breakdowns(
        new_vs_returning(kept, backend=backend),
        revenue_by_country(kept, backend=backend),
        top_products(kept, backend=backend, n=TOP_PRODUCTS, returned=returned),
    )


@dataclass(frozen=True)
class Value:
    """Per-segment KPIs of the rule segments and the Pareto curve."""

    kpis: pd.DataFrame
    pareto: Pareto


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def value_for(
    dataset: Dataset,
    rules: CleaningRules,
    segments: tuple[SegmentRule, ...],
    binning: ScoreBinning = QUANTILES,
) -> Value:
    """KPIs of the session's rule segments (under its binning), and the Pareto curve."""
    table = customers_for(dataset, rules, segments, binning)
    order = [rule.name for rule in segments]
    return Value(segment_kpis(table, table["rfm_segment"], order=order), pareto_curve(table))


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def cluster_kpis_for(
    dataset: Dataset,
    rules: CleaningRules,
    settings: SegmentationSettings,
    anomaly_settings: AnomalySettings,
) -> pd.DataFrame:
    """KPIs of the fitted clusters (labels 0 = most valuable …, noise last)."""
    labels = segmentation_for(dataset, rules, settings, anomaly_settings).labels
    return segment_kpis(pipeline_for(dataset, rules).rfm.table, labels)


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def cohorts_for(dataset: Dataset, rules: CleaningRules) -> Cohorts:
    """Monthly acquisition cohorts (:func:`rfm_core.customers.migration.cohort_retention`)."""
    kept, backend = kept_lines_for(dataset, rules)
    return cohort_retention(kept, backend=backend)


def overview_for(dataset: Dataset, rules: CleaningRules) -> dict[str, pd.DataFrame]:
    """The Overview's aggregates of the kept lines, as a published run stores them
    (:func:`rfm_core.outputs.runs.overview_tables`)."""
    kept, returned, backend = _kept_and_returned(dataset, rules)
    return overview_tables(kept, backend=backend, returned=returned)


def span_for(dataset: Dataset, rules: CleaningRules) -> tuple[dt.date, dt.date]:
    """First and last purchase date of the current data (the bounds of the date pickers)."""
    return data_range(pipeline_for(dataset, rules).rfm.table)


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def migration_for(
    dataset: Dataset,
    rules: CleaningRules,
    segments: tuple[SegmentRule, ...],
    date_from: dt.date,
    date_to: dt.date,
    settings: SegmentationSettings | None = None,
    anomaly_settings: AnomalySettings | None = None,
    binning: ScoreBinning = QUANTILES,
) -> Migration:
    """Segments at two dates, scored with the session's binning; clusters too when segmentation
    settings are given (the fitted model of the Segments page scores both snapshots)."""
    segmenter = None
    if settings is not None:
        segmenter = segmentation_for(dataset, rules, settings, anomaly_settings).segmenter
    options = {
        "date_from": date_from,
        "date_to": date_to,
        "rules": rules,
        "segments": segments,
        "segmenter": segmenter,
        "span": span_for(dataset, rules),
        "binning": binning,
    }
    result = pipeline_for(dataset, rules)
    if result.transactions is not None:
        return migrate(result.transactions, **options)
    source, columns = folder_source(dataset)
    return migrate(source, mapping=columns, name=dataset.file_name, **options)


# -- what the pages show -------------------------------------------------------------------------


def named_cluster_kpis() -> pd.DataFrame:
    """KPIs of the clusters of the Segments page, each labelled ``"0: Champions"``."""
    segmentation = current_segmentation_result()
    kpis = cached(cluster_kpis_for, current_segmentation(), current_anomaly_settings())
    names = segment_names(segmentation)
    return kpis.rename(index=lambda label: cluster_label(label, names))


def movement_dates() -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """First and last purchase date, and the two dates compared by default
    (:func:`rfm_core.customers.migration.default_dates`)."""
    first, last = cached(span_for)
    return (first, last, *default_dates(first, last))


@dataclass(frozen=True)
class Movement:
    """What the Movement page shows: the moves between two dates, rule segments or clusters.

    ``counts`` and ``revenue`` are the transition matrices (clusters labelled ``"0: Champions"``);
    the customer lists are sorted by monetary value at the later date, largest first.
    """

    notes: tuple[str, ...]
    counts: pd.DataFrame
    revenue: pd.DataFrame
    everyone: pd.DataFrame
    worse: pd.DataFrame
    new: pd.DataFrame
    lapsed: pd.DataFrame


def _by_value(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("monetary_to", ascending=False)


def movement(by: str, date_from: dt.date, date_to: dt.date) -> Movement:
    """Each customer's rule segment (``by="rule"``) or cluster (``"cluster"``, the fitted model
    of the Segments page) at both dates, and the moves between them."""
    settings = anomaly_settings = None
    names: dict = {}
    if by == "cluster":
        segmentation = current_segmentation_result()
        settings, anomaly_settings = current_segmentation(), current_anomaly_settings()
        names = segment_names(segmentation)
    with st.spinner("Computing the segments at both dates…"):
        moves = cached(
            migration_for, current_segments(), date_from, date_to, settings, anomaly_settings,
            current_binning(),
        )  # fmt: skip
    customers = moves.customers
    if by == "cluster":

        def label(value):
            return cluster_label(value, names)

        counts = moves.cluster_counts.rename(index=label, columns=label)
        revenue = moves.cluster_revenue.rename(index=label, columns=label)
        worse = customers[customers["cluster_moved"] == "worse"]
    else:
        counts, revenue, worse = moves.counts, moves.revenue, moves.worse
    return Movement(
        moves.notes, counts, revenue, _by_value(customers), _by_value(worse),
        _by_value(moves.new_customers), _by_value(moves.lapsed),
    )  # fmt: skip


def cohort_table(cohorts: Cohorts, *, share: bool) -> pd.DataFrame:
    """The cohort matrix (shares or customers) after a ``customers`` column of cohort sizes;
    column names as text."""
    table = (cohorts.share if share else cohorts.counts).copy()
    table.insert(0, "customers", cohorts.sizes)
    table.columns = [str(c) for c in table.columns]
    return table
