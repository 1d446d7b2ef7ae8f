"""The comparison rule's power: the smallest true gap ``cmcore.stats.compare`` finds 80% of the time.

    python bench/stats_power.py            # a few seconds: reads the stored tables, measures nothing

In units of the per-seed difference's standard deviation (sd_d), the paired t-test on k shared seeds finds a
gap of ``power_gap(k)`` sd_d 80% of the time (two-sided, 5% level; noncentral t).  In W2 this script uses
sd_d measured on the shipped two-moons tables (``checkpoints/quality-*.json``, 2,000 points, every seed
they store) for each pair the lesson's claims compare, and prints the gap at the live protocol's 3 seeds
and at the stored tables' seed count.  Figures only: nothing here fails.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmcore import evaluate, zoo  # noqa: E402
from cmcore.stats import compare, power_gap  # noqa: E402

PAIRS = (  # (claim, a, b): the lesson's comparisons, as in evaluate.lesson_claims
    ("one_step_ode_poor", ("teacher", 1), ("teacher", 5)),
    ("cm_beats_teacher_one_step", ("consistency", 1), ("teacher", 1)),
    ("cm_one_step_below_five", ("consistency", 1), ("teacher", 5)),
    ("cm_few_steps_approach_50", ("consistency", 2), ("teacher", 50)),
    ("cm_diminishing_returns", ("consistency", 8), ("consistency", 4)),
)


def main() -> None:
    live = len(evaluate.EvalSpec().seeds)
    print(f"paired t-test, 5% level, 80% power: smallest gap in per-seed-difference SDs (sd_d)")
    for k in (3, 5, 10, 20):
        print(f"  {k:>2} seeds: {power_gap(k):.2f} sd_d")
    for name in zoo.RECIPES:
        recipe = zoo.recipe(name, "two_moons")
        table = zoo.load_quality(recipe.teacher, recipe.consistency)
        if table is None:
            print(f"[{name}] no stored table")
            continue
        k = len(table.floor.seeds)
        print(f"\n[{name}] two moons, {table.floor.n:,} points, stored seeds {k}")
        print(f"  {'claim':<26} {'sd_d':>7} {f'gap@{live}':>8} {f'gap@{k}':>8}  verdict at {k} seeds")
        for claim, (sa, ka), (sb, kb) in PAIRS:
            a, b = getattr(table, sa)[ka], getattr(table, sb)[kb]
            sd = statistics.stdev(x - y for x, y in zip(a.values, b.values))
            c = compare(a, b)
            print(f"  {claim:<26} {sd:7.4f} {power_gap(live) * sd:8.4f} {power_gap(k) * sd:8.4f}  "
                  f"{c.outcome} ({c.diff:+.4f} ± {c.half_width:.4f})")


if __name__ == "__main__":
    main()
