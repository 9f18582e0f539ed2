"""Heavy optional analyses that run only when the user asks for them.

Detector agreement, t-SNE and the anomaly classifier each take seconds to minutes; a page that
offers them opens at once with a button in their place. Once asked, the analysis runs under a
progress bar and its cached result (per session, :mod:`ui.cache`) is drawn on every later visit
with the same data and settings. Changing the settings shows the button again rather than
starting minutes of work unasked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from ui.components import ensure_dataset, user_errors
from ui.state import current_rules

__all__ = ["ask_or_show"]

_ASKED = "_asked_analyses"  # session state: the requests granted, oldest first
_MAX_ASKED = 32
_REDRAW_SECONDS = 0.25  # how often the progress bar is redrawn
T = TypeVar("T")


def _grant(request: tuple) -> None:
    asked: dict = st.session_state.setdefault(_ASKED, {})
    asked[request] = True
    while len(asked) > _MAX_ASKED:
        asked.pop(next(iter(asked)))


def ask_or_show(
    function: Callable[..., T],
    *args: Hashable,
    name: str,
    ask: str,
    explain: str,
    doing: str,
    asked: bool = False,
) -> T | None:
    """The analysis ``function(dataset, rules, *args, progress)`` if the user asked for it.

    Parameters
    ----------
    function : callable
        A cached function of :mod:`ui.cache` taking the dataset, the rules, ``args`` and a
        ``_progress(done, text)`` reporter last.
    *args
        Its settings (hashable); a change of them asks again.
    name : str
        The analysis (keys of the button and of the request).
    ask : str
        The button's label, e.g. ``"Compare the four detectors"``.
    explain : str
        What the button does and roughly how long it takes, shown beside it.
    doing : str
        The progress bar's words while it runs.
    asked : bool, default False
        True when there is nothing to wait for, such as a published run's classifier.

    Returns
    -------
    object or None
        The result, or None while the button waits (the page then skips the section).
    """
    dataset, rules = ensure_dataset(), current_rules()
    request = (name, dataset, rules, *args)  # a new file, rules or settings: asked again
    if not (asked or st.session_state.get(_ASKED, {}).get(request)):
        if st.button(ask, key=f"ask_{name}", icon=":material/play_arrow:"):
            _grant(request)
            st.rerun()  # drawn again without the button, the analysis in its place
        st.caption(explain)
        return None
    _grant(request)
    with user_errors():
        return _with_progress_bar(function, (dataset, rules, *args), doing)


def _with_progress_bar(function: Callable[..., T], args: tuple, doing: str) -> T:
    """``function(*args, progress)`` in a worker thread of this session while this script run
    draws its progress.

    The bar is drawn here, outside the cached function: an element drawn inside one would be
    replayed, on a cache hit, into a placeholder that no longer exists. Should the user
    rerun the page meanwhile, the worker goes on and its result lands in the cache.
    """
    heard: list[tuple[float, str]] = [(0.0, "starting")]
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = function(*args, lambda done, text: heard.append((done, text)))
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="rfm-on-request", daemon=True)
    add_script_run_ctx(worker, get_script_run_ctx())
    worker.start()
    worker.join(_REDRAW_SECONDS)  # a cached result comes back at once: no bar
    if worker.is_alive():
        bar = st.progress(0.0, text=f"{doing} starting…")
        while worker.is_alive():
            done, text = heard[-1]
            bar.progress(done, text=f"{doing} {text}…")  # 0..1 (rfm_core.segments.progress)
            worker.join(_REDRAW_SECONDS)
        bar.empty()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
