"""Figures of the RFM page: distributions, the R × F score grid, the rule segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from rfm_core.labels import column_kind, column_label, with_currency
from ui.charts.base import escape_plotly, log_axis, segment_colour_map

__all__ = ["distribution_figures", "rule_segment_treemap", "score_grid_heatmap"]


def axis_title(name: str, currency: str = "") -> str:
    """The words of a column on an axis, money with its currency: ``"Total spend (£)"``."""
    label = column_label(name)
    return with_currency(label, currency) if column_kind(name) == "money" else label


def distribution_figures(
    values: pd.Series, *, name: str, log: bool, bins: int = 40, currency: str = ""
) -> tuple[go.Figure, go.Figure]:
    """Return a histogram and a box plot of ``values`` (the column ``name``); log-spaced bins
    and a log axis ticked at powers of ten when ``log``."""
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
    title = axis_title(name, currency)
    hist.update_layout(title=title, height=280, margin={"t": 40, "b": 10},
                       bargap=0.02, yaxis_title="Customers")  # fmt: skip
    if log:
        log_axis(hist, edges, title=title)
    else:
        hist.update_xaxes(title=title)
    # quartiles computed here: the browser gets five numbers, not every customer's value
    q1, median, q3 = np.percentile(positive, [25, 50, 75]) if len(positive) else (0, 0, 0)
    spread = 1.5 * (q3 - q1)
    inside = positive[(positive >= q1 - spread) & (positive <= q3 + spread)]
    low, high = (inside.min(), inside.max()) if len(inside) else (q1, q3)
    box = go.Figure(
        go.Box(
            q1=[q1], median=[median], q3=[q3], lowerfence=[low], upperfence=[high],
            y=[title], orientation="h", name=title, boxpoints=False, marker_color="#3b6fb6",
        )
    )  # fmt: skip
    box.update_layout(height=140, margin={"t": 10, "b": 10}, showlegend=False)
    if log:
        log_axis(box, [low, high, *edges])
    box.update_yaxes(showticklabels=False)
    return hist, box


def score_grid_heatmap(rfm_table: pd.DataFrame) -> go.Figure:
    """Customers per F score (rows, 5 on top) and R score (columns, 5 on the right)."""
    grid = pd.crosstab(rfm_table["f_score"], rfm_table["r_score"]).reindex(
        index=range(5, 0, -1), columns=range(1, 6), fill_value=0
    )
    grid.index, grid.columns = grid.index.astype(str), grid.columns.astype(str)
    heat = px.imshow(
        grid,
        text_auto=True,
        color_continuous_scale="Blues",
        aspect="auto",
        labels={
            "x": "R score (5 = most recent)",
            "y": "F score (5 = most orders)",
            "color": "customers",
        },
    )
    heat.update_layout(title="Customers by R score and F score", height=380,
                       margin={"t": 40, "b": 10})  # fmt: skip
    heat.update_xaxes(type="category")
    heat.update_yaxes(type="category")
    return heat


def rule_segment_treemap(summary: pd.DataFrame, *, by: str, currency: str = "") -> go.Figure:
    """Rule segments (:func:`rfm_core.customers.rfm.segment_summary`) sized by ``by``
    (``customers`` or ``revenue``), each in its segment colour, with its shares and median
    recency written in the tile."""
    shown = summary[summary[by] > 0]
    names = [escape_plotly(name) for name in shown["rfm_segment"]]
    colours = segment_colour_map(shown["rfm_segment"])
    text = [
        f"{row.share_customers:.1%} of customers<br>{row.share_revenue:.1%} of revenue<br>"
        f"median recency {row.median_recency:,.0f} days"
        for row in shown.itertuples()
    ]
    treemap = go.Figure(
        go.Treemap(
            labels=names,
            parents=[""] * len(shown),
            values=shown[by].to_numpy(),
            text=text,
            textinfo="label+text",
            hovertemplate="%{label}<br>%{text}<extra></extra>",
            marker={"colors": [colours[name] for name in names]},
            sort=True,
        )
    )
    what = "customers" if by == "customers" else with_currency("revenue", currency)
    treemap.update_layout(
        title=f"Rule segments, sized by {what}", height=420, margin={"t": 40, "b": 10}
    )
    return treemap
