"""The real app in headless Chromium: every page draws, retraining is live and stoppable, links round-trip.

Each test drives its own browser context, i.e. its own Streamlit session, the way a person
would: answer the "predict first" question (or press Skip), press Retrain and Stop, use the
sidebar to move between pages, open a copied link.  Screenshots of every page go to
``artifacts/screenshots/``.  Nothing here times anything or sleeps: every wait is for a
condition (an element, Streamlit's script state, the progress bar's text), bounded only as a
guard against a hang.
"""
from __future__ import annotations

import re

import pytest

from viz import names

pytestmark = pytest.mark.browser

# url path, the number its title starts with, charts drawn once the results are shown (at the defaults:
# page 1 overview + zoom; page 2 five panels + the error curve; page 3 four panels and the shipped model's loss
# and W2 curves; page 4 four teacher and five consistency panels, real data, the W2 chart, four jump panels and
# the two sampler experiments)
EXERCISES = [
    ("self-consistency", "1.", 2),
    ("one-step-ode", "2.", 6),
    ("distillation", "3.", 6),
    ("multistep", "4.", 17),
]
TITLES = {"": "Consistency Explorer", "self-consistency": "1. ", "one-step-ode": "2. ", "distillation": "3. ",
          "multistep": "4. "}
NAV = {  # sidebar link text per url path
    "": "Home", "self-consistency": "1. Self-consistency", "one-step-ode": "2. One-step ODE vs endpoint",
    "distillation": "3. Consistency distillation", "multistep": "4. Multi-step consistency",
}
HIDDEN_NOTE = re.compile(r"^Answer the (question|three questions) above \(or skip (it|them)\) to see the results\.$")
SKIP = "Skip the question and show the results"
SHARE = "Links to this page open with the results shown"
GRADED_NOTE = "Graded when you answered"
GRADE_RE = re.compile(r"Your prediction matched|Not quite")
CORRECTED = "This link had settings that could not be used"
MODEL_PICKER = "Models shown on every page"
SHIPPED = names.shipped_name("ours")
KEEP, DISCARD = "Stop, keep the model so far", "Stop and discard"

LONG_RUN_STEPS = 20_000  # the most the form allows: far longer than any test watches it, on any machine
FINISH_RUN_STEPS = 40  # a retrain that finishes in seconds
JOB_TIMEOUT_MS = 300_000  # bound on a tiny retrain (or the first snapshot) on a busy 2-core machine: a guard
W2_RE = re.compile(r"one consistency step scored W2 (\d+\.\d+) ± (\d+\.\d+)")

# (step, total) from the live progress bar's text once its step is above ``above``; false until then.
_STEP_ABOVE_JS = """
(above) => {
  const bar = document.querySelector('[data-testid="stMain"] [data-testid="stProgress"]');
  const m = bar && /step ([\\d,]+) of ([\\d,]+)/i.exec(bar.innerText);
  if (!m) return false;
  const step = +m[1].replace(/,/g, ''), total = +m[2].replace(/,/g, '');
  return step > above ? [step, total] : false;
}
"""


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


# ----------------------------------------------------------------------------- small UI verbs

def heading(app):
    return app.main().locator("h1").first


def grade(app):
    """The alert that grades the prediction."""
    return app.main().locator('[data-testid="stAlert"]').filter(has_text=GRADE_RE)


def answer_options(app):
    return app.main().locator('[data-testid="stRadio"] [data-testid="stRadioOption"]')


def questions(app):
    return app.main().locator('[data-testid="stRadio"]')


def reveal_by_answering(app, index: int = 0) -> str:
    """Answer the page's "predict first" questions (page 4 asks three): option ``index`` of the first, the first
    option of any other; return the first answer's text once it is graded."""
    asked = questions(app)
    for q in range(1, asked.count()):  # the others first: the results appear with the last answer
        app.rerun(asked.nth(q).locator('[data-testid="stRadioOption"]').first.click,
                  until=lambda q=q: expect(asked.nth(q).locator("input").first).to_be_disabled())
    option = asked.first.locator('[data-testid="stRadioOption"]').nth(index)
    text = option.inner_text().strip()
    # Answering locks the answer and reruns (a chain of two runs): the grade is drawn by the second.
    app.rerun(option.click, until=grade(app).filter(has_text=f'You said "{text}"'))
    return text


