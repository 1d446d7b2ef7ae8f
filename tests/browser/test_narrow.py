"""Every page of app.py on a phone held upright (420 px wide): nothing scrolls sideways, no chart is cut off.

Each page is opened in a fresh 420 px session (the exercises with their results shown through the link,
``?<prefix>_show=1``), and measured once its run is over and every chart has drawn its marks.  A page that
overflows fails with the elements that stick out past the window's right edge.  Screenshots of the whole
page go to ``artifacts/screenshots/w420_<page>.png``.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import REPO

pytestmark = pytest.mark.browser

NARROW = {"width": 420, "height": 900}
# name, url path, query, charts drawn at the defaults (as on the wide screen)
PAGES = [
    ("home", "", {}, 4),  # the same noise three ways, and real data
    ("lesson_checked", "lesson_checked", {}, 2),  # W2 against NFE of both recipes, the collapse grid
    ("glossary", "glossary", {}, 0),
    ("self_consistency", "self-consistency", {"sc_show": 1}, 2),
    ("one_step_ode", "one-step-ode", {"os_show": 1}, 6),
    ("distillation", "distillation", {"cd_show": 1}, 6),
    ("multistep", "multistep", {"ms_show": 1}, 17),
    ("lab_w2", "lab_w2", {}, 2),
    ("lab_anatomy", "lab_anatomy", {}, 3),
    ("lab_ftheta", "lab_ftheta", {}, 1),
    ("lab_consistency_map", "lab_consistency_map", {}, 3),
    ("lab_param", "lab_param", {}, 5),
    ("lab_ot", "lab_ot", {}, 7),
    ("lab_export", "lab_export", {}, 1),
    ("lab_compare", "lab_compare", {}, 2),
]

# Left and right edge of every drawn chart (its SVG or canvas), in window pixels.
_CHART_EDGES_JS = """() => Array.from(document.querySelectorAll(
    '[data-testid="stVegaLiteChart"] svg.marks, [data-testid="stVegaLiteChart"] canvas'))
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0)
    .map(r => [Math.round(r.left), Math.round(r.right)])"""


def test_every_page_of_the_app_is_measured():
    """The list above is app.py's: a page added to the router without a 420 px check fails here."""
    routed = set(re.findall(r'url_path="([^"]+)"', (REPO / "app.py").read_text()))
    assert "default=True" in (REPO / "app.py").read_text()  # Home is served at ""
    assert routed | {""} == {path for _, path, _, _ in PAGES}


@pytest.mark.parametrize("name,path,query,n_charts", PAGES, ids=[p[0] for p in PAGES])
def test_page_fits_420_px(new_session, name, path, query, n_charts):
    app = new_session(viewport=NARROW).goto(path, **query)
    app.assert_charts_drawn(at_least=n_charts)
    app.assert_no_exception()
    app.frames(2)  # the layout after the last chart was drawn
    o, wide = app.overflow(), app.wide_elements()
    app.screenshot(f"w420_{name}")
    where = f"/{path} at {NARROW['width']} px: {o}; elements past the right edge: {wide}"
    assert o["doc"] <= o["win"], f"the page scrolls sideways on {where}"
    assert o["main"] <= o["mainClient"], f"the main view scrolls sideways on {where}"
    assert o["block"] <= o["blockClient"], f"the main block container is wider than itself on {where}"
    assert not wide, f"content is cut off or scrolls sideways on {where}"
    edges = app.page.evaluate(_CHART_EDGES_JS)
    assert len(edges) >= n_charts, edges
    cut = [e for e in edges if e[0] < 0 or e[1] > NARROW["width"]]
    assert not cut, f"charts cut off at the window's edge on /{path}: {cut} (all: {edges})"
    assert not app.page_errors, app.page_errors
