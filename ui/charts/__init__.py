"""Every figure of the app, one module per area; pages only place them.

- :mod:`ui.charts.base`: palette, escaping, sampling and log-axis helpers shared by the others
- :mod:`ui.charts.cleaning`: where the rows went (Cleaning page)
- :mod:`ui.charts.customers`: distributions, the R × F grid, rule segments (RFM page)
- :mod:`ui.charts.trends`: activity, breakdowns, Pareto, movement and cohorts (Overview,
  Movement, Cohorts pages)
- :mod:`ui.charts.selection`: metrics against k, silhouette, k-distance, dendrogram (Model
  selection page)
- :mod:`ui.charts.segments`: shares, snake plot, importances, crosswalk, one customer's orders
  (Segments page)
- :mod:`ui.charts.projections`: customers in two or three dimensions (Projections page)
- :mod:`ui.charts.anomalies`: flagged customers and where the detectors agree (Anomalies page)

Every function is pure: small frames in, a ``plotly.graph_objects.Figure`` out. Plotly draws a
subset of HTML in labels, legends, ticks and hover text: every text that comes from the user's
file or the user goes through :func:`ui.charts.base.escape_plotly` or
:func:`ui.charts.base.escaped` before it reaches a figure.
"""
