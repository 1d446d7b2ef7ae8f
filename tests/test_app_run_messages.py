"""Issue 16: what page 3 says about a finished run, and where (AppTest).

A finished run keeps its curves on screen with a sentence on why its loss is not a score; the message names its
dataset and goes away when the dataset or the model in view changes; the runs table compares steps and scores,
not wall-clock time; an upload with no model is told to press Retrain, not to go to page 3."""
from __future__ import annotations

import json

from cmcore import jobs
from ui import retrain_view
from tests.test_app_distillation import open_page, retrain_button, run_until_settled, texts

DATA_PICKER = "_data_picker"


def finished_run(seed: int):
    at = open_page({"cd_show": "1"})
    at.number_input(key="cd_steps").set_value(30)
    at.number_input(key="cd_seed").set_value(seed)  # a config no other test trains
    retrain_button(at).click()
    at.run()
    job = run_until_settled(at)
    assert job.state == jobs.DONE
    return at, job


def specs(at) -> str:
    """Every chart's Vega-Lite spec and data, as one string."""
    return " ".join(str(c.proto) for c in at.get("vega_lite_chart"))


def test_a_finished_run_keeps_its_curves_and_its_message_follows_the_dataset_and_model():
    at, job = finished_run(seed=11)
    success = texts(at.success)
    assert "Retrained on two moons: 30 steps" in success
    assert "wall-clock time, which depends on the server's load" in success
    drawn = specs(at)
    assert "loss (log scale)" in drawn and retrain_view.TRACK_NAME in drawn  # the curves did not vanish
    w2 = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart") if retrain_view.TRACK_NAME in str(c.proto)]
    assert len(w2) == 1
    spec = json.dumps(w2[0])
    assert '"title": "training step"' in spec and "NFE" not in spec and "log scale)\"" not in spec.split("training step")[0]
    assert "teacher (Euler ODE)" not in spec  # the legend lists the one line drawn
    legend = [layer["encoding"]["color"]["scale"]["domain"] for layer in w2[0]["layer"]
              if "color" in layer.get("encoding", {}) and "domain" in layer["encoding"]["color"].get("scale", {})]
    assert legend and all(d == [retrain_view.TRACK_NAME] for d in legend)
    assert not w2[0].get("title")  # the heading is drawn above the chart (a chart title was clipped in the column)
    captions = texts(at.caption)
    assert "it is not a score. W2 is the score." in captions
    # The runs table: steps and scores, no training time.
    table = at.dataframe[0].value
    assert "steps trained" in table.columns and not any("time" in c for c in table.columns)
    assert table["steps trained"].iloc[-1] == "30 of 30"
    # Another dataset: the message is about a model that is not in view, so it goes.
    at.selectbox(key=DATA_PICKER).select("circles").run()
    assert not at.exception
    assert "Retrained" not in texts(at.success)
    # Back on two moons, the picker is on our shipped defaults: still not the run's model, still no message.
    at.selectbox(key=DATA_PICKER).select("two_moons").run()
    assert "Retrained" not in texts(at.success)


def test_the_message_goes_when_another_model_is_picked():
    at, job = finished_run(seed=12)
    assert "Retrained on two moons" in texts(at.success)
    picker = next(s for s in at.selectbox if s.key and s.key.startswith("_model_picker"))
    picker.select("ours").run()
    at.run()
    assert not at.exception
    assert "Retrained" not in texts(at.success)


def progress(**fields) -> jobs.Progress:
    import numpy as np

    base = dict(state=jobs.RUNNING, step=2815, total=5200, loss_steps=np.arange(1.0, 3.0), losses=np.ones(2),
                elapsed=100.0, rate=25.0, eta=47.4, samples=None, samples_step=0, queue_position=None, watchers=1,
                error=None, phase="teacher", phase_step=2815, phase_total=4000, later=(("distillation", 1200),))
    return jobs.Progress(**{**base, **fields})


def test_the_progress_line_names_the_phase_and_its_own_time_left():
    assert retrain_view.progress_text(progress()) == (
        "Training the teacher: step 2,815 of 4,000 · 25 steps/s · about 47 s left in this phase, "
        "then 1,200 distillation steps")
    distilling = progress(step=4100, phase="distillation", phase_step=100, phase_total=1200, later=(), rate=8.0, eta=137.5)
    assert retrain_view.progress_text(distilling) == (
        "Distilling the teacher: step 100 of 1,200 · 8.0 steps/s · about 2 min 18 s left in this phase")
    assert retrain_view.progress_text(progress(step=5200, phase=jobs.SCORING, rate=None, eta=None)).startswith(
        "Scoring: measuring W2 of the new model")
    assert "measuring speed" in retrain_view.progress_text(progress(phase_step=3, rate=None, eta=None))
