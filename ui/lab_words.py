"""The lab pages' sentences: pure functions of the numbers a page shows (no Streamlit, testable alone).

A sentence here states only what its arguments support; a page never prints a fixed claim about a model.
"""
from __future__ import annotations

from cmcore.evaluate import EvalSpec, Score, compare
from cmcore.lab import LONG_LINE_QUANTILE, TOP_SHARE, LineStats

DOMINATED = 0.5  # the longest lines (TOP_SHARE of them) "drive" W2 when they carry more than half of its square


# --- What W2 means ---------------------------------------------------------------------------

def w2_lines(noun: str, n: int, s: LineStats) -> str:
    """What the matching drawn on screen says about its W2."""
    top = (f"The longest {TOP_SHARE:.0%} of the lines carry {s.top_share:.0%} of the squared total, so a few far-off "
           "points drive this number more than the typical line does."
           if s.top_share > DOMINATED else
           f"The longest {TOP_SHARE:.0%} of the lines carry {s.top_share:.0%} of the squared total: the cost is spread over "
           "many lines rather than driven by a few far-off points.")
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
    says = compare(score, floor).says(noun, "the floor")
    times = f"{score.mean / floor.mean:.1f}× " if floor.mean > 0 else "against "
    return (f"At the protocol's size ({spec.describe()}), {noun} scores W2 **{score}** (mean ± standard error over "
            f"seeds), {times}the floor of **{floor}**: {says}. {size}")

