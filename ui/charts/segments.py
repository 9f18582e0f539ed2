"""Figures of the Segments page: shares, snake plot, importances, crosswalk, one customer."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from rfm_core.labels import column_label, with_currency
from ui.charts.base import PALETTE, escape_plotly, escaped, segment_colour_map

__all__ = [
    "crosswalk_heatmap",
    "importance_bars",
    "orders_timeline",
    "share_bars",
    "snake_figure",
]


def share_bars(profile: pd.DataFrame) -> go.Figure:
    """Each segment's share of the customers (hatched) and of the revenue (solid), side by
    side, in the segment's colour.

    ``profile`` is a segment profile (:attr:`rfm_core.segments.segmentation.SegmentationResult
    .profile`) indexed by segment name (index name ``segment``).
    """
    names = [escape_plotly(name) for name in profile.index]
    colours = segment_colour_map(profile.index)
    figure = go.Figure()
    for column, pattern in (("share_customers", "/"), ("share_revenue", "")):
        figure.add_trace(
            go.Bar(
                x=names, y=profile[column], name=column_label(column),
                marker={"color": [colours[n] for n in names], "pattern_shape": pattern,
                        "pattern_fillmode": "replace"},
                hovertemplate="%{x}: %{y:.1%}<extra>" + column_label(column) + "</extra>",
            )
        )  # fmt: skip
    figure.update_layout(
        barmode="group", height=340, margin={"t": 40, "b": 10}, yaxis_tickformat=".0%",
        title="Share of customers (hatched) and of revenue (solid)",
        legend={"orientation": "h", "y": -0.3},
    )  # fmt: skip
    figure.update_xaxes(type="category")
    return figure


def snake_figure(
    snake: pd.DataFrame, names: dict, *, title: str = "How the segments differ: standardized means"
) -> go.Figure:
    """Standardized mean of each feature per segment, one line per segment in its colour
    (:func:`rfm_core.segments.profiles.snake_plot_data`)."""
    figure = go.Figure()
    groups = list(snake.groupby("segment", sort=True))
    colours = segment_colour_map(names.get(label, label) for label, _ in groups)
    for label, group in groups:
        name = escape_plotly(names.get(label, label))
        figure.add_trace(go.Scatter(x=[column_label(f) for f in group["feature"]],
                                    y=group["value"], mode="lines+markers", name=name,
                                    line_color=colours[name]))  # fmt: skip
    figure.update_layout(height=340, margin={"t": 40, "b": 10}, legend_title_text="Segment",
                         yaxis_title="Standardized mean (0 = all customers)")  # fmt: skip
    figure.update_layout(title=title)
    return figure


def importance_bars(importances: pd.Series) -> go.Figure:
    """Random-forest importance of each feature, the largest on top."""
    ordered = importances.sort_values()
    chart = go.Figure(
        go.Bar(x=ordered.to_numpy(), y=[column_label(f) for f in ordered.index], orientation="h",
               marker_color=PALETTE[0], hovertemplate="%{y}: %{x:.2f}<extra></extra>")
    )  # fmt: skip
    chart.update_layout(
        height=300,
        showlegend=False,
        margin={"t": 40, "b": 10},
        title="What separates the segments most",
        xaxis_title="Importance (random forest; the bars add up to 1)",
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
        labels={"x": "Cluster segment", "y": "Rule segment", "color": "Customers"},
    )
    heat.update_layout(height=420, margin={"t": 10, "b": 10})
    return heat


def orders_timeline(orders: pd.DataFrame, *, currency: str = "") -> go.Figure:
    """One customer's orders over time, returns in their own colour
    (:func:`rfm_core.customers.pipeline.customer_orders`)."""
    shown = escaped(orders, ["order"])
    timeline = go.Figure()
    for is_return, name, colour in ((False, "order", PALETTE[0]), (True, "return", PALETTE[3])):
        part = shown[shown["is_return"] == is_return]
        if len(part):
            timeline.add_trace(
                go.Bar(x=part["timestamp"], y=part["amount"], name=name, marker_color=colour,
                       customdata=part[["order", "lines"]],
                       hovertemplate="%{x}: %{y:,.2f}<br>order %{customdata[0]}, "
                       "%{customdata[1]} lines<extra></extra>")
            )  # fmt: skip
    timeline.update_layout(
        title="Orders over time", height=300, margin={"t": 40, "b": 10},
        yaxis_title=with_currency("Amount", currency), legend_title_text="",
    )  # fmt: skip
    return timeline
