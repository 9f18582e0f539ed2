"""Figures of the Model selection page: metrics against k, silhouette, k-distance, dendrogram."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.charts.base import PALETTE, escape_plotly, segment_colour_map

__all__ = ["dendrogram_figure", "k_distance_figure", "selection_figures", "silhouette_figure"]


STAR = {"size": 15, "color": PALETTE[1], "symbol": "star", "line": {"width": 1, "color": "white"}}
BEND = {"size": 13, "color": "rgba(0,0,0,0)", "symbol": "circle", "line": {"width": 2,
        "color": PALETTE[3]}}  # fmt: skip


def _line(x, y, *, title: str, y_title: str, recommended=None, bend=None) -> go.Figure:
    """One metric against k; a star on the recommended k (the legend says so) and, for the
    inertia, a ring where the curve bends."""
    x, y = list(x), list(y)
    figure = go.Figure(go.Scatter(x=x, y=y, mode="lines+markers", name=y_title,
                                  line_color=PALETTE[0], showlegend=False,
                                  hovertemplate="k = %{x}: %{y:,.3~f}<extra></extra>"))  # fmt: skip
    for k, marker, name in ((bend, BEND, "curve bends"), (recommended, STAR, "recommended")):
        if k is not None and k in x:
            figure.add_trace(go.Scatter(x=[k], y=[y[x.index(k)]], mode="markers", marker=marker,
                                        name=f"{name}: k = {k}", hoverinfo="name"))  # fmt: skip
    figure.update_layout(title=title, height=290, margin={"t": 40, "b": 10, "l": 10, "r": 10},
                         xaxis_title="Number of segments (k)", yaxis_title=y_title,
                         legend={"orientation": "h", "y": -0.35, "x": 0})  # fmt: skip
    figure.update_xaxes(dtick=1)
    figure.update_yaxes(tickformat=_ticks(y))
    return figure


def _ticks(values) -> str:
    """``1k``, ``10k`` for large values, plain decimals for small ones (never ``650m``)."""
    finite = [abs(v) for v in values if np.isfinite(v)]
    return "~s" if finite and max(finite) >= 1_000 else ""


def selection_figures(selection) -> dict[str, go.Figure]:
    """Inertia, silhouette, Calinski-Harabasz, Davies-Bouldin and AIC/BIC against k, by the key
    of their one-line note (:data:`rfm_core.labels.METRIC_NOTES`).

    Every chart stars the recommended k, and only it; the inertia chart also rings the k where
    its curve bends.
    """
    table = selection.table
    k, best = table.index, selection.recommended_k
    sampled = (
        f" (sampled, {selection.silhouette_sample_size:,} customers)"
        if selection.silhouette_sampled
        else ""
    )
    figures = {
        "inertia": _line(k, table["inertia"], title="Elbow: inertia ↓", y_title="Inertia",
                         recommended=best, bend=selection.elbow_k),
        "silhouette": _line(k, table["silhouette"], title=f"Silhouette ↑{sampled}",
                            y_title="Silhouette", recommended=best),
        "calinski_harabasz": _line(k, table["calinski_harabasz"], title="Calinski-Harabasz ↑",
                                   y_title="Calinski–Harabasz", recommended=best),
        "davies_bouldin": _line(k, table["davies_bouldin"], title="Davies-Bouldin ↓",
                                y_title="Davies–Bouldin", recommended=best),
    }  # fmt: skip
    mixture = go.Figure()
    for column, color in (("aic", PALETTE[2]), ("bic", PALETTE[3])):
        mixture.add_trace(go.Scatter(x=list(k), y=list(table[column]), mode="lines+markers",
                                     name=column.upper(), line_color=color))  # fmt: skip
    if best in list(k):
        mixture.add_trace(go.Scatter(x=[best], y=[table.loc[best, "bic"]], mode="markers",
                                     marker=STAR, name=f"recommended: k = {best}"))  # fmt: skip
    mixture.update_layout(title="Gaussian mixture AIC / BIC ↓", height=290,
                          xaxis_title="Number of segments (k)", yaxis_title="AIC, BIC",
                          margin={"t": 40, "b": 10, "l": 10, "r": 10},
                          legend={"orientation": "h", "y": -0.35, "x": 0})  # fmt: skip
    mixture.update_xaxes(dtick=1)
    mixture.update_yaxes(tickformat=_ticks([*table["aic"], *table["bic"]]))
    figures["aic_bic"] = mixture
    return figures


def silhouette_figure(samples: pd.DataFrame, names: dict[int, str], average: float) -> go.Figure:
    """Silhouette of each customer, sorted within its segment, one band per segment."""
    figure = go.Figure()
    offset = 0
    colours = segment_colour_map(names.get(int(label), label) for label in sorted(names))
    for label, group in samples.groupby("cluster", sort=True):
        name = escape_plotly(names.get(int(label), label))
        values = np.sort(group["silhouette"].to_numpy())[::-1]
        if len(values) > 1_000:  # thin for the browser; the shape is unchanged
            values = values[np.linspace(0, len(values) - 1, 1_000).astype(int)]
        y = np.arange(offset, offset + len(values))
        line = {"width": 0.5, "color": colours.get(name, PALETTE[0])}
        figure.add_trace(
            go.Scatter(x=values, y=y, fill="tozerox", mode="lines", name=name, line=line)
        )
        offset += len(values) + 20
    figure.add_vline(x=average, line_dash="dash", annotation_text=f"mean {average:.2f}")
    figure.update_layout(title="Silhouette of each customer, by segment", height=380,
                         margin={"t": 40, "b": 10}, xaxis_title="Silhouette",
                         yaxis={"showticklabels": False}, legend_title_text="Segment")  # fmt: skip
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
                         xaxis_title="Customers, sorted", yaxis_title="Distance",
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
    figure.update_layout(title=f"Dendrogram ({tree.method} linkage), last {leaves} merges",
                         height=340, margin={"t": 40, "b": 10}, yaxis_title="Merge distance",
                         xaxis={"tickvals": ticks, "ticktext": drawn["ivl"]})  # fmt: skip
    return figure
