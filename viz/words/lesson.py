"""The exercises' stories (pages 2-4): what the numbers beside them say, for any model."""
from __future__ import annotations

from typing import Mapping

import numpy as np

from cmcore.collapse import COLLAPSE_SPREAD_FRACTION
from cmcore.metrics import spread
from cmcore.stats import Score, compare
from viz.words.compare import says
from viz.words.english import plural, times


# --- Page 2 -----------------------------------------------------------------------------------------

def ode_steps_story(k: int, error_k: float, steps, errors, threshold: float, points: int, seed: int) -> str:
    """What one error-vs-steps curve says about ``k`` steps and the ``threshold``, every figure from that curve.

    ``error_k``: the mean endpoint error of ``k`` Euler steps on the curve's own noise (``points`` points of noise
    seed ``seed``); ``steps``/``errors``: the curve's Euler step counts and their mean errors.
    """
    steps, errors = np.asarray(steps, dtype=int), np.asarray(errors, dtype=np.float64)
    under = steps[errors < threshold]
    first = int(under.min()) if len(under) else None
    where = f"On the curve's {points:,} points (noise seed {seed}), {plural(k)} give a mean error of {error_k:.3f}"
    if error_k < threshold:
        fewer = (f"; of the curve's step counts, {plural(first)} already got there" if first is not None and first < k
                 else "")
        return f"{where}, under {threshold:g}{fewer}."
    if first is None:
        return (f"{where}, above {threshold:g}; none of the curve's step counts, up to {plural(int(steps.max()))}, "
                "gets under it.")
    if first < k:  # the curve dips under the line before k and comes back above it (noise in the reference)
        return f"{where}, above {threshold:g}, although {plural(first)} got under it."
    return f"{where}, above {threshold:g}; getting under it took {plural(first)}."


# --- Page 4 -----------------------------------------------------------------------------------------

def multistep_story(tea: Mapping[int, Score], cms: Mapping[int, Score], floor: Score, n: int) -> str:
    """What the W2 table of page 4 says: one step against one step, how few jumps match the ODE, more jumps."""
    c1, t1 = cms[1], tea[1]
    first = compare(c1, t1)
    lines = [f"From the same {n:,} noise points, one consistency step scored W2 {c1} and one teacher step {t1}: "
             + ("a clear win for the same single network call." if first.lower else
                "so at the cost of one network call this model does worse than the teacher." if first.higher else
                "indistinguishable at this sample size.")]
    best = max(tea)
    matching = [k for k in sorted(cms) if not compare(cms[k], tea[best]).higher]
    if matching:
        k = matching[0]
        saving = f", {best / k:.0f}× fewer evaluations" if best > k else ", with no saving in calls"
        lines.append(f"With {plural(k, 'call')} the consistency model is not measurably worse than the teacher's "
                     f"{best}-step ODE ({cms[k]} against {tea[best]}){saving}.")
    else:
        lines.append(f"None of the consistency step counts shown comes within the noise of the teacher's {best}-step "
                     f"ODE (W2 {tea[best]}); every one is measurably worse.")
    if len(cms) > 1:
        lo, hi = min(cms), max(cms)
        more = compare(cms[hi], cms[lo])
        lines.append(f"Going from {plural(lo)} to {plural(hi)}: {says(more, f'{hi} steps', f'{lo} step' + ('s' if lo > 1 else ''))}.")
    lines.append(f"For scale, two independent real samples of this size score {floor}; no sampler can score lower, "
                 "and differences within the ± ranges are sampling noise, not findings (try another seed).")
    return "\n".join(f"- {line}" for line in lines)


