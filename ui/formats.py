"""How tables show their numbers and headers: ``st.column_config`` built from the one label map.

:func:`column_config` gives every column of a frame (and its index) its label in words, its code
name as a tooltip, and a number format by kind (:func:`rfm_core.labels.column_kind`): money with
the session's currency, thousands separators and 2 decimals (0 when amounts are large), shares as
percentages with 1 decimal, days and counts whole. Formats only change what is drawn: values stay
numbers, so sorting and the table's own download keep the real numbers.
:func:`ui.components.show_frame` applies it; pages pass only what differs (``overrides``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from rfm_core.labels import column_kind, column_label, currency_prefix, decimals_for

__all__ = [
    "INDEX",
    "LONG_TEXT",
    "WRAPPED_ROW_HEIGHT",
    "column_config",
    "kind_columns",
    "number_column",
    "number_format",
    "row_height",
]

INDEX = "_index"  # how st.column_config names the index column
# columns of sentences: drawn wide, and the rows grow so that the text wraps instead of being cut
LONG_TEXT = frozenset(
    {"anomaly_reason", "rule", "action", "goal", "channel", "definition", "description", "note"}
)
WRAPPED_ROW_HEIGHT = 76  # px: three lines of text (Streamlit wraps text in rows above 4 rem)
_WRAP_FROM = 28  # characters: longer text wraps (a medium column holds about this many a line)
_MEDIUM_LINES = 80  # characters: longer text gets a large column


def number_format(kind: str, values: Iterable[float] = (), *, currency: str = "") -> str:
    """The ``NumberColumn`` format of a column of ``kind`` (see :mod:`rfm_core.labels`)."""
    if kind == "share":
        return "percent"
    places = decimals_for(kind, values)
    prefix = currency_prefix(currency).replace("%", "%%") if kind == "money" else ""
    return f"{prefix}%,.{places}f"


def number_column(
    label: str | None, kind: str, values: Iterable[float] = (), *, currency: str = "", **options
):
    """A ``NumberColumn`` for numbers of ``kind``; shares are read as fractions (0.123 → 12.3%)."""
    if kind == "share":
        # the step sets the precision: 0.001 of a fraction is 0.1 of a percent
        options.setdefault("step", 0.001)
    return st.column_config.NumberColumn(
        label, format=number_format(kind, values, currency=currency), **options
    )


def kind_columns(columns: Iterable[object], kind: str) -> dict[str, Any]:
    """Columns of one kind whose names say nothing of it (cohort months ``"0"``, ``"1"``…)."""
    return {str(column): number_column(None, kind) for column in columns}


def _config(name: object, values: pd.Series, *, currency: str) -> Any:
    label = column_label(name)
    # the code name, where a label replaces it (only identifiers: plain text in Markdown)
    tooltip = f"{name} in CSV downloads" if str(name).isidentifier() and label != name else None
    kind = column_kind(name)
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        if kind in ("text", "date", "flag"):  # a number without a known kind: as it comes
            integral = pd.api.types.is_integer_dtype(values)
            kind = "count" if integral else "statistic"
        finite = pd.to_numeric(values, errors="coerce").dropna().to_numpy()
        return number_column(label, kind, finite, currency=currency, help=tooltip)
    if str(name) in LONG_TEXT:
        # wide enough for three lines of the longest text, so that it wraps instead of widening
        # the table past the page (see row_height)
        longest = values.astype("string").str.len().max() if len(values) else 0
        width = "large" if pd.notna(longest) and longest > _MEDIUM_LINES else "medium"
        return st.column_config.TextColumn(label, help=tooltip, width=width)
    return st.column_config.Column(label, help=tooltip)


def column_config(
    frame: pd.DataFrame,
    *,
    currency: str = "",
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``st.column_config`` of every column of ``frame`` and of its index (key ``"_index"``).

    Parameters
    ----------
    frame : pandas.DataFrame
    currency : str, default ""
        Symbol or code written before money amounts.
    overrides : mapping, optional
        Column name → config (or ``None`` to hide the column), instead of the derived one.

    Returns
    -------
    dict
    """
    config: dict[str, Any] = {}
    if frame.index.name is not None and not isinstance(frame.index, pd.MultiIndex):
        index = frame.index.to_series()
        config[INDEX] = _config(frame.index.name, index, currency=currency)
    for name in frame.columns:
        config[str(name)] = _config(name, frame[name], currency=currency)
    config.update(overrides or {})
    return config


def row_height(frame: pd.DataFrame) -> int | None:
    """:data:`WRAPPED_ROW_HEIGHT` when a column of sentences holds long text, else the default."""
    for name in LONG_TEXT.intersection(frame.columns):
        lengths = frame[name].astype("string").str.len().fillna(0)
        if len(lengths) and lengths.max() > _WRAP_FROM:
            return WRAPPED_ROW_HEIGHT
    return None
