"""Exercise 4: multi-step consistency sampling against the teacher's ODE, per network evaluation."""
import pandas as pd
import streamlit as st

from cmcore import datasets, stats
from cmcore.evaluate import CM_STEPS, TEACHER_STEPS, EvalSpec
from ui import compute, later, models, multistep, params, show, teach
from ui.params import Param, Spec
from viz.charts import Panel
from viz import charts, glossary, trajectories
from viz.words import lesson

CM_CHOICES, TEACHER_CHOICES, PATH_K = (1, 2, 3, 4, 6, 8, 12, 16), (1, 2, 3, 5, 10, 20, 50, 100), (2, 3, 4, 6, 8)
spec = params.bind(Spec("multistep", [
    Param("ms_cm", list(CM_STEPS), "multi", choices=CM_CHOICES),
    Param("ms_teacher", list(TEACHER_STEPS), "multi", choices=TEACHER_CHOICES),
    Param("ms_n", 2000, "choice", choices=(500, 1000, 2000)), Param("ms_seed", 0, lo=0, hi=9999),
    Param("ms_paths", 6, lo=1, hi=20), Param("ms_path_k", 4, "choice", choices=PATH_K), teach.reveal_param("ms")]))
params.restore_empty(spec)  # a deselected choice or an emptied list falls back to its default
cm_steps, teacher_steps = sorted(st.session_state["ms_cm"]), sorted(st.session_state["ms_teacher"])

st.title("4. Multi-step consistency")
sel = models.current()
_ = models.teacher(sel.teacher_cfg), models.consistency(sel)  # loaded first: a damaged file is reported at once
st.markdown("A consistency model can also take a few steps: jump to a clean estimate x̂₀, mix fresh noise back "
            "in to a lower level τ, jump again. Below, both samplers start from the same noise, and every panel "
            f"is scored by W2, the 2-Wasserstein distance to a fresh real sample of {datasets.noun(sel.dataset)} (lower "
            "is better), as mean ± standard error over three seeds of noise and reference.")
with st.container(border=True):
    c = st.columns([3, 3, 2, 1])
    params.multiselect(spec, "ms_cm", "Consistency steps", c[0])
    params.multiselect(spec, "ms_teacher", "Teacher ODE steps (Euler)", c[1])
    params.segmented(spec, "ms_n", "Points per panel", c[2])
    params.number(spec, "ms_seed", "Noise seed", c[3])
asked = multistep.ask()  # the notebook's three predictions, asked before anything is shown
n, seed = st.session_state["ms_n"], st.session_state["ms_seed"]
real = later.call(compute.real_points, sel.teacher_cfg.dataset, n, seed)
samplers = ([later.call(compute.teacher_points, sel.teacher_cfg, s, n, seed) for s in teacher_steps]
            + [later.call(compute.cm_points, sel, k, n, seed) for k in cm_steps] + [real])
k_path = st.session_state["ms_path_k"]
paths = later.call(compute.jump_paths, sel, k_path, st.session_state["ms_paths"], seed)
experiments = later.call(multistep.study, sel)
params.sync(spec)
if not asked:
    later.prefetch(*samplers, paths, experiments)  # computed while the questions are read
    multistep.hidden_note()
    st.stop()


def label(k: int) -> str:
    return f"{k} step{'s' if k > 1 else ''}"


