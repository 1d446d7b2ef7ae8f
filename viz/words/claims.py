"""The lesson's claims on a model (Home, *The lesson, checked*) and its settings in the form's words."""
from __future__ import annotations

from typing import Mapping

from cmcore.config import LESSON_TEACHER
from cmcore.evaluate import FAILS, NOT_APPLICABLE, SELF_CONSISTENCY_TOLERANCE, Claim
from cmcore.stats import Score, compare
from viz import names
from viz.words.compare import SAME_WORDS, noise
from viz.words.english import plural


def evidence(claim: Claim) -> str:
    """The numbers a claim was judged on, and, when it does not hold, why: "teacher W2: 1 step 1.241 ± 0.004,
    5 steps ...; difference +0.584, outside the noise of ±0.010 at the 5% level"."""
    if claim.distance is not None:
        return f"mean endpoint distance {claim.distance:.4f} (tolerance {SELF_CONSISTENCY_TOLERANCE})"
    m, c = claim.measured, claim.comparison
    if claim.status == NOT_APPLICABLE:  # its premise: the first sampler beats the second
        return (f"the {m[0].sampler} model's {m[0].steps}-step samples (W2 {m[0].score}) are not better than the "
                f"{m[1].sampler}'s {'single step' if m[1].steps == 1 else plural(m[1].steps)} ({m[1].score}): it "
                "never learned to sample, so flat gains mean nothing")
    if len({x.sampler for x in m}) == 1:
        text = f"{m[0].sampler} W2: " + ", ".join(f"{plural(x.steps)} {x.score}" for x in m)
    else:
        text = "W2: " + ", ".join(f"{x.sampler} {plural(x.steps)} {x.score}" for x in m)
    if c is not None and c.same:
        text += f"; {SAME_WORDS} (difference {c.diff:+.3f}, noise {noise(c)} at the 5% level)"
    elif c is not None and claim.status == FAILS:
        text += f"; difference {c.diff:+.3f}, outside the noise of {noise(c)} at the 5% level"
    return text


def settings_diff(cfg: Mapping[str, object], reference: Mapping[str, object], prefix: str = "") -> list[str]:
    """``name: old → new`` for every setting of ``cfg`` that differs from ``reference``, in the form's words
    (``viz.names``: one naming of settings for every page)."""
    return [prefix + change for change in names.changes_between(cfg, reference)]


def settings_summary(cfg: Mapping[str, object], ours: Mapping[str, object], lesson_teacher: bool = False) -> str:
    """The settings that differ from our defaults, in the form's words."""
    diff = (["the lesson's teacher"] if lesson_teacher else []) + settings_diff(cfg, ours)
    return ", ".join(diff) if diff else "our defaults"


def claim_summary(counts: Mapping[str, int], total: int, label: str) -> str:
    """One line counting the claims by status, for the model named ``label``."""
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    return (f"On **{label}**: {', '.join(parts)} (of {total} claims). A claim is *undecided* when the numbers it rests "
            "on are indistinguishable at this sample size, and *not applicable* when its premise is false for this "
            "model.")


def departure(lesson_claims: list, our_claims: list, lesson_cfgs: tuple[Mapping, Mapping],
              our_cfgs: tuple[Mapping, Mapping]) -> str:
    """Which of the lesson's claims fail on its own recipe, hold on ours, and what we changed (both computed)."""
    fixed = [a.text for a, b in zip(lesson_claims, our_claims) if not a.holds and b.holds]
    still = [a.text for a, b in zip(lesson_claims, our_claims) if not a.holds and not b.holds]
    teacher = settings_diff(our_cfgs[0], lesson_cfgs[0], "teacher's ")
    student = settings_diff(our_cfgs[1], lesson_cfgs[1])
    lines = []
    if fixed:
        lines.append(f"With the lesson's own recipe, {len(fixed)} of its claims are not borne out by the models it "
                     "trains (they do not hold, or their premise is false); with our defaults they hold: "
                     + "; ".join(f"*{t}*" for t in fixed))
    else:
        lines.append("No claim that fails on the lesson's recipe holds on ours in this measurement.")
    if still:
        lines.append("Not settled by our defaults either: " + "; ".join(f"*{t}*" for t in still) + ".")
    lines.append("What we changed, lesson → ours: " + ", ".join(teacher + student) + ".")
    return "\n\n".join(lines)


def lesson_teacher_sentence(t50: Score, floor: Score, n: int, noun: str) -> str:
    """One plain sentence on how close the lesson's own teacher gets to the data, from its stored numbers."""
    head = (f"The lesson's own teacher ({LESSON_TEACHER.steps:,} training steps at a {LESSON_TEACHER.lr_schedule} learning "
            f"rate of {LESSON_TEACHER.lr:g}), sampled with its 50-step ODE, "
            f"scores W2 {t50} on {noun}, against a floor of {floor} for two real samples of {n:,} points")
    c = compare(t50, floor)
    if c.higher:
        return head + (f": {t50.mean / floor.mean:.1f}× the floor, so its samples are visibly rougher than the data, "
                       "and any model distilled from it inherits that.") if floor.mean > 0 else head + "."
    return head + ": indistinguishable from the floor at this sample size, so it makes clean samples of this data."