def reveal_by_skipping(app) -> None:
    """Skip every "predict first" question of the page (page 4 asks three); the numbers then speak."""
    skip = app.main().get_by_role("button", name=SKIP)
    for left in range(skip.count() - 1, 0, -1):
        app.rerun(skip.first.click, until=lambda left=left: expect(skip).to_have_count(left))
    app.rerun(skip.first.click, until=app.main().get_by_text(re.compile(r"The numbers say")).first)


def go_via_sidebar(app, path: str) -> None:
    """In-app navigation (keeps the Streamlit session, unlike page.goto)."""
    link = app.sidebar().get_by_role("link", name=NAV[path], exact=True)
    app.rerun(link.click, until=lambda: expect(heading(app)).to_have_text(re.compile("^" + re.escape(TITLES[path]))))
    app.page.wait_for_url(re.compile(rf"/{re.escape(path)}(\?|$)"))


def model_picker(app):
    return app.sidebar().get_by_role("combobox", name=MODEL_PICKER)


def model_picker_value(app) -> str:
    return model_picker(app).input_value()


def pick_model(app, label: str) -> None:
    model_picker(app).click()
    app.rerun(app.page.get_by_role("option", name=label, exact=True).click)
    expect(model_picker(app)).to_have_value(label)


# Widget readers return locators for expect(): it retries until the frontend has drawn the run's values
# (a number input can show its minimum for a moment after a sibling slider already shows the new value).
def slider(app, label: str):
    return app.main().locator(f'input[type="range"][aria-label="{label}"]')


def number(app, label: str):
    return app.main().get_by_label(label, exact=True)


def segmented(app, label: str):
    return app.main().locator(f'[role="radiogroup"][aria-label="{label}"] [aria-checked="true"]')


def set_number(app, label: str, value, until=None) -> None:
    box = number(app, label)
    box.fill(str(value))
    app.rerun(lambda: box.press("Enter"), until=until)
    expect(box).to_have_value(str(value))


def share_box(app):
    return app.main().get_by_role("checkbox", name=SHARE)


def tick_share(app, prefix: str) -> None:
    """Tick "Links to this page open with the results shown" (a person clicks its label) and wait for the link."""
    label = app.main().locator("label").filter(has_text=SHARE)
    app.rerun(label.click, until=lambda: app.page.wait_for_url(re.compile(rf"[?&]{prefix}_show=1(&|$)")))
    expect(share_box(app)).to_be_checked()


def wait_for_step(app, above: int, timeout_ms: int = JOB_TIMEOUT_MS) -> tuple[int, int]:
    """Wait until the live progress bar says "Step N of T" with N > ``above``; return (N, T)."""
    try:
        return tuple(app.page.wait_for_function(_STEP_ABOVE_JS, arg=above, timeout=timeout_ms).json_value())
    except Exception:  # noqa: BLE001 - say what the page shows instead
        pytest.fail(f"the progress bar did not pass step {above} within {timeout_ms / 1000:.0f} s; main shows:\n"
                    f"{app.main().inner_text()[:1500]}")


def stop_if_training(app) -> None:
    """Teardown safety: a run left behind would hold the server's only training slot."""
    try:
        stop = app.main().get_by_role("button", name=DISCARD)
        if stop.count() and stop.first.is_enabled():
            stop.first.click(timeout=5000)
    except Exception:  # noqa: BLE001 - best effort
        pass


def w2_of_one_cm_step(app) -> tuple[float, float]:
    """Page 4's "what just happened": 'one consistency step scored W2 0.123 ± 0.004', as (mean, sem)."""
    m = W2_RE.search(app.main().inner_text())
    assert m, f"page 4 does not state the one-step W2:\n{app.main().inner_text()[:2000]}"
    return float(m.group(1)), float(m.group(2))


