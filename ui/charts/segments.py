"""Figures of the Segments page: shares, snake plot, importances, crosswalk, one customer."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ui.charts.base import PALETTE, escape_plotly, escaped

__all__ = [
    "crosswalk_heatmap",
    "importance_bars",
    "orders_timeline",
    "share_bars",
    "snake_figure",
]


def share_bars(profile: pd.DataFrame) -> go.Figure:
    """Each segment's share of the customers and of the revenue, side by side.

    ``profile`` is a segment profile (:attr:`rfm_core.segments.segmentation.SegmentationResult
    .profile`) indexed by segment name (index name ``segment``).
    """
    shares = profile.reset_index()[["segment", "share_customers", "share_revenue"]]
    long = escaped(shares, ["segment"]).melt("segment", var_name="share of", value_name="share")
    bars = px.bar(
        long, x="segment", y="share", color="share of", barmode="group", labels={"share": ""}
    )
    bars.update_layout(
        height=340, margin={"t": 30, "b": 10}, yaxis_tickformat=".0%", title="Customers and revenue"
    )
    bars.update_xaxes(type="category")
    return bars


def snake_figure(
    snake: pd.DataFrame, names: dict, *, title: str = "Snake plot: standardized means"
) -> go.Figure:
    """Standardized mean of each feature per segment, one line per segment
    (:func:`rfm_core.segments.profiles.snake_plot_data`)."""
    figure = go.Figure()
    for i, (label, group) in enumerate(snake.groupby("segment", sort=True)):
        figure.add_trace(go.Scatter(x=group["feature"], y=group["value"], mode="lines+markers",
                                    name=escape_plotly(names.get(label, label)),
                                    line_color=PALETTE[i % len(PALETTE)]))  # fmt: skip
    figure.update_layout(height=340, margin={"t": 20, "b": 10},
                         yaxis_title="standardized mean")  # fmt: skip
    figure.update_layout(title=title)
    return figure


def importance_bars(importances: pd.Series) -> go.Figure:
    """Random-forest importance of each feature, the largest on top."""
    chart = px.bar(
        importances.sort_values(), orientation="h", labels={"value": "importance", "index": ""}
    )
    chart.update_layout(
        height=300,
        showlegend=False,
        margin={"t": 30, "b": 10},
        title="Random forest feature importance",
    )
    return chart


def crosswalk_heatmap(cross: pd.DataFrame) -> go.Figure:
    """Customers by rule segment (rows) and cluster segment (columns)
    (:func:`rfm_core.segments.profiles.crosswalk`)."""
    cross = cross.rename(index=escape_plotly, columns=escape_plotly)
    heat = px.imshow(
        cross,
        text_auto=True,
        color_continuous_scale="Blues",
        aspect="auto",
        labels={"x": "cluster segment", "y": "rule segment", "color": "customers"},
    )
    heat.update_layout(height=420, margin={"t": 10, "b": 10})
    return heat


def orders_timeline(orders: pd.DataFrame) -> go.Figure:
    """One customer's orders over time, returns in their own colour
    (:func:`rfm_core.customers.pipeline.customer_orders`)."""
    timeline = px.bar(
        escaped(orders, ["order"]),
        x="timestamp",
        y="amount",
        color="is_return",
        hover_data=["order", "lines"],
        title="Orders over time",
    )
    timeline.update_layout(height=300, margin={"t": 40, "b": 10})
    return timeline
