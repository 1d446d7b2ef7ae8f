"""Exercise 4: multi-step consistency sampling against the teacher's ODE, per network evaluation."""
import pandas as pd
import streamlit as st

from viz.charts import Panel
from cmcore.evaluate import CLOSE_RATIO, CM_STEPS, TEACHER_STEPS
from ui import compute, models, params, teach
from ui.params import Param, Spec

CM_CHOICES, TEACHER_CHOICES, PATH_K = (1, 2, 3, 4, 6, 8, 12, 16), (1, 2, 3, 5, 10, 20, 50, 100), (2, 3, 4, 6, 8)


def label(k: int) -> str:
    return f"{k} step{'s' if k > 1 else ''}"


OPTIONS = ["Better: lower W2 than 5 teacher steps", "About the same (within 10%)", "Worse: higher W2"]
spec = params.bind(Spec("multistep", [
    Param("ms_cm", list(CM_STEPS), "multi", choices=CM_CHOICES),
    Param("ms_teacher", list(TEACHER_STEPS), "multi", choices=TEACHER_CHOICES),
    Param("ms_n", 1000, "choice", choices=(500, 1000, 2000)), Param("ms_seed", 0, lo=0, hi=9999),
    Param("ms_paths", 6, lo=1, hi=20), Param("ms_path_k", 4, "choice", choices=PATH_K), teach.reveal_param("ms")]))
params.restore_empty(spec)  # a deselected choice or an emptied list falls back to its default
cm_steps, teacher_steps = sorted(st.session_state["ms_cm"]), sorted(st.session_state["ms_teacher"])

st.title("4. Multi-step consistency")
st.markdown("A consistency model can also take a few steps: jump to a clean estimate x̂₀, mix fresh noise back "
            "in to a lower level τ, jump again. Below, both samplers start from the same noise, and every panel "
            "is scored by W2, the 2-Wasserstein distance to a fresh real sample (lower is better).")
with st.container(border=True):
    c = st.columns([3, 3, 2, 1])
    c[0].multiselect("Consistency steps", CM_CHOICES, key="ms_cm")
    c[1].multiselect("Teacher ODE steps (Euler)", TEACHER_CHOICES, key="ms_teacher")
    c[2].segmented_control("Points per panel", (500, 1000, 2000), key="ms_n")
    c[3].number_input("Noise seed", 0, 9999, key="ms_seed")
teach.predict_first("ms", "Is one consistency step better or worse than five steps of the teacher's ODE?",
                    OPTIONS, "ms_show")
sel = models.selection()
n, seed = st.session_state["ms_n"], st.session_state["ms_seed"]
with st.spinner("Sampling and scoring every panel (once per setting) ..."):
    real = compute.real_data(sel.teacher_cfg.dataset, n, seed)
    tea = {s: compute.teacher_samples(sel.teacher_cfg, s, n, seed) for s in sorted({*teacher_steps, 1, 5})}
    cms = {k: compute.cm_samples(sel.teacher_cfg, sel.cm_cfg, k, n, seed) for k in sorted({*cm_steps, 1})}
if not teach.revealed("ms", "ms_show"):
    params.sync(spec)
    teach.hidden_note()
    st.stop()

st.vega_lite_chart(compute.chart_spec("sample_grid", [
    ("Teacher: Euler ODE", [Panel(label(s), tea[s].points, "teacher", f"W2 {tea[s].w2:.3f}")
                            for s in teacher_steps]),
    ("Consistency model", [Panel(label(k), cms[k].points, "consistency", f"W2 {cms[k].w2:.3f}")
                           for k in cm_steps]
     + [Panel("Real data", real.points, "real", f"two real samples: W2 {real.w2:.3f}")])]), width="content")
rows = ([{"model": "teacher (Euler ODE)", "nfe": s, "w2": tea[s].w2} for s in teacher_steps]
        + [{"model": "consistency model", "nfe": k, "w2": cms[k].w2} for k in cm_steps])
