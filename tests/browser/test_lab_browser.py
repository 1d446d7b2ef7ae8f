"""The lab pages in headless Chromium: each draws its charts without an exception and fits 1400 px, and the
f_theta page's t slider redraws the chart in the browser alone.  (Every page at 420 px: ``test_narrow.py``.)

Screenshots go to ``artifacts/screenshots/lab_*.png``.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import AppPage

pytestmark = pytest.mark.browser

# url path, title, charts drawn at the defaults
LAB_PAGES = [
    ("lab_w2", "What W2 means", 2),
    ("lab_ftheta", "What f_θ does at each t", 1),
    ("lab_anatomy", "Anatomy of one distillation step", 3),
    ("lab_consistency_map", "Where is the model consistent?", 3),
]
NAV = {"lab_w2": "What W2 means", "lab_ftheta": "What f_θ does at each t",
       "lab_anatomy": "Anatomy of one distillation step", "lab_consistency_map": "Where is the model consistent?"}


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def heading(app: AppPage):
    return app.main().locator("h1").first


def overflow(app: AppPage) -> dict:
    """How far the document (and Streamlit's scrolling main view) is wider than the window."""
    return app.page.evaluate("""() => {
      const main = document.querySelector('[data-testid="stMain"]');
      return {doc: document.documentElement.scrollWidth, win: window.innerWidth,
              main: main ? main.scrollWidth : 0, mainClient: main ? main.clientWidth : 0};
    }""")


def assert_fits(app: AppPage) -> None:
    o = overflow(app)
    assert o["doc"] <= o["win"], f"the page is wider than the window at {o['win']} px: {o}"
    assert o["main"] <= o["mainClient"], f"the main view scrolls sideways at {o['win']} px: {o}"


def open_lab(app: AppPage, path: str, title: str, n_charts: int, **query) -> list[dict]:
    app.goto(path, **query)
    expect(heading(app)).to_have_text(title)
    drawn = app.assert_charts_drawn(at_least=n_charts)
    app.assert_no_exception()
    assert not app.page_errors, app.page_errors
    return drawn


@pytest.mark.parametrize("path,title,n_charts", LAB_PAGES, ids=[p[0] for p in LAB_PAGES])
def test_lab_page_draws(app, path, title, n_charts):
    open_lab(app, path, title, n_charts)
    nav = app.sidebar().get_by_role("link", name=NAV[path], exact=True)
    expect(nav).to_be_visible()  # listed in the sidebar's Lab section
    assert_fits(app)
    app.screenshot(f"lab_{path}_1400")


def test_w2_page_sampler_choice_redraws(app):
    open_lab(app, "lab_w2", "What W2 means", 2)
    before = app.main().get_by_text(re.compile(r"W2 is the root-mean-square length")).inner_text()
    app.goto("lab_w2", w2_sampler="teacher_1")
    app.assert_charts_drawn(at_least=2)
    after = app.main().get_by_text(re.compile(r"W2 is the root-mean-square length")).inner_text()
    assert after != before and "teacher's one-step sample" in after
    app.assert_no_exception()


# --- f_theta: the t slider runs in the browser ----------------------------------------------------------

_CHART_TEXT_JS = """() => {
  const svg = document.querySelector('[data-testid="stVegaLiteChart"] svg.marks');
  return svg ? Array.from(svg.querySelectorAll('g.role-mark text')).map(t => t.textContent).join('|')
             + '#' + svg.querySelectorAll('g.role-mark path, g.role-mark line').length
             + '#' + (svg.querySelector('g.role-mark') || {}).innerHTML.length : '';
}"""


def test_ftheta_slider_redraws_in_the_browser_without_a_rerun(app):
    sent: list[int] = []
    app.page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(len(payload))))
    open_lab(app, "lab_ftheta", "What f_θ does at each t", 1)
    chart = app.main().locator('[data-testid="stVegaLiteChart"]').first
    slider = chart.locator('.vega-bindings input[type="range"]')
    expect(slider).to_have_value("1")
    before_svg, before_sent = app.page.evaluate(_CHART_TEXT_JS), len(sent)
    assert before_sent > 0, "the counter sees the session's messages (its first run was requested over it)"
    labels_before = app.page.evaluate("() => document.querySelector('svg.marks').innerHTML")
    slider.fill("0.2")  # sets the value and fires the input event Vega listens to
    app.page.wait_for_function(f"(before) => ({_CHART_TEXT_JS})() !== before", arg=before_svg)
    # Two animation frames: anything the input event queued (a redraw, a message) has gone out by now.
    app.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert len(sent) == before_sent, f"moving the t slider sent {len(sent) - before_sent} message(s) to the server"
    state = app.page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")
    assert state == "notRunning", state
    assert app.page.evaluate("() => document.querySelector('svg.marks').innerHTML") != labels_before
    slider.fill("0.6")
    app.page.wait_for_function("() => document.querySelector('.vega-bindings input[type=range]').value === '0.6'")
    assert len(sent) == before_sent
    app.assert_no_exception()
    assert not app.page_errors, app.page_errors
    app.screenshot("lab_ftheta_slider_moved")


# --- Anatomy: stepping through checkpoints ------------------------------------------------------------------

def test_anatomy_checkpoint_slider_moves_the_predictions(app):
    open_lab(app, "lab_anatomy", "Anatomy of one distillation step", 3)
    gap = app.main().locator('[data-testid="stMetric"]').filter(has_text="Gap").locator('[data-testid="stMetricValue"]')
    first = gap.inner_text()
    slider = app.main().get_by_role("slider", name="Checkpoint (training step)")
    slider.focus()
    app.rerun(lambda: slider.press("End"), until=lambda: expect(gap).not_to_have_text(first))  # the last checkpoint
    expect(app.main().get_by_text(re.compile(r"At step [\d,]+ of [\d,]+ the online prediction"))).to_be_visible()
    app.assert_charts_drawn(at_least=3)
    app.assert_no_exception()
    assert "an_step" in app.query()


# --- Consistency map: hovering draws a cell's ODE path and jump ------------------------------------------------

_MAP_MARKS_JS = """() => {
  const svg = document.querySelectorAll('[data-testid="stVegaLiteChart"] svg.marks')[0];
  return svg ? Array.from(svg.querySelectorAll('g.role-mark path, g.role-mark line'))
      .filter(e => { const d = e.getAttribute('d'); return e.tagName !== 'path' || (d && d !== 'M0,0Z'); }).length : 0;
}"""


def test_consistency_map_hover_shows_the_path_and_jump(app):
    sent: list[int] = []
    app.page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(1)))
    open_lab(app, "lab_consistency_map", "Where is the model consistent?", 3)
    before, before_sent = app.page.evaluate(_MAP_MARKS_JS), len(sent)
    plot = app.main().locator('[data-testid="stVegaLiteChart"] svg.marks').first
    box = plot.locator("g.mark-rect").first.bounding_box()
    app.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.55)
    app.page.wait_for_function(f"(before) => ({_MAP_MARKS_JS})() > before", arg=before)  # path, jump, endpoint
    assert len(sent) == before_sent  # drawn by Vega in the browser, no rerun
    app.screenshot("lab_consistency_map_hover", full_page=False)
    app.page.mouse.move(box["x"] + box["width"] + 200, box["y"] - 50)  # leave the map: the overlay goes away
    app.page.wait_for_function(f"(before) => ({_MAP_MARKS_JS})() === before", arg=before)
    app.assert_no_exception()
    assert not app.page_errors, app.page_errors
