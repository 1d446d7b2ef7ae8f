"""The study's sentences, each a pure function of a finding or of the collapse rows (STUDY.md and Home).

``ClaimFinding`` and ``CollapseRow`` (cmcore.study.results) are named in annotations only: results reads
these sentences, so this module does not import it back.
"""
from __future__ import annotations

from ..evaluate import FAILS, HOLDS, UNDECIDED


def _join(items, conj: str = "and") -> str:
    """"a", "a and b", "a, b and c" (or another conjunction)."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _status_words(status: str) -> str:
    return {HOLDS: "holds", FAILS: "does not hold",
            UNDECIDED: "is undecided (indistinguishable at this sample size)"}.get(status, f"is {status}")


def finding_sentences(f: ClaimFinding) -> list[str]:
    s = [f"With the lesson's recipe it {_status_words(f.lesson_status)}."]
    if f.fixed_by:
        s.append(f"Adding {_join(f.fixed_by)} alone makes it hold." if len(f.fixed_by) == 1 else
                 f"Each of {_join(f.fixed_by)} alone makes it hold.")
    else:
        s.append("No single one of our changes makes it hold.")
    if f.fix_undecided:
        s.append(f"After adding {_join(f.fix_undecided)} alone, the comparison is indistinguishable at this sample size.")
    if f.ours_status != HOLDS:
        s.append("On our recipe it does not hold either." if f.ours_status == FAILS else
                 f"On our recipe it {_status_words(f.ours_status)} too.")
        return s
    if f.broken_by:
        s.append(f"On our recipe it holds; reverting {_join(f.broken_by)} alone breaks it." if len(f.broken_by) == 1
                 else f"On our recipe it holds; reverting any one of {_join(f.broken_by, 'or')} breaks it.")
    else:
        s.append("On our recipe it holds, and no single revert breaks it.")
    if f.break_undecided:
        s.append(f"After reverting {_join(f.break_undecided)}, it is indistinguishable at this sample size.")
    both = [c for c in f.fixed_by if c in f.broken_by]
    if both:
        s.append(f"So {_join(both)} is both enough on the lesson's recipe and needed in ours.")
    return s


def _labels(rows: list[CollapseRow]) -> str:
    return _join([r.label for r in rows])


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
