"""Widgets and helpers shared by the pages."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
import streamlit as st

from rfm_core.customers.result import CustomerRun
from rfm_core.errors import MappingError, RfmError
from rfm_core.ingest.folder import FolderFile
from rfm_core.ingest.io import dataset_id as compute_dataset_id
from rfm_core.ingest.schema import detect_roles, infer_mapping
from rfm_core.labels import METHOD_LABELS, column_label, format_money
from ui import formats
from ui.access import require_analyst
from ui.cache import (
    customers_for,
    detected_mapping,
    folder_sample,
    loaded_table,
    named_segmentation_for,
    pipeline_for,
    selection_for,
    worded_anomalies_for,
)
from ui.prefetch import mark_customers_ready
from ui.state import (
    DEMO_PATH,
    Dataset,
    current_anomaly_settings,
    current_binning,
    current_currency,
    current_dataset,
    current_rules,
    current_segmentation,
    current_segments,
    remember_file,
    set_dataset,
)

PREVIEW_ROWS = 20
MAX_TABLE_ROWS = 2_000  # the browser never receives more rows than this of any table
_STAGED = "staged_steps"  # session key: the long steps already shown with their stages
_MAX_STAGED = 32
_COLUMN_GAP = 16  # px between st.columns
EMPTY_CELL = "–"  # what a missing value shows: not applicable, not "None"
SIDEWAYS_NOTE = "More columns to the right: scroll the table sideways (its first column stays)."
LARGE_CUSTOMERS = 50_000  # above this, the analyses on request take tens of seconds, not a few
# what Markdown (CommonMark + GFM, as Streamlit renders it) could turn into markup: emphasis,
# code, links, images, tags, strikethrough, LaTeX; "_" unless inside a word (where it cannot
# emphasise: "header_only"); ":" only where it opens an emoji, icon or colour directive or a URL
# ("://"); "." only in "www." (an autolink); punctuation that matters only at the start of a line
# is escaped there
_MARKUP = re.compile(r"_+|[\\`*\[\]<>~$&@]|:(?=[^\s\d])|(?<=www)\.|^[!-/:-@\[-`{-~]", re.IGNORECASE)


def _escaped(match: re.Match) -> str:
    text, start, end = match.string, match.start(), match.end()
    found = match.group(0)
    inside_word = (
        found.startswith("_")
        and start > 0
        and (text[start - 1].isalnum() and end < len(text) and text[end].isalnum())
    )
    return found if inside_word else "".join("\\" + char for char in found)


def safe_md(text: object) -> str:
    """Return ``text`` as Markdown that displays it literally.

    Line breaks become spaces and every character that could start markup is backslash-escaped
    (CommonMark renders ``\\X`` as ``X``), so a column name, customer id, product, file or
    segment name can never become a link, an image, emphasis, a heading, an icon or colour
    directive, LaTeX or a tag in ``st.markdown``, ``st.caption``, ``st.error``, metric labels and
    values, and the like. Ordinary text (``shop_2024.csv``, ``12:30``, ``'a' (b)``) is left as
    it is.
    """
    return _MARKUP.sub(_escaped, re.sub(r"[\r\n]+", " ", str(text)))


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show an :class:`RfmError` as a message and stop the page; anything else is a bug."""
    try:
        yield
    except RfmError as exc:
        # messages quote the user's column names and values: shown literally, never as Markdown
        st.error(safe_md(exc), icon=":material/error:")
        st.stop()


@contextlib.contextmanager
def shown_errors(*, icon: str | None = ":material/error:") -> Iterator[None]:
    """Show an :class:`RfmError` as a message and go on with the page (a form's bad input)."""
    try:
        yield
    except RfmError as exc:
        st.error(safe_md(exc), icon=icon)


def open_file(data: bytes, file_name: str, *, sheet: str | None = None, is_demo: bool = False):
    """Make a file the current dataset with its detected mapping.

    The session knows a file by its bytes *and* its name: the same bytes uploaded under another
    name (or extension, which decides how they are read) are another dataset, never the cached
    result of the first.
    """
    require_analyst()
    name_digest = hashlib.sha256(file_name.encode("utf-8")).hexdigest()[:16]
    dataset_id = f"{compute_dataset_id(data)}-{name_digest}"
    remember_file(dataset_id, file_name, data)
    _open_sheet(dataset_id, file_name, sheet, is_demo=is_demo)


def select_sheet(dataset: Dataset, sheet: str) -> None:
    """Switch the current workbook to another sheet, detecting its columns again."""
    _open_sheet(dataset.dataset_id, dataset.file_name, sheet, is_demo=dataset.is_demo)


