"""The lab pages' sentences about what they measure live (W2's lines, f_θ over t, one distillation step, the
consistency map): pure functions of the numbers a page shows (no Streamlit, testable alone).

A sentence here states only what its arguments support; a page never prints a fixed claim about a model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmcore.evaluate import EvalSpec, Score, compare
from cmcore.lab import CONSISTENT_WITHIN, LONG_LINE_QUANTILE, TOP_SHARE, LineStats
from viz.words.compare import says
from viz.words.english import join, ratio, subscript

DOMINATED = 0.5  # the longest lines (TOP_SHARE of them) "drive" W2 when they carry more than half of its square


# --- What W2 means ---------------------------------------------------------------------------

def w2_lines(noun: str, n: int, s: LineStats) -> str:
    """What the matching drawn on screen says about its W2."""
    top = (f"The longest {TOP_SHARE:.0%} of the lines carry {s.top_share:.0%} of the squared total, so a few far-off "
           "points drive this number more than the typical line does."
           if s.top_share > DOMINATED else
           f"The longest {TOP_SHARE:.0%} of the lines carry {s.top_share:.0%} of the squared total: the cost is spread "
           "over many lines rather than driven by a few far-off points.")
    return (f"Each of the {n} points of **{noun}** is joined to one real point, and the pairing makes the "
            f"sum of squared line lengths as small as it can be. W2 is the root-mean-square length of these "
            f"lines: **{s.w2:.3f}**. The typical (median) line is {s.median:.3f} long, and {s.long_share:.0%} of "
            f"the lines are longer than {s.long_threshold:.3f}, a length that only "
            f"{1 - LONG_LINE_QUANTILE:.0%} of the lines between two real samples exceed. {top}")


def w2_floor(n: int, floor: LineStats) -> str:
    return (f"Two independent real samples of {n} points, matched the same way, score W2 {floor.w2:.3f} "
            f"(median line {floor.median:.3f}): two finite samples never coincide, so even a perfect model "
            "scores about this much at this size.")


def w2_protocol(noun: str, spec: EvalSpec, n: int, small: float, score: Score, floor: Score,
                is_floor: bool) -> str:
    """The protocol's W2 ± sem against its floor, and how the small sample on screen relates to it."""
    size = (f"At {n} points the matching above reads {small:.3f}, "
            + ("higher than" if small > score.mean else "lower than" if small < score.mean else "equal to")
            + f" the protocol's {score.mean:.3f} at {spec.n:,} points"
            + ("; with fewer points each one's nearest partners lie further away, so small samples overstate W2."
               if small > score.mean else "."))
    if is_floor:
        return (f"At the protocol's size ({spec.describe()}) two real samples score W2 **{floor}** (mean ± standard "
                f"error over seeds): this is the floor every model is measured against. {size}")
    verdict = says(compare(score, floor), noun, "the floor")
    times = f"{score.mean / floor.mean:.1f}× " if floor.mean > 0 else "against "
    return (f"At the protocol's size ({spec.describe()}), {noun} scores W2 **{score}** (mean ± standard error over "
            f"seeds), {times}the floor of **{floor}**: {verdict}. {size}")



# --- What f_theta does at each t ----------------------------------------------------------------------

def _ranges(ts, mask) -> list[tuple[float, float]]:
    """Runs of consecutive True in ``mask`` as (first t, last t)."""
    runs, start = [], None
    for i, on in enumerate(mask):
        if on and start is None:
            start = i
        if start is not None and (not on or i == len(mask) - 1):
            end = i if on else i - 1
            runs.append((float(ts[start]), float(ts[end])))
            start = None
    return runs


def _span(runs: list[tuple[float, float]]) -> str:
    return join(f"t = {a:.2f}" if a == b else f"t = {a:.2f} to {b:.2f}" for a, b in runs)


def ftheta_curve(ts, cm, teacher) -> str:
    """What the two error curves say: at t = max, where each jump is closer, how each grows with t."""
    ts, cm, teacher = list(map(float, ts)), list(map(float, cm)), list(map(float, teacher))
    last = len(ts) - 1
    ratio = teacher[last] / cm[last] if cm[last] > 0 else float("inf")
    head = (f"From t = {ts[last]:.2f} the consistency model lands {cm[last]:.3f} from the ODE endpoint on average "
            f"and the teacher's one-jump x₀ prediction {teacher[last]:.3f}, "
            + (f"{ratio:.1f}× further." if ratio > 1 else f"{1 / ratio:.1f}× closer." if ratio < 1 else "the same."))
    better = [c < t for c, t in zip(cm, teacher)]
    if all(better):
        where = f"The consistency model is the closer of the two at every t shown ({ts[0]:.2f} to {ts[last]:.2f})."
    elif not any(better):
        where = f"The teacher's jump is the closer of the two at every t shown ({ts[0]:.2f} to {ts[last]:.2f})."
    else:
        where = (f"The consistency model is the closer of the two for {_span(_ranges(ts, better))}; the teacher's "
                 f"jump for {_span(_ranges(ts, [not b for b in better]))}.")
    trend = (f"Across the frames the teacher's error runs from {min(teacher):.3f} to {max(teacher):.3f} and the "
             f"consistency model's from {min(cm):.3f} to {max(cm):.3f}.")
    return f"{head} {where} {trend}"


# --- Anatomy of one distillation step ----------------------------------------------------------------

def level(n: int) -> str:
    """t_n written with a subscript index: t₆."""
    return f"t{subscript(n)}"


