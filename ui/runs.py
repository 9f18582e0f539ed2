"""Published runs in the app: opening one by its link, publishing the session's work, the list of
runs and the segment history.

A run opens by link (``?run=<id>``) or from the Published runs page. While it is open the session
reads its dataset and settings from ``st.session_state["run_view"]`` (see :mod:`ui.state`): every
page that reads the current data shows the run, read-only, from the store, without the raw file
and without refitting. The session's own work stays as it was until the run is closed.
"""

from __future__ import annotations

from dataclasses import asdict
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from rfm_core.errors import RfmError
from rfm_core.outputs.runs import run_record
from rfm_core.outputs.store import Changes
from ui.access import current_user, is_analyst, require_analyst
from ui.cache import (
    account_for,
    anomalies_for,
    pipeline_for,
    published_run,
    run_store,
    segmentation_for,
)
from ui.components import current_customers, safe_md, shown_errors
from ui.exports import bundle_for, current_export_key, signed_bundle_for
from ui.state import Dataset, offer_currency, read_only
from ui.trends import overview_for

__all__ = [
    "RUN_PARAM",
    "changes_for",
    "customer_path",
    "follow_link",
    "go_to_opened_run",
    "history_for",
    "leave_run",
    "open_run_id",
    "open_run_view",
    "publish_current",
    "publish_form",
    "run_choices",
    "run_link",
    "runs_table",
    "show_open_run",
]

RUN_PARAM = "run"


def open_run_id() -> str | None:
    """The id of the run this session is looking at, if any."""
    view = st.session_state.get("run_view")
    return view["run_id"] if view else None


def open_run_view(run_id: str, *, go: bool = False) -> None:
    """Look at a published run: its data and settings become the session's current ones
    (``go``: and show its Overview on the next run, see :func:`go_to_opened_run`).

    Raises
    ------
    rfm_core.errors.RfmError
        No such run, or its model was signed with another key.
    """
    run = published_run(str(run_id))
    bundle, stored = run.bundle, run.stored
    anomaly_settings = bundle.anomaly_settings
    dataset = Dataset(
        f"run:{stored.run_id}", stored.source_name or stored.name, run_id=stored.run_id
    )
    st.session_state["run_view"] = {
        "run_id": stored.run_id,
        "dataset": dataset,
        "rules": asdict(bundle.rules),
        "segments": tuple((s.name, s.r, s.f, s.m, s.description) for s in bundle.segments),
        "segmentation": asdict(bundle.segmentation),
        "anomaly_settings": asdict(anomaly_settings) if anomaly_settings else None,
        "segment_names": {},  # the run's names are in its model already
        "segment_actions": bundle.actions.to_dict("records"),
    }
    offer_currency(bundle.currency)  # amounts read as the publisher wrote them
    st.query_params[RUN_PARAM] = stored.run_id
    if go:
        st.session_state["go_to_run"] = True


def go_to_opened_run() -> None:
    """Show the Overview of a run just opened from the list (called once the navigation holds the
    run's pages: a viewer's list had none of them)."""
    if st.session_state.pop("go_to_run", False) and open_run_id() is not None:
        st.switch_page("pages/overview.py")


def leave_run() -> None:
    """Stop looking at a published run: back to the session's own data."""
    st.session_state.pop("run_view", None)
    st.query_params.pop(RUN_PARAM, None)


def follow_link() -> None:
    """Open the run named in the address (``?run=<id>``), and keep the open run's id there so
    the address can be shared."""
    wanted, current = st.query_params.get(RUN_PARAM), open_run_id()
    if wanted and wanted != current:
        try:
            open_run_view(wanted)
        except RfmError as exc:
            st.query_params.pop(RUN_PARAM, None)
            st.error(safe_md(exc), icon=":material/error:")
    elif current and not wanted:
        st.query_params[RUN_PARAM] = current


def run_link(run_id: str) -> str:
    """The address that opens a run, for the person to share."""
    url = st.context.url
    if not url:
        return f"?{RUN_PARAM}={run_id}"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/?{RUN_PARAM}={run_id}"


