"""Page 4's parts beyond the sample grid: the notebook's three predictions, its two sampler experiments, the code.

The experiments (``cmcore.sampler_study``) cost seconds per model, so a shipped model's are read from the
study stored beside its checkpoint (``python -m cmcore.lab_cli samplers``), and any other model's are measured
once in the server's pool (``ui.shared``, drawn by ``ui.later.fill_in``) for every session that asks.
"""
from __future__ import annotations

from typing import Mapping

import pandas as pd
import streamlit as st
from cmcore import sampler_study as study_core
from cmcore.consistency import SAMPLING_RHO, sampling_levels
from cmcore.evaluate import Score
from cmcore.sampler_study import SPACINGS, SamplerStudy
from cmcore.threads import use_one_thread
from ui import compute, models, runs, shared, stepcode, teach
from ui.models import Selection
from viz.words import samplers as sw
from viz.charts import to_spec
from viz.sampler_charts import variants_chart

REVEAL = "ms_show"
QUESTIONS = (  # (key, question, options): the notebook asks all three before its exercise 4 runs
    ("ms", "Is one consistency step better or worse than five steps of the teacher's ODE?", sw.VS_FIVE),
    ("ms_match", "What is the fewest consistency steps (of 1, 2, 4 and 8) whose samples are as good as the "
                 "teacher's 50-step ODE, that is, not measurably worse?", sw.MATCH),
    ("ms_more", "Will 8 consistency steps be much better than 4?", sw.EIGHT_VS_FOUR),
)
GRADED_CM_STEPS, GRADED_TEACHER_STEPS = sw.MATCH_STEPS, (5, 50)  # scored whatever the panels show


def ask() -> bool:
    """Ask the three questions; True once each is answered or skipped, or the link opens with the results."""
    for i, (key, question, options) in enumerate(QUESTIONS):
        teach.predict_first(key, question, list(options), REVEAL if i == len(QUESTIONS) - 1 else None)
    return all(teach.revealed(key, REVEAL) for key, _, _ in QUESTIONS)


def hidden_note() -> None:
    st.info("Answer the three questions above (or skip them) to see the results.", icon=":material/visibility_off:")


def grade(tea: Mapping[int, Score], cms: Mapping[int, Score]) -> None:
    """Each prediction, graded by the scores on the page (``compare``: a tie inside the noise is called that)."""
    teach.verdict("ms", *sw.vs_five_verdict(cms[1], tea[5]))
    teach.verdict("ms_match", *sw.match_verdict(cms, tea[50]))
    teach.verdict("ms_more", *sw.eight_vs_four_verdict(cms[8], cms[4]))


# --- The two experiments --------------------------------------------------------------------------------

@shared.cached(max_entries=32)
def study(sel: Selection) -> SamplerStudy:
    """The sampler study of ``sel``: stored for a shipped pair, else measured (the lesson's sampler's scores
    reused from the run's card)."""
    stored = study_core.load(sel.teacher_cfg, sel.cm_cfg) if sel.shipped else None
    if stored is not None:
        return stored
    use_one_thread()
    run = None if sel.shipped else runs.find(sel.model_id)
    return study_core.run(models.consistency(sel), sel.teacher_cfg.dataset, known=dict(run.scores) if run else None)


@st.cache_data(show_spinner=False, max_entries=32)
def _chart(df: pd.DataFrame, order: tuple[str, ...], floor: float, floor_sem: float) -> dict:
    return to_spec(variants_chart(df, order, floor, floor_sem))


def _frame(rows: list[tuple[int, str, Score]]) -> pd.DataFrame:
    return pd.DataFrame([{"k": k, "variant": v, "w2": s.mean, "sem": s.sem} for k, v, s in rows])


