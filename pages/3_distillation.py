"""Exercise 3: consistency distillation, retrained live in the background, with the step's real code."""
import streamlit as st

from viz import charts
from ui import models, params, retrain, teach
from ui.params import Spec

spec = params.bind(Spec("distillation", [*retrain.SPEC_PARAMS, teach.reveal_param("cd")]))

st.title("3. Consistency distillation")
st.markdown(r"A consistency model $f_\theta(x_t, t)$ learns from the flow-matching teacher. Each step draws data "
            r"$x_0$, noises it to a level $t_{n+1}$, lets the teacher take one ODE step down to the neighbouring level "
            r"$t_n$, and asks $f_\theta$ for the same answer at both ends of that step. The answer it must match comes "
            r"from $\theta^-$, a slowly moving average of $\theta$, not from $\theta$ itself.")
with st.expander("The training step that runs — from cmcore, the lesson's four exercise lines marked", expanded=False,
                 icon=":material/code:"):
    st.html(retrain.step_code_html())

submitted = retrain.settings_form()
cfg = retrain.form_config()
problem = retrain.validation_error(cfg)
if problem:
    st.error(f"**These settings cannot be trained.** {problem}", icon=":material/block:")
elif submitted:
    retrain.start(cfg)
retrain.live_section()

sel = models.selection()
if not problem and not retrain.same_config(cfg, sel.cm_cfg) and not retrain.busy():
    st.caption(f":material/info: The panels below show *{sel.label}*. The settings above differ from it; "
               "press **Retrain** to train them and compare.")

teach.predict_first("cd", "Once distilled, how will the consistency model's single step compare with the teacher's "
                    "single Euler step, both from the same noise?", list(retrain.PREDICTIONS), "cd_show")
params.sync(spec)
if not teach.revealed("cd", "cd_show"):
    teach.hidden_note()
    st.stop()

panels, scores = retrain.result_panels(sel)
st.altair_chart(charts.scatter_panels(panels, columns=4, size=retrain.PANEL_SIZE), key="cd_panels")
st.caption(f"All four panels: the same {retrain.PANEL_POINTS:,} noise points (evaluation seed {retrain.PANEL_SEED}); "
           "W2 is measured against the real-data sample shown on the left. Model: " + sel.label + ".")
teach.verdict("cd", retrain.measured_prediction(scores),
              f"W2 after one network evaluation: consistency model {scores.cm_1:.3f}, teacher {scores.teacher_1:.3f}.")
teach.what_happened(retrain.narrative(scores, sel))
teach.takeaway(retrain.TAKEAWAY)
