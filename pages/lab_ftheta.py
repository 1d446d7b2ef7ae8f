"""Lab: where the consistency model sends a noised cloud at every t, beside the teacher's jump and the ODE."""
import streamlit as st

from cmcore.evaluate import REFERENCE_ODE_STEPS
from cmcore.lab import FRAME_COUNT
from ui import lab, models, params
from viz.words import lab as lab_words
from ui.params import Param, Spec

spec = params.bind(Spec("lab_ftheta", [
    Param("ft_n", 120, "choice", choices=(60, 120, 240)), Param("ft_seed", 0, lo=0, hi=9999)]))

params.restore_empty(spec)  # a deselected point count falls back to its default (before the widgets run)

st.title("What f_θ does at each t")
st.markdown(
    "Take real points x₀, fix one noise draw ε per point and slide the noise level: "
    "$x_t = (1-t)\\,x_0 + t\\,\\varepsilon$. A consistency model f_θ(x_t, t) should send every x_t to the end of "
    "the teacher's ODE trajectory through it (red). The teacher's own guess in one evaluation is the straight "
    "jump x₀ = x_t − t·v(x_t, t) (amber). Drag **t** under the chart: every frame is already in your browser.")
with st.container(border=True):
    c = st.columns(2)
    c[0].segmented_control("Points", spec["ft_n"].choices, key="ft_n")
    c[1].number_input("Data and noise seed", int(spec["ft_seed"].lo), int(spec["ft_seed"].hi), key="ft_seed")
params.sync(spec)
sel = models.current()
m, seed = st.session_state["ft_n"], st.session_state["ft_seed"]
with st.spinner(f"Solving the teacher's ODE from every point of every frame ({FRAME_COUNT} frames × {m} points × "
                f"{REFERENCE_ODE_STEPS} steps), once ..."):
    v = lab.ftheta_frames(sel, m, seed)

left, right = st.columns([3, 2])
left.vega_lite_chart(lab.ftheta_chart(sel, m, seed), width="content")
with right:  # the frame's own numbers are the chart's top lines: they follow the slider without a reload
    st.markdown(lab_words.ftheta_curve(v.ts, v.cm_error, v.teacher_error))
    st.caption(f"Error: mean distance to the {REFERENCE_ODE_STEPS}-step Euler endpoint over the {m} points of a "
               "frame, computed once for every frame on the server; the slider only picks a frame.")
