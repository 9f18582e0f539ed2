"""Figures of the Overview, Movement and Cohorts pages (pure functions of small frames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from rfm_core.customers.trends import Pareto
from rfm_core.labels import column_label, format_share, with_currency
from ui.charts.base import (
    MARGINS,
    PALETTE,
    escape_plotly,
    log_axis,
    segment_colour_map,
    translucent,
)

__all__ = [
    "cohort_heatmap",
    "country_bars",
    "new_returning_figure",
    "pareto_figure",
    "product_bars",
    "sankey_figure",
    "segment_treemap",
    "transition_heatmap",
    "trend_figure",
]

GREY = "#e6e6e6"  # month 0 of the cohorts: every cohort's first month, not compared


def trend_figure(
    trend: pd.DataFrame, column: str, *, title: str, freq: str, currency: str = ""
) -> go.Figure:
    """One measure of :func:`rfm_core.customers.trends.activity_trend` over time."""
    kind = go.Bar if freq == "month" else go.Scatter
    label = _measure_title(column, currency)
    trace = kind(x=trend["period"], y=trend[column], name=label, marker_color=PALETTE[0],
                 hovertemplate="%{x}: %{y:,.0f}<extra></extra>")  # fmt: skip
    figure = go.Figure(trace)
    figure.update_layout(title=title, height=280, margin=MARGINS, yaxis_title=label, hovermode="x")
    large = column == "revenue" and trend[column].abs().max() >= 1_000
    figure.update_yaxes(tickformat="~s" if large else ",")
    return figure


def _measure_title(column: str, currency: str) -> str:
    """``"Revenue (£)"``, ``"Active customers"``, ``"Orders"``."""
    if column == "revenue":
        return with_currency("Revenue", currency)
    return "Active customers" if column == "customers" else column_label(column)


def new_returning_figure(split: pd.DataFrame, *, measure: str, currency: str = "") -> go.Figure:
    """New and returning customers (or their revenue) per month, stacked."""
    figure = go.Figure()
    for kind, color in (("new", PALETTE[1]), ("returning", PALETTE[0])):
        figure.add_trace(
            go.Bar(x=split["period"], y=split[f"{kind}_{measure}"], name=f"{kind} customers",
                   marker_color=color)
        )  # fmt: skip
    what = "customers" if measure == "customers" else "revenue of new and returning customers"
    figure.update_layout(
        barmode="stack",
        title=f"New and returning customers per month: {what}",
        height=300,
        margin=MARGINS,
        yaxis_title=_measure_title(measure, currency),
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def _revenue_bars(
    frame: pd.DataFrame, names: list[str], *, title: str, currency: str, log: bool
) -> go.Figure:
    """Horizontal bars of revenue, largest on top, each with its share of revenue written."""
    bars = go.Figure(
        go.Bar(
            x=frame["revenue"], y=names, orientation="h", marker_color=PALETTE[0],
            text=[format_share(share) for share in frame["share_revenue"]], textposition="outside",
            cliponaxis=False, hovertemplate="%{y}: %{x:,.0f} (%{text} of revenue)<extra></extra>",
        )
    )  # fmt: skip
    bars.update_layout(title=title, height=380, margin={"t": 40, "b": 10, "r": 40},
                       yaxis={"autorange": "reversed", "type": "category"})  # fmt: skip
    axis = with_currency("Revenue", currency) + (" (log scale)" if log else "")
    if log:
        log_axis(bars, frame["revenue"], title=axis)
    else:
        bars.update_xaxes(title=axis, tickformat="~s" if frame["revenue"].max() >= 1_000 else ",")
    return bars


def country_bars(countries: pd.DataFrame, *, currency: str = "") -> go.Figure:
    """Revenue of the first 15 countries of
    :func:`rfm_core.customers.trends.revenue_by_country`, largest on top, on a log axis so
    that the small countries beside a home market stay visible."""
    shown = countries.head(15)
    names = [escape_plotly(country) for country in shown["country"]]
    title = "Revenue by country" + (f" (top {len(shown)})" if len(countries) > len(shown) else "")
    return _revenue_bars(shown, names, title=title, currency=currency, log=True)


def product_bars(products: pd.DataFrame, *, currency: str = "") -> go.Figure:
    """Revenue of the products of :func:`rfm_core.customers.trends.top_products`, largest on
    top: each named by its description when the frame has one (``"WHITE MUG (85123A)"``),
    else by its code (codes stay text, never numbers)."""
    codes = products["product"].astype(str)
    if "description" in products.columns:
        described = products["description"].fillna("").astype(str).str.strip()
        codes = (described + " (" + codes + ")").where(described != "", codes)
    names = [escape_plotly(name) for name in codes]
    title = f"Top {len(products)} products by revenue"
    return _revenue_bars(products, names, title=title, currency=currency, log=False)


def segment_treemap(kpis: pd.DataFrame, *, currency: str = "") -> go.Figure:
    """Rule segments sized by revenue, each in its segment colour, labelled with their share of
    revenue and customers."""
    shown = kpis[kpis["revenue"] > 0]
    names = [escape_plotly(label) for label in shown.index]
    colours = segment_colour_map(shown.index)
    text = [
        f"{row.share_revenue:.1%} of revenue<br>{row.share_customers:.1%} of customers"
        for row in shown.itertuples()
    ]
    figure = go.Figure(
        go.Treemap(
            labels=names,
            parents=[""] * len(shown),
            values=shown["revenue"].to_numpy(),
            text=text,
            textinfo="label+text",
            hovertemplate="%{label}<br>revenue %{value:,.0f}<br>%{text}<extra></extra>",
            marker={"colors": [colours[name] for name in names]},
        )
    )
    figure.update_layout(
        title=f"Rule segments, sized by {with_currency('revenue', currency)}",
        height=380,
        margin={"t": 40, "b": 10, "l": 10, "r": 10},
    )
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
    figure.update_xaxes(tickformat=".0%", title="Share of customers, best first (by total spend)")
    figure.update_yaxes(tickformat=".0%", title="Share of revenue")
    return figure


def sankey_figure(counts: pd.DataFrame, *, date_from, date_to) -> go.Figure:
    """Flows of customers from each segment at ``date_from`` to each at ``date_to``."""
    rows = [label for label in counts.index if counts.loc[label].sum() > 0]
    columns = [label for label in counts.columns if counts[label].sum() > 0]
    colour = segment_colour_map([*counts.columns, *counts.index])
    rows_text, columns_text = [escape_plotly(r) for r in rows], [escape_plotly(c) for c in columns]
    labels = rows_text + columns_text
    sources, targets, values, colours = [], [], [], []
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            value = int(counts.loc[row, column])
            if value:
                sources.append(i)
                targets.append(len(rows) + j)
                values.append(value)
                colours.append(translucent(colour[escape_plotly(column)]))
    figure = go.Figure(
        go.Sankey(
            node={
                "label": labels,
                "pad": 12,
                "color": [colour[r] for r in rows_text] + [colour[c] for c in columns_text],
            },
            link={"source": sources, "target": targets, "value": values, "color": colours},
        )
    )
    figure.update_layout(
        title=f"Segments on {date_from} (left) → on {date_to} (right)", height=520, margin=MARGINS
    )
    return figure


def transition_heatmap(matrix: pd.DataFrame, *, measure: str, currency: str = "") -> go.Figure:
    """Customers (or their revenue at the later date) by segment at each date."""
    shown = matrix.copy()
    shown.index = [escape_plotly(label) for label in shown.index]
    shown.columns = [escape_plotly(label) for label in shown.columns]
    figure = px.imshow(
        shown,
        text_auto=",.0f",  # 122,531 (plotly's default reads "122.531k")
        color_continuous_scale="Blues",
        aspect="auto",
        labels={
            "x": "Segment at the later date",
            "y": "Segment at the earlier date",
            "color": _measure_title(measure, currency),
        },
    )
    figure.update_layout(height=460, margin={"t": 10, "b": 10})
    figure.update_xaxes(type="category", side="top")
    figure.update_yaxes(type="category")
    return figure


def cohort_heatmap(matrix: pd.DataFrame, *, share: bool) -> go.Figure:
    """Cohorts (rows) by months since the first order (columns); empty after the data ends.

    Month 0 is every cohort's first month (100 % of it, or its size): drawn grey over the
    first trace (which holds every month), with its numbers, so that the colour scale spans the
    later months alone and their differences show.
    """
    values = matrix.astype("float64").to_numpy()
    shown = values * 100 if share else values
    text = np.where(np.isnan(shown), "", np.char.mod("%.0f", np.nan_to_num(shown)))
    if share:
        text = np.where(text == "", "", np.char.add(text.astype(str), "%"))
    elif text.size:
        text = np.where(
            text == "", "", [[f"{v:,.0f}" for v in row] for row in np.nan_to_num(shown)]
        )
    months = [str(c) for c in matrix.columns]
    cohorts = list(matrix.index)
    later = shown[:, 1:] if shown.shape[1] > 1 else shown[:, :0]
    finite = later[np.isfinite(later)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    unit = "% of the cohort" if share else "customers"
    figure = go.Figure(
        go.Heatmap(
            z=shown,
            x=months, y=cohorts, text=text, texttemplate="%{text}", colorscale="Blues",
            zmin=0, zmax=top, hoverongaps=False,
            hovertemplate="cohort %{y}, month %{x}: %{text}<extra></extra>",
            colorbar={"title": f"{unit}<br>(months 1 and later)"},
        )
    )  # fmt: skip
    if shown.shape[1]:
        figure.add_trace(
            go.Heatmap(
                z=np.where(np.isnan(shown[:, :1]), np.nan, 0.0), x=months[:1], y=cohorts,
                text=text[:, :1], texttemplate="%{text}", colorscale=[[0, GREY], [1, GREY]],
                showscale=False, hovertemplate="cohort %{y}, first month: %{text}<extra></extra>",
            )
        )  # fmt: skip
    figure.update_layout(
        title={
            "text": f"Back n months after the first order ({unit}; month 0, in grey, is the first)",
            "y": 0.98,
            "yanchor": "top",
        },
        height=max(340, 26 * len(matrix) + 170),
        margin={**MARGINS, "t": 80},  # room for the title above the month numbers
        yaxis_title="Cohort: month of the first order",
    )
    figure.update_yaxes(autorange="reversed", type="category")
    # month numbers on top, beside the first cohorts; the title says what they count (an axis
    # title up there would overlap it)
    figure.update_xaxes(type="category", side="top", categoryorder="array", categoryarray=months)
    return figure
