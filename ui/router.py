"""Keep app.py's st.navigation in charge of every run.

A folder named ``pages/`` beside app.py makes Streamlit start a fresh server in its
old folder-based multipage mode, until some session has run ``st.navigation``.  In
that mode the very first request for, say, ``/distillation`` runs
``pages/3_distillation.py`` on its own, without app.py's sidebar, error guard and
page bookkeeping.  ``ensure_routed`` (called by every page through ``params.bind``)
switches the process to navigation mode and, if this run did not come through
app.py, reruns it so that it does.
"""
from __future__ import annotations

import streamlit as st

from ui import streamlit_internals

ROUTED_KEY = "_page"  # set by app.py on every run: the url_path of the page it routed to


def mark_routed(url_path: str) -> bool:
    """Called by app.py; returns True when the page changed since the last run."""
    changed = st.session_state.get(ROUTED_KEY) != url_path
    st.session_state[ROUTED_KEY] = url_path
    return changed


def ensure_routed() -> None:
    streamlit_internals.use_navigation_only()
    if ROUTED_KEY not in st.session_state:
        st.rerun()