def _open_sheet(dataset_id: str, file_name: str, sheet: str | None, *, is_demo: bool) -> None:
    sheet = loaded_table(dataset_id, sheet).sheet
    try:
        mapping = tuple(detected_mapping(dataset_id, sheet).as_dict().items())
    except MappingError:
        # pre-fill what can be found; the Upload page shows the error beside the mapping form
        mapping = tuple(detect_roles(loaded_table(dataset_id, sheet)).items())
    set_dataset(Dataset(dataset_id, file_name, sheet, mapping, is_demo=is_demo))


def open_folder_file(listed: FolderFile) -> None:
    """Make a file of the server's data folder the current dataset (processed on DuckDB)."""
    require_analyst()
    dataset_id = f"folder:{listed.stamp}"
    sample = folder_sample(listed.name, dataset_id)
    try:
        mapping = tuple(infer_mapping(sample).as_dict().items())
    except MappingError:
        mapping = tuple(detect_roles(sample).items())
    set_dataset(Dataset(dataset_id, listed.name, None, mapping, in_folder=True))


def open_demo() -> None:
    """Make the built-in demo log the current dataset."""
    open_file(DEMO_PATH.read_bytes(), DEMO_PATH.name, is_demo=True)


def ensure_dataset() -> Dataset:
    """Return the current dataset, opening the demo log when the session has none yet."""
    dataset = current_dataset()
    if dataset is None:
        with user_errors():
            open_demo()
        dataset = current_dataset()
    return dataset


def current_pipeline() -> CustomerRun:
    """Run (or fetch from cache) the ingest pipeline of the current dataset and rules."""
    dataset, rules = ensure_dataset(), current_rules()
    with user_errors(), st.spinner("Cleaning and computing RFM…"):
        result = pipeline_for(dataset, rules)
    mark_customers_ready(dataset, rules)
    return result


def show_warnings(messages: tuple[str, ...]) -> None:
    """Show each warning of a step."""
    for message in messages:
        st.warning(safe_md(message), icon=":material/info:")


def log_spaced_stops(values: pd.Series, *, decimals: int, n: int = 80) -> list[float]:
    """Return slider stops from the minimum to the maximum of ``values``, spaced geometrically.

    The exact minimum and maximum are always stops, so the full range selects every customer.
    """
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return [low, low + 10.0**-decimals]
    start = max(low, 10.0**-decimals)
    inner = np.round(np.geomspace(start, high, n), decimals)
    stops = np.unique(np.concatenate([[low], inner[(inner > low) & (inner < high)], [high]]))
    return [float(v) for v in stops]


def show_frame(
    frame: pd.DataFrame,
    *,
    key: str | None = None,
    height: int | str = "auto",
    total: int | None = None,
    overrides: Mapping[str, object] | None = None,
    hide_index: bool | None = None,
    column_order: Iterable[str] | None = None,
    of_columns: int = 1,
) -> None:
    """Show a table as a person reads it: at most :data:`MAX_TABLE_ROWS` rows (saying when it
    is cut), headers in words, numbers formatted by kind with the session's currency, long text
    wrapped, empty cells as a dash (see :mod:`ui.formats`).

    ``total`` is the number of rows ``frame`` was taken from, when the caller already cut it;
    ``overrides`` replaces the config of some columns (``None`` hides one); a table inside one of
    ``of_columns`` equal ``st.columns`` has that share of the page: columns are sized to fit it
    (see :func:`ui.formats.fit_widths`).
    """
    total = len(frame) if total is None else total
    if total > min(len(frame), MAX_TABLE_ROWS):
        st.caption(
            f"Showing the first {MAX_TABLE_ROWS:,} of {total:,} rows; the download has them all."
        )
    shown = frame.head(MAX_TABLE_ROWS)
    config, order, row_height = formats.fit_widths(
        shown,
        formats.column_config(shown, currency=current_currency(), overrides=overrides),
        width=(formats.TABLE_WIDTH - _COLUMN_GAP * (of_columns - 1)) // of_columns,
        column_order=column_order,
        index_shown=hide_index is not True,
    )
    st.dataframe(
        shown,
        key=key,
        height=height,
        hide_index=hide_index,
        column_order=order,
        column_config=config,
        row_height=row_height,
        placeholder=EMPTY_CELL,
    )
    if any(setting and setting.get("pinned") for setting in config.values()):
        st.caption(SIDEWAYS_NOTE)


def current_customers() -> pd.DataFrame:
    """The RFM table of the current dataset, scored with this session's binning and assigned
    its rule segments."""
    current_pipeline()
    with st.spinner("Scoring the customers…"):
        return cached(customers_for, current_segments(), current_binning())