def experiments(result: SamplerStudy, sel: Selection) -> None:
    """Both experiments: a chart, a table and the computed sentences each."""
    floor = compute.floor_score(sel.teacher_cfg.dataset, result.spec)
    st.markdown("#### Two choices inside the sampler")
    st.markdown(f"The notebook fixes two details of the sampler without testing them. Both are measured here for "
                f"*{sel.label}* at K = {', '.join(map(str, result.steps))} steps (one step has no re-noise), each "
                f"by the protocol ({result.spec.describe()}, mean ± standard error).")
    st.markdown("##### Fresh noise, or the starting noise again, at each re-noise")
    noise = [sw.NOISE_LABELS[False], sw.NOISE_LABELS[True]]
    rows = [(k, noise[0], result.lesson(k)) for k in result.steps]
    rows += [(k, noise[1], result.same_noise(k)) for k in result.steps]
    st.vega_lite_chart(_chart(_frame(rows), tuple(noise), floor.mean, floor.sem), width="stretch")
    st.dataframe(pd.DataFrame([{"K": k, noise[0]: str(result.lesson(k)), noise[1]: str(result.same_noise(k))}
                               for k in result.steps]), hide_index=True, width="stretch")
    st.markdown(sw.noise_story(result))
    st.markdown("##### Where the K levels sit")
    labels = [sw.SPACING_LABELS[s] for s in SPACINGS]
    rows = [(k, sw.SPACING_LABELS[s], result.spacing(k, s)) for s in SPACINGS for k in result.steps]
    st.vega_lite_chart(_chart(_frame(rows), tuple(labels), floor.mean, floor.sem), width="stretch")
    st.dataframe(pd.DataFrame([{"spacing": sw.SPACING_LABELS[s], **{f"K = {k}": str(result.spacing(k, s))
                                                                     for k in result.steps}}
                               for s in SPACINGS]), hide_index=True, width="stretch")
    k_show = result.steps[len(result.steps) // 2]
    st.caption(f"The levels τ at K = {k_show}: " + "; ".join(
        f"{sw.SPACING_LABELS[s]} (ρ = {SAMPLING_RHO[s]:g}) " + ", ".join(f"{t:.2f}" for t in
                                                                    sampling_levels(k_show, s).tolist())
        for s in SPACINGS) + ". Each spacing is τ_i = (1 + i/K (σ_min^(1/ρ) − 1))^ρ, i = 0 … K − 1.")
    st.markdown(sw.spacing_story(result))
    with st.expander("How this was measured", icon=":material/science:"):
        st.markdown(f"Every variant starts from the protocol's noise and is scored against its real reference sample, "
                    f"like every W2 on this page ({result.spec.describe()}); the lesson's sampler (fresh noise, "
                    f"even spacing) scores what the W2 table above shows at {result.spec.n:,} points. The floor "
                    f"(two real samples of that size) is {floor}.")
        if sel.shipped:
            st.markdown("For the shipped models these numbers were measured once, with "
                        "`python -m cmcore.lab_cli samplers`, and stored with the model.")
        else:
            st.markdown("This model was retrained here, so they were measured for it on this server.")


MISTAKES = (  # the notebook's list for its exercise 4, in our words
    ("Re-noising after the last jump.", "The output would then be a noisy point at the lowest level, not a clean "
     "estimate. The loop above re-noises only before a jump, never after the last one."),
    ("Re-noising with the starting noise instead of fresh noise.", "Every step then mixes the same z back in; the "
     "notebook expects less diverse samples. The first experiment below measures what it does to this model."),
    ("Reading the steps as an ODE solve.", "No path is followed between jumps: each input is the last x̂₀ with new "
     "noise mixed in, and the network is asked again where it ends."),
)


def sampler_code() -> None:
    with st.expander("The sampler that runs, from cmcore", icon=":material/code:"):
        st.html(stepcode.sampler_code_html())
    with st.expander("Common mistakes in the notebook's sampler", icon=":material/report:"):
        st.markdown("\n".join(f"- **{what}** {why}" for what, why in MISTAKES))
