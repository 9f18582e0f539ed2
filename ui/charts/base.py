"""What every chart module shares: palette, segment colours, escaping, display sampling, log axes.

Plotly draws a subset of HTML (``<b>``, ``<br>``, ``<a href=…>``) in labels, legends, ticks and
hover text: every text that comes from the user's file or the user (ids, products, countries,
segment names) goes through :func:`escape_plotly` or :func:`escaped` before it reaches a figure.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rfm_core.labels import log_ticks, segment_colours
from rfm_core.outputs.reports import escape_plotly

__all__ = [
    "LOG_FLOOR",
    "MARGINS",
    "MAX_POINTS",
    "PALETTE",
    "drawn_at_floor",
    "drawn_counts",
    "escape_plotly",
    "escaped",
    "log_axis",
    "log_ticks",
    "on_log_axes",
    "sample_for_display",
    "segment_colour_map",
    "translucent",
]

PALETTE = (
    "#3b6fb6", "#e07b39", "#3a9e5c", "#c0392b", "#8e6bbf", "#8c564b", "#d16ba5", "#7f7f7f",
    "#b5a52b", "#17a2b8", "#1f3b73", "#f2b134", "#5a8f29", "#a83279", "#4d4d4d",
)  # fmt: skip
MAX_POINTS = 5_000  # points drawn per scatter: the browser never gets the whole table
MARGINS = {"t": 40, "b": 10, "l": 10, "r": 10}
LOG_FLOOR = 0.01  # where a monetary value of 0 (or less) is drawn on a log axis


def escaped(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Return a copy of ``frame`` whose ``columns`` hold :func:`escape_plotly` text.

    Missing values stay missing.
    """
    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].map(escape_plotly, na_action="ignore")
    return frame


def on_log_axes(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Recency + 1 and monetary floored at :data:`LOG_FLOOR`, for log axes.

    A recency of 0 days (a purchase on the reference date) and a monetary value of 0 (returns
    netted against purchases) have no place on a log axis: the first moves up by one day, the
    second is drawn at the floor.
    """
    return frame["recency"].clip(lower=0) + 1, frame["monetary"].clip(lower=LOG_FLOOR)


def drawn_at_floor(frame: pd.DataFrame) -> int:
    """How many customers :func:`on_log_axes` draws at the floor (monetary 0 or less)."""
    return int((frame["monetary"] <= 0).sum())


def sample_for_display(
    frame: pd.DataFrame,
    *,
    keep: pd.Series | None = None,
    size: int = MAX_POINTS,
    keep_at_most: int | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """A seeded sample of at most ``size`` rows; rows where ``keep`` is true always stay.

    ``keep_at_most``: when more rows than this are to be kept, a seeded sample of this many of
    them stays instead (in the order of ``frame``); the other rows fill the rest of ``size``
    (:func:`drawn_counts`). Kept rows come first, then the sample of the others.
    """
    if len(frame) <= size:
        return frame
    marked = np.zeros(len(frame), dtype=bool)
    if keep is not None:
        marked = keep.reindex(frame.index, fill_value=False).to_numpy(dtype=bool)
    kept = np.flatnonzero(marked)
    kept_drawn, others_drawn = drawn_counts(
        len(frame), len(kept), size=size, keep_at_most=keep_at_most
    )
    if kept_drawn < len(kept):
        kept = np.sort(_positions_sample(kept, kept_drawn, random_state))
    others = _positions_sample(np.flatnonzero(~marked), others_drawn, random_state)
    return frame.iloc[np.concatenate([kept, others])]


def drawn_counts(
    n_rows: int, n_kept: int, *, size: int = MAX_POINTS, keep_at_most: int | None = None
) -> tuple[int, int]:
    """How many of the ``n_kept`` kept rows and of the others :func:`sample_for_display` draws
    from ``n_rows`` rows."""
    if n_rows <= size:
        return n_kept, n_rows - n_kept
    kept = n_kept if keep_at_most is None else min(n_kept, keep_at_most)
    return kept, min(max(size - kept, 0), n_rows - n_kept)


def _positions_sample(positions: np.ndarray, n: int, random_state: int) -> np.ndarray:
    # pandas' own sampling (the rows DataFrame.sample would draw), on positions, not on rows
    return pd.Series(positions).sample(n=n, random_state=random_state).to_numpy()


def translucent(hex_colour: str, alpha: float = 0.35) -> str:
    """``#rrggbb`` as a CSS ``rgba(…)`` colour with opacity ``alpha``."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def log_axis(figure: go.Figure, values: Iterable[float], *, axis: str = "x", **layout) -> None:
    """Make the ``axis`` (``"x"``, ``"y"``, or a 3D scene's ``"scene.x"``) of ``figure`` a log
    axis ticked at the powers of ten of ``values`` (:func:`log_ticks`); ``layout`` adds to it
    (``title=…``)."""
    settings = {"type": "log", **log_ticks(values), **layout}
    if axis.startswith("scene."):
        figure.update_scenes({f"{axis.removeprefix('scene.')}axis": settings})
    elif axis == "x":
        figure.update_xaxes(**settings)
    else:
        figure.update_yaxes(**settings)


def segment_colour_map(names: Iterable[object]) -> dict[str, str]:
    """:func:`rfm_core.labels.segment_colours` keyed by the escaped names a figure draws."""
    return {escape_plotly(name): colour for name, colour in segment_colours(names).items()}
