"""How a comparison is said (``says``, ``noise``: every page and report), and the sentences of the "Recipes compared"
lab page, computed from the numbers its two charts show.

Pure functions of Scores (mean ± standard error); every comparison goes through
``cmcore.stats.compare``, the protocol's one rule (a t-test at the 5% level), so a difference
inside its noise reads "indistinguishable at this sample size", whatever the models.  Run B is
always compared against run A: "better" means B's W2 is lower.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from cmcore.stats import Comparison, Score, compare
from viz.words.english import join, plural, times

SAME_WORDS = "indistinguishable at this sample size"


def noise(c: Comparison) -> str:
    """The noise as words: ``±0.012`` or, with a single seed, that no spread is known."""
    return f"±{c.half_width:.3f}" if c.df > 0 else "unknown with one seed"


def says(c: Comparison, a: str, b: str) -> str:
    """One clause naming what the comparison ``c`` of ``a`` with ``b`` found (lower W2 is better)."""
    other = b if c.ratio == 1 else f"{c.ratio:g} × {b}"
    if c.same:
        return (f"{a} and {other} are {SAME_WORDS} (difference {c.diff:+.3f}, "
                f"inside the noise of {noise(c)} at the 5% level)")
    return (f"{a} is {'better' if c.lower else 'worse'} than {other} (W2 {abs(c.diff):.3f} "
            f"{'lower' if c.lower else 'higher'}; noise {noise(c)} at the 5% level)")


def step_list(ks: Sequence[int]) -> str:
    """[1] -> "1 step", [1, 2, 4] -> "1, 2 and 4 steps"."""
    ks = sorted(ks)
    return plural(ks[0]) if len(ks) == 1 else f"{join(map(str, ks))} steps"


def per_nfe(a: Mapping[int, Score], b: Mapping[int, Score]) -> dict[int, Comparison]:
    """B against A at every step count both were measured at."""
    return {k: compare(b[k], a[k]) for k in sorted(set(a) & set(b))}


def nfe_line(k: int, a: Score, b: Score) -> str:
    """The verdict at one step count, with the two numbers it rests on."""
    return f"**{plural(k)}**: B {b}, A {a}. {says(compare(b, a), 'B', 'A')}."


def nfe_summary(a_name: str, b_name: str, comparisons: Mapping[int, Comparison]) -> str:
    """One sentence over every step count: where B is better, worse, or indistinguishable from A."""
    groups = {"better": [k for k, c in comparisons.items() if c.lower],
              "worse": [k for k, c in comparisons.items() if c.higher],
              SAME_WORDS: [k for k, c in comparisons.items() if c.same]}
    shown = step_list(list(comparisons))
    if groups[SAME_WORDS] and len(groups[SAME_WORDS]) == len(comparisons):
        return f"At every step count shown ({shown}), {b_name} and {a_name} are {SAME_WORDS}."
    for word in ("better", "worse"):
        if len(groups[word]) == len(comparisons):
            return f"{b_name} is {word} than {a_name} at every step count shown ({shown})."
    parts = [f"{word} at {step_list(ks)}" for word, ks in groups.items() if ks]
    return f"{b_name} against {a_name}: " + ", ".join(parts[:-1]) + f" and {parts[-1]}."


def floor_line(name: str, scores: Mapping[int, Score], floor: Score) -> str:
    """Where a run comes within the noise of the floor (two real samples), or how far above it it stays."""
    reached = [k for k in sorted(scores) if not compare(scores[k], floor).higher]
    if reached:
        return (f"{name} is not measurably above the floor ({floor}, two real samples) at {step_list(reached)}: "
                "as close to the data as this sample size can tell.")
    best = min(scores, key=lambda k: scores[k].mean)
    return (f"{name} stays measurably above the floor ({floor}) at every step count; its best is {scores[best]} at "
            f"{plural(best)}, {times(scores[best].mean, floor.mean)} the floor.")


def steps_line(name: str, scores: Mapping[int, Score]) -> str:
    """What more sampling steps buy one run: its most steps against its fewest."""
    lo, hi = min(scores), max(scores)
    return f"For {name}, {says(compare(scores[hi], scores[lo]), f'{hi}-step sampling', f'{lo}-step sampling')}."


def track_story(name: str, points: Sequence[tuple[int, Score]], floor: Score) -> str:
    """What one run's W2-against-step curve shows: first against last, a best point it fell back from, the floor."""
    (s0, first), (s1, last) = points[0], points[-1]
    if len(points) == 1:
        return f"{name}: one measurement, at step {s0:,}: one-step W2 {first}."
    c = compare(last, first)
    trend = ("it improved" if c.lower else "it got measurably worse" if c.higher else f"{SAME_WORDS}")
    text = (f"{name}: one-step W2 went from {first} at step {s0:,} to {last} at step {s1:,}: {trend} "
            f"(difference {c.diff:+.3f}, noise {noise(c)} at the 5% level).")
    sb, best = min(points, key=lambda p: p[1].mean)
    if sb not in (s0, s1) and compare(last, best).higher:  # a best point in between, fallen back from
        text += f" It was best at step {sb:,} ({best}) and is measurably worse at the end."
    end = compare(last, floor)
    text += (f" At the end it is within the noise of the floor at this size ({floor})." if not end.higher else
             f" At the end it is {times(last.mean, floor.mean)} the floor at this size ({floor}).")
    return text


def track_end(a_name: str, a_end: tuple[int, Score], b_name: str, b_end: tuple[int, Score]) -> str:
    """The two runs at the last point of their curves."""
    (sa, a), (sb, b) = a_end, b_end
    return (f"At the end of training ({b_name} at step {sb:,}, {a_name} at step {sa:,}): "
            f"{says(compare(b, a), b_name, a_name)}.")