def current_anomalies():
    """Flag anomalous customers of the current dataset with this session's detector settings."""
    dataset = ensure_dataset()
    current_pipeline()
    with user_errors(), st.spinner("Looking for anomalous customers…"):
        settings = current_anomaly_settings()
        return worded_anomalies_for(dataset, current_rules(), settings, current_currency())


def current_selection():
    """The k sweep of the current dataset and settings (cached)."""
    dataset = ensure_dataset()
    current_pipeline()
    with user_errors(), st.spinner("Sweeping the number of segments…"):
        return selection_for(
            dataset, current_rules(), current_segmentation(), current_anomaly_settings()
        )


@contextlib.contextmanager
def stages(title: str, key: Hashable) -> Iterator[Callable[[str], None]]:
    """Show the stages of a long step in a ``st.status`` box while it runs, the first time this
    session computes ``key``; yield ``stage(label)``, called as each stage starts.

    The box goes once the step is done (its result is drawn instead); later runs, served from
    the caches, draw nothing. A step that stops on an error leaves the box marked as failed.
    """
    seen = st.session_state.setdefault(_STAGED, {})
    if key in seen:
        yield lambda label: None
        return
    slot = st.empty()
    box = slot.status(f"{title}…", expanded=True)
    started: list[str] = []

    def stage(label: str) -> None:
        if started:
            box.markdown(f":material/check: {started[-1]}")
        box.update(label=f"{title}: {label[0].lower()}{label[1:]}…")
        started.append(label)

    try:
        yield stage
    except BaseException:  # an error, or st.stop() after one was shown
        box.update(label=f"{title}: stopped", state="error", expanded=False)
        raise
    seen[key] = True
    while len(seen) > _MAX_STAGED:
        seen.pop(next(iter(seen)))
    slot.empty()


def current_segmentation_result():
    """Fit (or fetch) the segmentation of the current dataset and settings; the first time,
    a status box lists the stages (clean, flag anomalies, compare k, fit)."""
    dataset = ensure_dataset()
    settings, flagging = current_segmentation(), current_anomaly_settings()
    segments, binning = current_segments(), current_binning()
    key = ("segments", dataset, current_rules(), settings, flagging, segments, binning)
    with stages("Preparing the segments", key) as stage:
        stage("Cleaning the lines and computing recency, orders and spend")
        current_pipeline()
        stage("Looking for anomalous customers")
        current_anomalies()
        stage(f"Comparing {settings.k_min} to {settings.k_max} segments")
        current_selection()
        stage(f"Fitting the segments ({METHOD_LABELS[settings.method]})")
        with user_errors(), st.spinner("Fitting the segments…"):
            return named_segmentation_for(
                dataset, current_rules(), settings, flagging, segments, binning
            )


def show_metrics(metrics: list[tuple[str, str, str | None]]) -> None:
    """Show ``(label, value, help)`` metrics side by side, one column each."""
    for column, (label, value, help_text) in zip(st.columns(len(metrics)), metrics, strict=True):
        column.metric(label, value, help=help_text)


def show_notes(messages: tuple[str, ...]) -> None:
    """Show what a user should know about how a result was computed."""
    for message in messages:
        st.info(safe_md(message), icon=":material/info:")


def show_customer(row: pd.Series) -> None:
    """One labeled customer: segment, recency, orders, monetary, and why they are anomalous."""
    a, b, c, d = st.columns(4)
    a.metric(column_label("segment_name"), safe_md(row["segment_name"]))
    b.metric(column_label("recency"), f"{row['recency']:,}")
    c.metric(column_label("frequency"), f"{row['frequency']:,}")
    d.metric(column_label("monetary"), money(row["monetary"], decimals=2))
    if row.get("anomaly", False):
        reason = safe_md(row["anomaly_reason"])
        st.warning(f"Anomalous customer: {reason}", icon=":material/warning:")


def money(value: float, *, decimals: int | None = None) -> str:
    """An amount with the session's currency: ``"£1,234.56"``, ``"£5,711,050"`` (whole from
    1,000 unless ``decimals`` says otherwise; see :func:`rfm_core.labels.format_money`)."""
    return safe_md(format_money(value, currency=current_currency(), decimals=decimals))


def cached(function, *args, doing: str | None = None):
    """Call a cached analysis of :mod:`ui.cache` with the session's dataset and rules; a slow
    one says what it is ``doing`` while it runs."""
    with user_errors(), st.spinner(doing) if doing else contextlib.nullcontext():
        return function(ensure_dataset(), current_rules(), *args)
