"""The one comparison rule (``cmcore.stats.compare``): its error rate and power, simulated on deterministic draws.

The old rule ("more than 2 combined standard errors", 3 seeds each) called two equal models different 11.9%
of the time (issue 18); the t-tests below must stay at or under the 5% they state.
"""
import math

import numpy as np
import pytest

from cmcore.stats import HIGHER, LOWER, PAIRED, SAME, WELCH, Score, compare, power, power_gap
from cmcore.evaluate import QualityTable
from viz.words.compare import says

TRIALS = 20_000
# 5% plus 3 binomial standard errors of a 5% rate over TRIALS draws: a correct test stays below it
RATE_BOUND = 0.05 + 3 * math.sqrt(0.05 * 0.95 / TRIALS)


def _rate(draw, trials=TRIALS) -> float:
    return sum(not compare(*draw()).same for _ in range(trials)) / trials


def test_equal_models_on_shared_seeds_are_called_different_at_most_5_percent_of_the_time():
    rng = np.random.default_rng(18)

    def draw():  # the same seeds' noise and reference move both scores (shared part), plus each model's own
        shared = rng.normal(0.15, 0.02, 3)
        return Score(tuple(shared + rng.normal(0, 0.01, 3)), 2000), Score(tuple(shared + rng.normal(0, 0.01, 3)), 2000)

    rate = _rate(draw)
    assert compare(*draw()).test == PAIRED
    assert 0.035 <= rate <= RATE_BOUND, rate  # near the stated 5%, not far below it either


def test_equal_models_on_different_seeds_are_called_different_at_most_5_percent_of_the_time():
    rng = np.random.default_rng(19)

    def draw():  # independent seeds: Welch's test
        return (Score(tuple(rng.normal(0.15, 0.01, 3)), 2000, (0, 1, 2)),
                Score(tuple(rng.normal(0.15, 0.01, 3)), 2000, (3, 4, 5)))

    rate = _rate(draw)
    assert compare(*draw()).test == WELCH
    assert rate <= RATE_BOUND, rate


def test_the_power_stated_is_what_the_paired_test_finds():
    """A true gap of ``power_gap(3)`` per-seed-difference SDs is found 80% of the time at 3 seeds."""
    gap = power_gap(3)
    assert 3.2 < gap < 3.3 and power(gap, 3) == pytest.approx(0.8, abs=1e-6)
    assert power_gap(20) < power_gap(10) < power_gap(3)
    rng = np.random.default_rng(20)
    trials = 5000
    found = sum(compare(Score(tuple(gap + rng.normal(0, 1, 3)), 2000), Score((0.0, 0.0, 0.0), 2000)).higher
                for _ in range(trials)) / trials
    assert abs(found - 0.8) <= 3 * math.sqrt(0.8 * 0.2 / trials), found


def test_one_seed_decides_nothing():
    c = compare(Score((0.1,), 2000), Score((0.9,), 2000))
    assert c.same and math.isinf(c.half_width)
    assert "unknown with one seed" in says(c, "A", "B")
    assert compare(Score((0.1,), 2000), Score((0.8, 0.9, 1.0), 2000)).same


def test_paired_uses_the_seed_differences_and_welch_the_two_spreads():
    a, b = Score((0.30, 0.20, 0.40), 2000), Score((0.21, 0.11, 0.30), 2000)  # b is a minus ~0.09 on every seed
    c = compare(a, b)
    assert c.test == PAIRED and c.outcome == HIGHER and c.df == 2
    # the same values on other seeds: each score's own spread is large, so Welch cannot tell them apart
    w = compare(a, Score(b.values, 2000, (7, 8, 9)))
    assert w.test == WELCH and w.same and 2 <= w.df <= 4
    assert compare(b, a).outcome == LOWER
    assert compare(a, Score(a.values, 1000)).test == WELCH  # another size: not the same measurement


def test_says_names_the_half_width_and_the_level():
    a, b = Score((0.30, 0.20, 0.40), 2000), Score((0.21, 0.11, 0.30), 2000)
    c = compare(a, b)
    assert c.half_width == pytest.approx(c.critical * c.se) and c.critical == pytest.approx(4.303, abs=1e-3)
    assert says(c, "A", "B") == f"A is worse than B (W2 0.093 higher; noise ±{c.half_width:.3f} at the 5% level)"
    same = compare(a, Score(b.values, 2000, (7, 8, 9)))
    assert says(same, "A", "B").startswith("A and B are indistinguishable at this sample size (difference +0.093")
    assert same.outcome == SAME


def test_scores_record_their_seeds_and_tables_round_trip_them():
    assert Score((0.1, 0.2), 2000).seeds == (0, 1)
    with pytest.raises(ValueError, match="3 values but 2 seeds"):
        Score((0.1, 0.2, 0.3), 2000, (0, 1))
    s = Score((0.1, 0.2, 0.3), 2000, (5, 6, 7))
    table = QualityTable({1: s}, {1: s}, s)
    again = QualityTable.from_json(table.to_json())
    assert again.teacher[1] == again.consistency[1] == again.floor == s
    old = {k: v for k, v in table.to_json().items() if k != "seeds"}  # a file from before seeds were stored
    assert QualityTable.from_json(old).teacher[1].seeds == (0, 1, 2)