st.markdown("#### Quality per network evaluation")
st.vega_lite_chart(compute.chart_spec("w2_vs_nfe", pd.DataFrame(rows), floor=real.w2), width="stretch")

c1, t1, t5 = cms[1].w2, tea[1].w2, tea[5].w2
measured = OPTIONS[1] if abs(c1 - t5) <= (CLOSE_RATIO - 1) * t5 else OPTIONS[0] if c1 < t5 else OPTIONS[2]
teach.verdict("ms", measured, f"one consistency step scored W2 {c1:.3f}; five teacher steps scored {t5:.3f}.")
best_s = max(teacher_steps)
close = [k for k in cm_steps if cms[k].w2 <= CLOSE_RATIO * tea[best_s].w2]
gain = {k: cms[k].w2 for k in cm_steps}
teach.what_happened(
    f"From the same {n} noise points, one consistency step scored W2 {c1:.3f} against {t1:.3f} for one teacher "
    "step, " + ("a clear win for the same single network call. " if c1 < t1 else
       "so at the same cost of one network call this model does worse than the teacher. ")
    + (f"With {close[0]} call{'s' if close[0] > 1 else ''} the consistency model came within "
       f"{CLOSE_RATIO - 1:.0%} of the teacher's {best_s}-step ODE (W2 {tea[best_s].w2:.3f}), "
       + (f"{best_s / close[0]:.0f}× fewer evaluations. " if best_s > close[0] else "with no saving in calls. ")
       if close else
       f"None of the consistency step counts shown came within {CLOSE_RATIO - 1:.0%} of the teacher's "
       f"{best_s}-step ODE (W2 {tea[best_s].w2:.3f}). ")
    + (f"Going from {min(gain)} to {max(gain)} consistency steps changed W2 by "
       f"{gain[max(gain)] - gain[min(gain)]:+.3f}. " if len(gain) > 1 else "")
    + f"For scale, two independent real samples of this size already differ by {real.w2:.3f}, so gaps of a few "
      "hundredths are within sampling noise (try another seed).")

st.markdown("#### Jump, re-noise, jump again")
c = st.columns([1, 1, 2])
c[0].slider("Points to follow", 1, 20, key="ms_paths")
c[1].segmented_control("Sampling steps K", PATH_K, key="ms_path_k")
k_path = st.session_state["ms_path_k"]
paths = compute.jump_paths(sel.teacher_cfg, sel.cm_cfg, k_path, st.session_state["ms_paths"], seed)
st.vega_lite_chart(compute.chart_spec("multistep_steps_chart", paths.inputs, paths.x0_hats, paths.levels,
                                      samples_bg=real.points, columns=min(k_path, 4), size=185), width="content")
moved = float(((paths.x0_hats[-1] - paths.x0_hats[0]) ** 2).sum(-1).mean() ** 0.5)
keep = 1 - float(paths.levels[1])
st.caption(f"Each colour is one of {st.session_state['ms_paths']} points. Hollow circle: the network's input x_τ "
           "(at step 1 the pure noise); solid line and filled dot: its jump to x̂₀. Dashed line: fresh noise "
           "mixed into the last x̂₀, x_τ = (1 − τ) x̂₀ + τ z, which gives the next input. Blue: real data.")
st.markdown(f"Between the first and the last jump the points' x̂₀ moved by {moved:.2f} on average (RMS). "
            + (f"Later jumps do not merely polish the first answer: the first re-noising keeps only {keep:.0%} of "
               "x̂₀, so a point can end up on another part of the data; what improves is how well the whole "
               "cloud matches the data." if moved > 0.5 else
               "The later jumps mostly refine the first answer: each re-noised input still sits close to x̂₀."))
params.sync(spec)
teach.takeaway("Multi-step consistency sampling does not follow a trajectory: each step is an independent jump "
               "to the data, and re-noising with fresh noise gives the model a second, easier chance from a "
               "lower noise level. That is why a few jumps can approach an ODE that needs many times more "
               "evaluations (the chart above shows how close they get on these models).")