def visible_charts(app) -> list[dict]:
    return [c for c in app.charts() if c["visible"]]


# ----------------------------------------------------------------------------- every page draws

def test_home_page(app):
    app.goto("")
    expect(heading(app)).to_have_text("Consistency Explorer")
    main = app.main()
    for _, number_, _ in EXERCISES:  # the map of the exercises links every page
        expect(main.locator('[data-testid="stPageLink"]').filter(has_text=number_)).to_have_count(1)
    # The figure first: the same noise three ways beside real data (its titles are drawn in the charts, whose
    # text AppTest checks in test_app_home.py), and its caption.
    expect(main.get_by_text(re.compile(r"^Each panel: 2,000 points from the same noise"))).to_be_visible()
    # The claims are counted by status for the model in use, and the counts add up to the total.
    summary = main.get_by_text(re.compile(r"\(of \d+ claims\)"))
    expect(summary).to_be_visible()
    text = summary.inner_text()
    counts = [int(n) for n in re.findall(r"(\d+) (?:holds|does not hold|undecided|not applicable)", text)]
    total = int(re.search(r"\(of (\d+) claims\)", text).group(1))
    assert counts and sum(counts) == total, text
    assert SHIPPED in text, text
    app.assert_no_exception()
    app.assert_charts_drawn(at_least=4)  # the figure's four panels, drawn
    assert model_picker_value(app) == SHIPPED
    app.screenshot("page_home")


@pytest.mark.parametrize("path,number_,n_charts", EXERCISES, ids=[e[0] for e in EXERCISES])
def test_exercise_page_reveals_and_draws(app, path, number_, n_charts):
    app.goto(path)
    expect(heading(app)).to_have_text(re.compile(rf"^{re.escape(number_)} "))
    app.assert_no_exception()
    # Predict first: the results stay hidden until the question is answered.
    expect(app.main().get_by_text(HIDDEN_NOTE)).to_be_visible()
    assert visible_charts(app) == [], "results are drawn before the question was answered"
    asked = questions(app).count()  # page 4 asks the notebook's three questions, the others one
    answered = reveal_by_answering(app)
    expect(app.main().get_by_text(HIDDEN_NOTE)).to_have_count(0)
    charts = app.assert_charts_drawn(at_least=n_charts)
    app.assert_no_exception()
    # The page grades each prediction from its numbers and explains them.
    main = app.main()
    expect(grade(app)).to_have_count(asked)
    expect(grade(app).first).to_contain_text(f'You said "{answered}"')  # it quotes the answer given
    expect(main.get_by_role("heading", name="What just happened")).to_be_visible()
    expect(main.get_by_role("heading", name="Key takeaway")).to_be_visible()
    # The answer is locked, and a copied link asks its recipient the question again.
    expect(answer_options(app).locator("input").first).to_be_disabled()
    assert not any(k.endswith("_show") for k in app.query()), app.page.url
    assert not app.page_errors, app.page_errors
    app.screenshot(f"page_{path.replace('-', '_')}")
    assert all(c["marks"] > 0 for c in charts)


def test_skip_reveals_without_an_answer_and_is_remembered(app):
    app.goto("multistep")
    reveal_by_skipping(app)
    app.assert_charts_drawn(at_least=15)
    expect(grade(app)).to_have_count(0)  # no answer to judge: the numbers speak instead
    app.assert_no_exception()
    # Leave and come back in the same session: still revealed.
    go_via_sidebar(app, "one-step-ode")
    expect(app.main().get_by_text(HIDDEN_NOTE)).to_be_visible()  # another page asks its own question
    go_via_sidebar(app, "multistep")
    expect(app.main().get_by_text(HIDDEN_NOTE)).to_have_count(0)
    app.assert_charts_drawn(at_least=15)


