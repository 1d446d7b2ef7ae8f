"""The statistics of the evaluation protocol, free of torch: a score with its spread, and the one comparison rule.

``cmcore.evaluate`` measures Scores; pages, words and the bench compare them only with
``compare``, so "better", "worse" and "indistinguishable at this sample size" mean the
same thing everywhere.

The rule is a two-sided t-test at the 5% level (``ALPHA``):

- **paired** on the per-seed differences ``a[i] - ratio * b[i]`` when both scores were measured on the same
  evaluation seeds at the same size (the protocol gives every model the same noise and reference seeds,
  ``cmcore.evaluate``), with ``k - 1`` degrees of freedom;
- **Welch's** test otherwise (different seeds or sizes), with the Welch-Satterthwaite degrees of freedom.

A difference is called real only when ``|diff| > t(1 - ALPHA/2, df) x se``; that half-width is the "noise"
every sentence quotes (the sentences: ``viz.words.compare.says``; the engine writes none).  With fewer than 2 seeds on a side nothing is decidable: the answer is SAME.

Error rate: two equal models are called different at most 5% of the time.  Simulated at 3 seeds, 20,000
trials (tests/test_stats.py): 5.0% paired, 3.6% Welch; the old rule ("more than 2 combined standard
errors") gave 11.9% (issue 18; 11.5% on these draws).

Power (``power_gap``; ``python bench/stats_power.py``): the smallest true gap the paired test finds 80% of
the time is 3.26 standard deviations of the per-seed difference at the live protocol's 3 seeds, 1.00 at 10
and 0.66 at the shipped tables' 20.  On the shipped two-moons models at 2,000 points that SD is
0.016-0.029 in W2 (2 consistency steps against the teacher's 50 Euler steps: 0.016), so a live 3-seed run
finds gaps of about 0.05-0.09 and the stored 20-seed tables gaps of 0.010-0.019 (0.010 for that pair).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from scipy.special import stdtrit

ALPHA = 0.05  # the rule's two-sided error rate: equal models are called different at most 5% of the time

# The one comparison rule's three outcomes.
LOWER, HIGHER, SAME = "lower", "higher", "indistinguishable"
PAIRED, WELCH = "paired t-test", "Welch's t-test"


@dataclass(frozen=True)
class Score:
    """W2 of one sampler under one EvalSpec: one value per seed, read as mean ± standard error.

    ``seeds`` names the evaluation seed of each value (default 0..k-1, the protocol's own): two scores on the
    same seeds and size are compared pair by pair.
    """

    values: tuple[float, ...]
    n: int
    seeds: tuple[int, ...] | None = field(default=None)

    def __post_init__(self):
        seeds = tuple(range(len(self.values))) if self.seeds is None else tuple(int(s) for s in self.seeds)
        if len(seeds) != len(self.values):
            raise ValueError(f"{len(self.values)} values but {len(seeds)} seeds")
        object.__setattr__(self, "seeds", seeds)

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def sem(self) -> float:
        """Standard error of the mean over seeds (0 with a single seed: no spread is known)."""
        return _sem(self.values)

    def fmt(self, digits: int = 3) -> str:
        return f"{self.mean:.{digits}f} ± {self.sem:.{digits}f}"

    def describe(self) -> str:
        """What this score was measured on: "2,000 points, seeds 0-19" (a stored table may hold more seeds
        than a live measurement: a caption names the score's own)."""
        return sample_words(self.n, self.seeds)

    def on(self, seeds: tuple[int, ...]) -> "Score | None":
        """The same measurement restricted to ``seeds`` (a 20-seed stored table read by a 3-seed study); None
        if this score lacks one of them."""
        where = {s: i for i, s in enumerate(self.seeds)}
        if not set(seeds) <= where.keys():
            return None
        return Score(tuple(self.values[where[s]] for s in seeds), self.n, tuple(seeds))

    def __str__(self) -> str:
        return self.fmt()


def sample_words(n: int, seeds: tuple[int, ...]) -> str:
    """ "2,000 points, seeds 0-2": a sample size and its evaluation seeds, the one way they are written."""
    seeds = tuple(seeds)
    words = (f"seed {seeds[0]}" if len(seeds) == 1 else
             f"seeds {seeds[0]}-{seeds[-1]}" if seeds == tuple(range(seeds[0], seeds[-1] + 1))
             else "seeds " + ", ".join(map(str, seeds)))
    return f"{n:,} points, {words}"


def scores_words(*scores: "Score") -> str:
    """What several shown scores were measured on, once if they share it ("2,000 points, seeds 0-19")."""
    found = list(dict.fromkeys(s.describe() for s in scores))
    return found[0] if len(found) == 1 else " or ".join(found)


def _sem(values) -> float:
    k = len(values)
    if k < 2:
        return 0.0
    m = sum(values) / k
    return math.sqrt(sum((v - m) ** 2 for v in values) / (k - 1) / k)


@dataclass(frozen=True)
class Comparison:
    """Is ``a`` below ``ratio`` x ``b``?  ``outcome`` is LOWER, HIGHER or SAME (inside the noise)."""

    outcome: str
    diff: float  # a.mean - ratio * b.mean
    se: float  # standard error of that difference (of the paired differences' mean, or Welch's)
    ratio: float = 1.0
    df: float = 0.0  # the test's degrees of freedom (0: nothing decidable)
    test: str = PAIRED  # PAIRED or WELCH

    @property
    def lower(self) -> bool:
        return self.outcome == LOWER

    @property
    def higher(self) -> bool:
        return self.outcome == HIGHER

    @property
    def same(self) -> bool:
        return self.outcome == SAME

    @property
    def critical(self) -> float:
        """The t quantile a difference must exceed, in standard errors (inf when nothing is decidable)."""
        return t_critical(self.df) if self.df > 0 else math.inf

    @property
    def half_width(self) -> float:
        """The noise: how large ``|diff|`` must be to count (t critical x se; inf with one seed)."""
        return self.critical * self.se if self.df > 0 else math.inf


def t_critical(df: float, alpha: float = ALPHA) -> float:
    """The two-sided t quantile at level ``alpha`` (scipy.stats.t.ppf(1 - alpha/2, df), without its overhead)."""
    return float(stdtrit(df, 1 - alpha / 2))


def paired(a: Score, b: Score) -> bool:
    """Both measured on the same evaluation seeds at the same size: compared seed by seed."""
    return a.n == b.n and a.seeds == b.seeds


def compare(a: Score, b: Score, ratio: float = 1.0) -> Comparison:
    """The one comparison rule of the dashboard: ``a`` against ``ratio * b`` (two-sided, 5% level).

    Paired t-test on the per-seed differences when ``a`` and ``b`` share seeds and size, Welch's t-test
    otherwise (module docstring).  The difference counts only when it exceeds the t critical value times its
    standard error; otherwise the answer is "indistinguishable at this sample size".  Lower W2 is better, so
    LOWER means ``a`` is better than ``ratio * b``.
    """
    diff = a.mean - ratio * b.mean
    if paired(a, b):
        test, df = PAIRED, len(a.values) - 1
        se = _sem([x - ratio * y for x, y in zip(a.values, b.values)])
    else:
        test = WELCH
        va, vb = a.sem ** 2, (ratio * b.sem) ** 2
        se = math.sqrt(va + vb)
        ka, kb = len(a.values), len(b.values)
        if ka < 2 or kb < 2:
            df = 0
        elif se == 0:
            df = ka + kb - 2
        else:
            df = (va + vb) ** 2 / (va ** 2 / (ka - 1) + vb ** 2 / (kb - 1))
    if df <= 0:
        return Comparison(SAME, diff, se, ratio, 0.0, test)
    crit = t_critical(df)
    if abs(diff) <= crit * se:
        return Comparison(SAME, diff, se, ratio, float(df), test)
    return Comparison(LOWER if diff < 0 else HIGHER, diff, se, ratio, float(df), test)


def power(gap: float, k: int, alpha: float = ALPHA) -> float:
    """How often the paired test on ``k`` seeds finds a true gap of ``gap`` per-seed-difference standard
    deviations (two-sided, noncentral t)."""
    from scipy import stats as _st  # imported on first use: it costs ~1-2 s of the app's start-up

    df, nc = k - 1, gap * math.sqrt(k)
    c = t_critical(df, alpha)
    lower_tail = float(_st.nct.cdf(-c, df, nc))  # ~0, and NaN far out in the tail
    return float(_st.nct.sf(c, df, nc)) + (0.0 if math.isnan(lower_tail) else lower_tail)


def power_gap(k: int, target: float = 0.8, alpha: float = ALPHA) -> float:
    """The smallest true gap, in standard deviations of the per-seed difference, that the paired test on
    ``k`` seeds finds ``target`` of the time.  Multiply by that standard deviation for a gap in W2."""
    if k < 2:
        return math.inf
    lo, hi = 0.0, 1.0
    while power(hi, k, alpha) < target:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if power(mid, k, alpha) < target else (lo, mid)
    return hi