def samples_and_scores(*values) -> None:
    *points, real_bg = values
    teacher_panels = [Panel(label(s), p, "teacher_one" if s == 1 else "teacher") for s, p in zip(teacher_steps, points)]
    cm_panels = [Panel(label(k), p, "consistency") for k, p in zip(cm_steps, points[len(teacher_steps):])]
    st.markdown("##### Teacher: Euler ODE")
    show.panel_grid(teacher_panels, per_row=4, size=170)
    st.markdown("##### Consistency model")
    show.panel_grid(cm_panels + [Panel("Real data", real_bg, "real")], per_row=4, size=170)
    show.legend(["real", "teacher", "teacher_one", "consistency"])
    ev = EvalSpec(n, compute.STANDARD.seeds)  # the protocol's fixed seeds: the panels' seed changes the picture only
    st.caption(f"Every panel: the same {n:,} noise points (seed {seed}). W2 below is measured by the protocol on its "
               "fixed seeds (named under the table), whichever seed the panels show.")

    with st.spinner(f"Scoring every sampler with the protocol ({ev.describe()}; each new setting once) ..."):
        floor = compute.floor_score(sel.teacher_cfg.dataset, ev)
        tea = {s: compute.teacher_score(sel.teacher_cfg, s, ev)
               for s in sorted({*teacher_steps, 1, *multistep.GRADED_TEACHER_STEPS})}
        cms = {k: compute.cm_score(sel, k, ev) for k in sorted({*cm_steps, *multistep.GRADED_CM_STEPS})}
    rows = ([{"model": "teacher (Euler ODE)", "nfe": s, "w2": tea[s].mean, "sem": tea[s].sem} for s in teacher_steps]
            + [{"model": "consistency model", "nfe": k, "w2": cms[k].mean, "sem": cms[k].sem} for k in cm_steps])
    st.markdown("#### Quality per network evaluation")
    st.vega_lite_chart(compute.chart_spec(charts.w2_vs_nfe, pd.DataFrame(rows), floor=floor.mean, floor_sem=floor.sem),
                       width="stretch")
    st.dataframe(pd.DataFrame([{"sampler": r["model"], "NFE": r["nfe"], "W2": f"{r['w2']:.3f} ± {r['sem']:.3f}"}
                               for r in rows] + [{"sampler": glossary.floor_words(n), "NFE": 0, "W2": str(floor)}]),
                 hide_index=True, width="stretch")
    st.caption(f"W2: mean ± standard error over {stats.scores_words(floor, *tea.values(), *cms.values())}.")

    multistep.grade(tea, cms)
    shown = [s for s in tea if s in teacher_steps or s == 1], [k for k in cms if k in cm_steps or k == 1]
    teach.what_happened(lesson.multistep_story({s: tea[s] for s in shown[0]}, {k: cms[k] for k in shown[1]}, floor, n))


later.fill_in(f"every sampler's {n:,} points for noise seed {seed}", samples_and_scores, *samplers)
st.markdown("#### Jump, re-noise, jump again")
c = st.columns([1, 1, 2])
params.slider(spec, "ms_paths", "Points to follow", c[0])
params.segmented(spec, "ms_path_k", "Sampling steps K", c[1], help=glossary.tips("renoise", "nfe"))


def jumps(real_bg, paths) -> None:
    show.charts_in_columns([trajectories.multistep_steps_spec(paths.inputs, paths.x0_hats, paths.levels, table=True,
                                                              samples_bg=real_bg, size=185, only_step=i)
                            for i in range(k_path)],
                           per_row=min(k_path, 4))
    st.caption(f"Each colour is one of {st.session_state['ms_paths']} points. Hollow circle: the network's input x_τ "
               "(at step 1 the pure noise); solid line and filled dot: its jump to x̂₀. Dashed line: fresh noise "
               "mixed into the last x̂₀, x_τ = (1 − τ) x̂₀ + τ z, which gives the next input. Blue: real data.")
    st.markdown(lesson.jump_story(paths.x0_hats, paths.inputs, paths.levels, compute.collapsed(sel)))


later.fill_in(f"the jumps of {k_path}-step sampling", jumps, real, paths)
multistep.sampler_code()
later.fill_in("the two sampler experiments", lambda study: multistep.experiments(study, sel), experiments)
teach.takeaway("Multi-step consistency sampling does not follow the ODE. Each jump lands on a clean estimate x̂₀; the "
               "next input is built from that x̂₀ with fresh noise mixed back in, so a step is not a trajectory step but "
               "a new jump from a noisier copy of the last answer, made from a lower noise level. Whether those extra "
               "jumps pay off, and how the noise and the levels should be chosen, are properties of the model: the "
               "charts above measure them for the one you picked.")
