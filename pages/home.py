"""Home: what consistency models are, the map of the exercises, the models in use, the lesson's claims."""
import pandas as pd
import streamlit as st

from cmcore import zoo
from ui import compute, models, params
from ui.params import Param, Spec

TEACHER_FIELDS = {"steps": "teacher steps", "lr": "teacher lr", "ema": "teacher EMA"}
CM_FIELDS = {"mode": "mode", "n_levels": "levels N", "schedule": "schedule", "ema_mu": "target μ", "lr": "lr",
             "steps": "steps", "batch": "batch", "teacher_solver": "teacher solver", "loss": "loss",
             "init_from_teacher": "init from teacher"}
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
spec = params.bind(Spec("home", [Param("home_live", False, "bool")]))

st.title("Consistency Explorer")
st.markdown(
    "A diffusion or flow model generates by solving an ODE from noise to data, and an accurate solve takes tens "
    "of network calls. Every point on one of those ODE paths ends at the same clean sample. A **consistency "
    "model** is trained to output that end directly, from any point of the path, so a sample costs one call "
    "(or a few, if you want more quality). These pages rebuild the lesson's four exercises on 2D two-moons "
    "data with real models, and let you change every setting.")
cols = st.columns(4)
for col, (path, title, blurb) in zip(cols, EXERCISES):
    with col.container(border=True, height=130):
        st.page_link(path, label=f"**{title}**", icon=":material/arrow_forward:")
        st.caption(blurb)

sel = models.selection()
shipped = zoo.is_shipped_consistency(sel.teacher_cfg, sel.cm_cfg)
st.subheader("The models in use")
st.toggle("Re-measure W2 now instead of reading it from the checkpoint", key="home_live", disabled=not shipped,
          help="The shipped checkpoints store the W2 table measured when they were written, with the same code "
               "and seeds. Re-measuring takes about half a minute on two cores.")
params.sync(spec)
q = compute.stored_quality(sel.teacher_cfg, sel.cm_cfg) if shipped and not st.session_state["home_live"] else None
if q is None:
    with st.spinner("Measuring W2 of both models at every step count (about half a minute, once) ..."):
        q = compute.quality(sel.teacher_cfg, sel.cm_cfg)
src = ("measured when the checkpoints were written (same code, same evaluation seeds)" if q.source == "checkpoint"
       else "measured now from the loaded models")
st.markdown(f"Every page uses **{sel.label}** (change it in the sidebar). The models available:")
rows = []
for name in ("ours", "lesson", "session"):
    cfgs = (zoo.RECIPES[name].teacher, zoo.RECIPES[name].consistency) if name != "session" else (
        (zoo.DEFAULT.teacher, models.session_model()) if models.session_model() else None)
    if cfgs is None:
        continue
    qn = q if name == sel.name else compute.stored_quality(*cfgs)
    rows.append({"model": models.MODEL_LABELS[name] + (" (in use)" if name == sel.name else ""),
                 "W2 consistency, 1 step": f"{qn.consistency[1]:.3f}" if qn else "select to measure",
                 "W2 teacher, 50 steps": f"{qn.teacher[50]:.3f}" if qn else "select to measure",
                 **{label: str(getattr(cfgs[0], f)) for f, label in TEACHER_FIELDS.items()},
                 **{label: str(getattr(cfgs[1], f)) for f, label in CM_FIELDS.items()}})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
m = st.columns(4)
m[0].metric("Teacher W2, 50 ODE steps", f"{q.teacher[50]:.3f}")
m[1].metric("Teacher W2, 1 ODE step", f"{q.teacher[1]:.3f}")
m[2].metric("Consistency W2, 1 step", f"{q.consistency[1]:.3f}")
m[3].metric("Consistency W2, 2 steps", f"{q.consistency[2]:.3f}")
st.caption(f"W2: 2-Wasserstein distance to real data, lower is better, mean over the evaluation seeds; {src}.")

st.subheader("The lesson's claims, checked on these models")
claims = q.claims()
held = sum(c.holds for c in claims)
st.markdown(f"{held} of {len(claims)} claims hold on **{sel.label}**. Self-consistency is measured now; "
            f"the W2 figures were {src}.")
for c in claims:
    mark = ":material/check_circle: :green[holds]" if c.holds else ":material/cancel: :red[does not hold]"
    st.markdown(f"{mark}: {c.text}  \n:gray[{c.evidence}]")