def test_predict_first_grades_once_and_links_ask_again(app, new_session):
    """Page 2: the grade is given once, against the numbers shown when answering; moving a widget updates the
    numbers, not the grade; a copied link carries the results view only when the sender ticks the box."""
    app.goto("one-step-ode")
    expect(app.main().get_by_text(HIDDEN_NOTE)).to_be_visible()
    answered = reveal_by_answering(app, index=2)
    graded = grade(app)
    expect(graded).to_contain_text(f'You said "{answered}"')
    expect(graded).not_to_contain_text(GRADED_NOTE)  # nothing has changed since the answer
    first = graded.inner_text().strip()
    numbers_then = re.search(r"miss their endpoints by ([\d.]+) on average", first)
    assert numbers_then, first
    expect(answer_options(app).locator("input").first).to_be_disabled()  # locked
    assert "os_show" not in app.query(), app.page.url

    # A new noise seed changes the numbers; the grade stays as it was, with a note and the new numbers.
    set_number(app, "Noise seed", 1, until=lambda: expect(grade(app)).to_contain_text(GRADED_NOTE))
    after = grade(app).inner_text().strip()
    kept, _, note = after.partition(GRADED_NOTE)
    assert kept.strip() == first, (first, after)  # the very same grade, answer and numbers as when answered
    numbers_now = re.search(r"miss their endpoints by ([\d.]+) on average", note)
    assert numbers_now, note
    expect(answer_options(app).locator("input").first).to_be_disabled()
    q = app.query()
    assert q.get("os_seed") == ["1"] and "os_show" not in q, app.page.url
    asking_link = app.page.url

    # Ticking the box puts the results view into the link.
    expect(share_box(app)).not_to_be_checked()
    tick_share(app, "os")
    showing_link = app.page.url
    assert "os_seed=1" in showing_link, showing_link

    # Whoever opens the first link is asked the question, with the sender's settings ...
    other = new_session().goto(asking_link.removeprefix(app.base_url))
    expect(number(other, "Noise seed")).to_have_value("1")
    expect(other.main().get_by_text(HIDDEN_NOTE)).to_be_visible()
    expect(answer_options(other).locator("input").first).to_be_enabled()
    assert visible_charts(other) == []
    # ... and whoever opens the second sees the results at once, not graded (nobody answered there).
    third = new_session().goto(showing_link.removeprefix(app.base_url))
    expect(third.main().get_by_text(HIDDEN_NOTE)).to_have_count(0)
    third.assert_charts_drawn(at_least=6)
    expect(grade(third)).to_have_count(0)
    expect(third.main().get_by_text(re.compile(r"The numbers say"))).to_be_visible()
    for page in (app, other, third):
        page.assert_no_exception()
    third.screenshot("link_results_view_opened")


# ----------------------------------------------------------------------------- live retraining

def start_long_run(app, seed: int, **settings) -> tuple[int, int]:
    """Page 3 with the longest run the form allows; press Retrain and wait until the bar shows a first step."""
    app.goto("distillation", cd_steps=LONG_RUN_STEPS, cd_seed=seed, **settings)
    expect(number(app, "Steps")).to_have_value(str(LONG_RUN_STEPS))
    progress = app.main().locator('[data-testid="stProgress"]')
    app.rerun(app.main().get_by_role("button", name="Retrain").click, until=progress)
    first = wait_for_step(app, 0)
    assert first[1] == LONG_RUN_STEPS, first
    return first


