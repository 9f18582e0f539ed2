"""Lifetime value and the backtest: the cached calls of the CLV and Backtest pages into
:mod:`rfm_core.customers.clv` and :mod:`rfm_core.segments.backtest`, and what those pages show of
them (the fits in words, the top customers, sums per segment, the comparison of segmentations).

Keyed like :mod:`ui.cache`: the dataset, the cleaning rules and small settings values, never
frames. Uploads keep their kept lines in memory; files of the data folder are cleaned once per
session into a DuckDB table (:mod:`ui.lines`), where the summaries run, and only one row per
customer comes back (the backtest's snapshot reads the file itself again: its rules apply to the
lines known at the cut).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st

from rfm_core.customers.clv import (
    CORRELATION_WARNING,
    WEEKS_PER_YEAR,
    ClvResult,
    clv_by_segment,
    clv_table,
    customer_lifetime_value,
)
from rfm_core.customers.rfm import SegmentRule
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.outputs.export import rfm_csv
from rfm_core.segments.backtest import CUSTOMER_DECIMALS, Backtest, backtest, backtest_dates
from rfm_core.segments.segmentation import AnomalySettings, SegmentationSettings
from ui.cache import pipeline_for
from ui.components import (
    LARGE_CUSTOMERS,
    MAX_TABLE_ROWS,
    cached,
    current_customers,
    current_segmentation_result,
    ensure_dataset,
    user_errors,
)
from ui.labels import BACKTEST_METHOD_LABELS, CLV_PARAMETER_LABELS, cluster_label
from ui.segments import segment_names
from ui.state import (
    ClvOptions,
    Dataset,
    current_anomaly_settings,
    current_clv_options,
    current_rules,
    current_segmentation,
    current_segments,
)
from ui.trends import folder_source, kept_lines_for, span_for

__all__ = [
    "PARAMETER_COLUMNS",
    "backtest_csv",
    "backtest_duration",
    "backtest_for",
    "clv_by",
    "clv_csv",
    "clv_for",
    "comparison_table",
    "correlation_text",
    "current_clv",
    "cut_range",
    "fit_sentences",
    "parameters_table",
    "run_backtest",
    "top_customers",
]


# -- cached calls into the core ----------------------------------------------------------------


@st.cache_resource(scope="session", max_entries=3, show_spinner=False)
def clv_for(dataset: Dataset, rules: CleaningRules, options: ClvOptions) -> ClvResult:
    """BG/NBD and Gamma-Gamma fitted on every kept line; every customer's lifetime value."""
    customers = pipeline_for(dataset, rules).rfm.table.index
    kept, backend = kept_lines_for(dataset, rules)
    return customer_lifetime_value(
        kept, backend=backend, customers=customers, horizon_weeks=options.horizon_weeks,
        margin=options.margin, discount_rate=options.discount_rate,
    )  # fmt: skip


@st.cache_resource(scope="session", max_entries=2, show_spinner=False)
def backtest_for(
    dataset: Dataset,
    rules: CleaningRules,
    segments: tuple[SegmentRule, ...],
    settings: SegmentationSettings,
    anomaly_settings: AnomalySettings,
    cut: dt.date,
    _progress: Callable[[str], None] | None = None,
) -> Backtest:
    """Rule segments, clusters and CLV on the lines up to ``cut``, against what happened after.

    ``_progress`` (not part of the key) hears each step's words while it runs.
    """
    result = pipeline_for(dataset, rules)
    kept, backend = kept_lines_for(dataset, rules)
    data, mapping = result.transactions, None
    if data is None:  # a data-folder file: the snapshot reads it again on DuckDB
        data, mapping = folder_source(dataset)
    return backtest(
        data, kept, backend=backend, cut=cut, span=span_for(dataset, rules), rules=rules,
        segments=segments, settings=settings, anomaly_settings=anomaly_settings,
        mapping=mapping, name=dataset.file_name, progress=_progress,
    )  # fmt: skip


# -- the CLV page ------------------------------------------------------------------------------


def current_clv() -> ClvResult:
    """The lifetime value of the current dataset under this session's options."""
    with st.spinner("Fitting the lifetime-value models…"):
        return cached(clv_for, current_clv_options())


def fit_sentences(value: ClvResult) -> list[str]:
    """What the fitted parameters say, and how each fit ended, in words."""
    bgnbd, spend = value.bgnbd, value.gamma_gamma
    rate = bgnbd.r / bgnbd.alpha * WEEKS_PER_YEAR
    dropout = bgnbd.a / (bgnbd.a + bgnbd.b)
    return [
        f"Customers who have not dropped out buy on {rate:.1f} days a year on average "
        f"(r / α = {bgnbd.r:.3g} / {bgnbd.alpha:.3g} weeks); after each repeat purchase a "
        f"customer stops for good with a probability of {dropout:.0%} on average (a / (a + b)).",
        f"A purchase day is worth {spend.population_mean:,.2f} on average across customers "
        f"(γ p / (q − 1)); a customer's expected value leans towards their own mean the more "
        "often they bought.",
        f"BG/NBD on {bgnbd.n_customers:,} customers: {_ended(bgnbd)}. Gamma-Gamma on the "
        f"{spend.n_customers:,} who bought on a second day: {_ended(spend)}.",
    ]


