"""Lab: a teacher trained with minibatch optimal-transport coupling against the shipped one, and what that
means for consistency distillation."""
import streamlit as st

from cmcore.lab_train import ot_command
from cmcore import datasets
from ui import compute, export, models, params, studies
from viz import glossary, param_ot_charts
from viz.words.lab_studies import ot_findings, pairing_findings, study_fallback
from viz.words.reports import ot_table_path
from ui.params import Param, Spec, bind, sync
from viz.charts import Panel, trajectory_frame

spec = bind(Spec("lab_ot", [Param("lo_paths", 24, lo=4, hi=64, label="Paths drawn"),
                            Param("lo_seed", 0, lo=0, hi=9999, label="Noise seed")]))
SAMPLE_POINTS = 2000  # one-step panels: the protocol's first evaluation seed, at its size

st.title("Straight paths: does the teacher even need distilling?")
st.markdown("The shipped teacher learns from data points and noise drawn **independently**, so the straight "
            "lines it is trained on cross, and the ODE it learns bends. Minibatch optimal transport (Tong et al. "
            "2023) first pairs each batch's data with its noise by an exact assignment that minimises the total "
            "squared distance, then trains on the same interpolation. Paired points are close, lines cross less, "
            "paths straighten, and one Euler step lands nearer the data. Is there still work for a consistency "
            "model?")
chosen_data = models.current().dataset
data = studies.ot_dataset(chosen_data)  # the dataset whose stored study is shown: the chosen one if it has one
if data != chosen_data:
    st.info(study_fallback(chosen_data, data, ot_command(chosen_data)), icon=":material/info:")
study = studies.ot_study(data)
noun = datasets.noun(study.dataset)
names = studies.COUPLINGS
labels = [study.couplings[n].label for n in names]

st.markdown("#### Paths of the two teachers")
c = st.columns([2, 1])
params.slider(spec, "lo_paths", "Paths drawn", c[0])
params.number(spec, "lo_seed", "Noise seed", c[1])
cols = st.columns(2)
for col, name, label in zip(cols, names, labels):
    xs, ts = studies.trajectories(name, data, st.session_state["lo_paths"], st.session_state["lo_seed"])
    straight = study.couplings[name].straightness
    col.vega_lite_chart(compute.chart_spec(param_ot_charts.trajectory_chart, trajectory_frame(xs, ts), f"Teacher: {label}",
                                      f"1-step endpoint error {straight:.3f}"), width="content")
    with col:
        export.csv_button("Paths (CSV)", lambda xs=xs, ts=ts: export.trajectories_csv(xs, ts),
                          f"paths-{name}-{data}-seed{st.session_state['lo_seed']}.csv", f"lo_csv_{name}")
st.caption(f"Both teachers learned {noun}. {studies.TRAJECTORY_STEPS} Euler steps from the same noise (grey circles) "
           "to the data (green diamonds). The subtitle is the mean distance between where one Euler step lands and "
           "the 200-step endpoint (2,000 points): a straight path makes it small.")

st.markdown("#### One network call each")
panels = []
for name, label in zip(names, labels):
    table = study.couplings[name].table
    panels += [Panel(label, studies.one_step(name, data, "teacher", SAMPLE_POINTS, 0), "teacher_one",
                     f"1 Euler step: W2 {table.teacher[1]}"),
               Panel(label, studies.one_step(name, data, "consistency", SAMPLE_POINTS, 0), "consistency",
                     f"consistency, 1 step: W2 {table.consistency[1]}")]
cols = st.columns(4)
for i, panel in enumerate(panels):
    cols[i].vega_lite_chart(compute.chart_spec(param_ot_charts.scatter, panel), width="content")
st.caption("Amber: one Euler step of a teacher; violet: one step of the consistency model distilled from it "
           f"(the shipped recipe). {SAMPLE_POINTS:,} points from evaluation seed 0; W2 is the protocol's mean ± "
           f"standard error over {len(study.spec.seeds)} seeds.")

st.markdown("#### Quality per network evaluation")
st.vega_lite_chart(compute.chart_spec(param_ot_charts.coupling_w2_chart, studies.w2_frame(study), study.floor.mean, study.floor.sem,
                                 tuple(labels)), width="stretch")
st.dataframe(studies.w2_table(study), width="stretch")
st.caption(f"W2 against {noun} by the evaluation protocol: {study.spec.describe()}, mean ± standard error over "
           f"seeds. Floor (blue): {glossary.floor_words(study.spec.n)}, {study.floor}. Measured offline.",
           help=glossary.tips("w2", "floor", "nfe"))
with st.expander("How this was measured", icon=":material/terminal:"):
    st.markdown(f"`{study.command}` (also in bench/{ot_table_path(study.dataset).name}).")
st.markdown("#### When does distillation pay off?")
for line in ot_findings(study):
    st.markdown(f"- {line}")

st.markdown("#### The price of pairing")
st.dataframe(studies.pairing_table(study), width="stretch", hide_index=True)
st.caption(f"Median wall-clock milliseconds per training step for the assignment alone (a batch of {noun} against "
           "Gaussian noise), measured on the 2-core machine that trained the teachers while other jobs shared it: "
           "absolute times move with the load, the ratios between rows much less.")
for line in pairing_findings(study):
    st.markdown(f"- {line}")
sync(spec)