def test_retrain_shows_live_progress_and_stop_discards(app):
    try:
        first = start_long_run(app, seed=101)
        second = wait_for_step(app, first[0])  # it advances while we only watch
        progress = app.main().locator('[data-testid="stProgress"]')
        expect(progress).to_contain_text(re.compile(r"steps/s · about .* left"), timeout=JOB_TIMEOUT_MS)
        app.assert_charts_drawn(at_least=1)  # the live loss curve
        app.screenshot("retrain_running")
        note = app.main().get_by_text(re.compile(r"Stopped the retrain on .* after step [\d,]+; the run was discarded"))
        # Stop reruns the whole app from the progress fragment: the note is drawn by that full run.
        app.rerun(app.main().get_by_role("button", name=DISCARD).click, until=note)
    finally:
        stop_if_training(app)
    # It stopped: no progress bar, no Stop buttons, Retrain is offered again.
    expect(app.main().locator('[data-testid="stProgress"]')).to_have_count(0)
    expect(app.main().get_by_role("button", name=DISCARD)).to_have_count(0)
    expect(app.main().get_by_role("button", name=KEEP)).to_have_count(0)
    expect(app.main().get_by_role("button", name="Retrain")).to_be_enabled()
    at_stop = int(re.search(r"after step ([\d,]+)", note.inner_text()).group(1).replace(",", ""))
    assert second[0] <= at_stop < LONG_RUN_STEPS, (second, at_stop)
    # Nothing half-made was kept: the session still shows the shipped model, and the picker offers no run.
    assert model_picker_value(app) == SHIPPED
    assert "model" not in app.query(), app.page.url
    model_picker(app).click()
    expect(app.page.get_by_role("option", name=SHIPPED, exact=True)).to_be_visible()
    expect(app.page.get_by_role("option", name=re.compile(r"steps\)$"))).to_have_count(0)
    app.page.keyboard.press("Escape")
    app.assert_no_exception()


def test_stop_can_keep_the_model_so_far(app):
    try:
        start_long_run(app, seed=303, cd_batch=8)  # small steps: the first snapshot (step 250) comes soon
        keep = app.main().get_by_role("button", name=KEEP)
        expect(keep).to_be_enabled(timeout=JOB_TIMEOUT_MS)  # once the run has a first snapshot
        note = app.main().get_by_text(re.compile(r"Stopped the retrain on .*; its model at step [\d,]+ was kept and is now shown"))
        app.rerun(keep.click, until=note)
    finally:
        stop_if_training(app)
    expect(app.main().locator('[data-testid="stProgress"]')).to_have_count(0)
    step = int(re.search(r"its model at step ([\d,]+) was kept", note.inner_text()).group(1).replace(",", ""))
    assert 0 < step < LONG_RUN_STEPS
    # The kept snapshot is this session's model: in the picker, named by how far it trained, and in the link.
    expect(model_picker(app)).to_have_value(re.compile(rf"^.* \(stopped at {step:,} of {LONG_RUN_STEPS:,} steps\)$"))
    assert re.fullmatch(rf"run-[0-9a-f]+-s{step}", app.query().get("model", [""])[0]), app.page.url
    app.assert_no_exception()


def test_finished_retrain_becomes_the_session_model_on_other_pages(app):
    app.goto("distillation", cd_steps=FINISH_RUN_STEPS, cd_seed=202)
    done = app.main().get_by_text(re.compile(rf"Retrained on .*: {FINISH_RUN_STEPS} steps"))
    try:
        # The finished run reruns the page to make its model the session's: the message is drawn after that.
        app.rerun(app.main().get_by_role("button", name="Retrain").click,
                  until=lambda: expect(done).to_be_visible(timeout=JOB_TIMEOUT_MS), timeout_ms=JOB_TIMEOUT_MS)
    finally:
        stop_if_training(app)
    run_label = model_picker_value(app)
    assert re.fullmatch(rf".* \({FINISH_RUN_STEPS} steps\)", run_label), run_label
    run_id = app.query().get("model", [""])[0]
    assert re.fullmatch(r"run-[0-9a-f]+", run_id), app.page.url
    app.assert_no_exception()

    # Another page, reached through the sidebar, uses the retrained model ...
    go_via_sidebar(app, "multistep")
    assert model_picker_value(app) == run_label, f"the session's model was lost on the way to page 4 ({app.page.url})"
    assert app.query().get("model") == [run_id]
    reveal_by_skipping(app)
    app.assert_charts_drawn(at_least=15)
    app.assert_no_exception()
    w2_run, sem_run = w2_of_one_cm_step(app)
    app.screenshot("page_multistep_session_model")
    # ... and it is a different model from the shipped one: a 40-step retrain scores measurably differently.
    pick_model(app, SHIPPED)
    reveal_by_skipping(app)  # a prediction belongs to its model: another model asks the question again
    app.assert_charts_drawn(at_least=15)
    w2_shipped, sem_shipped = w2_of_one_cm_step(app)
    assert abs(w2_run - w2_shipped) > 3 * (sem_run + sem_shipped), ((w2_run, sem_run), (w2_shipped, sem_shipped))
    # Back to the session's model: still offered in the picker, and scored the same as before.
    pick_model(app, run_label)
    assert w2_of_one_cm_step(app) == pytest.approx((w2_run, sem_run), abs=1e-12)
    app.assert_no_exception()


