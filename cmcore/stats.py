"""The statistics of the evaluation protocol, free of torch: a score with its spread, and the one comparison rule.

``cmcore.evaluate`` measures Scores; pages, words and the bench compare them only with
``compare``, so "better", "worse" and "indistinguishable at this sample size" mean the
same thing everywhere.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

NOISE_Z = 2.0  # a difference within 2 standard errors is "indistinguishable at this sample size"

# The one comparison rule's three outcomes.
LOWER, HIGHER, SAME = "lower", "higher", "indistinguishable"


@dataclass(frozen=True)
class Score:
    """W2 of one sampler under one EvalSpec: one value per seed, read as mean ± standard error."""

    values: tuple[float, ...]
    n: int

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def sem(self) -> float:
        """Standard error of the mean over seeds (0 with a single seed: no spread is known)."""
        k = len(self.values)
        if k < 2:
            return 0.0
        var = sum((v - self.mean) ** 2 for v in self.values) / (k - 1)
        return math.sqrt(var / k)

    def fmt(self, digits: int = 3) -> str:
        return f"{self.mean:.{digits}f} ± {self.sem:.{digits}f}"

    def __str__(self) -> str:
        return self.fmt()


@dataclass(frozen=True)
class Comparison:
    """Is ``a`` below ``ratio`` x ``b``?  ``outcome`` is LOWER, HIGHER or SAME (inside the noise)."""

    outcome: str
    diff: float  # a.mean - ratio * b.mean
    se: float  # standard error of that difference
    ratio: float = 1.0

    @property
    def lower(self) -> bool:
        return self.outcome == LOWER

    @property
    def higher(self) -> bool:
        return self.outcome == HIGHER

    @property
    def same(self) -> bool:
        return self.outcome == SAME


    def says(self, a: str, b: str) -> str:
        """One clause naming what this comparison of ``a`` with ``b`` found (lower W2 is better)."""
        other = b if self.ratio == 1 else f"{self.ratio:g} × {b}"
        noise = f"±{NOISE_Z * self.se:.3f}"
        if self.same:
            return (f"{a} and {other} are indistinguishable at this sample size (difference {self.diff:+.3f}, "
                    f"inside the noise of {noise})")
        return (f"{a} is {'better' if self.lower else 'worse'} than {other} (W2 {abs(self.diff):.3f} "
                f"{'lower' if self.lower else 'higher'}; noise {noise})")


def compare(a: Score, b: Score, ratio: float = 1.0) -> Comparison:
    """The one comparison rule of the dashboard: ``a`` against ``ratio * b``.

    The difference counts only when it is larger than ``NOISE_Z`` standard errors (the two
    scores' errors combined); otherwise the answer is "indistinguishable at this sample size".
    Lower W2 is better, so LOWER means ``a`` is better than ``ratio * b``.
    """
    diff = a.mean - ratio * b.mean
    se = math.sqrt(a.sem ** 2 + (ratio * b.sem) ** 2)
    if abs(diff) <= NOISE_Z * se:
        return Comparison(SAME, diff, se, ratio)
    return Comparison(LOWER if diff < 0 else HIGHER, diff, se, ratio)
