"""A busy server in a real browser: the page is drawn at once, its numbers are filled in where they go.

This module's server holds every worker-pool job for ``HOLD_S`` seconds (``CONSISTENCY_POOL_HOLD_S``),
longer than the grace a run waits for its numbers (``ui/later.py``), so every page and every change takes
the path a class's queue forces, deterministically: the run ends with the waiting note, and fragment runs
draw the numbers in its place.  What a student must see on that path: the note, then numbers that belong
to the widgets above them, widgets that keep the values a link or a move gave them, and widgets drawn
below the numbers that still rerun the whole page (its address too); and a computation that fails shows a
message in its part's place, never a traceback (a small app of its own, on the same held pool).
"""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import REPO, AppPage, StreamlitServer, _safe_name, new_context, running_server
from tests.browser.test_pages import expect, number, segmented, set_number, slider

pytestmark = pytest.mark.browser

HOLD_S = 1.5
NOTE = "Computing"

# Sets window.__sawNote once the waiting note has been on the page (checked on every DOM change).
_NOTE_WATCH_JS = """
(() => {
  window.__sawNote = 0;
  const look = () => {
    if (Array.from(document.querySelectorAll('[data-testid="stAlert"] [data-testid="stMarkdownContainer"]'))
          .some((el) => el.innerText.trim().startsWith('%s'))) window.__sawNote += 1;
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, characterData: true});
})();
""" % NOTE


@pytest.fixture(scope="module")
def busy_server():
    yield from running_server(CONSISTENCY_POOL_HOLD_S=str(HOLD_S))


@pytest.fixture
def busy(browser, busy_server, request):
    context = new_context(browser)
    context.add_init_script(_NOTE_WATCH_JS)
    wrapped = AppPage(context.new_page(), busy_server.url)
    yield wrapped
    try:
        wrapped.screenshot(_safe_name(request.node.name))
    finally:
        context.close()


def saw_note(app: AppPage) -> bool:
    return app.page.evaluate("() => window.__sawNote > 0")


def forget_note(app: AppPage) -> None:
    app.page.evaluate("() => { window.__sawNote = 0; }")


def test_a_link_shows_the_note_then_its_numbers_under_its_own_widgets(busy):
    busy.goto("self-consistency", sc_n_traj=5, sc_seed=123, sc_steps=100, sc_solver="heun", sc_show=1)
    assert saw_note(busy)  # the first run ended before its numbers existed (goto waited for them to fill in)
    expect(slider(busy, "Trajectories")).to_have_value("5")
    expect(slider(busy, "Solver steps (t = 1 → 0)")).to_have_value("100")
    expect(number(busy, "Noise seed")).to_have_value("123")
    expect(segmented(busy, "Solver")).to_have_text("Heun")
    busy.assert_charts_drawn(at_least=2)
    expect(busy.main().get_by_text("Max distance to the endpoint")).to_be_visible()
    expect(busy.main().get_by_text(re.compile(r"You restarted the ODE from \d+ points of trajectory"))).to_be_visible()
    q = busy.query()
    assert q.get("sc_n_traj") == ["5"] and q.get("sc_seed") == ["123"] and q.get("sc_solver") == ["heun"]
    busy.assert_no_exception()


def test_a_moved_widget_is_answered_at_once_and_its_numbers_follow(busy):
    busy.goto("one-step-ode", os_show=1)
    before = busy.main().get_by_text(re.compile(r"One step from noise missed the 200-step endpoint")).inner_text()
    forget_note(busy)
    set_number(busy, "Noise seed", 77, until=lambda: busy.page.wait_for_url(re.compile(r"os_seed=77")))
    assert saw_note(busy)
    story = busy.main().get_by_text(re.compile(r"One step from noise missed the 200-step endpoint"))
    expect(story).to_be_visible()
    assert story.inner_text() != before  # the story is told from seed 77's numbers, not seed 0's
    expect(number(busy, "Noise seed")).to_have_value("77")
    busy.assert_charts_drawn(at_least=6)
    busy.assert_no_exception()


