"""Every page runs through ``app.py``: its login, roles and sidebar come first.

Streamlit keeps a legacy mode for apps with a ``pages/`` folder: until some session of the server
has run ``app.py`` (whose ``st.navigation`` switches the mode off for good), a request for a page
URL runs that page's script directly, without ``app.py``. A server's first visitor following a
link (``/rfm?run=…``, ``/upload``) would then get a page with no login and no role check, and
every later session the folder's file names as navigation. Each page calls :func:`through_app`
first: run outside ``app.py``, it switches the legacy mode off and reruns, so that ``app.py``
decides which page (if any) this person sees.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

__all__ = ["ROUTED_KEY", "mark_routed", "through_app"]

ROUTED_KEY = "_routed_run"  # session-state key: app.py ran in this script run


def mark_routed() -> None:
    """Called by ``app.py`` before it runs the page: this run came through the navigation."""
    st.session_state[ROUTED_KEY] = True


def through_app() -> None:
    """Stop a page that runs without ``app.py`` and rerun the session through it."""
    routed = st.session_state.pop(ROUTED_KEY, False)
    if not routed:
        PagesManager.uses_pages_directory = False  # the legacy mode, off for the whole server
        st.rerun()
