"""Figures of the Anomalies page: flagged customers among the others, detectors' agreement."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ui.charts.base import PALETTE, escaped, on_log_axes, sample_for_display
from ui.labels import FLAG_LABELS

__all__ = ["agreement_bars", "agreement_heatmap", "flag_scatters"]

# the pairs of axes drawn; the trailing space keeps the floored monetary apart from the real one
_PAIRS = (("recency + 1", "frequency"), ("recency + 1", "monetary "), ("frequency", "monetary "))


def flag_scatters(customers: pd.DataFrame) -> dict[str, go.Figure]:
    """Recency × frequency, recency × monetary and frequency × monetary on log axes, flagged
    customers in red over a seeded sample of the others.

    ``customers`` is :func:`rfm_core.segments.summaries.with_flags`. Returns the figures by
    ``"{x}_{y}"`` of their axes.
    """
    view = customers.copy()
    view["flag"] = view["anomaly"].map(FLAG_LABELS)
    drawn = sample_for_display(view, keep=view["anomaly"]).reset_index()
    drawn = escaped(drawn, ["customer_id", "anomaly_reason"])
    drawn["recency + 1"], drawn["monetary "] = on_log_axes(drawn)
    hover = {
        "customer_id": True,
        "recency": True,
        "frequency": True,
        "monetary": ":,.2f",
        "anomaly_reason": True,
        "recency + 1": False,
        "monetary ": False,
    }
    figures = {}
    for x, y in _PAIRS:
        figure = px.scatter(
            drawn.sort_values("anomaly"),
            x=x,
            y=y,
            color="flag",
            log_x=True,
            log_y=True,
            hover_data=hover,
            color_discrete_map={"normal": "#b0b8c4", "anomaly": PALETTE[3]},
            title=f"{x.strip()} × {y.strip()}",
        )
        figure.update_traces(marker={"size": 5})
        figure.update_layout(
            height=380,
            margin={"t": 40, "b": 10},
            legend={"title_text": "", "orientation": "h", "y": -0.25},
        )
        figures[f"{x}_{y}"] = figure
    return figures


def agreement_heatmap(pairwise: pd.DataFrame) -> go.Figure:
    """Jaccard overlap of the sets each pair of detectors flags
    (:attr:`rfm_core.segments.anomalies.AnomalyAgreement.pairwise`)."""
    heat = px.imshow(
        pairwise,
        text_auto=".2f",
        zmin=0,
        zmax=1,
        aspect="auto",
        color_continuous_scale="Blues",
        title="Overlap of flagged sets (Jaccard)",
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
