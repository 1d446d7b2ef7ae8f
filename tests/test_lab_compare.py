"""AppTest for the "Recipes compared" lab page: defaults, verdicts from the numbers shown, reuse, Train, links."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from cmcore import evaluate, jobs, zoo
from cmcore.presets import PRESETS, Preset
from cmcore.retrain_job import Tracker
from cmcore.stats import compare
from ui import runs
from viz.words import compare as cw
from viz.words.compare import says
from viz import names
from tests.conftest import charts, no_exception

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "pages/lab_compare.py"
TIMEOUT = 300  # a guard for a first run that scores a new model on a loaded machine
UNTRAINED = "ours_karras"  # a preset no test trains to the end


def open_page(query: dict | None = None, session_runs: list[str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if session_runs:
        at.session_state["_session_runs"] = session_runs
    at.run()  # AppTest maps a file to its st.navigation url_path only after a first run
    at.query_params.update(query or {})
    at.switch_page(PAGE)
    return at.run()


def text(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("markdown", "caption", "info", "warning") for e in getattr(at, kind))


def shown_scores(chart) -> dict[str, dict[int, float]]:
    """run series -> {nfe: W2 mean}, as the NFE chart's data (Arrow datasets sent to the browser) holds them."""
    out: dict[str, dict[int, float]] = {}
    for dataset in chart.proto.datasets:
        df = convert_arrow_bytes_to_pandas_df(dataset.data.data)
        if {"run", "nfe", "w2"} <= set(df.columns):
            for r in df.itertuples():
                out.setdefault(r.run, {})[int(r.nfe)] = r.w2
    return out


@pytest.fixture(autouse=True)
def no_jobs_left_behind():
    yield
    for job in runs.manager().jobs():
        if job.progress().active:
            job.request_cancel()
            job.wait(60)


def test_defaults_draw_both_charts_and_a_verdict_computed_from_the_numbers_shown():
    at = open_page()
    no_exception(at)
    assert at.selectbox(key="rc_a").value == "lesson" and at.selectbox(key="rc_b").value == "ours"
    specs = charts(at)
    assert len(specs) == 2, "W2 along training and W2 against NFE"
    tables = {name: zoo.load_quality(r.teacher, r.consistency) for name, r in zoo.RECIPES.items()}
    a, b = tables["lesson"].consistency, tables["ours"].consistency
    data = shown_scores(specs[1])
    assert data == {f"A: {names.shipped_name('lesson')}": {k: a[k].mean for k in evaluate.CM_STEPS},
                    f"B: {names.shipped_name('ours')}": {k: b[k].mean for k in evaluate.CM_STEPS}}
    body = text(at)
    assert cw.nfe_summary("**A**", "**B**", {k: compare(b[k], a[k]) for k in evaluate.CM_STEPS}) in body
    for k in evaluate.CM_STEPS:
        assert f"B {b[k]}, A {a[k]}. {says(compare(b[k], a[k]), 'B', 'A')}." in body
    assert "went from" in body and "At the end of training" in body  # the stored tracks of the shipped pairs
    assert not at.button  # nothing to train: both are shipped


@pytest.fixture(scope="module")
def session_run() -> runs.RunModel:
    """A short run trained through the real job path (job manager, Tracker, store), as page 3 would."""
    cfg = dataclasses.replace(zoo.DEFAULT.consistency, steps=40, batch=128, threads=1, seed=23)
    teacher = zoo.load_teacher(zoo.DEFAULT.teacher).model
    tracker = Tracker("ours", cfg, "two_moons", evaluate.eval_noise(0, 50)[0])
    manager = jobs.JobManager()  # no watcher lease: nobody polls this job while it trains
    try:
        job = manager.submit(runs.model_id("ours", cfg), runs._job_fn("ours", cfg, teacher, "two_moons", tracker), "fixture",
                             preview=tracker, info=tracker)
        assert job.wait(600) and job.state == jobs.DONE, job.progress().error
    finally:
        manager.shutdown()
    return runs.find(runs.model_id("ours", cfg))


