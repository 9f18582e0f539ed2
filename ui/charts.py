"""Plotly figures shared by pages (pure functions of small frames).

Plotly draws a subset of HTML (``<b>``, ``<br>``, ``<a href=…>``) in labels, legends, ticks and
hover text: every text that comes from the user's file or the user (ids, products, countries,
segment names) goes through :func:`escape_plotly` or :func:`escaped` before it reaches a figure.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rfm_core.outputs.reports import escape_plotly

__all__ = [
    "MAX_POINTS",
    "PALETTE",
    "dendrogram_figure",
    "distribution_figures",
    "escape_plotly",
    "escaped",
    "k_distance_figure",
    "sample_for_display",
    "selection_figures",
    "silhouette_figure",
    "snake_figure",
]


def escaped(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Return a copy of ``frame`` whose ``columns`` hold :func:`escape_plotly` text.

    Missing values stay missing.
    """
    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].map(escape_plotly, na_action="ignore")
    return frame


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
    # quartiles computed here: the browser gets five numbers, not every customer's value
    q1, median, q3 = np.percentile(positive, [25, 50, 75]) if len(positive) else (0, 0, 0)
    spread = 1.5 * (q3 - q1)
    inside = positive[(positive >= q1 - spread) & (positive <= q3 + spread)]
    low, high = (inside.min(), inside.max()) if len(inside) else (q1, q3)
    box = go.Figure(
        go.Box(
            q1=[q1], median=[median], q3=[q3], lowerfence=[low], upperfence=[high],
            y=[name], orientation="h", name=name, boxpoints=False, marker_color="#3b6fb6",
        )
    )  # fmt: skip
    box.update_layout(height=140, margin={"t": 10, "b": 10}, showlegend=False)
    box.update_xaxes(type="log" if log else "linear")
    box.update_yaxes(showticklabels=False)
    return hist, box


PALETTE = (
    "#3b6fb6", "#e07b39", "#3a9e5c", "#c0392b", "#8e6bbf", "#8c564b", "#d16ba5", "#7f7f7f",
    "#b5a52b", "#17a2b8", "#1f3b73", "#f2b134", "#5a8f29", "#a83279", "#4d4d4d",
)  # fmt: skip
MAX_POINTS = 5_000  # points drawn per scatter: the browser never gets the whole table


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


def snake_figure(snake: pd.DataFrame, names: dict) -> go.Figure:
    """Standardized mean of each feature per segment, one line per segment."""
    figure = go.Figure()
    for i, (label, group) in enumerate(snake.groupby("segment", sort=True)):
        figure.add_trace(go.Scatter(x=group["feature"], y=group["value"], mode="lines+markers",
                                    name=escape_plotly(names.get(label, label)),
                                    line_color=PALETTE[i % len(PALETTE)]))  # fmt: skip
    figure.update_layout(height=340, margin={"t": 20, "b": 10},
                         yaxis_title="standardized mean")  # fmt: skip
    return figure


def sample_for_display(
    frame: pd.DataFrame,
    *,
    keep: pd.Series | None = None,
    size: int = MAX_POINTS,
    random_state: int = 0,
) -> pd.DataFrame:
    """A seeded sample of at most ``size`` rows; rows where ``keep`` is true always stay."""
    if len(frame) <= size:
        return frame
    kept = frame[keep.reindex(frame.index, fill_value=False)] if keep is not None else frame[:0]
    rest = frame.drop(kept.index)
    room = max(size - len(kept), 0)
    return pd.concat([kept, rest.sample(n=min(room, len(rest)), random_state=random_state)])
