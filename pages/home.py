"""Home: what consistency models are, the map of the pages, the models in use, the lesson's claims, where we depart."""
import pandas as pd
import streamlit as st

from cmcore import datasets, evaluate, zoo
from cmcore.config import to_dict
from ui import compute, models, params, runs
from ui.params import Spec
from viz import words

EXERCISES = [
    ("pages/1_self-consistency.py", "1. Self-consistency", "Restart the ODE mid-way along a trajectory: "
     "does it land at the same end?"),
    ("pages/2_one-step-ode.py", "2. One step vs ODE", "Take one giant solver step and see how far off "
     "it lands, and why."),
    ("pages/3_distillation.py", "3. Distillation", "Train a consistency model from the teacher, "
     "live, and compare one-step samples."),
    ("pages/4_multistep.py", "4. Multi-step", "Jump, re-noise, jump again: quality against the "
     "number of network calls."),
]
BADGE = {evaluate.HOLDS: ":material/check_circle: :green[holds]",
         evaluate.FAILS: ":material/cancel: :red[does not hold]",
         evaluate.UNDECIDED: ":material/help: :orange[undecided: inside the noise]",
         evaluate.NOT_APPLICABLE: ":material/remove_circle: :gray[not applicable]"}
spec = params.bind(Spec("home", []))

st.title("Consistency Explorer")
sel = models.current()
st.markdown(
    "A diffusion or flow model generates by solving an ODE from noise to data, and an accurate solve takes tens "
    "of network calls. Every point on one of those ODE paths ends at the same clean sample. A **consistency "
    "model** is trained to output that end directly, from any point of the path, so a sample costs one call "
    "(or a few, if you want more quality). These pages rebuild the lesson's four exercises on 2D data with "
    f"real models, and let you change every setting. The data now: **{datasets.noun(sel.dataset)}** (pick another "
    "dataset, or upload your own points, in the sidebar; every page follows).")
cols = st.columns(4)
for col, (path, title, blurb) in zip(cols, EXERCISES):
    with col.container(border=True):
        st.page_link(path, label=f"**{title}**", icon=":material/arrow_forward:")
        st.caption(blurb)
params.sync(spec)

std = compute.STANDARD
st.subheader("The models in use")
st.markdown(f"Every page uses **{sel.label}** (change it in the sidebar). W2 is the 2-Wasserstein distance to real "
            f"data (lower is better), as mean ± standard error over {std.describe()}; two real samples of "
            f"{datasets.noun(sel.dataset)} score "
            f"**{compute.floor_score(sel.teacher_cfg.dataset)}**, the floor no model can beat.")
choices = ([models.shipped("ours", sel.dataset), models.shipped("lesson", sel.dataset)]
           + [models.of_run(r) for r in runs.session_runs() if r.dataset == sel.dataset])
if sel.model_id not in {c.model_id for c in choices}:
    choices.append(sel)
rows = []
with st.spinner("Scoring this session's runs with the protocol (once per run) ..."):
    for c in choices:
        rows.append({"model": c.label + (" (in use)" if c.model_id == sel.model_id else ""),
                     "consistency, 1 step": str(compute.cm_score(c, 1)),
                     "consistency, 2 steps": str(compute.cm_score(c, 2)),
                     "teacher, 1 step": str(compute.teacher_score(c.teacher_cfg, 1)),
                     "teacher, 50 steps": str(compute.teacher_score(c.teacher_cfg, 50)),
                     "settings that differ from ours": words.settings_summary(
                         to_dict(c.cm_cfg), to_dict(zoo.DEFAULT.consistency), c.teacher_name == "lesson")})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

st.subheader(f"The lesson's claims, checked on the model in use ({datasets.noun(sel.dataset)})")
with st.spinner(f"Measuring W2 of {sel.label} at every step count ({std.describe()}; once per model) ..."):
    claims = compute.claims(sel)
counts = {s: sum(c.status == s for c in claims) for s in BADGE}
st.markdown(words.claim_summary(counts, len(claims), sel.label))
for c in claims:
    st.markdown(f"{BADGE[c.status]}: {c.text}  \n:gray[{c.evidence}]")

st.subheader("Where this app departs from the lesson, and why")
lesson, ours = compute.claims(models.shipped("lesson", sel.dataset)), compute.claims(models.shipped("ours", sel.dataset))
st.caption(f"Both recipes as shipped, trained on {datasets.noun(sel.dataset)}.")
st.dataframe(pd.DataFrame([{"claim": a.text, "lesson's recipe": a.status, "our defaults": b.status,
                            "lesson's numbers": a.evidence, "our numbers": b.evidence} for a, b in zip(lesson, ours)]),
             hide_index=True, width="stretch")
cfgs = {k: (to_dict(r.teacher), to_dict(r.consistency)) for k, r in ((k, zoo.recipe(k, sel.dataset)) for k in zoo.RECIPES)}
st.markdown(words.departure(lesson, ours, cfgs["lesson"], cfgs["ours"]))

found = compute.study()
if found is None:
    st.info("The one-change study is not available (run `python -m cmcore study`).", icon=":material/info:")
else:
    st.markdown(f"**Which change does it, measured on two moons**, the lesson's data, whichever dataset is chosen "
                f"(`{found.command}`: the lesson's recipe with one of our changes, "
                f"and ours with one change reverted; W2 over {found.spec.describe()}):")
    for f in found.findings():
        st.markdown(f"- {words.finding_text(f)}")
    st.subheader("Does the EMA target prevent collapse?")
    st.markdown("The lesson says the slowly moving target θ⁻ keeps the model from collapsing to a constant. "
                "Measured, distilling from our teacher with three values of μ, with and without starting from the "
                "teacher (a run counts as collapsed when its one-step samples are measurably narrower than "
                f"{found.collapse_fraction:g} × the data's spread and no better than the teacher's single step):")
    st.dataframe(pd.DataFrame([{"run": r.label, "W2, 1 step": str(r.w2_1), "spread of the samples": str(r.spread),
                                "collapsed": "yes" if r.collapsed else "no"} for r in found.collapse_rows()]),
                 hide_index=True, width="stretch")
    st.markdown(found.collapse_statement())
