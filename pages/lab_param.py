"""Lab: the lesson's c_skip/c_out against the paper's, and what the choice does to a short distillation run."""
import streamlit as st

from cmcore.config import SIGMA_MIN
from cmcore.lab_train import PARAM_SIGMA_DATA, param_command
from cmcore.parameterisation import LESSON, Parameterisation
from cmcore import datasets
from ui import compute, models, studies
from viz import glossary, param_ot_charts
from viz.words.lab_studies import coefficients_at_noise, param_findings, start_finding, study_fallback
from ui.params import Param, Spec, bind, restore_empty, sync

STARTS = {"teacher": "From the teacher (shipped recipe)", "random": "At random (the lesson)"}
spec = bind(Spec("lab_param", [Param("lp_sigma", 0.5, "choice", choices=PARAM_SIGMA_DATA),
                               Param("lp_start", "teacher", "choice", choices=tuple(STARTS))]))
restore_empty(spec)  # a segmented control clicked twice is empty: fall back to its default

st.title("Parameterisations")
chosen_data = models.current().dataset
data = studies.param_dataset(chosen_data)  # the dataset whose stored study is shown: the chosen one if it has one
if data != chosen_data:
    st.info(study_fallback(chosen_data, data, param_command(dataset=chosen_data)), icon=":material/info:")
st.markdown("A consistency model is written f(x_t, t) = c_skip(t) x_t + c_out(t) F(x_t, t), with c_skip = 1 and "
            "c_out = 0 at t = σ_min so that f(x, σ_min) = x holds exactly, whatever the network F does. "
            "The lesson and the consistency-models paper (Song et al. 2023) meet that condition with different "
            "weights:")
st.latex(r"\text{lesson: } c_{skip} = \frac{\sigma_{min}}{t},\quad c_{out} = \frac{t-\sigma_{min}}{t}")
st.latex(r"\text{paper: } c_{skip} = \frac{\sigma_{data}^2}{(t-\sigma_{min})^2+\sigma_{data}^2}")
st.latex(r"c_{out} = \frac{\sigma_{data}\,(t-\sigma_{min})}{\sqrt{\sigma_{data}^2+t^2}}")
sigma_data = st.select_slider("σ_data of the paper's form", PARAM_SIGMA_DATA, key="lp_sigma")
chosen = Parameterisation("song", sigma_data)

curves = studies.coefficient_frame((LESSON, chosen), SIGMA_MIN)
cols = st.columns(2)
for col, name in zip(cols, ("c_skip", "c_out")):
    col.vega_lite_chart(compute.chart_spec(param_ot_charts.coefficient_chart, curves, name, (LESSON.label, chosen.label)),
                        width="stretch")
st.markdown(coefficients_at_noise(chosen, SIGMA_MIN))

st.markdown("#### What it does to training (measured)")
st.segmented_control("The network starts", tuple(STARTS), format_func=STARTS.get, key="lp_start")
study = studies.param_study(st.session_state["lp_start"], data)
cfg = study.config
start = "from the teacher" if cfg.init_from_teacher else "at random"
st.caption(f"Consistency distillation from the shipped teacher of **{datasets.noun(study.dataset)}** with the "
           f"shipped recipe cut to {cfg.steps} steps (network started {start}, {cfg.teacher_solver} teacher steps, "
           f"{cfg.n_levels} levels, {cfg.loss.replace('_', '-')} loss), {len(study.runs_of(LESSON))} training seeds "
           f"per form. One-step W2 by the evaluation protocol, each run on {study.spec.n:,} points and evaluation "
           f"seeds of its own: mean ± standard error over the training seeds. Measured offline; nothing trains here.",
           help=glossary.tips("c_skip", "w2"))
with st.expander("How this was measured", icon=":material/terminal:"):
    st.markdown(f"`{study.command}`")
st.vega_lite_chart(compute.chart_spec(param_ot_charts.score_bars, studies.score_frame(study), study.floor.mean, study.floor.sem,
                                 chosen.label), width="stretch")
measured = chosen in study.variants
shown = (LESSON, chosen) if measured else (LESSON,)
w2_df, loss_df = studies.curve_frames(study, shown)
labels = tuple(p.label for p in shown)
cols = st.columns(2)
cols[0].vega_lite_chart(compute.chart_spec(param_ot_charts.variant_curves, w2_df, "w2", "one-step W2 (1 seed)", labels,
                                      floor=study.floor.mean), width="stretch")
cols[1].vega_lite_chart(compute.chart_spec(param_ot_charts.variant_curves, loss_df, "loss", "training loss (log)", labels, log=True),
                        width="stretch")
st.caption("Left: one-step W2 along training (step 0 is the starting network), one line per training seed. "
           f"Right: the loss, averaged over windows of steps. Blue dashes: {glossary.floor_words(study.spec.n)}.")
if not measured:
    st.warning(f"The stored study has no runs at σ_data = {sigma_data:g}; the charts show the lesson's form only.",
               icon=":material/warning:")
for line in param_findings(studies.scores(study), study.floor, studies.init_w2(study), cfg.steps,
                           chosen if measured else LESSON):
    st.markdown(f"- {line}")
both = {start: studies.param_study(start, data) for start in STARTS}
shown_form = chosen if measured else LESSON
if all(shown_form in s.variants for s in both.values()) and len({s.config.steps for s in both.values()}) == 1:
    st.markdown("- " + start_finding(shown_form, both["teacher"].score(shown_form), both["random"].score(shown_form),
                                     cfg.steps))
sync(spec)
