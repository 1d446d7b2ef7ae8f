"""The lesson's claims on a model (Home, *The lesson, checked*) and its settings in the form's words."""
from __future__ import annotations

from typing import Mapping

from viz import names


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
