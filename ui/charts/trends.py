"""Figures of the Overview, Movement and Cohorts pages (pure functions of small frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from rfm_core.customers.migration import NEW_CUSTOMER
from rfm_core.customers.trends import Pareto
from ui.charts.base import MARGINS, PALETTE, escape_plotly, escaped, translucent

__all__ = [
    "cohort_heatmap",
    "country_bars",
    "new_returning_figure",
    "pareto_figure",
    "product_bars",
    "product_labels",
    "sankey_figure",
    "segment_treemap",
    "transition_heatmap",
    "trend_figure",
]


def trend_figure(trend: pd.DataFrame, column: str, *, title: str, freq: str) -> go.Figure:
    """One measure of :func:`rfm_core.customers.trends.activity_trend` over time."""
    kind = go.Bar if freq == "month" else go.Scatter
    trace = kind(x=trend["period"], y=trend[column], name=column, marker_color=PALETTE[0])
    figure = go.Figure(trace)
    figure.update_layout(title=title, height=280, margin=MARGINS, yaxis_title=column, hovermode="x")
    return figure


def new_returning_figure(split: pd.DataFrame, *, measure: str) -> go.Figure:
    """New and returning customers (or their revenue) per month, stacked."""
    figure = go.Figure()
    for kind, color in (("new", PALETTE[1]), ("returning", PALETTE[0])):
        figure.add_trace(
            go.Bar(x=split["period"], y=split[f"{kind}_{measure}"], name=kind, marker_color=color)
        )
    figure.update_layout(
        barmode="stack",
        title=f"New and returning {measure} per month",
        height=300,
        margin=MARGINS,
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def _revenue_bars(frame: pd.DataFrame, column: str, *, title: str) -> go.Figure:
    bars = px.bar(escaped(frame, [column]), x="revenue", y=column, orientation="h", title=title)
    bars.update_layout(height=380, margin={"t": 40, "b": 10}, yaxis={"autorange": "reversed"})
    return bars


def country_bars(countries: pd.DataFrame) -> go.Figure:
    """Revenue of the first 15 countries of
    :func:`rfm_core.customers.trends.revenue_by_country`, largest on top."""
    return _revenue_bars(countries.head(15), "country", title="Revenue by country (top 15)")


def product_bars(products: pd.DataFrame) -> go.Figure:
    """Revenue of the products of :func:`rfm_core.customers.trends.top_products`, largest on
    top, named by their description where the log has one ("REGENCY CAKESTAND 3 TIER (22423)";
    product codes stay text, never numbers)."""
    named = products.assign(product=product_labels(products))
    bars = _revenue_bars(named, "product", title=f"Top {len(products)} products by revenue")
    bars.update_yaxes(type="category")
    return bars


def product_labels(products: pd.DataFrame) -> pd.Series:
    """``description (code)`` where a product has a description, else its code."""
    codes = products["product"].astype(str)
    if "description" not in products.columns:
        return codes
    names = products["description"]
    return (names.astype(str) + " (" + codes + ")").where(names.notna(), codes)


def segment_treemap(kpis: pd.DataFrame) -> go.Figure:
    """Rule segments sized by revenue, labelled with their share of revenue and customers."""
    shown = kpis[kpis["revenue"] > 0]
    text = [
        f"{row.share_revenue:.1%} of revenue<br>{row.share_customers:.1%} of customers"
        for row in shown.itertuples()
    ]
    figure = go.Figure(
        go.Treemap(
            labels=[escape_plotly(label) for label in shown.index],
            parents=[""] * len(shown),
            values=shown["revenue"].to_numpy(),
            text=text,
            textinfo="label+text",
            hovertemplate="%{label}<br>revenue %{value:,.0f}<br>%{text}<extra></extra>",
            marker={"colors": [PALETTE[i % len(PALETTE)] for i in range(len(shown))]},
        )
    )
    figure.update_layout(height=380, margin={"t": 10, "b": 10, "l": 10, "r": 10})
    return figure


def pareto_figure(pareto: Pareto) -> go.Figure:
    """Share of revenue of the top x % of customers, with the equal-share diagonal."""
    curve = pareto.curve
    figure = go.Figure(
        go.Scatter(
            x=curve["share_customers"],
            y=curve["share_revenue"],
            mode="lines",
            name="customers, best first",
            line_color=PALETTE[0],
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="equal shares",
            line={"dash": "dot", "color": "#999999"},
        )
    )
    top = pareto.points.loc[0.2] if 0.2 in pareto.points.index else None
    if top is not None:
        figure.add_trace(
            go.Scatter(
                x=[0.2],
                y=[top["share_revenue"]],
                mode="markers+text",
                text=[f"top 20% → {top['share_revenue']:.0%}"],
                textposition="bottom right",
                marker={"size": 10, "color": PALETTE[1]},
                name="top 20%",
            )
        )
    figure.update_layout(
        title="Pareto curve: share of revenue of the best customers",
        height=340,
        margin=MARGINS,
        showlegend=False,
    )
    figure.update_xaxes(tickformat=".0%", title="customers, ranked by monetary value")
    figure.update_yaxes(tickformat=".0%", title="share of revenue")
    return figure


def sankey_figure(counts: pd.DataFrame, *, date_from, date_to) -> go.Figure:
    """Flows of customers from each segment at ``date_from`` to each at ``date_to``."""
    rows = [label for label in counts.index if counts.loc[label].sum() > 0]
    columns = [label for label in counts.columns if counts[label].sum() > 0]
    colour = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(counts.columns)}
    colour[NEW_CUSTOMER] = "#bbbbbb"
    labels = [escape_plotly(r) for r in rows] + [escape_plotly(c) for c in columns]
    sources, targets, values, colours = [], [], [], []
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            value = int(counts.loc[row, column])
            if value:
                sources.append(i)
                targets.append(len(rows) + j)
                values.append(value)
                colours.append(translucent(colour[column]))
    figure = go.Figure(
        go.Sankey(
            node={
                "label": labels,
                "pad": 12,
                "color": [colour.get(r, "#bbbbbb") for r in rows] + [colour[c] for c in columns],
            },
            link={"source": sources, "target": targets, "value": values, "color": colours},
        )
    )
    figure.update_layout(
        title=f"Segments on {date_from} (left) → on {date_to} (right)", height=520, margin=MARGINS
    )
    return figure


def transition_heatmap(matrix: pd.DataFrame, *, measure: str) -> go.Figure:
    """Customers (or their revenue at the later date) by segment at each date."""
    shown = matrix.copy()
    shown.index = [escape_plotly(label) for label in shown.index]
    shown.columns = [escape_plotly(label) for label in shown.columns]
    figure = px.imshow(
        shown,
        text_auto=".0f" if measure == "revenue" else True,
        color_continuous_scale="Blues",
        aspect="auto",
        labels={
            "x": "segment at the later date",
            "y": "segment at the earlier date",
            "color": measure,
        },
    )
    figure.update_layout(height=460, margin={"t": 10, "b": 10})
    figure.update_xaxes(type="category", side="top")
    figure.update_yaxes(type="category")
    return figure


def cohort_heatmap(matrix: pd.DataFrame, *, share: bool) -> go.Figure:
    """Cohorts (rows) by months since the first order (columns); empty after the data ends."""
    values = matrix.astype("float64").to_numpy()
    shown = values * 100 if share else values
    text = np.where(np.isnan(shown), "", np.char.mod("%.0f", np.nan_to_num(shown)))
    if share:
        text = np.where(text == "", "", np.char.add(text.astype(str), "%"))
    figure = go.Figure(
        go.Heatmap(
            z=shown,
            x=[str(c) for c in matrix.columns],
            y=list(matrix.index),
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            hoverongaps=False,
            colorbar={"title": "% of cohort" if share else "customers"},
        )
    )
    figure.update_layout(
        height=max(320, 26 * len(matrix) + 120),
        margin=MARGINS,
        xaxis_title="months since the first order",
        yaxis_title="cohort",
    )
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(type="category", side="top")
    return figure
