"""Lab: one term of the consistency-distillation loss on the plane, at every checkpoint of a short run."""
import numpy as np
import pandas as pd
import streamlit as st

from cmcore.lab import snapshot_steps
from ui import compute, lab, models, params
from ui.params import Param, Spec
from viz import glossary, lab_charts
from viz.words import lab as lab_words
from viz.charts import PALETTE, zoom_domain
from viz.lab_charts import COST, NOISY, TARGET

sel = models.current()
last_n = sel.cm_cfg.n_levels - 1  # level pairs (t_n, t_{n+1}), n = 1 .. N-1
spec = params.bind(Spec("lab_anatomy", [
    Param("an_point", 0, lo=0, hi=lab.ANATOMY_POOL - 1), Param("an_noise", 0, lo=0, hi=9999),
    Param("an_n", min(6, last_n), lo=1, hi=last_n), Param("an_step", 0, "choice", choices=snapshot_steps())]))
st.session_state["an_n"] = min(st.session_state["an_n"], last_n)  # another model may have fewer levels

st.title("Anatomy of one distillation step")
st.markdown("One term of the loss, taken apart: a data point x₀ is noised to level tₙ₊₁, the teacher takes "
            "one ODE step down to tₙ, and the consistency model is asked for the same answer from both places: the "
            "online network f_θ at the higher level, its slow copy f_θ⁻ (the target) at the lower one. The loss is "
            "the gap. Step through the checkpoints of a short training run and watch the two predictions meet.")
p = {k: spec[k] for k in ("an_point", "an_noise", "an_n", "an_step")}
with st.container(border=True):
    c = st.columns(4)
    c[0].number_input("Data point (index)", int(p["an_point"].lo), int(p["an_point"].hi), key="an_point")
    c[1].number_input("Noise seed", int(p["an_noise"].lo), int(p["an_noise"].hi), key="an_noise")
    c[2].slider("Level pair n: (tₙ, tₙ₊₁)", int(p["an_n"].lo), int(p["an_n"].hi), key="an_n",
                help=glossary.tip("levels"))
    c[3].select_slider("Checkpoint (training step)", p["an_step"].choices, key="an_step")
params.sync(spec)
point, noise, n, step = (st.session_state[k] for k in ("an_point", "an_noise", "an_n", "an_step"))
with st.spinner("Training a short run of this recipe once for the server, saving θ and θ⁻ every "
                f"{snapshot_steps()[1]} steps (a few seconds on two free cores) ..."):
    v = lab.anatomy(sel, point, noise, n)
i = v.steps.index(step)
L = lab_words.anatomy_labels(n, v.run_cfg.mode, v.run_cfg.teacher_solver, v.run_cfg.loss)
S = lab_words.anatomy_symbols(n, v.run_cfg.mode)
loss = (f"{L.loss} = {v.loss[i]:.2e}", COST, (v.online[i] + v.target[i]) / 2, "")
marks = [(L.x0, PALETTE["real"], v.x0, S.x0), (L.x_next, NOISY, v.x_next, S.x_next),
         (L.x_hat, PALETTE["teacher"], v.x_hat, S.x_hat), (L.online, PALETTE["consistency"], v.online[i], ""),
         (L.target, TARGET, v.target[i], ""), (L.endpoint, PALETTE["endpoint"], v.endpoint, ""), loss]
arrows = [(NOISY, "dotted", 0, 1), (PALETTE["teacher"], "solid", 1, 2), (PALETTE["consistency"], "dashed", 1, 3),
          (TARGET, "dashed", 2, 4), (COST, "solid", 3, 4)]
near = [(lab_, hue, pt, sym) for (lab_, hue, pt, _), sym in zip(marks[3:], (S.online, S.target, S.endpoint, ""))]
everything = zoom_domain(np.array([m[2] for m in marks]), pad=0.15, min_span=1.0)
meeting = zoom_domain(np.array([v.online[i], v.target[i], v.endpoint]), pad=0.35, min_span=0.02)
left, right = st.columns(2)
left.vega_lite_chart(compute.chart_spec(
    lab_charts.anatomy_plane, v.real, marks, arrows, everything, f"The step from t = {v.t_next:.3f} to {v.t_n:.3f}",
    "dotted: noising · green: teacher step · dashed: the two predictions"), width="content")
right.vega_lite_chart(compute.chart_spec(
    lab_charts.anatomy_plane, v.real[:0], near, [(COST, "solid", 0, 1)], meeting, "Where the predictions meet (zoomed)",
    f"trails: θ and θ⁻ from step 0 to {step}", [(PALETTE["consistency"], v.online[:i + 1]),
                                                (TARGET, v.target[:i + 1])]), width="content")
c = st.columns(3)
c[0].metric("Gap |f_θ − f_θ⁻|", f"{v.gap[i]:.4f}", f"{v.gap[i] - v.gap[0]:+.4f} since step 0" if i else None,
            delta_color="inverse", help=glossary.tips("theta", "self_consistency"))
c[1].metric("This point's loss term", f"{v.loss[i]:.2e}", help=glossary.tips("pseudo_huber", "distillation"))
c[2].metric("|f_θ − ODE endpoint|", f"{v.online_error[i]:.4f}", help=glossary.tips("consistency_model", "ode"))
st.markdown(lab_words.anatomy_step(L, v.steps, i, v.gap, v.loss, v.online_error, v.level_gap, lab.LEVEL_POINTS))
series = {"gap |f_θ − f_θ⁻|, this point": (PALETTE["consistency"], v.gap),
          f"mean gap, {lab.LEVEL_POINTS} points at this level": (TARGET, v.level_gap),
          "|f_θ − ODE endpoint|, this point": (PALETTE["endpoint"], v.online_error)}
df = pd.concat([pd.DataFrame({"step": v.steps, "series": k, "value": val}) for k, (_, val) in series.items()])
st.vega_lite_chart(compute.chart_spec(lab_charts.anatomy_gaps, df, step, {k: c for k, (c, _) in series.items()},
                                  [f"mean gap, {lab.LEVEL_POINTS} points at this level"]), width="stretch")
st.caption(f"Checkpoints from a short run of the selected recipe made for this page ({v.run_cfg.steps} steps, batch "
           f"{v.run_cfg.batch}, {v.run_seconds:.1f} s), not the shipped model. After every step the target moves "
           f"toward the online weights, θ⁻ ← μθ⁻ + (1−μ)θ with μ = {v.run_cfg.ema_mu:g}.")
