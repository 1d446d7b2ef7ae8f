"""The one-change study in words: each a pure function of a finding or of the collapse rows.

bench/STUDY.md (``viz.words.reports``) and *The lesson, checked* narrate a finding with the same ``finding_text``
and the collapse runs with the same ``collapse_statement``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from cmcore.evaluate import FAILS, HOLDS, UNDECIDED
from viz.words.english import join

if TYPE_CHECKING:  # read here, never built: importing cmcore.study would load the runner and torch
    from cmcore.study import ClaimFinding, CollapseRow


def _status_words(status: str) -> str:
    return {HOLDS: "holds", FAILS: "does not hold",
            UNDECIDED: "is undecided (indistinguishable at this sample size)"}.get(status, f"is {status}")


def finding_text(f: ClaimFinding) -> str:
    """What the one-change runs say about one claim: its status on each recipe, the changes that fix it on the
    lesson's, the reverts that break it on ours."""
    return " ".join(finding_sentences(f))


def finding_sentences(f: ClaimFinding) -> list[str]:
    s = [f"With the lesson's recipe it {_status_words(f.lesson_status)}."]
    if f.fixed_by:
        s.append(f"Adding {join(f.fixed_by)} alone makes it hold." if len(f.fixed_by) == 1 else
                 f"Each of {join(f.fixed_by)} alone makes it hold.")
    else:
        s.append("No single one of our changes makes it hold.")
    if f.fix_undecided:
        s.append(f"After adding {join(f.fix_undecided)} alone, the comparison is indistinguishable at this sample size.")
    if f.ours_status != HOLDS:
        s.append("On our recipe it does not hold either." if f.ours_status == FAILS else
                 f"On our recipe it {_status_words(f.ours_status)} too.")
        return s
    if f.broken_by:
        s.append(f"On our recipe it holds; reverting {join(f.broken_by)} alone breaks it." if len(f.broken_by) == 1
                 else f"On our recipe it holds; reverting any one of {join(f.broken_by, 'or')} breaks it.")
    else:
        s.append("On our recipe it holds, and no single revert breaks it.")
    if f.break_undecided:
        s.append(f"After reverting {join(f.break_undecided)}, it is indistinguishable at this sample size.")
    both = [c for c in f.fixed_by if c in f.broken_by]
    if both:
        s.append(f"So {join(both)} is both enough on the lesson's recipe and needed in ours.")
    return s


def _labels(rows: list[CollapseRow]) -> str:
    return join([r.label for r in rows])


def collapse_statement(rows: list[CollapseRow]) -> str:
    """What the claim-(f) runs say about "the EMA target prevents collapse" (μ = 0: no target)."""
    if not rows:
        return "No runs were measured."
    s = []
    for init, who in ((True, "Initialised from the teacher"), (False, "From random weights")):
        group = [r for r in rows if r.init == init]
        down, up = [r for r in group if r.collapsed], [r for r in group if not r.collapsed]
        if group:
            s.append(f"{who}, {'no run collapsed' if not down else 'every run collapsed' if not up else _labels(down) + ' collapsed'}"
                     f"{' and ' + _labels(up) + ' did not' if down and up else ''}.")
    no_target_kept = [r for r in rows if r.mu == 0 and not r.collapsed]
    target_collapsed = [r for r in rows if r.mu > 0 and r.collapsed]
    rescued = [r for r in rows if r.mu > 0 and not r.collapsed
               and any(o.mu == 0 and o.collapsed and o.init == r.init for o in rows)]
    if rescued:
        s.append(f"Where the run without a target (μ = 0) collapsed, a target avoided it ({_labels(rescued)}): "
                 "the target can help.")
    if no_target_kept:
        s.append(f"Without any target, {_labels(no_target_kept)} did not collapse: a target is not needed to avoid it.")
    if target_collapsed:
        s.append(f"With a target, {_labels(target_collapsed)} collapsed: the target does not prevent it on its own.")
    collapsed = [r for r in rows if r.collapsed]
    if collapsed and any(r.init for r in rows) and not any(r.init for r in collapsed):
        s.append("Every collapse started from random weights; no run initialised from the teacher collapsed.")
    if no_target_kept or target_collapsed:
        s.append("So the claim as stated (the EMA target prevents collapse) does not hold in general here.")
    elif any(r.mu == 0 for r in rows) and collapsed:
        s.append("The numbers agree with the claim: every run without a target collapsed, none with one did.")
    else:
        s.append("These runs do not test the claim (no run collapsed, or none went without a target).")
    return " ".join(s)
