"""Home: one figure of what a consistency model does, where to start, and the lesson's claims checked."""
import streamlit as st

from cmcore import datasets, evaluate, stats
from ui import compute, later, models, params, show
from ui.params import Spec
from viz import glossary, lesson_claims
from viz.words import claims as claim_words
from viz.charts import Panel

EXERCISES = [
    ("pages/1_self-consistency.py", "1. Self-consistency", "Restart the ODE mid-way along a path: does it land at "
     "the same end?"),
    ("pages/2_one-step-ode.py", "2. One step vs ODE", "Take one giant solver step and see how far off it lands."),
    ("pages/3_distillation.py", "3. Distillation", "Train a consistency model from the teacher, live."),
    ("pages/4_multistep.py", "4. Multi-step", "Jump, re-noise, jump again: quality against network calls."),
]
BADGE = {evaluate.HOLDS: ":material/check_circle: :green[holds]",
         evaluate.FAILS: ":material/cancel: :red[does not hold]",
         evaluate.UNDECIDED: ":material/help: :orange[undecided: inside the noise]",
         evaluate.NOT_APPLICABLE: ":material/remove_circle: :gray[not applicable]"}
PANEL_SIZE = 210  # px: four panels and their axes fit the wide layout at 1,400 px
spec = params.bind(Spec("home", []))
params.sync(spec)

st.title("Consistency Explorer")
sel = models.current()
std, dataset = compute.STANDARD, sel.dataset
st.markdown("A flow model turns noise into data by following an ODE path in many small steps. A **consistency "
            "model** learns to jump to the end of that path in one network call. Here is the same noise, three ways, "
            f"on **{datasets.noun(dataset)}** with *{sel.label}* (both chosen in the sidebar):")

try:  # an upload with no model trained yet: its real points, and how to train one
    scores = {"t1": compute.teacher_score(sel.teacher_cfg, 1), "t50": compute.teacher_score(sel.teacher_cfg, 50),
              "cm1": compute.cm_score(sel, 1)}
except LookupError as exc:
    scores = None
    st.warning(str(exc), icon=":material/model_training:")
floor = compute.floor_score(dataset)
n, seed = std.n, std.seeds[0]


def _figure(*points) -> None:
    subtitle = {k: f"W2 {s}" for k, s in (scores or {}).items()}
    panels = [Panel("Real data", points[-1], "real", f"floor {floor}")]
    if scores:
        panels = [Panel("Teacher · 1 Euler step", points[0], "teacher_one", subtitle["t1"]),
                  Panel("Teacher · 50 Euler steps", points[1], "teacher", subtitle["t50"]),
                  Panel("Consistency model · 1 step", points[2], "consistency", subtitle["cm1"])] + panels
    show.panel_grid(panels, per_row=4, size=PANEL_SIZE)
    show.legend([p.color for p in panels])


calls = ([later.call(compute.teacher_points, sel.teacher_cfg, 1, n, seed),
          later.call(compute.teacher_points, sel.teacher_cfg, 50, n, seed), later.call(compute.cm_points, sel, 1, n, seed)]
         if scores else []) + [later.call(compute.real_points, dataset, n, seed)]
later.fill_in(f"the samples of noise seed {seed}", _figure, *calls)
st.caption(f"Each panel: {n:,} points from the same noise (seed {seed}). Titles: W2 to real data (lower is better), "
           f"mean ± standard error by the protocol ({stats.scores_words(*(scores or {}).values(), floor)}); the real "
           f"data's is {glossary.floor_words(n)}. NFE: 1, 50 and 1 network calls.", help=glossary.tips("w2", "floor", "euler", "nfe"))

with st.container(border=True):
    st.page_link(EXERCISES[0][0], label="**Start here: exercise 1, self-consistency**", icon=":material/play_circle:")
    st.caption("Then go through the exercises in order; each asks you to predict before it shows the numbers.")
cols = st.columns(4)
for col, (path, title, blurb) in zip(cols, EXERCISES):
    with col.container(border=True):
        st.page_link(path, label=f"**{title}**", icon=":material/arrow_forward:")
        st.caption(blurb)

lesson = models.shipped("lesson", dataset)
if not datasets.is_upload(dataset):
    st.markdown(claim_words.lesson_teacher_sentence(compute.teacher_score(lesson.teacher_cfg, 50), floor, n,
                                                      datasets.noun(dataset)))

st.subheader(f"The lesson's claims, checked on {sel.label}")
if scores is None:
    st.info("The claims are checked once a model of these points is trained (page 3).", icon=":material/info:")
    st.stop()
with st.spinner(f"Measuring W2 of {sel.label} at every step count ({std.describe()}; once per model) ..."):
    claims = compute.claims(sel)
st.markdown(claim_words.claim_summary({s: sum(c.status == s for c in claims) for s in BADGE}, len(claims), sel.label))
asserted, predicted = lesson_claims.split(claims)
for col, (head, pairs) in zip(st.columns(2), (("What the notebook asserts", asserted),
                                               ("What it asks you to predict", predicted))):
    col.markdown(f"**{head}**")
    for claim, nb in pairs:
        how = f" ({nb.stricter})" if nb.stricter else ""
        col.markdown(f"“{nb.quote}” :gray[({nb.where})]  \n{BADGE[claim.status]}: {claim.text}{how}  \n"
                     f":gray[{claim_words.evidence(claim)}]")
c = st.columns(2)
c[0].page_link("pages/lesson_checked.py", label="The lesson, checked", icon=":material/fact_check:")
c[0].caption("Both recipes against every claim, the one setting that fixes each, and whether the EMA target "
             "prevents collapse.")
c[1].page_link("pages/glossary.py", label="Glossary", icon=":material/menu_book:")
c[1].caption("Every term these pages use, defined once.")
