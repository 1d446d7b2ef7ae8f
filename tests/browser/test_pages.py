"""The real app in headless Chromium: every page draws, retraining is live and stoppable, links round-trip.

Each test drives its own browser context, i.e. its own Streamlit session, the way a person
would: answer the "predict first" question (or press Skip), press Retrain and Stop, use the
sidebar to move between pages, open a copied link.  Screenshots of every page go to
``artifacts/screenshots/``.  Nothing here times anything: waits are bounded, not measured.
"""
from __future__ import annotations

import re
import time

import pytest

from ui import models

pytestmark = pytest.mark.browser

# url path, the number its title starts with, charts drawn once the results are shown
EXERCISES = [
    ("self-consistency", "1.", 1),
    ("one-step-ode", "2.", 2),
    ("distillation", "3.", 1),
    ("multistep", "4.", 3),
]
NAV = {  # sidebar link text per url path
    "": "Home", "self-consistency": "1. Self-consistency", "one-step-ode": "2. One-step ODE vs endpoint",
    "distillation": "3. Consistency distillation", "multistep": "4. Multi-step consistency",
}
HIDDEN_NOTE = "Answer the question above (or skip it) to see the results."
SKIP = "Skip the question and show the results"
CORRECTED = "This link had settings that could not be used"
MODEL_PICKER = "Models shown on every page"
SESSION_MODEL = "Retrained in this session"

STOP_RUN_STEPS = 5000  # long enough that it cannot finish before Stop is pressed, even on a fast machine
FINISH_RUN_STEPS = 40  # a retrain that finishes in seconds
JOB_TIMEOUT_MS = 180_000  # bounded wait for a tiny retrain on a busy 2-core machine (a guard, not a check)
PROGRESS_RE = re.compile(r"Step ([\d,]+) of ([\d,]+)")


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


# ----------------------------------------------------------------------------- small UI verbs

def heading(app):
    return app.main().locator("h1").first


def reveal_by_answering(app) -> str:
    """Click the first answer of the page's "predict first" question; return its text."""
    option = app.main().locator('[data-testid="stRadio"] [data-testid="stRadioOption"]').first
    text = option.inner_text().strip()
    option.click()
    app.wait_idle()
    return text


def reveal_by_skipping(app) -> None:
    app.main().get_by_role("button", name=SKIP).click()
    app.wait_idle()


def go_via_sidebar(app, path: str) -> None:
    """In-app navigation (keeps the Streamlit session, unlike page.goto)."""
    app.sidebar().get_by_role("link", name=NAV[path], exact=True).click()
    expect(heading(app)).to_be_visible()
    app.page.wait_for_url(re.compile(rf"/{re.escape(path)}(\?|$)"))
    app.wait_idle()


def model_picker_value(app) -> str:
    return app.sidebar().get_by_role("combobox", name=MODEL_PICKER).input_value()


def pick_model(app, label: str) -> None:
    app.sidebar().get_by_role("combobox", name=MODEL_PICKER).click()
    app.page.get_by_role("option", name=label, exact=True).click()
    app.wait_idle()


# Widget readers return locators for expect(): it retries until the frontend has drawn the run's values
# (a number input can show its minimum for a moment after a sibling slider already shows the new value).
def slider(app, label: str):
    return app.main().locator(f'input[type="range"][aria-label="{label}"]')


def number(app, label: str):
    return app.main().get_by_label(label, exact=True)


def segmented(app, label: str):
    return app.main().locator(f'[role="radiogroup"][aria-label="{label}"] [aria-checked="true"]')


def set_number(app, label: str, value) -> None:
    box = app.main().get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    app.wait_idle()


def progress_step(app) -> tuple[int, int] | None:
    """(step, total) from the live progress bar's text, or None while it says something else."""
    bar = app.main().locator('[data-testid="stProgress"]')
    if not bar.count():
        return None
    try:
        m = PROGRESS_RE.search(bar.first.inner_text(timeout=2000))
    except Exception:  # noqa: BLE001 - the fragment redrew the bar between count() and inner_text()
        return None
    return (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))) if m else None