def test_choosing_a_session_run_reuses_it_and_starts_no_job(session_run):
    before = {j.serial for j in runs.manager().jobs()}
    at = open_page(session_runs=[session_run.model_id])
    menu = at.selectbox(key="rc_b")
    assert menu.format_func(session_run.model_id) in menu.options  # a run of this session is on the menu
    at.selectbox(key="rc_b").set_value(session_run.model_id).run()
    no_exception(at)
    assert {j.serial for j in runs.manager().jobs()} == before and "_retrain_job" not in at.session_state
    assert at.query_params["rc_b"] in (session_run.model_id, [session_run.model_id])
    specs = charts(at)
    assert len(specs) == 2 and not at.button
    scores = dict(session_run.scores)  # scored by the job as it finished: the page shows these
    data = shown_scores(specs[1])
    b_series = next(s for s in data if s.startswith("B: "))
    assert data[b_series] == {k: scores[k].mean for k in evaluate.CM_STEPS}
    body = text(at)
    a = zoo.load_quality(zoo.RECIPES["lesson"].teacher, zoo.RECIPES["lesson"].consistency).consistency
    for k in evaluate.CM_STEPS:
        assert says(compare(scores[k], a[k]), "B", "A") in body
    last = session_run.track.points[-1]
    assert f"to {last.score} at step {last.step:,}" in body  # the run's own training track


def test_a_preset_without_a_model_offers_train_and_training_shows_progress():
    preset = PRESETS[UNTRAINED]
    mid = runs.model_id(preset.teacher, preset.cfg)
    assert runs.find(mid) is None
    at = open_page({"rc_b": UNTRAINED})
    no_exception(at)
    assert f"**B** ({names.run_name(preset.teacher, preset.cfg)}) has not been trained on this server yet." in text(at)
    assert "is not trained yet, so it has no training curve" in text(at)
    assert len(charts(at)) == 2  # A's track and A's scores: B has none to draw
    assert "The verdict needs both models" in text(at)
    train = at.button(key="rc_train_b")
    assert train.label == "Train it"
    train.click().run()
    job = at.session_state["_retrain_job"]
    assert job.key == mid and job.info.cfg == preset.cfg  # the normal retrain job, for exactly this preset
    assert any("**B** · " in p.proto.text for p in at.get("progress"))
    assert not any(b.key == "rc_train_b" for b in at.button)
    at.button(key="rc_stop_b").click().run()
    assert job.wait(120) and job.state == jobs.CANCELLED
    no_exception(at)
    assert runs.find(mid) is None


POLL = 0.5  # seconds between page reruns while a job runs (what the progress fragment's timer does in a browser)


def test_a_trained_preset_fills_in_when_its_run_ends(monkeypatch):
    """Train it -> progress -> the run ends -> the page draws B's track and scores and joins it to the session's runs.

    A 30-step preset is added to the registry for this test, so the run ends in seconds, not minutes.
    """
    cfg = dataclasses.replace(zoo.DEFAULT.consistency, steps=30, batch=64, threads=1, seed=31)
    monkeypatch.setitem(PRESETS, "tiny_test", Preset("tiny_test", "A 30-step test run", "ours", cfg, "30 steps"))
    at = open_page({"rc_b": "tiny_test"})
    at.button(key="rc_train_b").click().run()
    job = at.session_state["_retrain_job"]
    for _ in range(int(300 / POLL)):  # a guard against a hang, not a speed check
        if not job.progress().active:
            break
        at.run()  # renews this session's lease on the job, as the fragment does
        job.wait(POLL)
    assert job.state == jobs.DONE, job.progress().error
    at.run()
    no_exception(at)
    mid = runs.model_id("ours", cfg)
    assert at.session_state["_session_runs"][-1] == mid and not at.button
    assert len(charts(at)) == 2
    run = runs.find(mid)
    last = run.track.points[-1]
    body = text(at)
    assert f"to {last.score} at step {last.step:,}" in body and "**Verdict.**" in body
    b_scores = shown_scores(charts(at)[1])
    assert b_scores[f"B: {names.run_name('ours', cfg)}"] == {k: v.mean for k, v in run.scores}


def test_a_trained_preset_is_reused_not_retrained(session_run):
    """A preset whose content address the server holds is drawn from that model; no Train button."""
    preset = PRESETS["ours_20levels"]
    mid = runs.model_id(preset.teacher, preset.cfg)
    runs.store().put(dataclasses.replace(session_run, model_id=mid, cfg=preset.cfg, scores=()))
    before = {j.serial for j in runs.manager().jobs()}
    at = open_page({"rc_b": "ours_20levels"})
    no_exception(at)
    assert not at.button and {j.serial for j in runs.manager().jobs()} == before
    assert "Trained on this server: reused, not retrained." in text(at)
    assert len(charts(at)) == 2


def test_tampered_links_are_corrected_with_a_note():
    at = open_page({"rc_a": "bogus", "rc_b": "run-000000000000"})
    no_exception(at)
    note = " ".join(w.value for w in at.warning)
    assert "could not be used" in note and "`rc_a`" in note and "`rc_b`" in note
    assert at.selectbox(key="rc_a").value == "lesson" and at.selectbox(key="rc_b").value == "ours"
    assert "rc_a" not in at.query_params and "rc_b" not in at.query_params  # the corrected link
