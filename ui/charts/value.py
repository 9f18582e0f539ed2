"""Figures of the CLV and Backtest pages (pure functions of small frames)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.charts.base import MARGINS, PALETTE, escape_plotly

__all__ = ["calibration_figure", "clv_by_group_figure", "repeat_rate_figure"]


def clv_by_group_figure(groups: pd.DataFrame, *, title: str) -> go.Figure:
    """Lifetime value summed per segment (bars, largest first), its median in the hover text.

    ``groups`` is :func:`rfm_core.customers.clv.clv_by_segment` (index: the segment's name).
    """
    shown = groups.sort_values("clv_sum", ascending=False)
    names = [escape_plotly(name) for name in shown.index]
    figure = go.Figure(
        go.Bar(
            x=shown["clv_sum"], y=names, orientation="h", marker_color=PALETTE[0],
            customdata=shown[["customers", "clv_median", "share_clv"]].to_numpy(),
            hovertemplate="%{y}<br>CLV %{x:,.0f} (%{customdata[2]:.1%})<br>"
            "%{customdata[0]:,} customers, median %{customdata[1]:,.2f}<extra></extra>",
        )
    )  # fmt: skip
    figure.update_layout(
        title=title, height=max(240, 32 * len(shown) + 80), margin=MARGINS,
        xaxis_title="lifetime value over the horizon", yaxis={"autorange": "reversed"},
    )  # fmt: skip
    return figure


def calibration_figure(calibration: pd.DataFrame, labels: Mapping[str, str]) -> go.Figure:
    """Mean predicted against mean actual purchases per decile of prediction, one line per
    method, beside the diagonal where they would be equal.

    ``calibration`` is :attr:`rfm_core.segments.backtest.Backtest.calibration`; ``labels`` names
    the methods.
    """
    figure = go.Figure()
    top = float(calibration[["predicted_purchases", "actual_purchases"]].max().max()) or 1.0
    figure.add_trace(
        go.Scatter(
            x=[0, top], y=[0, top], mode="lines", name="predicted = actual",
            line={"color": "#999999", "dash": "dot"}, hoverinfo="skip",
        )
    )  # fmt: skip
    for i, (method, rows) in enumerate(calibration.groupby("method", sort=False)):
        figure.add_trace(
            go.Scatter(
                x=rows["predicted_purchases"], y=rows["actual_purchases"], mode="lines+markers",
                name=labels[method], marker_color=PALETTE[i],
                customdata=rows[["decile", "customers"]].to_numpy(),
                hovertemplate=f"{labels[method]}, decile %{{customdata[0]}} "
                "(%{customdata[1]:,} customers)<br>predicted %{x:.2f}, actual %{y:.2f} purchases"
                "<extra></extra>",
            )
        )  # fmt: skip
    figure.update_layout(
        title="Calibration: purchases per customer after the cut, by decile of prediction",
        height=420, margin=MARGINS, xaxis_title="predicted (mean of the decile)",
        yaxis_title="actual (mean of the decile)", legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    return figure


def repeat_rate_figure(groups: Mapping[str, pd.DataFrame], labels: Mapping[str, str]) -> go.Figure:
    """Share of each group's customers who bought again after the cut: one panel per method,
    groups in the method's own order (its best group first)."""
    figure = make_subplots(
        rows=1, cols=len(groups), shared_yaxes=True, horizontal_spacing=0.04,
        subplot_titles=[labels[method] for method in groups],
    )  # fmt: skip
    for i, (method, frame) in enumerate(groups.items()):
        figure.add_trace(
            go.Bar(
                x=[escape_plotly(name) for name in frame.index], y=frame["bought_again"],
                name=labels[method], marker_color=PALETTE[i], showlegend=False,
                customdata=frame[["customers", "revenue_per_customer"]].to_numpy(),
                hovertemplate="%{x}: %{y:.1%} bought again<br>%{customdata[0]:,} customers, "
                "revenue %{customdata[1]:,.2f} per customer<extra></extra>",
            ),
            row=1, col=i + 1,
        )  # fmt: skip
    figure.update_layout(
        title="Share who bought again after the cut, per group", height=420,
        margin={**MARGINS, "t": 90},
    )  # fmt: skip
    figure.update_yaxes(tickformat=".0%")
    return figure
