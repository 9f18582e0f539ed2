"""Figures of the Model selection page: metrics against k, silhouette, k-distance, dendrogram."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.charts.base import PALETTE, escape_plotly

__all__ = ["dendrogram_figure", "k_distance_figure", "selection_figures", "silhouette_figure"]


def _line(x, y, *, title: str, y_title: str, marker_x=None, note: str = "") -> go.Figure:
    figure = go.Figure(go.Scatter(x=list(x), y=list(y), mode="lines+markers", name=y_title,
                                  line_color=PALETTE[0]))  # fmt: skip
    if marker_x is not None and marker_x in list(x):
        at = list(x).index(marker_x)
        figure.add_trace(go.Scatter(x=[marker_x], y=[list(y)[at]], mode="markers",
                                    marker={"size": 14, "color": PALETTE[1], "symbol": "star"},
                                    name="recommended"))  # fmt: skip
    figure.update_layout(title=title + (f" ({note})" if note else ""), height=260,
                         margin={"t": 40, "b": 10, "l": 10, "r": 10}, showlegend=False,
                         xaxis_title="k", yaxis_title=y_title)  # fmt: skip
    figure.update_xaxes(dtick=1)
    return figure


def selection_figures(selection) -> list[go.Figure]:
    """Elbow, silhouette, Calinski-Harabasz, Davies-Bouldin and AIC/BIC against k."""
    table = selection.table
    k, best = table.index, selection.recommended_k
    sampled = (
        f"sampled, {selection.silhouette_sample_size:,} customers"
        if selection.silhouette_sampled
        else ""
    )
    figures = [
        _line(k, table["inertia"], title="Elbow: inertia", y_title="inertia",
              marker_x=selection.elbow_k, note="star = elbow"),
        _line(k, table["silhouette"], title="Silhouette ↑", y_title="silhouette",
              marker_x=best, note=sampled),
        _line(k, table["calinski_harabasz"], title="Calinski-Harabasz ↑", y_title="CH",
              marker_x=best),
        _line(k, table["davies_bouldin"], title="Davies-Bouldin ↓", y_title="DB", marker_x=best),
    ]  # fmt: skip
    mixture = go.Figure()
    for column, color in (("aic", PALETTE[2]), ("bic", PALETTE[3])):
        mixture.add_trace(go.Scatter(x=list(k), y=list(table[column]), mode="lines+markers",
                                     name=column.upper(), line_color=color))  # fmt: skip
    mixture.update_layout(title="Gaussian mixture AIC / BIC ↓", height=260, xaxis_title="k",
                          margin={"t": 40, "b": 10, "l": 10, "r": 10},
                          legend={"orientation": "h", "y": -0.3})  # fmt: skip
    mixture.update_xaxes(dtick=1)
    figures.append(mixture)
    return figures


def silhouette_figure(samples: pd.DataFrame, names: dict[int, str], average: float) -> go.Figure:
    """Silhouette of each customer, sorted within its segment, one band per segment."""
    figure = go.Figure()
    offset = 0
    for i, (label, group) in enumerate(samples.groupby("cluster", sort=True)):
        values = np.sort(group["silhouette"].to_numpy())[::-1]
        if len(values) > 1_000:  # thin for the browser; the shape is unchanged
            values = values[np.linspace(0, len(values) - 1, 1_000).astype(int)]
        y = np.arange(offset, offset + len(values))
        figure.add_trace(go.Scatter(x=values, y=y, fill="tozerox", mode="lines",
                                    line={"width": 0.5, "color": PALETTE[i % len(PALETTE)]},
                                    name=escape_plotly(names.get(int(label), label))))  # fmt: skip
        offset += len(values) + 20
    figure.add_vline(x=average, line_dash="dash", annotation_text=f"mean {average:.2f}")
    figure.update_layout(height=380, margin={"t": 30, "b": 10}, xaxis_title="silhouette",
                         yaxis={"showticklabels": False})  # fmt: skip
    return figure


def k_distance_figure(kdist) -> go.Figure:
    """Sorted distance to the k-th neighbour; the knee suggests DBSCAN's eps."""
    distances = np.asarray(kdist.distances)
    if len(distances) > 2_000:
        distances = distances[np.linspace(0, len(distances) - 1, 2_000).astype(int)]
    figure = go.Figure(go.Scatter(y=distances, mode="lines", line_color=PALETTE[0]))
    figure.add_hline(y=kdist.suggested_eps, line_dash="dash",
                     annotation_text=f"suggested eps {kdist.suggested_eps:.3f}")  # fmt: skip
    figure.update_layout(title=f"Distance to the {kdist.k}-th neighbour", height=300,
                         xaxis_title="customers, sorted", yaxis_title="distance",
                         margin={"t": 40, "b": 10})  # fmt: skip
    return figure


def dendrogram_figure(tree, *, leaves: int = 30) -> go.Figure:
    """Top of the merge tree (the last ``leaves`` merges), drawn from scipy's layout."""
    from scipy.cluster.hierarchy import dendrogram as layout

    drawn = layout(tree.linkage_matrix, truncate_mode="lastp", p=leaves, no_plot=True)
    figure = go.Figure()
    for xs, ys in zip(drawn["icoord"], drawn["dcoord"], strict=True):
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line_color=PALETTE[0],
                                    hoverinfo="skip", showlegend=False))  # fmt: skip
    ticks = [5 + 10 * i for i in range(len(drawn["ivl"]))]
    figure.update_layout(title=f"Dendrogram ({tree.method}), last {leaves} merges", height=340,
                         margin={"t": 40, "b": 10}, yaxis_title="merge distance",
                         xaxis={"tickvals": ticks, "ticktext": drawn["ivl"]})  # fmt: skip
    return figure
