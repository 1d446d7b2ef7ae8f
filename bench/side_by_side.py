"""Two retrains at once on one thread each, or one after the other on two threads each: which ends sooner?

    python bench/side_by_side.py [--steps 300] [--rounds 2]

The job manager (``cmcore.jobs``) decides how retrains share the machine; this script only measures the two
ways of running a pair of them.  Each retrain is a distillation of our recipe from the shipped teacher,
``--steps`` steps long, in its own process (as the job manager's process jobs run).  "In sequence" starts the
second when the first ends, each with ``threads=2``; "side by side" starts both at once with ``threads=1``.
The figure is the wall time until both have finished (the second student's wait), with the load average
before and after.  The two layouts alternate round by round so both see the same load.

The thread count is part of a config and changes the last bits of the weights (``cmcore.train``), so this
compares speed only: a retrain run on one thread is a different (equally good) run of the same recipe.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import dataclasses, sys
sys.path.insert(0, sys.argv[1])
from cmcore import zoo
from cmcore.train import train_consistency
recipe = zoo.RECIPES["ours"]
teacher = zoo.load_teacher(recipe.teacher).model
train_consistency(dataclasses.replace(recipe.consistency, steps=int(sys.argv[2]), threads=int(sys.argv[3])),
                  teacher, recipe.teacher.dataset)
"""


def retrain(steps: int, threads: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(ROOT), str(steps), str(threads)])


def in_sequence(steps: int) -> float:
    start = time.perf_counter()
    for _ in range(2):
        if retrain(steps, 2).wait():
            raise RuntimeError("a retrain failed")
    return time.perf_counter() - start


def side_by_side(steps: int) -> float:
    start = time.perf_counter()
    pair = [retrain(steps, 1), retrain(steps, 1)]
    if any(p.wait() for p in pair):
        raise RuntimeError("a retrain failed")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    layouts = {"in sequence, 2 threads each": in_sequence, "side by side, 1 thread each": side_by_side}
    seconds: dict[str, list[float]] = {name: [] for name in layouts}
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, run in layouts.items():
            seconds[name].append(run(args.steps))
    load_after = os.getloadavg()[0]
    print(f"Two retrains of {args.steps} distillation steps (our recipe), {args.rounds} rounds, {os.cpu_count()} cores, "
          f"load average {load_before:.1f} -> {load_after:.1f}; seconds until both finished:")
    for name, s in seconds.items():
        print(f"  {name}: " + ", ".join(f"{x:.1f} s" for x in s) + f" (median {statistics.median(s):.1f} s)")
    seq, side = (statistics.median(s) for s in seconds.values())
    print(f"  side by side / in sequence: {side / seq:.2f}")


if __name__ == "__main__":
    main()
