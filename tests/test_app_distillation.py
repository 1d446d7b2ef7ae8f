"""Page 3 through AppTest: defaults, a live retrain to the end, Stop, bad links, absurd settings, the code view."""
from __future__ import annotations

import dataclasses
import html
import inspect
import json
import re
import textwrap

import pytest
from streamlit.testing.v1 import AppTest

from cmcore import consistency, flow, jobs, zoo
from cmcore.presets import PRESETS
from tests.scores import independent
from tests.test_app_pages import model_picker
from ui import retrain_view, runs, stepcode
from viz.words import english, lesson

PAGE = "pages/3_distillation.py"
RUN_TIMEOUT = 120  # seconds per script run: the first one measures W2 on 1000-point panels (a guard, not a check)
JOB_TIMEOUT = 120  # seconds a tiny retrain may take on a busy 2-core machine (a guard, not a check)
POLL = 0.5  # seconds between page reruns while a job runs (what the fragment's timer does in a browser)


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=RUN_TIMEOUT)
    at.run()  # AppTest needs one run before it can switch to a page with a custom url_path
    at.switch_page(PAGE)
    at.query_params.clear()
    at.query_params.update(query or {})  # the link, as opened on this page
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def retrain_button(at: AppTest):
    return next(b for b in at.button if b.label == "Retrain")


def wait_for(at: AppTest, condition, timeout: float = JOB_TIMEOUT) -> None:
    """Rerun the page (as the progress fragment's timer would) until ``condition()`` holds.

    The rerun also renews this session's lease on its job; the timeout guards against hanging.
    """
    job = at.session_state["_retrain_job"]
    for _ in range(int(timeout / POLL)):
        if condition():
            at.run()  # draw the page in the state the condition describes
            return
        at.run()
        job.wait(POLL)
    assert condition(), "condition not reached"


def run_until_settled(at: AppTest) -> jobs.Job:
    """Rerun the page (fragments do not tick in AppTest) until this session's job has finished."""
    job = at.session_state["_retrain_job"]
    for _ in range(int(JOB_TIMEOUT / POLL)):
        if not job.progress().active:
            break
        at.run()
        job.wait(POLL)
    assert job.wait(0), "the retrain did not finish in time"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return job


@pytest.fixture(autouse=True)
def no_jobs_left_behind():
    yield
    for job in runs.manager().jobs():
        if job.progress().active:
            runs.manager().shutdown()
            break


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def test_page_renders_at_defaults():
    at = open_page({"cd_show": "1"})
    assert at.number_input(key="cd_steps").value == zoo.DEFAULT.consistency.steps
    assert at.selectbox(key="cd_mode").value == "distillation"
    assert at.selectbox(key="cd_preset").value == "ours"  # the form says which preset it matches
    assert len(at.html) >= 1 and "hll" in at.html[0].value
    specs = " ".join(json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("vega_lite_chart"))
    for title in ("Real data", "Teacher · 50 Euler steps", "Teacher · 1 Euler step", "Consistency model · 1 step"):
        assert title in specs
    labels = [m.label for m in at.metric]
    assert sum(label.startswith("W2 · ") for label in labels) == 4
    assert all(c.value.startswith("± ") for c in at.caption if c.value.startswith("± ")) and \
        sum(c.value.startswith("± ") for c in at.caption) == 4  # every W2 carries its uncertainty
    assert "What just happened" in texts(at.markdown)
    assert not at.error


def test_step_code_is_cmcore_and_marks_the_four_todo_lines():
    sources = stepcode.step_sources()
    assert stepcode.unmarked_todos(sources) == []
    assert {n for s in sources for n in s.marks.values()} == {1, 2, 3, 4}
    page = stepcode.step_code_html()
    shown = html.unescape(re.sub(r"<[^>]+>", "", page))  # the text a reader sees
    for fn in (consistency.distillation_pair, flow.interpolate, flow.ode_step, consistency.consistency_loss,
               consistency.ema_update):
        assert f"· {fn.__qualname__}" in shown
        for line in textwrap.dedent(inspect.getsource(fn)).splitlines():
            assert stepcode.MARKER.sub("", line).strip() in shown, line
    assert "[TODO" not in shown  # the markers are for the viewer, not for the reader
    # the notebook's code TODOs are named TODO 1-4, never "exercise" (the app's exercises are its pages 1-4)
    assert all(f"TODO {n}" in shown for n in stepcode.TODOS) and "exercise" not in shown.lower()
    assert page.count('class="hll"') == sum(len(s.marks) for s in sources)


