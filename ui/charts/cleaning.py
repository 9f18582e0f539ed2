"""Figures of the Cleaning page: where the rows went."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from rfm_core.labels import REASON_LABELS

__all__ = ["waterfall_figure"]


def waterfall_figure(report: pd.DataFrame, *, n_in: int, n_kept: int) -> go.Figure:
    """Rows read, minus the rows of each removal reason that removed any, down to rows kept.

    ``report`` is :attr:`rfm_core.customers.result.CustomerRun.report` (``reason, rows, …``).
    """
    removed = report[report["rows"] > 0]
    waterfall = go.Figure(
        go.Waterfall(
            x=["Rows read", *(REASON_LABELS.get(r, r) for r in removed["reason"]), "Rows kept"],
            y=[n_in, *(-removed["rows"]), n_kept],
            measure=["absolute", *["relative"] * len(removed), "total"],
            connector={"line": {"color": "#bbb"}},
        )
    )
    waterfall.update_layout(title="Where the rows went", height=380, margin={"t": 40, "b": 20},
                            yaxis_title="Rows", yaxis_tickformat=",")  # fmt: skip
    return waterfall
