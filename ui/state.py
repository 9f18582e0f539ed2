"""What a session remembers between pages: small values only.

A session works on its own data, or looks at a published run. While a run is open
(:func:`read_only`), its dataset and settings are read from ``st.session_state["run_view"]``
(written by :mod:`ui.runs`) instead of the session's own: every ``current_*`` function returns the
run's, and the session's own work is left as it was, for when the run is closed.

Large objects (file bytes, tables) never go into ``st.session_state``: the bytes of the current
file live in a session-scoped, size-bounded store (:func:`file_store`) and everything computed from
them in session-scoped caches keyed by the dataset id (see :mod:`ui.cache`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd
import streamlit as st

from rfm_core.customers.rfm import DEFAULT_SEGMENTS, SegmentRule, segments_from_frame
from rfm_core.customers.scores import ScoreBinning
from rfm_core.ingest.io import LoadedTable
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.segments.profiles import default_actions, rename_segments
from rfm_core.segments.segmentation import AnomalySettings, SegmentationSettings
from ui.labels import MAPPING_LABELS, NO_COLUMN

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
    run_id: str | None = None  # a published run (read from the run store, read-only)


def take_new_upload(file_id: str) -> bool:
    """True the first time this session sees an uploaded file (the uploader keeps offering the
    same file on every rerun)."""
    if st.session_state.get("opened_upload") == file_id:
        return False
    st.session_state["opened_upload"] = file_id
    return True


def show_dataset_in_widgets(dataset: Dataset, loaded: LoadedTable) -> None:
    """Put the dataset's mapping, date order and sheet into the Upload page's widgets.

    Keyed widgets keep a user's last choice across files, and lose it on other pages: the
    current dataset's settings are shown whenever the dataset changed or the widget state was
    dropped.
    """
    shown = (dataset.dataset_id, dataset.sheet, dataset.mapping, dataset.date_order)
    changed = st.session_state.get("widgets_show") != shown
    st.session_state["widgets_show"] = shown
    mapping = dict(dataset.mapping)
    widget_values = {f"map_{role}": mapping.get(role) or NO_COLUMN for role in MAPPING_LABELS}
    widget_values["date_order"] = dataset.date_order
    if len(loaded.sheet_names) > 1:
        widget_values["sheet"] = loaded.sheet
    for key, value in widget_values.items():
        if changed or key not in st.session_state:
            st.session_state[key] = value


def set_mapping(dataset: Dataset, chosen: Mapping[str, str], date_order: str) -> None:
    """Read the dataset with the columns chosen per role (:data:`ui.labels.NO_COLUMN`: none)."""
    explicit = tuple(
        (role, None if column == NO_COLUMN else column) for role, column in chosen.items()
    )
    set_dataset(replace(dataset, mapping=explicit, date_order=date_order))


def data_folder() -> Path:
    """The server-side data folder (``RFM_DATA_DIR``, default ``data/`` beside the app)."""
    return Path(os.environ.get("RFM_DATA_DIR") or DEFAULT_DATA_DIR)


def _view() -> Mapping:
    """Where the current dataset and settings are read: an open run's, else the session's."""
    return st.session_state.get("run_view") or st.session_state


def read_only() -> bool:
    """Whether this session is looking at a published run (nothing can be changed)."""
    return bool(st.session_state.get("run_view"))


def current_dataset() -> Dataset | None:
    """Return the dataset of this session (an open run's, else the one chosen), if any."""
    return _view().get("dataset")


def set_dataset(dataset: Dataset) -> None:
    """Make ``dataset`` this session's own; cleaning settings reset when the file changes."""
    previous = st.session_state.get("dataset")
    if previous is None or previous.dataset_id != dataset.dataset_id:
        st.session_state["rules"] = asdict(CleaningRules())
        for key in ("segment_names", "segment_actions"):
            st.session_state.pop(key, None)
    st.session_state["dataset"] = dataset


def current_rules() -> CleaningRules:
    """Return the cleaning rules chosen in this session (defaults until changed)."""
    values = _view().get("rules")
    return CleaningRules(**values) if values else CleaningRules()


def set_rules(rules: CleaningRules) -> None:
    """Remember cleaning rules (as a plain dict)."""
    st.session_state["rules"] = asdict(rules)


def set_rules_from_form(
    *,
    returns: str,
    drop_duplicates: bool,
    countries: Iterable[str] | None,
    window: tuple[dt.date, ...] | dt.date | None,
    reference: dt.date | None,
    max_quantity: float,
    max_line_amount: float,
    max_zscore: float,
) -> None:
    """Remember the rules of the Cleaning page's form: no countries = all, a window only when
    both its dates are given, a cap or limit of 0 = none.

    Raises
    ------
    rfm_core.errors.CleaningError
        Rules that contradict each other (a window that ends before it starts).
    """
    date_from, date_to = window if isinstance(window, tuple) and len(window) == 2 else (None, None)
    set_rules(
        CleaningRules(
            returns=returns, drop_duplicates=drop_duplicates,
            countries=tuple(countries or ()) or None, date_from=date_from, date_to=date_to,
            max_quantity=_positive(max_quantity), max_line_amount=_positive(max_line_amount),
            max_zscore=_positive(max_zscore), reference_date=reference or None,
        )
    )  # fmt: skip


def current_segments() -> tuple[SegmentRule, ...]:
    """Return the rule-based segments of this session (the defaults until edited)."""
    stored = _view().get("segments")
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


def current_binning() -> ScoreBinning:
    """Return how this session cuts the R, F and M scores (quantiles until changed)."""
    values = st.session_state.get("binning")
    return ScoreBinning(**values) if values else ScoreBinning()


def set_binning(binning: ScoreBinning) -> None:
    """Remember how the scores are cut (a plain dict of the method and cut points)."""
    st.session_state["binning"] = asdict(binning)


def _positive(value: float) -> float | None:
    return value if value > 0 else None


def set_segments_from_frame(frame: pd.DataFrame) -> None:
    """Remember segment rules edited as a table (:func:`rfm_core.customers.rfm.segments_to_frame`).

    Raises
    ------
    rfm_core.errors.SegmentDefinitionError
        Rules that leave a score cell uncovered or cover one twice.
    """
    set_segments(segments_from_frame(frame))


def current_segmentation() -> SegmentationSettings:
    """Return the segmentation settings of this session (defaults: k-means, recommended k)."""
    values = _view().get("segmentation")
    return SegmentationSettings(**values) if values else SegmentationSettings()


def set_segmentation(settings: SegmentationSettings) -> None:
    """Remember segmentation settings (a plain dict); names and actions start afresh."""
    st.session_state["segmentation"] = asdict(settings)
    for key in ("segment_names", "segment_actions"):
        st.session_state.pop(key, None)


def update_segmentation(**changes: object) -> None:
    """Change some segmentation settings (see :func:`set_segmentation`)."""
    set_segmentation(replace(current_segmentation(), **changes))


def current_anomaly_settings() -> AnomalySettings:
    """Return the anomaly detector settings of this session."""
    values = _view().get("anomaly_settings")
    return AnomalySettings(**values) if values else AnomalySettings()


def set_anomaly_settings(settings: AnomalySettings) -> None:
    """Remember anomaly detector settings (a plain dict)."""
    st.session_state["anomaly_settings"] = asdict(settings)


def update_anomaly_settings(**changes: object) -> None:
    """Change some anomaly detector settings."""
    set_anomaly_settings(replace(current_anomaly_settings(), **changes))


def segment_renames() -> dict[int, str]:
    """The user's names for segment labels (empty until renamed)."""
    return dict(_view().get("segment_names") or {})


def set_segment_renames(names: dict[int, str]) -> None:
    """Remember the user's names for segment labels."""
    st.session_state["segment_names"] = {int(k): str(v) for k, v in names.items()}


def save_segment_names(names: Mapping[int, str], edited: pd.DataFrame) -> None:
    """Remember the names of the Segments page's table (``cluster, name``) over ``names``.

    Raises
    ------
    rfm_core.segments.profiles.ProfileError
        An empty name, or two segments with the same name (letter case aside).
    """
    renamed = {
        int(label): None if pd.isna(name) else str(name)
        for label, name in zip(edited["cluster"], edited["name"], strict=True)
    }
    set_segment_renames(rename_segments(names, renamed))


def segment_actions() -> list[dict[str, str]] | None:
    """The user's edited actions table (records), or None for the defaults."""
    return _view().get("segment_actions")


def set_segment_actions(records: list[dict[str, str]] | None) -> None:
    """Remember the edited actions table (small: one record per segment)."""
    st.session_state["segment_actions"] = records


def actions_table(names: Mapping[int, str]) -> pd.DataFrame:
    """The user's actions per segment, or the suggestions for ``names`` until edited."""
    return pd.DataFrame(segment_actions() or default_actions(names).to_dict("records"))


def forget_dates_outside(keys: Iterable[str], first: dt.date, last: dt.date) -> None:
    """Drop the dates kept under ``keys`` that lie outside ``first``–``last`` (a date of another
    file): their widgets go back to their defaults."""
    for key in keys:
        kept = st.session_state.get(key)
        if kept is not None and not first <= kept <= last:
            del st.session_state[key]


CURRENCY_KEY = "currency"  # the sidebar's text input (app.py), drawn on every page
MAX_CURRENCY_CHARS = 5


def current_currency() -> str:
    """The currency symbol or code the user set in the sidebar (``""``: none)."""
    return str(st.session_state.get(CURRENCY_KEY) or "").strip()[:MAX_CURRENCY_CHARS]


_OFFERED_CURRENCY = "offered_currency"


def offer_currency(currency: str) -> None:
    """A published run's currency: the sidebar takes it on its next draw, unless the person
    already typed one (see :func:`take_offered_currency`)."""
    if currency:
        st.session_state[_OFFERED_CURRENCY] = currency


def take_offered_currency() -> None:
    """Called before the sidebar's currency box is drawn: an empty box takes the offered one."""
    offered = st.session_state.pop(_OFFERED_CURRENCY, "")
    if offered and not current_currency():
        st.session_state[CURRENCY_KEY] = offered[:MAX_CURRENCY_CHARS]


@dataclass(frozen=True)
class ClvOptions:
    """The CLV page's horizon (weeks), margin (share of revenue that is profit) and annual
    discount rate (hashable: the lifetime-value cache is keyed on it)."""

    horizon_weeks: float = 12.0
    margin: float = 1.0
    discount_rate: float = 0.0


def current_clv_options() -> ClvOptions:
    """The lifetime-value options of this session (defaults until the CLV page's form is sent)."""
    values = st.session_state.get("clv_options")
    return ClvOptions(**values) if values else ClvOptions()


def set_clv_options(options: ClvOptions) -> None:
    """Remember lifetime-value options (a plain dict)."""
    st.session_state["clv_options"] = asdict(options)


def backtest_cut() -> dt.date | None:
    """The cut date of the last backtest this session ran, if any."""
    return st.session_state.get("backtest_cut")


def set_backtest_cut(cut: dt.date) -> None:
    """Remember the cut date of the Backtest page's form (kept when the page is left)."""
    st.session_state["backtest_cut"] = cut
