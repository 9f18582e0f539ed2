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
    "TABLE_WIDTH",
    "WRAPPED_ROW_HEIGHT",
    "column_config",
    "fit_widths",
    "kind_columns",
    "number_column",
    "number_format",
]

INDEX = "_index"  # how st.column_config names the index column
# columns of sentences: drawn wide, and the rows grow so that the text wraps instead of being cut
LONG_TEXT = frozenset(
    {"anomaly_reason", "rule", "action", "goal", "channel", "definition", "description", "note"}
)
WRAPPED_ROW_HEIGHT = 76  # px: three lines of text (Streamlit wraps text in rows above 4 rem)
TABLE_WIDTH = 900  # px of the main column at a 1,400 px window with the sidebar open
_CHAR = 6.6  # px per character of the grid's 14 px font (measured on screenshots: 6.4-6.8)
_PAD = 18  # px of a cell's padding
_COLUMN = (56, 250)  # px: narrowest and widest column of numbers or short text
_TEXT = (220, 480)  # px: narrowest and widest column of sentences
_LINE, _MAX_LINES = 20, 5  # px per wrapped line of text; lines a row grows to at most
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
    if pd.api.types.is_datetime64_any_dtype(values):
        # a moment to the minute (when a run was published); a day without its midnight
        stamps = pd.DatetimeIndex(values.dropna())
        if len(stamps) and (stamps != stamps.normalize()).any():
            return st.column_config.DatetimeColumn(label, help=tooltip, format="YYYY-MM-DD HH:mm")
        return st.column_config.DateColumn(label, help=tooltip, format="YYYY-MM-DD")
    if str(name) in LONG_TEXT:
        # wide enough for three lines of the longest text, so that it wraps instead of widening
        # the table past the page (tables: see fit_widths)
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


def _drawn_chars(name: str, values: pd.Series, setting: Mapping[str, Any]) -> int:
    """Characters of the widest cell or header of a column, as the table draws them."""
    header = len(str(setting.get("label") or name))
    if not len(values):
        return header
    if pd.api.types.is_bool_dtype(values):
        return max(header, 3)
    if pd.api.types.is_numeric_dtype(values):
        finite = pd.to_numeric(values, errors="coerce").abs().dropna()
        if finite.empty:
            return header
        largest = float(finite.max())
        spec = setting.get("type_config", {}).get("format", "")
        if spec == "percent":
            return max(header, len(f"{largest * 100:,.1f}%"))
        places = int(spec[-2]) if spec.endswith("f") and spec[-2].isdigit() else 0
        prefix = spec.split("%", 1)[0]
        return max(header, len(prefix) + len(f"-{largest:,.{places}f}"))
    if pd.api.types.is_datetime64_any_dtype(values):
        return max(header, 10)
    longest = values.astype("string").str.len().max()
    return max(header, int(longest) if pd.notna(longest) else 0)


def _pixels(chars: float, bounds: tuple[int, int]) -> int:
    return int(min(max(_CHAR * chars + _PAD, bounds[0]), bounds[1]))


def fit_widths(
    frame: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    width: int = TABLE_WIDTH,
    column_order: Iterable[str] | None = None,
    index_shown: bool = True,
) -> tuple[dict[str, Any], list[str], int | None]:
    """Lay a table out so that its key columns show: every shown column gets a width in pixels.

    Numbers and short text get the width of their widest cell or header; columns of sentences
    (:data:`LONG_TEXT`) share what is left of ``width`` and wrap, and the rows grow to the lines
    the longest text needs. A table still wider than ``width`` scrolls sideways with its first
    column (what each row is) pinned and its sentences moved next to it.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows drawn.
    config : mapping
        Its :func:`column_config` (a ``None`` value hides a column).
    width : int, default TABLE_WIDTH
        Pixels the table may take.
    column_order : iterable of str, optional
        The columns shown, in order (default: all).
    index_shown : bool, default True
        Whether the index is drawn.

    Returns
    -------
    config : dict
        ``config`` with a ``width`` (and ``pinned`` where needed) in every shown column.
    column_order : list of str
        The columns shown, in the order drawn.
    row_height : int or None
        Pixels per row when text wraps, else None (the default height).
    """
    fitted = {n: dict(setting) if setting is not None else None for n, setting in config.items()}
    lookup = {str(c): c for c in frame.columns}
    order = list(lookup) if column_order is None else [str(c) for c in column_order]
    shown = [n for n in order if n in lookup and fitted.get(n, {}) is not None]
    index = index_shown and fitted.get(INDEX) is not None and frame.index.name is not None
    values = {n: frame[lookup[n]] for n in shown}
    if index:
        values[INDEX] = frame.index.to_series()
    texts = [n for n in shown if n in LONG_TEXT]
    used = 0
    for name in [INDEX] * index + shown:
        if name not in LONG_TEXT:
            setting = fitted.setdefault(name, {})
            setting["width"] = _pixels(_drawn_chars(name, values[name], setting), _COLUMN)
            used += setting["width"]
    height = None
    for name in texts:
        setting = fitted.setdefault(name, {})
        setting["width"] = int(min(max((width - used) // len(texts), _TEXT[0]), _TEXT[1]))
        longest = values[name].astype("string").str.len().max() if len(values[name]) else 0
        per_line = max(int((setting["width"] - _PAD) // _CHAR), 1)
        lines = min(-(-int(longest if pd.notna(longest) else 0) // per_line), _MAX_LINES)
        if lines > 1:
            # Streamlit wraps text only in rows above 4 rem: never less than three lines' height
            height = max(height or 0, _LINE * lines + 16, WRAPPED_ROW_HEIGHT)
    if used + sum(fitted[n]["width"] for n in texts) > width:
        first = INDEX if index else shown[0] if shown else None
        if first is not None:
            fitted[first]["pinned"] = True
        if first in shown:  # the sentences beside what the row is, the numbers after them
            rest = [n for n in shown[1:] if n not in LONG_TEXT]
            shown = [first, *[n for n in texts if n != first], *rest]
        else:
            shown = [*texts, *[n for n in shown if n not in LONG_TEXT]]
    return fitted, shown, height
