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
from ui import retrain

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
    for job in retrain.manager().jobs():
        if job.progress().active:
            retrain.manager().shutdown()
            break


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def test_page_renders_at_defaults():
    at = open_page({"cd_show": "1"})
    assert at.number_input(key="cd_steps").value == zoo.DEFAULT.consistency.steps
    assert at.selectbox(key="cd_mode").value == "distillation"
    assert len(at.html) == 1 and 'class="ln hl"' in at.html[0].value
    charts = [c for c in at.main.children.values() if getattr(c, "type", "") == "vega_lite_chart"]
    spec = json.dumps(json.loads(charts[0].proto.spec), ensure_ascii=False)
    for title in ("Real data", "Teacher · 50 Euler steps", "Teacher · 1 Euler step", "Consistency model · 1 step"):
        assert title in spec
    assert spec.count("W2 ") == 4
    assert "What just happened" in texts(at.markdown)
    assert not at.error


def test_step_code_is_cmcore_and_marks_the_four_exercise_lines():
    sources = retrain.step_sources()
    assert retrain.missing_patterns(sources) == []
    assert {n for s in sources for n in s.marks.values()} == {1, 2, 3, 4}
    page = retrain.step_code_html()
    shown = re.sub(r'<span class="ln[^"]*">', "\n", page)  # one source line per "ln" span
    shown = html.unescape(re.sub(r"<[^>]+>", "", shown))  # the text a reader sees
    for fn in (consistency.distillation_pair, flow.interpolate, flow.ode_step, consistency.consistency_loss,
               consistency.ema_update):
        assert f"· {fn.__qualname__}" in shown
        for line in textwrap.dedent(inspect.getsource(fn)).splitlines():
            assert line.strip() in shown, line
    assert page.count('class="ln hl"') == sum(len(s.marks) for s in sources)


def test_retrain_runs_to_the_end_and_is_then_the_model_on_every_page():
    at = open_page({"cd_show": "1"})
    at.number_input(key="cd_steps").set_value(30)
    at.number_input(key="cd_seed").set_value(7)  # a config no other test trains
    retrain_button(at).click()
    at.run()
    assert at.get("progress") or at.session_state["_retrain_job"].progress().state == jobs.DONE
    job = run_until_settled(at)
    assert job.state == jobs.DONE
    cfg = dataclasses.replace(zoo.DEFAULT.consistency, steps=30, seed=7)
    assert job.key == retrain.job_key(zoo.DEFAULT.teacher, cfg) and job.info == cfg
    assert at.session_state["session_model"] == cfg
    assert at.query_params["model"] == "session"
    assert "Retrained in" in texts(at.success)
    assert at.sidebar.selectbox(key="_model_picker").value == "session"
    assert "Your retrain took" in texts(at.markdown)
    assert dict(at.query_params).get("cd_steps") == "30"  # the settings are in the link too

    at.query_params.clear()  # as in a browser: moving to another page drops the query string
    at.switch_page("pages/4_multistep.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key="_model_picker").value == "session"
    assert at.query_params["model"] == "session"  # and the link says so again
    assert retrain.finished_model(zoo.DEFAULT.teacher, cfg) is job.result.model


def test_stop_cancels_and_keeps_nothing():
    at = open_page()
    at.number_input(key="cd_steps").set_value(200_000)
    retrain_button(at).click()
    at.run()
    job = at.session_state["_retrain_job"]
    assert job.progress().active and at.get("progress")
    at.button(key=retrain.STOP_KEY).click()
    job = run_until_settled(at)
    assert job.state == jobs.CANCELLED and job.result is None
    with pytest.raises(LookupError, match="Retrain"):
        retrain.finished_model(zoo.DEFAULT.teacher, job.info)
    assert "Nothing was kept" in texts(at.info)
    assert "session_model" not in at.session_state
    assert at.sidebar.selectbox(key="_model_picker").value == "ours"


def test_a_second_session_joins_the_same_run_and_its_stop_only_detaches():
    first, second = open_page(), open_page()
    for at in (first, second):
        at.number_input(key="cd_steps").set_value(150_000)
        retrain_button(at).click()
        at.run()
    job = first.session_state["_retrain_job"]
    assert second.session_state["_retrain_job"] is job and job.progress().watchers == 2
    second.button(key=retrain.STOP_KEY).click()
    second.run()
    assert job.progress().active and not job.progress().stopping
    assert "continues for the 1 other session" in texts(second.info)
    first.button(key=retrain.STOP_KEY).click()
    assert run_until_settled(first).state == jobs.CANCELLED


def test_bad_query_parameters_are_corrected_with_a_note():
    at = open_page({"cd_levels": "99999", "cd_mode": "banana", "cd_lr": "fast", "cd_bogus": "1"})
    note = texts(at.warning)
    for name in ("cd_levels", "cd_mode", "cd_lr", "cd_bogus"):
        assert name in note
    assert at.number_input(key="cd_levels").value == zoo.DEFAULT.consistency.n_levels
    assert at.selectbox(key="cd_mode").value == "distillation"
    assert at.number_input(key="cd_lr").value == zoo.DEFAULT.consistency.lr
    assert not {"cd_levels", "cd_mode", "cd_lr", "cd_bogus"} & set(at.query_params)


def test_an_absurd_combination_gets_a_clear_message_and_does_not_train():
    linked = open_page({"cd_mode": "training", "cd_init": "1"})  # from a link
    message = texts(linked.error)
    assert "cannot be trained" in message and "init_from_teacher" in message

    at = open_page()  # from the form: consistency training has no teacher to start from
    assert not at.error
    at.selectbox(key="cd_mode").set_value("training")
    retrain_button(at).click()
    at.run()
    assert not at.exception
    assert "init_from_teacher" in texts(at.error)
    assert "_retrain_job" not in at.session_state


def test_what_happened_follows_the_numbers():
    sel = retrain.models.Selection("ours", zoo.DEFAULT.teacher, zoo.DEFAULT.consistency)
    good = retrain.Scores(floor=0.06, teacher_50=0.15, teacher_1=1.9, cm_1=0.16)
    bad = retrain.Scores(floor=0.06, teacher_50=0.15, teacher_1=1.2, cm_1=1.9)
    text_good, text_bad = retrain.what_happened(good, sel), retrain.what_happened(bad, sel)
    assert "11.9× closer" in text_good and "within 10 %" in text_good
    assert "does not beat" in text_bad and "1.900" in text_bad and "12.7× better" in text_bad
    assert retrain.measured_prediction(good) == retrain.PREDICTIONS[0]
    assert retrain.measured_prediction(bad) == retrain.PREDICTIONS[2]
    lesson = retrain.models.Selection("lesson", zoo.RECIPES["lesson"].teacher, zoo.RECIPES["lesson"].consistency)
    assert "μ = 0.999" in retrain.what_happened(bad, lesson) and "random weights" in retrain.what_happened(bad, lesson)
