"""The kept lines and removed returns of a data-folder file, cleaned once per session.

The line-level pages (Overview, Cohorts, Lifetime value, Backtest) run Ibis expressions over the
kept lines. Over the raw file (:func:`rfm_core.customers.trends.kept_lines_on_engine`) each of
them would collapse exact copies and flag every line again: at a million customers, minutes for
the first Overview. :func:`folder_lines` cleans the file once into a temporary table of its own
DuckDB connection (:func:`rfm_core.customers.trends.clean_lines_on_engine`) and every query reads
that table.

Keyed like :mod:`ui.cache`: the file's name and stamp, the mapping and the rules, never frames.
Session-scoped and bounded: a session holds at most two cleaned files (say, before and after a
change of rules); the connection of an entry pushed out, or of a session that ended, is closed
at once, which frees its table.
"""

from __future__ import annotations

import streamlit as st

from rfm_core.customers.trends import EngineLines, clean_lines_on_engine
from rfm_core.ingest.schema import ColumnMapping
from rfm_core.lines.cleaning import CleaningRules
from ui.cache import folder_table
from ui.state import Dataset

__all__ = ["folder_lines", "lines_for"]


def _close(lines: EngineLines) -> None:
    """Close the entry's own connection: its temporary table goes with it."""
    lines.backend.disconnect()


@st.cache_resource(scope="session", max_entries=2, show_spinner=False, on_release=_close)
def folder_lines(
    name: str, stamp: str, mapping: tuple[tuple[str, str | None], ...], rules: CleaningRules
) -> EngineLines:
    """Clean a data-folder file once, on a DuckDB connection of its own (``stamp`` changes with
    the file)."""
    columns = ColumnMapping(**dict(mapping))
    return clean_lines_on_engine(folder_table(name, columns), columns, rules, name=name)


def lines_for(dataset: Dataset, rules: CleaningRules) -> EngineLines:
    """The cleaned lines of the current data-folder file under ``rules``."""
    return folder_lines(dataset.file_name, dataset.dataset_id, dataset.mapping, rules)