def test_two_parts_fill_in_and_a_widget_between_them_keeps_its_value(busy):
    # Page 4 has two parts that fill in (the samplers, then the jumps) and widgets between them.  Drawn by a
    # fragment, those widgets would lose their value in the browser whenever a full run drew the note instead
    # (it showed "4" while the jumps were drawn for K = 2): they are drawn by the full run, above the part.
    busy.goto("multistep", ms_show=1, ms_n=500, ms_seed=5)
    assert saw_note(busy)
    busy.assert_charts_drawn(at_least=15)  # both parts filled in
    k2 = busy.main().locator('[role="radiogroup"][aria-label="Sampling steps K"]').get_by_text("2", exact=True)
    forget_note(busy)
    busy.rerun(k2.click, until=lambda: busy.page.wait_for_url(re.compile(r"ms_path_k=2")))
    assert saw_note(busy)  # the jumps of K = 2 were new: the note, then the jumps
    expect(segmented(busy, "Sampling steps K")).to_have_text("2")
    expect(busy.main().get_by_text(re.compile(r"^Step 2: "))).to_be_visible()
    expect(busy.main().get_by_text(re.compile(r"^Step 3: "))).to_have_count(0)
    expect(slider(busy, "Points to follow")).to_have_value("6")
    busy.assert_no_exception()


# Screen point halfway along trajectory ``traj``'s line in page 1's first chart (its SVG path's aria-label
# carries the trajectory's number).
_LINE_POINT_JS = """
(el, traj) => {
  const line = Array.from(el.querySelectorAll('.view_1_marks path'))
      .find((p) => (p.getAttribute('aria-label') || '').includes('traj: ' + traj + ';'));
  const a = line.getPointAtLength(line.getTotalLength() * 0.5), m = line.getScreenCTM();
  return [a.x * m.a + a.y * m.c + m.e, a.x * m.b + a.y * m.d + m.f];
}
"""


def test_a_click_on_a_filled_in_chart_chooses_the_trajectory_for_the_whole_page(busy):
    busy.goto("self-consistency", sc_show=1, sc_seed=7)
    assert saw_note(busy)  # so the chart was drawn by the fragment run that filled the numbers in
    chart = busy.main().locator('[data-testid="stVegaLiteChart"]').first
    busy.assert_charts_drawn(at_least=2)
    x, y = chart.evaluate(_LINE_POINT_JS, 5)
    busy.rerun(lambda: busy.page.mouse.click(x, y), until=lambda: busy.page.wait_for_url(re.compile(r"sc_traj=5")))
    expect(busy.main().get_by_role("combobox", name="Chosen trajectory")).to_have_value("5")
    expect(busy.main().get_by_text(re.compile(r"points of trajectory 5 "))).to_be_visible()
    busy.assert_no_exception()


# A page with one part whose computation raises, late (the pool holds it): the fragment's look finds it failed.
_FAILING_APP = """
import streamlit as st

from ui import later, shared

st.title("A part that fails")
seed = st.number_input("Seed", value=1)


def numbers(seed):
    raise LookupError(f"no numbers for seed {seed}")


later.fill_in(f"the numbers of seed {seed}", st.write, later.call(shared.SharedCache(numbers, max_entries=4), seed))
st.caption("below the part")
"""


@pytest.fixture(scope="module")
def failing_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("failing-app")
    (root / "app.py").write_text(_FAILING_APP)
    srv = StreamlitServer(root=root, env={"CONSISTENCY_POOL_HOLD_S": str(HOLD_S), "PYTHONPATH": str(REPO)})
    try:
        srv.wait_healthy()
        yield srv
    finally:
        srv.stop()


def test_a_failed_computation_shows_a_message_in_its_place_not_a_traceback(browser, failing_server, request):
    context = new_context(browser)
    context.add_init_script(_NOTE_WATCH_JS)
    app = AppPage(context.new_page(), failing_server.url)
    try:
        app.goto("")
        message = app.main().locator('[data-testid="stAlert"]').get_by_text(
            re.compile(r"^Could not compute the numbers of seed 1 \(no numbers for seed 1\)\. Move a widget"))
        expect(message).to_be_visible()
        assert saw_note(app)  # it was late: the fragment's look found it failed, not the page's run
        expect(app.main().get_by_text("below the part")).to_be_visible()
        app.assert_no_exception()
        forget_note(app)
        set_number(app, "Seed", 2, until=lambda: expect(app.main().get_by_text(
            re.compile(r"^Could not compute the numbers of seed 2 "))).to_be_visible())
        assert saw_note(app)  # asked again, late again, failed again: the same calm message
        app.assert_no_exception()
    finally:
        app.screenshot(_safe_name(request.node.name))
        context.close()