def _ended(fit) -> str:
    return fit.message if fit.converged else f"did not converge ({fit.message})"


def correlation_text(value: ClvResult) -> str:
    """The spend–frequency correlation and what it means for the Gamma-Gamma model."""
    return (
        f"Spend and frequency: Pearson ρ = {value.correlation:.2f} between repeat purchases and "
        f"their mean value. The Gamma-Gamma model assumes they are independent; from "
        f"|ρ| ≥ {CORRELATION_WARNING} its expected values are biased and a warning says so."
    )


# the fitted parameters are small numbers read to four decimals
PARAMETER_COLUMNS = {
    name: st.column_config.NumberColumn(name.capitalize(), format="%.4f")
    for name in ("value", "standard error")
}


def parameters_table(value: ClvResult) -> pd.DataFrame:
    """The seven fitted parameters with their standard errors and what each describes."""
    params = {**value.bgnbd.params, **value.gamma_gamma.params}
    errors = {**value.bgnbd.standard_errors, **value.gamma_gamma.standard_errors}
    return pd.DataFrame(
        {
            "value": params,
            "standard error": {name: errors.get(name) for name in params},
            "what it describes": {name: CLV_PARAMETER_LABELS[name] for name in params},
        }
    ).rename(index={"alpha": "α", "v": "γ"})


FIRST_COLUMNS = ["rfm_segment", "clv", "expected_purchases", "expected_avg_value", "p_alive"]


def top_customers(value: ClvResult) -> pd.DataFrame:
    """The :data:`ui.components.MAX_TABLE_ROWS` customers of highest lifetime value, with
    their rule segment of this session; the predictions first, then what they rest on."""
    rows = clv_table(
        value.customers.nlargest(MAX_TABLE_ROWS, "clv"), current_customers()["rfm_segment"]
    )
    return rows[[*FIRST_COLUMNS, *(c for c in rows.columns if c not in FIRST_COLUMNS)]]


def clv_by(value: ClvResult, by: str) -> pd.DataFrame:
    """Sums and medians of lifetime value per rule segment (``by="rule"``) or per cluster of the
    Segments page (``"cluster"``), each labelled ``"0: Champions"``)."""
    if by == "cluster":
        segmentation = current_segmentation_result()
        names = segment_names(segmentation)
        labels = segmentation.labels.map(lambda label: cluster_label(label, names))
        order = [cluster_label(label, names) for label in segmentation.names]
    else:
        labels = current_customers()["rfm_segment"].astype(str)
        order = [rule.name for rule in current_segments()]
    return clv_by_segment(value.customers, labels, order=order)


def clv_csv(value: ClvResult) -> Callable[[], bytes]:
    """Every customer's lifetime value as the ``clv`` command writes it, made when the download
    is asked for (the segments are read now: caches cannot be read outside the script run)."""
    segments = current_customers()["rfm_segment"]
    return lambda: rfm_csv(clv_table(value.customers, segments))


# -- the Backtest page -------------------------------------------------------------------------


def cut_range() -> tuple[dt.date, dt.date, dt.date]:
    """First and last purchase date, and the default cut date (90 days before the last)."""
    first, last = cached(span_for)
    with user_errors():
        return first, last, backtest_dates((first, last))[0]


def backtest_duration(n_customers: int) -> str:
    """How long a backtest takes, in words (8 s at 23,500 customers in the browser, 48 s at a
    million on the command line: bench/RESULTS.md)."""
    return "several seconds" if n_customers <= LARGE_CUSTOMERS else "about a minute"


def run_backtest(cut: dt.date) -> Backtest:
    """The backtest of this session's dataset, rules, rule segments and segmentation settings
    at ``cut``, its steps shown while it runs."""
    dataset, rules = ensure_dataset(), current_rules()
    key = (current_segments(), current_segmentation(), current_anomaly_settings(), cut)
    with user_errors(), st.status(f"Backtest with the lines up to {cut}…") as status:
        result = backtest_for(
            dataset, rules, *key, _progress=lambda text: status.update(label=f"{text}…")
        )
        status.update(label=f"Backtest with the lines up to {cut}", state="complete")
    return result


def comparison_table(result: Backtest) -> pd.DataFrame:
    """The methods side by side (one row each, in words), the columns of
    :attr:`rfm_core.segments.backtest.Backtest.comparison` but the number of groups."""
    table = result.comparison.drop(columns="groups")
    table.index = [BACKTEST_METHOD_LABELS[method] for method in table.index]
    return table


def backtest_csv(result: Backtest) -> bytes:
    """Every customer of the cut: groups, predictions and what they did after it."""
    return rfm_csv(result.customers.round(CUSTOMER_DECIMALS))
