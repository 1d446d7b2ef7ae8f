"""The lesson, checked: both recipes against the lesson's claims, which change fixes which claim, and collapse."""
import pandas as pd
import streamlit as st

from cmcore import datasets, evaluate, stats, zoo
from cmcore.config import to_dict
from ui import compute, models, params, runs
from ui.params import Spec
from viz import checked_charts, compare_charts, glossary, lesson_claims, names
from viz.words import claims as claim_words
from viz.words import study as study_words
from viz.charts import PALETTE

STATUS = {evaluate.HOLDS: "holds", evaluate.FAILS: "does not hold", evaluate.UNDECIDED: "undecided: inside the noise",
          evaluate.NOT_APPLICABLE: "not applicable"}
SERIES = {("lesson", "cm"): PALETTE["teacher_one"], ("lesson", "teacher"): PALETTE["endpoint"],
          ("ours", "cm"): PALETTE["consistency"], ("ours", "teacher"): PALETTE["teacher"]}
spec = params.bind(Spec("lesson_checked", []))
params.sync(spec)

st.title("The lesson, checked")
sel = models.current()
dataset, std = sel.dataset, compute.STANDARD
st.markdown("The lesson's notebook makes claims about what consistency models do. Here both recipes, the lesson's and "
            "ours, are measured against them, with the protocol: W2 (lower is better) as mean ± standard error over "
            f"the evaluation seeds (named under the chart), read against {glossary.floor_words(std.n)}, "
            f"{compute.floor_score(dataset)}.",
            help=glossary.tips("w2", "protocol", "floor"))
if datasets.is_upload(dataset):
    st.info("No recipe is shipped for uploaded points; pick a built-in dataset in the sidebar to see this page.",
            icon=":material/info:")
    st.stop()

st.subheader("Both recipes, step by step")
recipes = {name: models.shipped(name, dataset) for name in zoo.RECIPES}
scored = [(f"{names.RECIPE_NAMES[name]}: {who}", k, s)
          for name, m in recipes.items()
          for who, table in (("consistency model", {k: compute.cm_score(m, k) for k in evaluate.CM_STEPS}),
                             ("teacher's Euler ODE", {k: compute.teacher_score(m.teacher_cfg, k)
                                                      for k in evaluate.TEACHER_STEPS}))
          for k, s in table.items()]
rows = [{"run": run, "nfe": k, "w2": s.mean, "sem": s.sem} for run, k, s in scored]
series = [f"{names.RECIPE_NAMES[n]}: {w}" for n in recipes for w in ("consistency model", "teacher's Euler ODE")]
floor = compute.floor_score(dataset)
st.vega_lite_chart(compute.chart_spec(compare_charts.nfe_chart, pd.DataFrame(rows), series,
                                      [SERIES[(n, w)] for n in recipes for w in ("cm", "teacher")],
                                      floor.mean, floor.sem), width="stretch")
st.caption(f"Trained on {datasets.noun(dataset)}. W2 over {stats.scores_words(*(s for *_, s in scored))}. Bars: ± one "
           f"standard error. Blue dashes: {glossary.floor_words(std.n)}.",
           help=glossary.tips("nfe", "teacher", "consistency_model"))

lesson, ours = (compute.claims(recipes[n]) for n in ("lesson", "ours"))
table = [{"in the notebook": f"“{lesson_claims.NOTEBOOK[a.key].quote}”" if a.key in lesson_claims.NOTEBOOK else a.text,
          "checked as": a.text, "lesson's recipe": STATUS[a.status], "our defaults": STATUS[b.status],
          "lesson's numbers": claim_words.evidence(a), "our numbers": claim_words.evidence(b)}
         for a, b in zip(lesson, ours)]
st.subheader("Where this app departs from the lesson, and why")
st.table(pd.DataFrame(table).set_index("in the notebook"))
cfgs = {k: (to_dict(r.teacher), to_dict(r.consistency)) for k, r in ((k, zoo.recipe(k, dataset)) for k in zoo.RECIPES)}
st.markdown(claim_words.departure(lesson, ours, cfgs["lesson"], cfgs["ours"]))

st.subheader("The models of this session")
choices = list(recipes.values()) + [models.of_run(r) for r in runs.session_runs() if r.dataset == dataset]
with st.spinner(f"Scoring this session's runs with the protocol ({std.describe()}; once per run) ..."):
    st.table(pd.DataFrame([{"model": c.label + (" (in use)" if c.model_id == sel.model_id else ""),
                            "consistency, 1 step": str(compute.cm_score(c, 1)),
                            "consistency, 2 steps": str(compute.cm_score(c, 2)),
                            "teacher, 1 step": str(compute.teacher_score(c.teacher_cfg, 1)),
                            "teacher, 50 steps": str(compute.teacher_score(c.teacher_cfg, 50))}
                           for c in choices]).set_index("model"))

found = compute.study()
if found is None:
    st.info("The one-change study has not been measured on this server.", icon=":material/info:")
    st.stop()
st.subheader("Which change does it")
st.markdown(f"Measured on two moons, the lesson's data, whichever dataset is chosen: the lesson's recipe with one of "
            f"our changes, and ours with one change reverted (W2 over {found.spec.describe()}).")
for f in found.findings():
    st.markdown(f"- *{f.text}* {study_words.finding_text(f)}")

st.subheader("Does the EMA target prevent collapse?")
st.markdown("The notebook says the slowly moving target θ⁻ keeps the model from collapsing to a constant. Measured, "
            "distilling from our teacher with three values of μ, starting from the teacher or from random weights. A "
            "run counts as collapsed when its one-step samples are measurably narrower than "
            f"{found.collapse_fraction:g} × the data's spread ({found.data_spread}) and no better than the teacher's "
            "single step.", help=glossary.tips("ema_mu", "theta", "collapse"))
grid = [r for r in found.collapse_rows() if r.teacher == "ours"]
st.altair_chart(checked_charts.collapse_grid(pd.DataFrame(
    [{"mu": r.mu, "start": names.value_word("init_from_teacher", r.init), "collapsed": r.collapsed,
      "label": f"W2 {r.w2_1.mean:.2f}\nspread {r.spread.mean:.2f}"} for r in grid])), width="content")
st.table(pd.DataFrame([{"run": r.label, "W2, 1 step": str(r.w2_1), "spread of the samples": str(r.spread),
                        "collapsed": "yes" if r.collapsed else "no"} for r in found.collapse_rows()]).set_index("run"))
st.markdown(study_words.collapse_statement(found.collapse_rows()))
with st.expander("How this was measured", icon=":material/terminal:"):
    st.markdown(f"Every number on this page is stored with the app. The study was run with `{found.command}` "
                f"({found.total_seconds / 60:.0f} min on {found.machine}); the recipes' tables with "
                "`python -m cmcore eval --write`.")
