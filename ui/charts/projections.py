"""Figures of the Projections page: the customers in two or three dimensions."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ui.charts.base import PALETTE, escaped, on_log_axes, sample_for_display

__all__ = ["projection_scatter", "rfm_cube"]


def projection_scatter(
    coords: pd.DataFrame,
    colours: pd.DataFrame,
    *,
    colour: str,
    keep: pd.Series,
    three_d: bool,
    title: str,
    log: bool = False,
) -> go.Figure:
    """A seeded sample of the customers at ``coords`` (``x, y`` and, in 3D, ``z``), coloured by
    the ``colour`` column of ``colours``, with their recency, frequency and monetary on hover.

    Customers where ``keep`` is true (the anomalies) are always drawn.
    """
    drawn = sample_for_display(coords.join(colours), keep=keep)
    drawn = drawn.reset_index().rename(columns={"index": "customer_id"})
    drawn[colour] = drawn[colour].astype(str)
    drawn = escaped(drawn, ["customer_id", colour])
    hover = {"customer_id": True, "recency": True, "frequency": True, "monetary": ":,.2f"}
    common = {
        "color": colour,
        "hover_data": hover,
        "color_discrete_sequence": PALETTE,
        "title": title,
        "category_orders": {colour: sorted(drawn[colour].unique())},
    }
    if three_d:
        figure = px.scatter_3d(drawn, x="x", y="y", z="z", log_x=log, log_z=log, **common)
        figure.update_traces(marker={"size": 2.5})
    else:
        figure = px.scatter(drawn, x="x", y="y", **common)
        figure.update_traces(marker={"size": 5, "opacity": 0.7})
    figure.update_layout(height=560, margin={"t": 40, "b": 10}, legend_title_text="")
    return figure


def rfm_cube(
    rfm_table: pd.DataFrame, colours: pd.DataFrame, *, colour: str, keep: pd.Series
) -> go.Figure:
    """Recency + 1, frequency and monetary on three log axes (see
    :func:`ui.charts.base.on_log_axes`)."""
    recency, monetary = on_log_axes(rfm_table)
    coords = pd.DataFrame({"x": recency, "y": rfm_table["frequency"], "z": monetary})
    figure = projection_scatter(
        coords, colours, colour=colour, keep=keep, three_d=True,
        title="Recency + 1 (x), frequency (y), monetary (z)", log=True,
    )  # fmt: skip
    figure.update_layout(
        scene={
            "xaxis_title": "recency + 1 (days)",
            "yaxis_title": "orders",
            "zaxis_title": "monetary",
            "yaxis_type": "log",
        }
    )
    return figure
