"""Fit the segments in the background once the customers are known, before a page asks.

The k sweep (seconds at 25,000 customers, about ten at a million) is what the Overview and the
Segments pages wait for on their first visit. Once a page of the session has computed the RFM
table, :func:`warm_up` starts the anomaly flags, the sweep and the fit of the session's
settings, then the fit's stability and silhouettes, in a thread of this session, through the
same session caches as the pages (:mod:`ui.cache`). A page that needs one of them while the
thread computes it waits for that result instead of computing it twice (Streamlit holds one
lock per cached value); a page visited later finds it done. The results are those the page
would compute itself: same functions, same arguments.

Off with ``RFM_PREFETCH=0`` (the test suite sets it, so that each test measures its own work).
"""

from __future__ import annotations

import logging
import os
import threading

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.caching import clear_session_resource_cache
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from rfm_core.errors import RfmError
from rfm_core.lines.cleaning import CleaningRules
from rfm_core.segments.segmentation import AnomalySettings, SegmentationSettings
from ui.cache import segmentation_for, silhouette_for, stability_for
from ui.state import (
    Dataset,
    current_anomaly_settings,
    current_dataset,
    current_rules,
    current_segmentation,
    read_only,
)

__all__ = ["PREFETCH_ENV", "mark_customers_ready", "warm_up"]

PREFETCH_ENV = "RFM_PREFETCH"
_READY = "_customers_ready"  # session state: the (dataset, rules) whose RFM table is computed
_STARTED = "_prefetch_started"  # session state: the last request started in the background
_log = logging.getLogger(__name__)


def enabled() -> bool:
    """Whether background fitting is on (``RFM_PREFETCH``, default on)."""
    return os.environ.get(PREFETCH_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def mark_customers_ready(dataset: Dataset, rules: CleaningRules) -> None:
    """Called once a page has the RFM table of ``dataset`` under ``rules``."""
    st.session_state[_READY] = (dataset, rules)


def warm_up() -> None:
    """Start fitting the session's segments in the background, once per settings.

    Nothing starts for a published run (its segments are stored), before the RFM table of the
    current data exists (a file being mapped), or when it was started already for the same
    data, rules and settings.
    """
    dataset = current_dataset()
    if not enabled() or dataset is None or read_only():
        return
    rules = current_rules()
    if st.session_state.get(_READY) != (dataset, rules):
        return
    request = (dataset, rules, current_segmentation(), current_anomaly_settings())
    if st.session_state.get(_STARTED) == request:
        return
    st.session_state[_STARTED] = request
    context = get_script_run_ctx()
    if context is None:
        return
    thread = threading.Thread(
        target=_fit, args=(context.session_id, *request), name="rfm-prefetch", daemon=True
    )
    add_script_run_ctx(thread, context)
    thread.start()


def _fit(
    session_id: str,
    dataset: Dataset,
    rules: CleaningRules,
    settings: SegmentationSettings,
    anomaly_settings: AnomalySettings,
) -> None:
    """The thread's work: the fit of the settings (with its flags and sweep), then its
    stability and silhouettes (the Model selection page); nothing is shown.

    An error is left for the page to show when it asks for the same result; a session that
    ends meanwhile gets its caches cleared again once the thread is done.
    """
    try:
        for step in (segmentation_for, stability_for, silhouette_for):
            step(dataset, rules, settings, anomaly_settings)
    except RfmError:
        pass  # the page that needs it computes it again and shows the message
    except Exception:
        _log.exception("background fit failed; the page will fit on its own")
    if Runtime.exists() and not Runtime.instance().is_active_session(session_id):
        clear_session_resource_cache(session_id)  # what the thread stored for a closed session
