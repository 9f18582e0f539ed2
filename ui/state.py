"""What a session remembers between pages: small values only.

Large objects (file bytes, tables) never go into ``st.session_state``: the bytes of the current
file live in a session-scoped, size-bounded store (:func:`file_store`) and everything computed from
them in session-scoped caches keyed by the dataset id (see :mod:`ui.cache`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import streamlit as st

from rfm_core.customers.rfm import DEFAULT_SEGMENTS, SegmentRule
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.segments.segmentation import AnomalySettings, SegmentationSettings

DEMO_PATH = Path(__file__).resolve().parent.parent / "assets" / "demo_transactions.csv"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MAX_FILES_PER_SESSION = 2


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file's name and bytes."""

    file_name: str
    data: bytes = field(repr=False)


@st.cache_resource(scope="session", max_entries=1, show_spinner=False)
def file_store() -> OrderedDict[str, StoredFile]:
    """Return this session's files by dataset id (the last few only)."""
    return OrderedDict()


def remember_file(dataset_id: str, file_name: str, data: bytes) -> None:
    """Keep a file's bytes for this session, forgetting the oldest beyond the limit."""
    store = file_store()
    store[dataset_id] = StoredFile(file_name, data)
    store.move_to_end(dataset_id)
    while len(store) > MAX_FILES_PER_SESSION:
        store.popitem(last=False)


def stored_file(dataset_id: str) -> StoredFile | None:
    """Return the bytes of a file of this session, or None if they were forgotten."""
    return file_store().get(dataset_id)


@dataclass(frozen=True)
class Dataset:
    """The current file and how to read it (all small, kept in session state)."""

    dataset_id: str
    file_name: str
    sheet: str | None = None
    mapping: tuple[tuple[str, str | None], ...] = ()
    date_order: str = "auto"
    is_demo: bool = False
    in_folder: bool = False  # a file of the server's data folder, processed on DuckDB


def data_folder() -> Path:
    """The server-side data folder (``RFM_DATA_DIR``, default ``data/`` beside the app)."""
    return Path(os.environ.get("RFM_DATA_DIR") or DEFAULT_DATA_DIR)


def current_dataset() -> Dataset | None:
    """Return the dataset chosen in this session, if any."""
    return st.session_state.get("dataset")


def set_dataset(dataset: Dataset) -> None:
    """Make ``dataset`` current; cleaning settings reset when the file changes."""
    previous = current_dataset()
    if previous is None or previous.dataset_id != dataset.dataset_id:
        st.session_state["rules"] = asdict(CleaningRules())
        for key in ("segment_names", "segment_actions"):
            st.session_state.pop(key, None)
    st.session_state["dataset"] = dataset


def current_rules() -> CleaningRules:
    """Return the cleaning rules chosen in this session (defaults until changed)."""
    values = st.session_state.get("rules")
    return CleaningRules(**values) if values else CleaningRules()


def set_rules(rules: CleaningRules) -> None:
    """Remember cleaning rules (as a plain dict)."""
    st.session_state["rules"] = asdict(rules)


def current_segments() -> tuple[SegmentRule, ...]:
    """Return the rule-based segments of this session (the defaults until edited)."""
    stored = st.session_state.get("segments")
    if not stored:
        return DEFAULT_SEGMENTS
    return tuple(SegmentRule(name, r, f, m, text) for name, r, f, m, text in stored)


def set_segments(segments: tuple[SegmentRule, ...] | None) -> None:
    """Remember edited segment rules as plain tuples; ``None`` restores the defaults."""
    st.session_state["segments"] = (
        None
        if segments is None
        else tuple((s.name, s.r, s.f, s.m, s.description) for s in segments)
    )


def current_segmentation() -> SegmentationSettings:
    """Return the segmentation settings of this session (defaults: k-means, recommended k)."""
    values = st.session_state.get("segmentation")
    return SegmentationSettings(**values) if values else SegmentationSettings()


def set_segmentation(settings: SegmentationSettings) -> None:
    """Remember segmentation settings (a plain dict); names and actions start afresh."""
    st.session_state["segmentation"] = asdict(settings)
    for key in ("segment_names", "segment_actions"):
        st.session_state.pop(key, None)


def current_anomaly_settings() -> AnomalySettings:
    """Return the anomaly detector settings of this session."""
    values = st.session_state.get("anomaly_settings")
    return AnomalySettings(**values) if values else AnomalySettings()


def set_anomaly_settings(settings: AnomalySettings) -> None:
    """Remember anomaly detector settings (a plain dict)."""
    st.session_state["anomaly_settings"] = asdict(settings)


def segment_renames() -> dict[int, str]:
    """The user's names for segment labels (empty until renamed)."""
    return dict(st.session_state.get("segment_names") or {})


def set_segment_renames(names: dict[int, str]) -> None:
    """Remember the user's names for segment labels."""
    st.session_state["segment_names"] = {int(k): str(v) for k, v in names.items()}


def segment_actions() -> list[dict[str, str]] | None:
    """The user's edited actions table (records), or None for the defaults."""
    return st.session_state.get("segment_actions")


def set_segment_actions(records: list[dict[str, str]] | None) -> None:
    """Remember the edited actions table (small: one record per segment)."""
    st.session_state["segment_actions"] = records
