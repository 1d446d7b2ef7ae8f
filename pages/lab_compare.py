"""Lab: two recipes side by side: one-step W2 along training, W2 against sampling steps, verdicts by the protocol."""
import streamlit as st

from cmcore import datasets, evaluate, retrain_job
from ui import compute, data, recipes
from ui.params import Param, Spec, bind, sync
from viz import compare_charts, glossary
from viz.words import compare as cw

DEFAULTS = {"rc_a": "lesson", "rc_b": "ours"}
dataset = data.current()
options = recipes.choices(dataset, (st.query_params.get(k) for k in DEFAULTS))
spec = bind(Spec("lab_compare", [Param("rc_a", "lesson", "choice", choices=tuple(options)),
                                 Param("rc_b", "ours", "choice", choices=tuple(options))]))
recipes.keep_known(DEFAULTS, options, DEFAULTS)
recipes.adopt_finished()

st.title("Recipes compared")
st.markdown(f"Two consistency models of {datasets.noun(dataset)} side by side: the shipped ones, a preset (the "
            "lesson's recipe, ours, or ours with one thing changed) or a run of yours. Both are scored by the same protocol, on the same "
            "noise and the same real samples; B is always compared with A.")
cols = st.columns(2)
for col, key, letter in zip(cols, DEFAULTS, "AB"):
    col.selectbox(f"Run {letter}", list(options), key=key, format_func=lambda k: options[k].label,
                  help="A shipped model, a preset (ours with one setting changed) or a run of yours. "
                       + glossary.tip("consistency_model"))
    col.caption(recipes.status(options[st.session_state[key]]))
a, b = (recipes.side(letter, options[st.session_state[key]]) for letter, key in zip("AB", DEFAULTS))
for col, s in zip(cols, (a, b)):
    if s.sel is None and not (s is b and b.choice == a.choice):
        with col:
            recipes.training(s)
st.caption(recipes.differences(a, b))
same_data = a.choice.dataset == b.choice.dataset
if not same_data:
    st.warning("A and B learn different data, so their W2 numbers do not compare.", icon=":material/warning:")

st.markdown("#### One-step W2 along training")
tracked = [s for s in (a, b) if s.track is not None and s.track.points]
for s in (a, b):
    if s not in tracked:
        st.info(recipes.no_track_reason(s), icon=":material/timeline:")
if tracked:
    floor_t = compute.floor_score(a.choice.dataset, retrain_job.TRACK_SPEC)
    st.vega_lite_chart(compute.chart_spec(compare_charts.track_chart, recipes.track_frame(tracked), [s.series for s in tracked],
                                          [s.color for s in tracked], floor_t.mean, floor_t.sem), width="stretch")
    st.caption(f"Measured while each run trained, at about {retrain_job.TRACK_POINTS} snapshots, on "
               f"{retrain_job.TRACK_SPEC.describe()}: a smaller sample than below, so the values sit higher. "
               f"Bars: ± one standard error. Blue dashes: {glossary.floor_words(retrain_job.TRACK_SPEC.n)}."
               + (" A shipped model's curve is a replay of its training (same settings, same seed)."
                  if any(s.choice.shipped for s in tracked) else ""), help=glossary.tips("w2", "floor"))
    if any(s.choice.shipped for s in tracked):
        with st.expander("How this was measured", icon=":material/terminal:"):
            st.markdown("The shipped models' curves were recorded with `python -m cmcore.lab_cli track`.")
    for s in tracked:
        st.markdown("- " + cw.track_story(f"**{s.letter}**", [(p.step, p.score) for p in s.track.points], floor_t))
    if len(tracked) == 2 and same_data:
        ends = [(s.track.points[-1].step, s.track.points[-1].score) for s in tracked]
        st.markdown("- " + cw.track_end("**A**", ends[0], "**B**", ends[1]))

st.markdown("#### W2 against sampling steps")
with st.spinner(f"Scoring with the protocol ({compute.STANDARD.describe()}; once per model) ..."):
    scored = [(s, recipes.nfe_scores(s)) for s in (a, b) if s.sel is not None]
floor = compute.floor_score(a.choice.dataset)
if scored:
    st.vega_lite_chart(compute.chart_spec(compare_charts.nfe_chart, recipes.nfe_frame(scored), [s.series for s, _ in scored],
                                          [s.color for s, _ in scored], floor.mean, floor.sem), width="stretch")
    st.caption(f"W2 of k-step consistency sampling (k network evaluations): mean ± standard error over "
               f"{compute.STANDARD.describe()}, each against a fresh real sample. Blue dashes: "
               f"{glossary.floor_words(compute.STANDARD.n)}, {floor}.", help=glossary.tips("nfe", "w2", "floor"))
if len(scored) == 2 and same_data:
    (_, sa), (_, sb) = scored
    st.markdown("**Verdict.** " + cw.nfe_summary("**A**", "**B**", cw.per_nfe(sa, sb)))
    for k in evaluate.CM_STEPS:
        st.markdown("- " + cw.nfe_line(k, sa[k], sb[k]))
    for s, sc in scored:
        st.markdown(f"- {cw.floor_line(f'**{s.letter}**', sc, floor)} {cw.steps_line(f'**{s.letter}**', sc)}")
elif len(scored) < 2:
    st.info("The verdict needs both models: train the missing one above.", icon=":material/info:")
sync(spec)
