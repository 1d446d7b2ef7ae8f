"""Synthetic Scores for the tests: each on evaluation seeds of its own.

A fixture like ``(m - d, m, m + d)`` gives every score the same per-seed pattern; two such scores on the
same seeds would differ by exactly the same amount on every seed, which the paired test (rightly) calls
significant however small.  A fixture meant as "this mean ± this standard error" is an independent
measurement, so it gets fresh seeds and ``compare`` reads it with Welch's test.
"""
from itertools import count

from cmcore.stats import Score

_next = count()


def independent(values, n: int) -> Score:
    """``values`` as a Score on seeds no other call of this function uses."""
    values = tuple(float(v) for v in values)
    first = next(_next) * 1000
    return Score(values, n, tuple(range(first, first + len(values))))
