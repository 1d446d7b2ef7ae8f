"""Exercise 3: consistency distillation, retrained live in the background, with the step's real code."""
import streamlit as st

from cmcore import datasets, stats
from cmcore.evaluate import compare
from cmcore.config import to_dict
from ui import compute, distill_notes, models, params, retrain_form, retrain_view, runs, show, stepcode, teach
from ui.params import Spec
from viz.charts import Panel
from viz import glossary
from viz.words import lesson
from viz.words.compare import says

PREDICTIONS = ("Clearly better: it was trained to land on the endpoint",
               "About the same: same network size, same single evaluation",
               "Worse: it only ever compared neighbouring noise levels")
spec = params.bind(Spec("distillation", [*retrain_form.FORM_PARAMS, teach.reveal_param("cd")]))

st.title("3. Consistency distillation")
st.markdown(r"A consistency model $f_\theta(x_t, t)$ learns from the flow-matching teacher. Each step draws data "
            r"$x_0$, noises it to a level $t_{n+1}$, lets the teacher take one ODE step down to the neighbouring level "
            r"$t_n$, and asks $f_\theta$ for the same answer at both ends of that step. The answer it must match comes "
            r"from $\theta^-$, an exponential moving average (EMA) of $\theta$ with rate μ.")
with st.expander("The training step that runs — from cmcore, the notebook's four TODO lines marked",
                 icon=":material/code:"):
    st.html(stepcode.step_code_html())
distill_notes.why_one_teacher_step(models.current().cm_cfg, models.current().label)
distill_notes.common_mistakes()

pressed = retrain_form.settings_form(spec)
cfg, teacher_name = retrain_form.form_config(), retrain_form.form_teacher()
problem = retrain_form.problem(cfg)
if problem:
    st.error(f"**These settings cannot be trained.** {problem}", icon=":material/block:")
elif refused := retrain_view.cost_section(teacher_name, cfg, models.current().dataset):
    st.error(f"**This server will not start this run.** {refused}", icon=":material/timer_off:")
elif pressed:
    retrain_view.start(teacher_name, cfg, models.current().dataset)
retrain_view.live_section()
params.sync(spec)

sel = models.current()
untrained = datasets.is_upload(sel.dataset) and not models.has_teacher(sel.teacher_cfg)  # nothing trained on it yet
if not problem and not untrained and (cfg != sel.cm_cfg or teacher_name != sel.teacher_name) and not runs.busy():
    st.caption(f":material/info: The panels below show *{sel.label}*. The settings above differ from it; "
               "press **Retrain** to train them and compare.")
if untrained:
    st.info(f"No model has been trained on {datasets.noun(sel.dataset)} yet (none is shipped for uploaded data). "
            "Press **Retrain** above: it trains the teacher on these points first, then distils it.",
            icon=":material/model_training:")
    st.stop()
teach.predict_first("cd", "Once distilled, how will the consistency model's single step compare with the teacher's "
                    "single Euler step, both from the same noise?", list(PREDICTIONS), "cd_show")
if not teach.revealed("cd", "cd_show"):
    teach.hidden_note()
    st.stop()

n, seed, dataset = compute.STANDARD.n, compute.STANDARD.seeds[0], sel.teacher_cfg.dataset
show.panel_grid([Panel("Real data", compute.real_points(dataset, n, seed), "real"),
                 Panel("Teacher · 50 Euler steps", compute.teacher_points(sel.teacher_cfg, 50, n, seed), "teacher"),
                 Panel("Teacher · 1 Euler step", compute.teacher_points(sel.teacher_cfg, 1, n, seed), "teacher_one"),
                 Panel("Consistency model · 1 step", compute.cm_points(sel, 1, n, seed), "consistency")],
                per_row=4, size=200)
show.legend(["real", "teacher", "teacher_one", "consistency"])
with st.spinner(f"Scoring the panels with the protocol ({compute.STANDARD.describe()}) ..."):
    floor, t50 = compute.floor_score(dataset), compute.teacher_score(sel.teacher_cfg, 50)
    t1, cm1 = compute.teacher_score(sel.teacher_cfg, 1), compute.cm_score(sel, 1)
    # Our shipped pair on the same data (an upload has none: no comparison with a model of other data).
    reference = (None if sel.model_id == "ours" or datasets.is_upload(dataset)
                 else compute.cm_score(models.shipped("ours", dataset), 1))
m = st.columns(4)
for col, (name, score) in zip(m, [(f"Floor: two real samples of {compute.STANDARD.n:,}", floor), ("Teacher, 50 steps", t50),
                                  ("Teacher, 1 step", t1), ("Consistency model, 1 step", cm1)]):
    col.metric(f"W2 · {name}", f"{score.mean:.3f}", help=f"{score} (mean ± standard error, {score.describe()}).\n\n"
              + glossary.tips("w2", "floor"))
    col.caption(f"± {score.sem:.3f}")
st.caption(f"Panels: {n:,} noise points of seed {seed}. W2: mean ± standard error over {stats.scores_words(floor, t50, t1, cm1)}, "
           f"each against a fresh real sample. Model: {sel.label}, trained on {datasets.noun(dataset)}.")
vs = compare(cm1, t1)
teach.verdict("cd", (PREDICTIONS[0],) if vs.lower else (PREDICTIONS[2],) if vs.higher else (PREDICTIONS[1],),
              says(vs, "the consistency model's one step", "the teacher's one step") + f": W2 {cm1} against {t1}.")
teach.what_happened(lesson.distillation_story(t50, t1, cm1, floor, to_dict(sel.cm_cfg), reference))
distill_notes.training_curves(sel)
retrain_view.runs_table()
teach.takeaway("Distillation gives the student neither a bigger network nor more compute; it changes the question the "
               "network answers: not which way to move at $(x_t, t)$, but where the whole ODE path ends. Whether the "
               "neighbour-matching loss actually stitches the teacher's steps into one jump depends on the recipe; "
               "the numbers above say how this model did, and *The lesson, checked* has the measured effect of each setting.")
