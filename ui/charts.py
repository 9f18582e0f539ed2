"""Plotly figures shared by pages (pure functions of small frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go


def distribution_figures(
    values: pd.Series, *, name: str, log: bool, bins: int = 40
) -> tuple[go.Figure, go.Figure]:
    """Return a histogram and a box plot of ``values``; log-spaced bins when ``log``."""
    data = values.to_numpy(dtype=float)
    positive = data[data > 0] if log else data
    if log and len(positive):
        edges = np.geomspace(positive.min(), positive.max() * 1.0001, bins + 1)
    else:
        edges = np.linspace(data.min(), data.max() + 1e-9, bins + 1) if len(data) else [0, 1]
    counts, edges = np.histogram(positive, bins=edges)
    hist = go.Figure(
        go.Bar(
            x=np.sqrt(edges[:-1] * edges[1:]) if log else (edges[:-1] + edges[1:]) / 2,
            y=counts,
            width=np.diff(edges),
            customdata=np.column_stack([edges[:-1], edges[1:]]),
            hovertemplate="%{customdata[0]:,.2f} – %{customdata[1]:,.2f}: %{y} customers"
            "<extra></extra>",
            marker_color="#3b6fb6",
        )
    )
    hist.update_layout(title=name.capitalize(), height=280, margin={"t": 40, "b": 10},
                       bargap=0.02, yaxis_title="customers")  # fmt: skip
    hist.update_xaxes(type="log" if log else "linear", title=name)
    box = go.Figure(go.Box(x=positive, name=name, boxpoints=False, marker_color="#3b6fb6"))
    box.update_layout(height=140, margin={"t": 10, "b": 10}, showlegend=False)
    box.update_xaxes(type="log" if log else "linear")
    box.update_yaxes(showticklabels=False)
    return hist, box