def test_presets_fill_the_form():
    at = open_page()
    at.selectbox(key="cd_preset").set_value("lesson").run()
    lesson = PRESETS["lesson"]
    assert at.selectbox(key="cd_teacher").value == "lesson"
    assert at.number_input(key="cd_mu").value == lesson.cfg.ema_mu
    assert at.number_input(key="cd_levels").value == lesson.cfg.n_levels
    assert at.checkbox(key="cd_init").value is False
    assert dict(at.query_params).get("cd_teacher") == "lesson"  # a link reproduces the preset
    at.number_input(key="cd_seed").set_value(5).run()
    assert at.selectbox(key="cd_preset").value is None  # edited by hand: no longer the preset


def test_retrain_runs_to_the_end_and_is_then_the_model_on_every_page():
    at = open_page({"cd_show": "1"})
    at.number_input(key="cd_steps").set_value(30)
    at.number_input(key="cd_seed").set_value(7)  # a config no other test trains
    retrain_button(at).click()
    at.run()
    job = run_until_settled(at)
    assert job.state == jobs.DONE
    cfg = dataclasses.replace(zoo.DEFAULT.consistency, steps=30, seed=7)
    mid = runs.model_id("ours", cfg)
    assert job.key == mid and job.info.cfg == cfg
    assert at.query_params["model"] == mid
    assert "Retrained on two moons: 30 steps" in texts(at.success)
    assert model_picker(at).value == mid
    assert runs.find(mid).model is job.result.model
    table = at.dataframe[-1].value
    assert "training steps: 1,200 → 30" in " ".join(table["settings that differ from ours"]) and "±" in table["W2, 1 step"][0]
    assert dict(at.query_params).get("cd_steps") == "30"  # the settings are in the link too

    at.query_params.clear()  # as in a browser: moving to another page drops the query string
    at.switch_page("pages/4_multistep.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert model_picker(at).value == mid
    assert at.query_params["model"] == mid  # and the link says so again


def test_stop_and_discard_keeps_nothing():
    at = open_page()
    at.number_input(key="cd_steps").set_value(20_000)
    retrain_button(at).click()
    at.run()
    job = at.session_state["_retrain_job"]
    assert job.progress().active and at.get("progress")
    at.button(key=retrain_view.STOP_KEY).click()
    job = run_until_settled(at)
    assert job.state == jobs.CANCELLED and job.result is None
    assert runs.find(job.key) is None
    assert "discarded" in texts(at.info)
    assert model_picker(at).value == "ours"


def test_stop_and_keep_stores_the_model_so_far_and_shows_it():
    at = open_page()
    at.number_input(key="cd_steps").set_value(20_000)
    at.number_input(key="cd_batch").set_value(8)  # quick steps: the first snapshot (step 250) comes soon
    at.number_input(key="cd_seed").set_value(11)
    retrain_button(at).click()
    at.run()
    job = at.session_state["_retrain_job"]
    wait_for(at, lambda: job.info.latest is not None)  # the first snapshot (step 250)
    at.button(key=retrain_view.KEEP_KEY).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    kept = at.query_params["model"]
    assert kept.startswith(job.key + "-s") and runs.find(kept).partial
    assert model_picker(at).value == kept
    assert "was kept" in texts(at.info)
    assert job.wait(JOB_TIMEOUT) and job.state == jobs.CANCELLED  # nobody else watched: the run stopped


def test_a_second_session_joins_the_same_run_and_its_stop_only_detaches():
    first, second = open_page(), open_page()
    for at in (first, second):
        at.number_input(key="cd_steps").set_value(19_000)
        retrain_button(at).click()
        at.run()
    job = first.session_state["_retrain_job"]
    assert second.session_state["_retrain_job"] is job and job.progress().watchers == 2
    second.button(key=retrain_view.STOP_KEY).click()
    second.run()
    assert job.progress().active and not job.progress().stopping
    assert "_retrain_job" not in second.session_state
    first.button(key=retrain_view.STOP_KEY).click()
    assert run_until_settled(first).state == jobs.CANCELLED


def test_bad_query_parameters_are_corrected_with_a_note():
    at = open_page({"cd_levels": "99999", "cd_mode": "banana", "cd_lr": "fast", "cd_bogus": "1",
                    "cd_steps": "200000", "cd_batch": "8192"})
    note = texts(at.warning).replace("\\", "")  # a link's own names are shown with Markdown escaped
    for name in ("cd_levels", "cd_mode", "cd_lr", "cd_bogus", "cd_steps", "cd_batch"):
        assert name in note
    assert at.number_input(key="cd_levels").value == zoo.DEFAULT.consistency.n_levels
    assert at.number_input(key="cd_steps").value == zoo.DEFAULT.consistency.steps  # 200,000 steps refused
    assert at.selectbox(key="cd_mode").value == "distillation"
    assert at.number_input(key="cd_lr").value == zoo.DEFAULT.consistency.lr
    assert not {"cd_levels", "cd_mode", "cd_lr", "cd_bogus", "cd_steps"} & set(at.query_params)


def test_options_that_do_not_apply_are_disabled_with_the_reason():
    at = open_page({"cd_mode": "training", "cd_init": "1"})  # from a link: impossible together
    assert not at.exception and not at.error
    assert at.checkbox(key="cd_init").value is False and at.checkbox(key="cd_init").disabled
    assert at.selectbox(key="cd_solver").disabled and "without a teacher" in at.selectbox(key="cd_solver").help
    assert at.number_input(key="cd_rho").disabled  # uniform spacing: ρ unused
    at.selectbox(key="cd_schedule").set_value("karras").run()
    assert not at.number_input(key="cd_rho").disabled


def test_distillation_story_follows_the_numbers():
    s = lambda m, e=0.005: independent((m - e, m, m + e), 2000)  # noqa: E731
    ours = {"ema_mu": 0.95, "steps": 1200, "init_from_teacher": True}
    good = lesson.distillation_story(s(0.15, 0.02), s(1.9), s(0.16, 0.02), s(0.06), ours)
    assert "closer to the data than the teacher's one step" in good and "not measurably worse" in good
    collapsed = {"ema_mu": 0.999, "steps": 1000, "init_from_teacher": False}
    bad = lesson.distillation_story(s(0.15), s(1.2), s(1.9), s(0.06), collapsed)
    assert "does worse than" in bad and "μ = 0.999" in bad and "random weights" in bad and "closer" not in bad
    tie = lesson.distillation_story(s(0.15), s(1.2), s(1.21, 0.05), s(0.06), ours)
    assert "indistinguishable at this sample size" in tie
    assert "no model here scores lower than that" in good
    # Eight Gaussians, a 1-step run (measured): the 50-step teacher's mean is under the floor, inside the noise.
    under = lesson.distillation_story(s(0.264, 0.06), s(2.443), s(1.924), s(0.323, 0.005), ours, reference=s(0.26))
    assert re.search(r"the 50-step teacher \(0\.264 ± 0\.0\d\d\) is indistinguishable from it", under)
    assert "no model here scores lower" not in under
    assert "this run is worse than the shipped model" in under
    below = lesson.distillation_story(s(0.05, 0.001), s(1.9), s(0.3), s(0.06, 0.001), ours)
    assert re.search(r"the 50-step teacher \(0\.050 ± 0\.001\) is measurably below it", below)


def test_a_run_label_counts_its_steps_in_words():
    assert english.plural(1) == "1 step" and english.plural(1200) == "1,200 steps"


def test_a_link_to_a_run_survives_a_restart_and_an_evicted_run_can_be_trained_again():
    at = open_page()
    at.number_input(key="cd_steps").set_value(20)
    at.number_input(key="cd_seed").set_value(13)
    retrain_button(at).click()
    at.run()
    job = run_until_settled(at)
    mid = job.key
    runs.store()._items.clear()  # what a server restart does to memory; the disk store keeps the run
    other = AppTest.from_file("../app.py", default_timeout=RUN_TIMEOUT)
    other.query_params["model"] = mid
    other.run()
    assert not other.exception and model_picker(other).value == mid

    runs.store()._items.clear()
    (runs.store().disk.root / f"{mid}.safetensors").unlink()  # evicted: only its card is left
    gone = AppTest.from_file("../app.py", default_timeout=RUN_TIMEOUT)
    gone.query_params["model"] = mid
    gone.run()
    assert "no longer held" in texts(gone.warning)
    assert model_picker(gone).value == "ours"
    gone.button(key="_retrain_gone").click()
    gone.run()
    assert not gone.exception, [e.value for e in gone.exception]
    again = gone.session_state["_retrain_job"]
    assert again.key == mid and again.info.cfg.steps == 20 and again.info.cfg.seed == 13
    assert dict(gone.query_params).get("cd_seed") == "13"  # page 3, its form filled with the run's settings
    assert again.wait(JOB_TIMEOUT) and runs.find(mid) is not None
