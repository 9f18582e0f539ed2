"""Cached calls into rfm_core, keyed by the dataset id (sha256 of the bytes), never by frames.

Every cache is session-scoped and bounded (``max_entries``): one user's data is never served to
another session, and memory stays bounded however many files a session tries. ``cache_resource``
hands back the same immutable result objects without pickling copies; pages must not mutate them.
"""

from __future__ import annotations

import streamlit as st

from rfm_core.cleaning import CleaningRules
from rfm_core.errors import LoadError
from rfm_core.io import LoadedTable, load_bytes
from rfm_core.pipeline import RfmPipelineResult, run_rfm
from rfm_core.schema import ColumnMapping, infer_mapping
from ui.state import Dataset, stored_file


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def loaded_table(dataset_id: str, sheet: str | None) -> LoadedTable:
    """Read the stored bytes of a dataset of this session."""
    stored = stored_file(dataset_id)
    if stored is None:
        raise LoadError("this file is no longer in memory; please upload it again")
    return load_bytes(stored.data, file_name=stored.file_name, sheet=sheet)


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def detected_mapping(dataset_id: str, sheet: str | None) -> ColumnMapping:
    """Detect the roles of a dataset's columns."""
    return infer_mapping(loaded_table(dataset_id, sheet))


@st.cache_resource(scope="session", max_entries=6, show_spinner=False)
def rfm_result(
    dataset_id: str,
    sheet: str | None,
    mapping: tuple[tuple[str, str | None], ...],
    date_order: str,
    rules: CleaningRules,
) -> RfmPipelineResult:
    """Map, clean and aggregate a dataset (the whole ingest pipeline)."""
    loaded = loaded_table(dataset_id, sheet)
    return run_rfm(loaded, mapping=dict(mapping), date_order=date_order, rules=rules)


def pipeline_for(dataset: Dataset, rules: CleaningRules) -> RfmPipelineResult:
    """Return the cached pipeline result of the current dataset and rules."""
    return rfm_result(dataset.dataset_id, dataset.sheet, dataset.mapping, dataset.date_order, rules)
