"""Figures of the Projections page: the customers in two or three dimensions."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from rfm_core.labels import column_label, with_currency
from ui.charts.base import escaped, log_axis, on_log_axes, sample_for_display, segment_colour_map

__all__ = ["COLOUR_TITLES", "projection_scatter", "rfm_cube"]

# the legend's title for each way of colouring the customers
COLOUR_TITLES = {"cluster": "Segment", "rfm_segment": "Rule segment", "anomaly": "Customer"}


def projection_scatter(
    coords: pd.DataFrame,
    colours: pd.DataFrame,
    *,
    colour: str,
    keep: pd.Series,
    three_d: bool,
    title: str,
    axis_titles: tuple[str, ...] = (),
    currency: str = "",
) -> go.Figure:
    """A seeded sample of the customers at ``coords`` (``x, y`` and, in 3D, ``z``), coloured by
    the ``colour`` column of ``colours`` (each segment in its colour), with their recency,
    frequency and monetary on hover.

    Customers where ``keep`` is true (the anomalies) are always drawn. ``axis_titles`` names
    the axes (``"PC1 (67% of the variance)"``…).
    """
    drawn = sample_for_display(coords.join(colours), keep=keep)
    drawn = drawn.reset_index().rename(columns={"index": "customer_id"})
    drawn[colour] = drawn[colour].astype(str)
    drawn = escaped(drawn, ["customer_id", colour])
    hover = {"customer_id": True, "recency": True, "frequency": True, "monetary": ":,.2f"}
    order = sorted(drawn[colour].unique())
    labels = {name: column_label(name) for name in hover}
    labels["monetary"] = with_currency(labels["monetary"], currency)
    labels[colour] = COLOUR_TITLES.get(colour, column_label(colour))
    common = {
        "color": colour,
        "hover_data": hover,
        "labels": labels,
        "color_discrete_map": segment_colour_map(order),
        "title": title,
        "category_orders": {colour: order},
    }
    if three_d:
        figure = px.scatter_3d(drawn, x="x", y="y", z="z", **common)
        figure.update_traces(marker={"size": 2.5})
        figure.update_scenes(dict(zip(("xaxis_title", "yaxis_title", "zaxis_title"),
                                      axis_titles, strict=False)))  # fmt: skip
    else:
        figure = px.scatter(drawn, x="x", y="y", **common)
        figure.update_traces(marker={"size": 5, "opacity": 0.7})
        figure.update_layout(dict(zip(("xaxis_title", "yaxis_title"), axis_titles, strict=False)))
    figure.update_layout(height=560, margin={"t": 40, "b": 10})
    return figure


def rfm_cube(
    rfm_table: pd.DataFrame,
    colours: pd.DataFrame,
    *,
    colour: str,
    keep: pd.Series,
    currency: str = "",
) -> go.Figure:
    """Recency, orders and total spend on three log axes ticked at powers of ten (recency is
    drawn one day later so that today's buyers have a place; see
    :func:`ui.charts.base.on_log_axes`)."""
    recency, monetary = on_log_axes(rfm_table)
    coords = pd.DataFrame({"x": recency, "y": rfm_table["frequency"], "z": monetary})
    spend = with_currency(column_label("monetary"), currency)
    figure = projection_scatter(
        coords, colours, colour=colour, keep=keep, three_d=True, currency=currency,
        title=f"Recency, orders and {with_currency('total spend', currency)} (log axes)",
        axis_titles=(column_label("recency"), column_label("frequency"), spend),
    )  # fmt: skip
    for axis, values in (("x", coords["x"]), ("y", coords["y"]), ("z", coords["z"])):
        log_axis(figure, values, axis=f"scene.{axis}")
    return figure