def jump_story(x0_hats: np.ndarray, inputs: np.ndarray, levels: np.ndarray, collapsed: bool) -> str:
    """What the jump panels show, measured on the followed points; ``collapsed`` is the engine's verdict on the
    model (``cmcore.collapse.collapsed``), the one the study uses."""
    x0_hats, inputs = np.asarray(x0_hats), np.asarray(inputs)
    if len(x0_hats) < 2:
        return "With one step there is nothing to re-noise."
    final_spread = spread(x0_hats[-1])
    moved = float(np.sqrt(((x0_hats[-1] - x0_hats[0]) ** 2).sum(-1).mean()))
    renoise = float(np.sqrt(((inputs[1:] - x0_hats[:-1]) ** 2).sum(-1).mean()))
    keep = 1 - float(levels[1])
    head = (f"Between the first and the last jump the points' x̂₀ moved by {moved:.2f} on average (RMS); each "
            f"re-noising moved a point {renoise:.2f} away from its x̂₀ before the next jump. ")
    if collapsed:
        return head + (f"This model has collapsed: its one-step samples are measurably narrower than "
                       f"{COLLAPSE_SPREAD_FRACTION:g} × the data's spread and no better than the teacher's single step, "
                       f"so every jump lands near the same spot (spread of the followed points {final_spread:.3f}) and "
                       "re-noising cannot help it.")
    if moved > renoise:
        return head + (f"Later jumps do not merely polish the first answer: the first re-noising keeps only {keep:.0%} "
                       "of x̂₀, so a point can end up on another part of the data.")
    return head + "The later jumps land close to the first answer and mostly refine it."


def floor_clause(scores: Mapping[str, Score], floor: Score) -> str:
    """Where the models stand against the floor (two real samples), from the numbers: a model whose mean
    is under it is either inside its noise or measurably below it (finite samples allow both)."""
    under = {name: s for name, s in scores.items() if s.mean < floor.mean}
    if not under:
        return "no model here scores lower than that."
    parts = [f"{name} ({s}) is " + ("measurably below it, which finite samples allow (the floor is an estimate too)"
                                    if compare(s, floor).lower else
                                    "indistinguishable from it: as close to the data as this sample size can tell")
             for name, s in under.items()]
    return "; ".join(parts) + "."


# --- Page 3 -----------------------------------------------------------------------------------------

def distillation_story(t50: Score, t1: Score, cm1: Score, floor: Score, settings: Mapping[str, object],
                       reference: Score | None = None) -> str:
    """What the four panels of page 3 say, for any model (``settings``: the consistency config's fields)."""
    lines = []
    teacher = compare(t1, t50)
    if teacher.higher:
        lines.append(f"The teacher needs its steps: one Euler step scores W2 {t1}, fifty steps {t50}, so the single "
                     f"step is {times(t1.mean, t50.mean)} worse.")
    else:
        lines.append(f"This teacher is not measurably better with fifty Euler steps ({t50}) than with one ({t1}), so "
                     "its trajectories give a student little to learn from.")
    vs1 = compare(cm1, t1)
    if vs1.lower:
        lines.append(f"With the same single network evaluation, the consistency model scores {cm1}: "
                     f"{times(t1.mean, cm1.mean)} closer to the data than the teacher's one step.")
    else:
        reasons = []
        mu, steps = float(settings.get("ema_mu", 0)), int(settings.get("steps", 0))
        if mu >= 0.99:
            reasons.append(f"with μ = {mu:g} the target θ⁻ trails θ by about {1 / (1 - mu):,.0f} steps, a large share "
                           f"of the {steps:,} steps trained")
        if not settings.get("init_from_teacher", True):
            reasons.append("the network started from random weights")
        if steps < 500:
            reasons.append(f"{steps:,} steps is a short run")
        why = f" Settings that may explain it: {'; '.join(reasons)}." if reasons else ""
        what = "does worse than" if vs1.higher else "is indistinguishable at this sample size from"
        lines.append(f"Here the consistency model's one step ({cm1}) {what} the teacher's one step ({t1}): this model "
                     f"has not learned the jump to the endpoint.{why}")
    vs50 = compare(cm1, t50)
    if not vs50.higher:
        lines.append(f"Its one step is not measurably worse than the 50-step teacher ({t50}) while using 1/50 of the "
                     "network evaluations.")
    else:
        lines.append(f"The 50-step teacher is still better ({t50}): {says(vs50, 'one consistency step', 'fifty')}. "
                     "Page 4 shows what a few more jumps buy.")
    lines.append(f"For scale, two independent samples of real data score {floor}; " + floor_clause(
        {"the 50-step teacher": t50, "the teacher's one step": t1, "the consistency model's one step": cm1}, floor))
    if reference is not None:
        lines.append("Against our shipped defaults (one-step W2 " + f"{reference}): "
                     + says(compare(cm1, reference), "this run", "the shipped model") + ".")
    return "\n".join(f"- {line}" for line in lines)