def wait_for_step(app, above: int, timeout_s: float) -> tuple[int, int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = progress_step(app)
        if got and got[0] > above:
            return got
        app.page.wait_for_timeout(250)
    pytest.fail(f"the progress bar did not pass step {above} within {timeout_s:.0f} s; main shows:\n"
                f"{app.main().inner_text()[:1500]}")


def stop_if_training(app) -> None:
    """Teardown safety: a run left behind would hold the server's only training slot."""
    try:
        stop = app.main().get_by_role("button", name="Stop")
        if stop.count() and stop.first.is_enabled():
            stop.first.click(timeout=5000)
    except Exception:  # noqa: BLE001 - best effort
        pass


def w2_of_one_cm_step(app) -> float:
    """Page 4's "what just happened": 'one consistency step scored W2 0.123'."""
    m = re.search(r"one consistency step scored W2 ([\d.]+)", app.main().inner_text())
    assert m, f"page 4 does not state the one-step W2:\n{app.main().inner_text()[:2000]}"
    return float(m.group(1))


# ----------------------------------------------------------------------------- every page draws

def test_home_page(app):
    app.goto("")
    expect(heading(app)).to_have_text("Consistency Explorer")
    main = app.main()
    for _, number, _ in EXERCISES:  # the map of the exercises links every page
        expect(main.locator('[data-testid="stPageLink"]').filter(has_text=number)).to_have_count(1)
    expect(main.locator('[data-testid="stMetric"]').first).to_be_visible()  # W2 of the models in use
    expect(main.locator('[data-testid="stDataFrame"]').first).to_be_visible()  # the models available
    expect(main.get_by_text(re.compile(r"\d+ of \d+ claims hold"))).to_be_visible()
    app.assert_no_exception()
    for chart in app.charts():  # Home has no charts today; any it gains must be drawn
        assert chart["marks"] > 0, chart
    assert model_picker_value(app).startswith("Shipped")
    app.screenshot("page_home")


@pytest.mark.parametrize("path,number,n_charts", EXERCISES, ids=[e[0] for e in EXERCISES])
def test_exercise_page_reveals_and_draws(app, path, number, n_charts):
    app.goto(path)
    expect(heading(app)).to_have_text(re.compile(rf"^{re.escape(number)} "))
    app.assert_no_exception()
    # Predict first: the results stay hidden until the question is answered.
    expect(app.main().get_by_text(HIDDEN_NOTE)).to_be_visible()
    result_charts = [c for c in app.charts() if c["visible"]]
    answered = reveal_by_answering(app)
    expect(app.main().get_by_text(HIDDEN_NOTE)).to_have_count(0)
    charts = app.assert_charts_drawn(at_least=n_charts + len(result_charts))
    app.assert_no_exception()
    # The page judges the prediction from its numbers and explains them.
    main = app.main()
    verdict = main.locator('[data-testid="stAlert"]').filter(has_text=re.compile(r"Your prediction matched|Not quite"))
    expect(verdict).to_have_count(1)
    expect(verdict).to_contain_text(answered)  # it quotes the answer given
    expect(main.get_by_role("heading", name="What just happened")).to_be_visible()
    expect(main.get_by_role("heading", name="Key takeaway")).to_be_visible()
    # The reveal is part of the view, so a copied link shows the results too.
    assert any(k.endswith("_show") for k in app.query()), app.page.url
    assert not app.page_errors, app.page_errors
    app.screenshot(f"page_{path.replace('-', '_')}")
    assert all(c["marks"] > 0 for c in charts)


def test_skip_reveals_without_an_answer_and_is_remembered(app):
    app.goto("multistep")
    reveal_by_skipping(app)
    app.assert_charts_drawn(at_least=3)
    expect(app.main().get_by_text(re.compile(r"The numbers say")).first).to_be_visible()  # no answer to judge
    app.assert_no_exception()
    # Leave and come back in the same session: still revealed.
    go_via_sidebar(app, "one-step-ode")
    go_via_sidebar(app, "multistep")
    expect(app.main().get_by_text(HIDDEN_NOTE)).to_have_count(0)
    app.assert_charts_drawn(at_least=3)


# ----------------------------------------------------------------------------- live retraining

def test_retrain_shows_live_progress_and_stop_cancels(app):
    app.goto("distillation", cd_steps=STOP_RUN_STEPS, cd_seed=101)
    expect(app.main().get_by_label("Steps", exact=True)).to_have_value(str(STOP_RUN_STEPS))
    try:
        app.main().get_by_role("button", name="Retrain").click()
        progress = app.main().locator('[data-testid="stProgress"]')
        expect(progress).to_be_visible(timeout=30_000)
        first = wait_for_step(app, 0, timeout_s=JOB_TIMEOUT_MS / 1000)
        assert first[1] == STOP_RUN_STEPS
        second = wait_for_step(app, first[0], timeout_s=60)  # it advances while we only watch
        assert second[0] > first[0]
        expect(app.main().get_by_text(re.compile(r"steps/s"))).to_be_visible()
        app.assert_charts_drawn(at_least=1)  # the live loss curve
        app.screenshot("retrain_running")
        app.main().get_by_role("button", name="Stop").click()
        stopped = app.main().get_by_text(re.compile(r"Stopped after step [\d,]+ of " + f"{STOP_RUN_STEPS:,}"))
        expect(stopped).to_be_visible(timeout=30_000)
    finally:
        stop_if_training(app)
    app.wait_idle()
    # It stopped: no progress bar, no Stop button, and the step count no longer moves.
    expect(app.main().locator('[data-testid="stProgress"]')).to_have_count(0)
    expect(app.main().get_by_role("button", name="Stop")).to_have_count(0)
    at_stop = int(re.search(r"Stopped after step ([\d,]+)", app.main().inner_text()).group(1).replace(",", ""))
    assert second[0] <= at_stop < STOP_RUN_STEPS
    app.page.wait_for_timeout(1500)
    assert f"Stopped after step {at_stop:,}" in app.main().inner_text()
    # Nothing half-made was kept: the session still shows a shipped model.
    assert model_picker_value(app).startswith("Shipped")
    assert app.query().get("model", ["ours"])[0] != "session"
    app.assert_no_exception()


def test_finished_retrain_becomes_the_session_model_on_other_pages(app):
    app.goto("distillation", cd_steps=FINISH_RUN_STEPS, cd_seed=202)
    try:
        app.main().get_by_role("button", name="Retrain").click()
        done = app.main().get_by_text(re.compile(r"Retrained in .*: [\d,]+ steps"))
        expect(done).to_be_visible(timeout=JOB_TIMEOUT_MS)
    finally:
        stop_if_training(app)
    app.wait_idle()
    expect(app.main().get_by_text(f"{FINISH_RUN_STEPS} steps", exact=False).first).to_be_visible()
    assert model_picker_value(app) == SESSION_MODEL
    assert app.query().get("model") == ["session"]
    app.assert_no_exception()

    # Another page, reached through the sidebar, uses the retrained model ...
    go_via_sidebar(app, "multistep")
    assert model_picker_value(app) == SESSION_MODEL, f"the session model was lost on the way to page 4 ({app.page.url})"
    reveal_by_skipping(app)
    app.assert_charts_drawn(at_least=3)
    app.assert_no_exception()
    w2_session = w2_of_one_cm_step(app)
    app.screenshot("page_multistep_session_model")
    # ... and it is a different model from the shipped one (a 40-step retrain scores differently).
    pick_model(app, models.MODEL_LABELS["ours"])
    app.assert_charts_drawn(at_least=3)
    w2_shipped = w2_of_one_cm_step(app)
    assert w2_session != w2_shipped, (w2_session, w2_shipped)
    # Back to the session's model: still offered in the picker.
    pick_model(app, SESSION_MODEL)
    assert w2_of_one_cm_step(app) == w2_session
    app.assert_no_exception()


# ----------------------------------------------------------------------------- links

def test_shared_link_reproduces_the_view(app, new_session):
    # Someone sets up a view by hand ...
    app.goto("self-consistency")
    reveal_by_skipping(app)
    set_number(app, "Noise seed", 4242)
    app.main().locator('[role="radiogroup"][aria-label="Solver"]').get_by_text("Heun", exact=True).click()
    app.wait_idle()
    app.assert_charts_drawn(at_least=1)
    link = app.page.url
    assert "sc_seed=4242" in link and "sc_solver=heun" in link, link
    # ... and a second person opens the copied link in a fresh session.
    other = new_session()
    other.page.goto(link)
    other.wait_idle()
    expect(heading(other)).to_have_text(re.compile(r"^1\. "))
    expect(number(other, "Noise seed")).to_have_value("4242")
    expect(segmented(other, "Solver")).to_have_text("Heun")
    expect(other.main().get_by_text(HIDDEN_NOTE)).to_have_count(0)  # the results are shown, as for the sender
    other.assert_charts_drawn(at_least=1)
    expect(other.main().get_by_text(CORRECTED)).to_have_count(0)
    other.assert_no_exception()
    other.screenshot("link_shared_opened")


def test_hand_written_link_sets_every_widget(app):
    app.goto("self-consistency", sc_n_traj=5, sc_seed=123, sc_steps=100, sc_solver="heun", sc_show=1)
    expect(slider(app, "Trajectories")).to_have_value("5")
    expect(slider(app, "Solver steps (t = 1 → 0)")).to_have_value("100")
    expect(number(app, "Noise seed")).to_have_value("123")
    expect(segmented(app, "Solver")).to_have_text("Heun")
    expect(app.main().get_by_text(CORRECTED)).to_have_count(0)
    app.assert_charts_drawn(at_least=1)
    q = app.query()  # the link survives the first run unchanged
    assert q.get("sc_n_traj") == ["5"] and q.get("sc_seed") == ["123"] and q.get("sc_solver") == ["heun"]
    app.assert_no_exception()


def test_tampered_link_is_corrected_with_a_note(app):
    app.goto("self-consistency", sc_n_traj=99, sc_seed="abc", sc_solver="rk45", sc_bogus=1, sc_show=1)
    note = app.main().locator('[data-testid="stAlert"]').filter(has_text=CORRECTED)
    expect(note).to_be_visible()
    text = note.inner_text()
    for name in ("sc_n_traj", "sc_seed", "sc_solver", "sc_bogus"):
        assert name in text, text
    # The widgets hold the values the note says it used instead.
    used = dict(re.findall(r"(sc_\w+): .*?; using (\S+) instead", text))
    expect(slider(app, "Trajectories")).to_have_value(used["sc_n_traj"].rstrip("."))
    expect(number(app, "Noise seed")).to_have_value(used["sc_seed"].rstrip("."))
    app.assert_charts_drawn(at_least=1)
    app.assert_no_exception()
    assert "sc_bogus" not in app.query()
    app.screenshot("link_tampered_page1")


def test_tampered_model_and_training_settings_are_corrected(app):
    app.goto("distillation", model="nonsense", cd_steps=0, cd_mu=2, cd_loss="l7")
    main = app.main()
    expect(main.get_by_text(re.compile(r"`?nonsense`? is not a model name"))).to_be_visible()
    note = main.locator('[data-testid="stAlert"]').filter(has_text=CORRECTED)
    expect(note).to_be_visible()
    for name in ("cd_steps", "cd_mu", "cd_loss"):
        assert name in note.inner_text()
    assert int(main.get_by_label("Steps", exact=True).input_value()) >= 1
    assert model_picker_value(app).startswith("Shipped")
    app.assert_no_exception()
    app.screenshot("link_tampered_page3")
