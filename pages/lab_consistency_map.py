"""Lab: where on the plane, and at which t, a consistency model is consistent; now and early in training."""
import pandas as pd
import streamlit as st

from cmcore.lab import snapshot_steps
from ui import compute, lab, models, params
from ui.params import Param, Spec
from viz import glossary, lab_charts
from viz.words import lab as lab_words
from viz.charts import PALETTE

T_CHOICES = tuple(round(0.1 * k, 1) for k in range(1, 11))
spec = params.bind(Spec("lab_consistency_map", [
    Param("map_t", 0.5, "choice", choices=T_CHOICES),
    Param("map_step", snapshot_steps()[1], "choice", choices=snapshot_steps())]))

st.title("Where is the model consistent?")
st.markdown("A consistency model is right at (x_t, t) when its jump f(x_t, t) lands where the teacher's ODE from "
            "x_t ends. Below, that **consistency error** |f(x_t, t) − ODE endpoint| over a grid of x_t at one t, for "
            "the selected model and for an early checkpoint of a short training run of the same recipe; then "
            "averaged over noised data at every t.")
with st.container(border=True):
    c = st.columns(2)
    c[0].select_slider("t of the map", spec["map_t"].choices, key="map_t")
    c[1].select_slider("Early checkpoint (training step)", spec["map_step"].choices, key="map_step")
params.sync(spec)
sel = models.current()
t, step = st.session_state["map_t"], st.session_state["map_step"]
current_name, early_name = "the selected model", f"the step-{step} checkpoint"
with st.spinner("Solving the teacher's ODE from every cell (and training the short run once, if it is not ready) ..."):
    v = lab.consistency_map(sel, t, step)
    curve = lab.consistency_curve(sel, step)
left, right = st.columns(2)
left.vega_lite_chart(lab.map_chart(sel, t, step, "current", f"{sel.label}, t = {t:g}"),
                     width="content")
right.vega_lite_chart(lab.map_chart(sel, t, step, "early", f"Short run, step {step}, "
                                    f"t = {t:g}"), width="content")
on = v.visited
c = st.columns(2)
c[0].metric("Selected model: mean error where data lands", f"{v.current.error[on].mean():.3f}",
            help=glossary.tips("self_consistency", "consistency_model"))
c[1].metric(f"Step {step}: mean error where data lands", f"{v.early.error[on].mean():.3f}",
            help=glossary.tips("self_consistency", "distillation"))
st.markdown(lab_words.consistency_map(t, v.current.error, v.early.error, on, current_name, early_name))

st.markdown("#### Consistency error against t")
early_series = f"short run, step {step}"
series = {"selected model": ("current", PALETTE["consistency"]), early_series: ("early", PALETTE["consistency"]),
          "teacher jump x_t − t·v": ("teacher", PALETTE["teacher_one"])}
df = pd.concat([pd.DataFrame({"t": curve["t"], "series": k, "value": curve[key]}) for k, (key, _) in series.items()])
st.vega_lite_chart(compute.chart_spec(lab_charts.consistency_curve, df, t, {k: c for k, (_, c) in series.items()},
                                  [early_series]), width="stretch")
st.markdown(lab_words.consistency_over_t(curve["t"], curve["current"], curve["early"], curve["teacher"],
                                         current_name, early_name))
st.caption(f"Mean over {lab.CURVE_POINTS} data points noised with fixed noise; ODE endpoint: 200 Euler steps of the "
           "teacher from (x_t, t). Dotted rule: the map's t. The checkpoint comes from the page's short run "
           "(the one the anatomy page steps through), not from the shipped model's own training.")
