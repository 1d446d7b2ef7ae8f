"""Sentences for page 4's three predictions and its two sampler experiments, computed from the scores.

Pure functions of ``Score``s (mean ± standard error), testable without Streamlit.  Every
comparison goes through ``cmcore.stats.compare``: a difference inside the noise is called
indistinguishable at this sample size, never narrated as a finding.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from cmcore.stats import Score, compare
from viz.words.compare import noise, says
from viz.words.english import plural

if TYPE_CHECKING:  # (viz imports no torch module: a study is only read here)
    from cmcore.sampler_study import SamplerStudy

SPACING_LABELS = {  # cmcore.consistency.SAMPLING_RHO's names, as the page shows them (a test checks they match)
    "uniform": "even (the lesson's)",
    "karras": "Karras, dense near data",
    "high": "dense near noise",
}
NOISE_LABELS = {False: "fresh noise (the lesson's)", True: "the starting noise again"}

# Page 4's predictions: the notebook's three questions before its exercise 4.
VS_FIVE = ("Better: lower W2 than 5 teacher steps", "About the same: indistinguishable at this sample size",
           "Worse: higher W2")
MATCH_STEPS = (1, 2, 4, 8)  # the notebook's consistency step counts
MATCH = tuple(f"{k} step{'s' if k > 1 else ''}" for k in MATCH_STEPS) + ("None of 1, 2, 4 or 8 steps",)
EIGHT_VS_FOUR = ("Yes: 8 steps score clearly lower W2", "No: indistinguishable at this sample size",
                 "No: 8 steps score higher W2 (worse)")


def vs_five_verdict(cm1: Score, t5: Score) -> tuple[tuple[str, ...], str]:
    """(accepted options, because) for "one consistency step against five teacher steps"."""
    c = compare(cm1, t5)
    accepted = VS_FIVE[0] if c.lower else VS_FIVE[2] if c.higher else VS_FIVE[1]
    return (accepted,), says(c, "one consistency step", "five teacher steps") + f": W2 {cm1} against {t5}."


def fewest_matching(cms: Mapping[int, Score], t50: Score) -> int | None:
    """The fewest consistency steps (of 1, 2, 4, 8) not measurably worse than the teacher's 50 steps; None if none."""
    return next((k for k in MATCH_STEPS if not compare(cms[k], t50).higher), None)


def match_verdict(cms: Mapping[int, Score], t50: Score) -> tuple[tuple[str, ...], str]:
    """(accepted options, because) for "how many consistency steps match the 50-step teacher"."""
    k = fewest_matching(cms, t50)
    shown = "; ".join(f"{plural(j)} {cms[j]}" for j in MATCH_STEPS)
    if k is None:
        return (MATCH[-1],), (f"every one of 1, 2, 4 and 8 consistency steps is measurably worse than the teacher's "
                              f"50-step ODE (W2 {t50}): {shown}.")
    before = "; fewer are measurably worse" if k > MATCH_STEPS[0] else ""
    return (MATCH[MATCH_STEPS.index(k)],), (
        f"the fewest consistency steps not measurably worse than the teacher's 50-step ODE (W2 {t50}) are "
        f"{plural(k)}{before}. Consistency model: {shown}.")


def eight_vs_four_verdict(c8: Score, c4: Score) -> tuple[tuple[str, ...], str]:
    """(accepted options, because) for "will 8 consistency steps be much better than 4"."""
    c = compare(c8, c4)
    accepted = EIGHT_VS_FOUR[0] if c.lower else EIGHT_VS_FOUR[2] if c.higher else EIGHT_VS_FOUR[1]
    return (accepted,), says(c, "8 consistency steps", "4 steps") + f": W2 {c8} against {c4}."


# --- Experiment (a): fresh or same noise --------------------------------------------------------------

def noise_story(study: "SamplerStudy") -> str:
    """One bullet per K, then what the step counts add up to."""
    lines, outcomes = [], []
    for k in study.steps:
        fresh, same = study.lesson(k), study.same_noise(k)
        c = compare(same, fresh)
        outcomes.append(c.outcome)
        lines.append(f"{plural(k)}: W2 {same} with the starting noise again, {fresh} with fresh noise: "
                     f"{says(c, 're-using the starting noise', 'fresh noise')}.")
    worse, better = outcomes.count("higher"), outcomes.count("lower")
    same = len(outcomes) - worse - better
    if worse == len(outcomes):
        summary = ("At every step count shown, re-using the starting noise makes the samples measurably worse: the "
                   "notebook's warning holds for this model.")
    elif worse == 0 and better == 0:
        summary = ("At no step count shown is the difference larger than the noise: on this model and at this "
                   "sample size the notebook's warning cannot be seen.")
    else:
        summary = (f"Re-using the starting noise is worse at {worse}, better at {better} and indistinguishable at "
                   f"{same} of {len(outcomes)} step counts shown.")
    return "\n".join(f"- {line}" for line in lines + [summary])


# --- Experiment (b): the spacing of the levels --------------------------------------------------------

def spacing_story(study: "SamplerStudy") -> str:
    """Per K, each spacing against the lesson's even spacing; then which spacing, if any, beats it."""
    lines, wins = [], {s: 0 for s in study.spacings if s != study.lesson_spacing}
    for k in study.steps:
        even = study.spacing(k, study.lesson_spacing)
        parts = []
        for s in wins:
            score = study.spacing(k, s)
            c = compare(score, even)
            wins[s] += c.lower
            verdict = ("indistinguishable from even spacing at this sample size" if c.same else
                       f"{'better' if c.lower else 'worse'} than even spacing (noise {noise(c)} at the 5% level)")
            parts.append(f"{SPACING_LABELS[s]} {score}, {verdict}")
        lines.append(f"{plural(k)}: even spacing W2 {even}; " + "; ".join(parts) + ".")
    beating = [f"{SPACING_LABELS[s]} at {n} of {len(study.steps)}" for s, n in wins.items() if n]
    if beating:
        summary = "Measurably better than the lesson's even spacing: " + "; ".join(beating) + " step counts."
    else:
        summary = ("No other spacing is measurably better than the lesson's even spacing at any step count shown: "
                   "for this model, even spacing is as good as these alternatives.")
    return "\n".join(f"- {line}" for line in lines + [summary])
