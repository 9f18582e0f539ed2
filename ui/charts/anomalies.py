"""Figures of the Anomalies page: flagged customers among the others, detectors' agreement."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from rfm_core.labels import DETECTOR_LABELS, column_label, lower_first, with_currency
from ui.charts.base import (
    MAX_POINTS,
    drawn_counts,
    escaped,
    log_axis,
    on_log_axes,
    sample_for_display,
    segment_colour_map,
)
from ui.labels import FLAG_LABELS

__all__ = ["MAX_FLAGGED_DRAWN", "agreement_bars", "agreement_heatmap", "drawn", "flag_scatters"]

# flagged customers drawn at most: half the points, so that the others are always seen around
# them (at a million customers 2% are 20,000, which would leave no room for any other)
MAX_FLAGGED_DRAWN = MAX_POINTS // 2

# the pairs of columns drawn against each other
_PAIRS = (("recency", "frequency"), ("recency", "monetary"), ("frequency", "monetary"))
_LOG_VALUES = {"recency": "_recency_drawn", "monetary": "_monetary_drawn"}


def flag_scatters(customers: pd.DataFrame, *, currency: str = "") -> dict[str, go.Figure]:
    """Recency × orders, recency × total spend and orders × total spend on log axes ticked at
    powers of ten, flagged customers in red over a seeded sample of the others.

    ``customers`` is :func:`rfm_core.segments.summaries.with_flags`. At most
    :data:`~ui.charts.base.MAX_POINTS` customers are drawn: every flagged one up to
    :data:`MAX_FLAGGED_DRAWN` (beyond, a seeded sample of that many), the others a seeded sample
    filling the rest (:func:`drawn`). Recency is drawn one day later and a spend of 0 at a floor
    (:func:`ui.charts.base.on_log_axes`); the hover text gives the real values. Returns the
    figures by ``"{x}_{y}"`` of their columns.
    """
    # sampled before anything else is done to the rows: the work is that of the points drawn
    drawn = sample_for_display(
        customers, keep=customers["anomaly"], keep_at_most=MAX_FLAGGED_DRAWN
    ).copy()
    drawn["flag"] = drawn["anomaly"].map(FLAG_LABELS)
    drawn = drawn.reset_index()
    drawn = escaped(drawn, ["customer_id", "anomaly_reason"])
    drawn["_recency_drawn"], drawn["_monetary_drawn"] = on_log_axes(drawn)
    drawn = drawn.sort_values("anomaly")
    titles = {name: column_label(name) for name in ("recency", "frequency", "monetary")}
    titles["monetary"] = with_currency(titles["monetary"], currency)
    colours = segment_colour_map(FLAG_LABELS.values())
    figures = {}
    for x, y in _PAIRS:
        figure = go.Figure()
        for flag, group in drawn.groupby("flag", sort=False):
            figure.add_trace(
                go.Scatter(
                    x=group[_LOG_VALUES.get(x, x)], y=group[_LOG_VALUES.get(y, y)],
                    mode="markers", name=flag, marker={"size": 5, "color": colours[flag]},
                    customdata=group[["customer_id", "recency", "frequency", "monetary",
                                      "anomaly_reason"]],
                    hovertemplate="customer %{customdata[0]}<br>recency %{customdata[1]:,} days, "
                    "%{customdata[2]:,} orders, spend %{customdata[3]:,.2f}<br>"
                    "%{customdata[4]}<extra></extra>",
                )
            )  # fmt: skip
        log_axis(figure, drawn[_LOG_VALUES.get(x, x)], axis="x", title=titles[x])
        log_axis(figure, drawn[_LOG_VALUES.get(y, y)], axis="y", title=titles[y])
        figure.update_layout(
            title=f"{titles[x]} vs {lower_first(titles[y])}",
            height=380,
            margin={"t": 40, "b": 10},
            legend={"title_text": "", "orientation": "h", "y": -0.25},
        )
        figures[f"{x}_{y}"] = figure
    return figures


def drawn(n_customers: int, n_flagged: int) -> tuple[int, int]:
    """How many flagged customers and how many others :func:`flag_scatters` draws."""
    return drawn_counts(n_customers, n_flagged, keep_at_most=MAX_FLAGGED_DRAWN)


def agreement_heatmap(pairwise: pd.DataFrame) -> go.Figure:
    """Jaccard overlap of the sets each pair of detectors flags
    (:attr:`rfm_core.segments.anomalies.AnomalyAgreement.pairwise`)."""
    words = [DETECTOR_LABELS.get(method, method) for method in pairwise.index]
    heat = px.imshow(
        pairwise.set_axis(words, axis=0).set_axis(words, axis=1),
        text_auto=".2f",
        zmin=0,
        zmax=1,
        aspect="auto",
        color_continuous_scale="Blues",
        title="How much the detectors agree (Jaccard: 1 = the same customers)",
        labels={"x": "Detector", "y": "Detector", "color": "Overlap"},
    )
    heat.update_layout(height=340, margin={"t": 40, "b": 10})
    return heat


def agreement_bars(counts: pd.Series, *, share: float) -> go.Figure:
    """Customers flagged by at least 1, 2, … of the detectors, from
    :attr:`rfm_core.segments.anomalies.AnomalyAgreement.counts` (flagged by exactly n).

    "At least n" falls as n grows, so the chart never reads as a pile of anomalies next to the
    headline count: the first bar is everyone some detector flags (each flags at most
    ``share``), the last the customers every detector agrees on.
    """
    exactly = counts[counts.index > 0]
    at_least = exactly[::-1].cumsum()[::-1]
    frame = pd.DataFrame({"detectors": [f"≥ {n}" for n in at_least.index], "customers": at_least})
    bars = px.bar(
        frame,
        x="detectors",
        y="customers",
        text_auto=True,
        title=f"Flagged by at least n of the {len(counts) - 1} detectors (each ≤ {share:.1%})",
    )
    bars.update_layout(height=340, margin={"t": 40, "b": 10})
    bars.update_xaxes(type="category", title="flagged by")
    return bars