def show_open_run() -> None:
    """The sidebar's note of the open run, with the way back to the session's own data."""
    run = published_run(open_run_id()).stored
    st.markdown("**Published run** (read-only)")
    st.text(run.name)
    st.caption(
        f"{safe_md(run.author)}, {run.published_at:%Y-%m-%d %H:%M} UTC, from "
        f"{safe_md(run.source_name or 'a table')}"
    )
    if is_analyst() and st.button("Back to my data", key="leave_run", icon=":material/undo:"):
        leave_run()
        st.rerun()


# -- publishing -------------------------------------------------------------------------------


def publish_current(name: str, *, with_classifier: bool) -> str:
    """Publish the session's current data, segments, flags and model under ``name``.

    Returns
    -------
    str
        The new run's id.

    Raises
    ------
    rfm_core.errors.RfmError
        No name, or the store cannot be reached.
    """
    require_analyst()
    key = current_export_key(with_classifier=with_classifier)
    dataset, rules = key.dataset, key.rules
    result = pipeline_for(dataset, rules)
    record = run_record(
        result, current_customers(),
        segmentation_for(dataset, rules, key.settings, key.anomaly_settings),
        anomalies_for(dataset, rules, key.anomaly_settings), bundle_for(key),
        signed=signed_bundle_for(key), account=account_for(dataset, rules), name=name,
        author=current_user().label, source_sha256=_source_sha256(dataset),
        overview=overview_for(dataset, rules),
    )  # fmt: skip
    return run_store().publish(record)


def _source_sha256(dataset: Dataset) -> str:
    """The sha256 of an uploaded file's bytes (the first part of its dataset id)."""
    return "" if dataset.in_folder else dataset.dataset_id.split("-")[0]


def publish_form(*, with_classifier: bool) -> None:
    """Name the session's results and publish them; then show the link to the run."""
    if read_only() or not is_analyst():
        return
    with st.form("publish_form"):
        name = st.text_input(
            "Name of the run", key="publish_name", placeholder="e.g. Segments June 2024",
            help="Stored with your name, the time, the file's name and sha256, the mapping, "
            "the cleaning rules, the signed model, every customer's segment and flags, the "
            "cleaning report and the k sweep. Never the file's lines.",
        )  # fmt: skip
        if st.form_submit_button("Publish", type="primary", icon=":material/publish:"):
            with shown_errors(), st.spinner("Publishing…"):
                st.session_state["last_published"] = publish_current(
                    name, with_classifier=with_classifier
                )
    published = st.session_state.get("last_published")
    if published:
        st.success(
            "Published. Anyone signed in can open it, read-only, at this address:",
            icon=":material/check_circle:",
        )
        st.code(run_link(published), language=None)


# -- the list of runs and the history ------------------------------------------------------------


def runs_table() -> pd.DataFrame:
    """The published runs, newest first, as the Published runs page lists them."""
    with shown_errors():
        runs = run_store().runs()
        return pd.DataFrame(
            {
                "name": runs["name"],
                "published (UTC)": pd.to_datetime(runs["published_at"]).dt.strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "author": runs["author"],
                "file": runs["source_name"],
                "customers": runs["customers"],
                "flagged": runs["flagged"],
                "kind": runs["kind"],
                "model": runs["model_id"].str[:8],
                "id": runs["run_id"],
            }
        )
    return pd.DataFrame()


def run_choices(table: pd.DataFrame) -> dict[str, str]:
    """Run id → how a picker shows it (name, time, author)."""
    return {
        row["id"]: f"{row['name']} · {row['published (UTC)']} · {row['author']}"
        for _, row in table.iterrows()
    }


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def history_for(run_id: str, by: str) -> pd.DataFrame:
    """Each customer of a run: segment, the one before and since when (runs never change)."""
    return run_store().segment_history(run_id, by=by)


@st.cache_resource(scope="session", max_entries=4, show_spinner=False)
def changes_for(run_id: str, by: str) -> Changes:
    """Who moved between a run and the previous run of its model."""
    return run_store().changes(run_id, by=by)


def customer_path(run_id: str, customer_id: str, by: str) -> pd.DataFrame:
    """One customer's segment in every run of the model of ``run_id``."""
    return run_store().customer_history(run_id, customer_id, by=by)
