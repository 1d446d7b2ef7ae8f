"""A copied deep link must open through the router even when it is a fresh server's very first visit.

Streamlit auto-detects a ``pages/`` folder next to the main script (its older multipage mode)
until the first session runs ``app.py`` and calls ``st.navigation``.  A first visit to a URL
that matches a file name in ``pages/`` would then run that page on its own: no wide layout, no
model picker, a navigation menu built from file names.  This test owns a fresh server so
that its first visit is exactly such a link.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# url paths that equal the name Streamlit derives from a file in pages/ (e.g. 4_multistep.py -> multistep)
COLLIDING = ("multistep", "distillation")
LEGACY_NAMES = {"app", "home", "multistep", "distillation"}  # menu entries Streamlit derives from file names


def test_first_visit_to_a_deep_link_runs_the_router(fresh_server, new_session):
    seen = {}
    for path in COLLIDING:  # the first visit, then a second person with the other link
        app = new_session(fresh_server.url).goto(path)
        nav = [t.split("\n")[-1].strip() for t in
               app.sidebar().locator('[data-testid="stSidebarNav"] a').all_inner_texts()]
        picker = app.sidebar().get_by_role("combobox", name="Models shown on every page").count()
        seen[path] = (nav, picker)
        app.screenshot(f"fresh_server_first_visit_{path}", full_page=False)
    for path, (nav, picker) in seen.items():
        assert picker == 1 and not LEGACY_NAMES & set(nav), (
            f"/{path} opened without app.py (sidebar menu {nav}, model picker present: {bool(picker)}); "
            "Streamlit ran the file in pages/ on its own because no session had called st.navigation yet")