@dataclass(frozen=True)
class AnatomyLabels:
    x0: str
    x_next: str
    x_hat: str
    online: str
    target: str
    endpoint: str
    loss: str


def anatomy_labels(n: int, mode: str, solver: str, loss_kind: str) -> AnatomyLabels:
    """Each point of one loss term, labelled with its formula (the paper's symbols, level indices filled in)."""
    tn, tn1 = level(n), level(n + 1)
    x_hat = (f"x̂_{tn} = {solver.capitalize()} step of the teacher from {tn1}" if mode == "distillation"
             else f"x_{tn} = (1−{tn})x₀ + {tn}ε, the same ε")
    hat = "x̂" if mode == "distillation" else "x"
    d = "pseudo-Huber" if loss_kind == "pseudo_huber" else "squared L2"
    return AnatomyLabels(
        x0="x₀, the data point", x_next=f"x_{tn1} = (1−{tn1})x₀ + {tn1}ε", x_hat=x_hat,
        online=f"f_θ(x_{tn1}, {tn1}), online", target=f"f_θ⁻({hat}_{tn}, {tn}), target (EMA)",
        endpoint=f"ODE endpoint from x_{tn1} (200 steps)", loss=f"loss: {d} d(f_θ, f_θ⁻)")


def anatomy_symbols(n: int, mode: str) -> AnatomyLabels:
    """The short symbols written beside each point on the plane (the legend holds the formulas)."""
    tn, tn1 = level(n), level(n + 1)
    hat = "x̂" if mode == "distillation" else "x"
    return AnatomyLabels(x0="x₀", x_next=f"x_{tn1}", x_hat=f"{hat}_{tn}", online="f_θ", target="f_θ⁻",
                         endpoint="ODE end", loss="d")


def anatomy_step(labels: AnatomyLabels, steps, i: int, gap, loss, online_error, level_gap, points: int) -> str:
    """What checkpoint ``i`` shows, against step 0: the gap (the loss), where the online prediction sits."""
    s, g0, gi = int(steps[i]), float(gap[0]), float(gap[i])
    change = ("the same as" if gi == g0 else f"{g0 / gi:.1f}× closer than" if gi < g0
              else f"{gi / g0:.1f}× further apart than")
    head = (f"At step {s:,} of {int(steps[-1]):,} the online prediction and the target's are **{gi:.4f}** apart, "
            f"so this point adds {float(loss[i]):.2e} to the loss; that is {change} at step 0 ({g0:.4f})."
            if i > 0 else
            f"Before training (step 0) the online prediction and the target's are **{g0:.4f}** apart, so this point "
            f"adds {float(loss[0]):.2e} to the loss.")
    lv = (f" Over {points} points at this level pair the mean gap is {float(level_gap[i]):.4f}"
          + (f" (step 0: {float(level_gap[0]):.4f})." if i > 0 else "."))
    e0, ei = float(online_error[0]), float(online_error[i])
    where = (f" The online prediction is {ei:.4f} from the true ODE endpoint" +
             (f" ({'closer than' if ei < e0 else 'further than' if ei > e0 else 'as far as'} at step 0, {e0:.4f})."
              if i > 0 else "."))
    return head + lv + where


# --- Where is the model consistent? ------------------------------------------------------------------

def consistency_map(t: float, current, early, visited, current_name: str, early_name: str,
                    within: float = CONSISTENT_WITHIN) -> str:
    """Where on the plane each model is consistent: on the cells noised data reaches, and off them."""
    current, early, visited = np.asarray(current), np.asarray(early), np.asarray(visited, dtype=bool)
    k, total = int(visited.sum()), len(visited)
    if k == 0:
        return f"At t = {t:.2f} no noised data point falls inside the window, so the map shows only untrained ground."
    on_c, on_e = float(current[visited].mean()), float(early[visited].mean())
    text = (f"At t = {t:.2f} noised data lands in {k} of {total} cells (white dots). There the mean consistency "
            f"error of {current_name} is **{on_c:.3f}** and that of {early_name} **{on_e:.3f}** "
            f"({ratio(on_e, on_c)}); "
            f"{float((current[visited] < within).mean()):.0%} and {float((early[visited] < within).mean()):.0%} of "
            f"those cells are within {within:g}.")
    if k < total:
        off_c, off_e = float(current[~visited].mean()), float(early[~visited].mean())
        text += (f" On the {total - k} cells where none of them falls the means are {off_c:.3f} and {off_e:.3f}"
                 + (": the consistency property is learned where the data's noised copies go, not everywhere."
                    if off_c > on_c and off_e > on_e else "."))
    return text


def consistency_over_t(ts, current, early, teacher, current_name: str, early_name: str) -> str:
    """How the two models' mean errors on noised data compare across t, with the teacher's jump for scale."""
    ts, pairs = list(map(float, ts)), list(zip(map(float, current), map(float, early)))
    better = [c < e for c, e in pairs]
    count = sum(better)
    who = (f"{current_name} is the more consistent at every t shown" if count == len(ts) else
           f"{early_name} is the more consistent at every t shown" if count == 0 else
           f"{current_name} is the more consistent at {count} of {len(ts)} times")
    worst_c, worst_e = max(c for c, _ in pairs), max(e for _, e in pairs)
    top = int(np.argmax(teacher))
    return (f"On noised data, {who}. The largest mean error of {current_name} is {worst_c:.3f}, against "
            f"{worst_e:.3f} for {early_name}; the teacher's one-jump x₀ prediction reaches {float(teacher[top]):.3f} "
            f"(at t = {ts[top]:.2f}).")