# ----------------------------------------------------------------------------- links

def test_shared_link_reproduces_the_view(app, new_session):
    # Someone sets up a view by hand and chooses to share the results view ...
    app.goto("self-consistency")
    reveal_by_skipping(app)
    set_number(app, "Noise seed", 4242, until=lambda: app.page.wait_for_url(re.compile(r"sc_seed=4242")))
    heun = app.main().locator('[role="radiogroup"][aria-label="Solver"]').get_by_text("Heun", exact=True)
    app.rerun(heun.click, until=lambda: app.page.wait_for_url(re.compile(r"sc_solver=heun")))
    tick_share(app, "sc")
    app.assert_charts_drawn(at_least=2)
    link = app.page.url
    # ... and a second person opens the copied link in a fresh session.
    other = new_session().goto(link.removeprefix(app.base_url))
    expect(heading(other)).to_have_text(re.compile(r"^1\. "))
    expect(number(other, "Noise seed")).to_have_value("4242")
    expect(segmented(other, "Solver")).to_have_text("Heun")
    expect(other.main().get_by_text(HIDDEN_NOTE)).to_have_count(0)  # the results are shown, as the sender chose
    other.assert_charts_drawn(at_least=2)
    expect(other.main().get_by_text(CORRECTED)).to_have_count(0)
    # The same numbers on both screens (same model, same settings).
    metric = '[data-testid="stMetric"]:has-text("Max distance to the endpoint") [data-testid="stMetricValue"]'
    assert float(other.page.locator(metric).inner_text()) == float(app.page.locator(metric).inner_text())
    other.assert_no_exception()
    other.screenshot("link_shared_opened")


def test_hand_written_link_sets_every_widget(app):
    app.goto("self-consistency", sc_n_traj=5, sc_seed=123, sc_steps=100, sc_solver="heun", sc_show=1)
    expect(slider(app, "Trajectories")).to_have_value("5")
    expect(slider(app, "Solver steps (t = 1 → 0)")).to_have_value("100")
    expect(number(app, "Noise seed")).to_have_value("123")
    expect(segmented(app, "Solver")).to_have_text("Heun")
    expect(app.main().get_by_text(CORRECTED)).to_have_count(0)
    app.assert_charts_drawn(at_least=2)
    q = app.query()  # the link survives the first run unchanged
    assert q.get("sc_n_traj") == ["5"] and q.get("sc_seed") == ["123"] and q.get("sc_solver") == ["heun"]
    assert q.get("sc_show") == ["1"]
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
    app.assert_charts_drawn(at_least=2)
    app.assert_no_exception()
    assert "sc_bogus" not in app.query()
    app.screenshot("link_tampered_page1")


def test_tampered_model_and_training_settings_are_corrected(app):
    app.goto("distillation", model="nonsense", cd_steps=0, cd_mu=2, cd_loss="l7")
    main = app.main()
    expect(main.get_by_text(re.compile(r"is not a model name"))).to_be_visible()
    note = main.locator('[data-testid="stAlert"]').filter(has_text=CORRECTED)
    expect(note).to_be_visible()
    for name in ("cd_steps", "cd_mu", "cd_loss"):
        assert name in note.inner_text()
    assert int(number(app, "Steps").input_value()) >= 1
    assert model_picker_value(app) == SHIPPED
    assert "model" not in app.query(), app.page.url  # the bad name is not carried on
    app.assert_no_exception()
    app.screenshot("link_tampered_page3")
