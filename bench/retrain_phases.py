"""Where a retrain's time goes: start-up, training, and the scoring after the last step.

    python bench/retrain_phases.py [--steps 600] [--runs 3]

Runs the dashboard's own retrain (``retrain_job.RetrainWork`` on the shipped teacher of our recipe, in a
training process started by ``procjob.in_child``, as page 3's Retrain does) ``--runs`` times, each with its own
seed, and times in this process:

* **start-up**: from the start to the first step report (a fresh interpreter imports torch, scikit-learn and
  POT, then trains to the first snapshot and measures its W2);
* **training**: the seconds the training loop reports (snapshots and their W2 included);
* **scoring**: from the last step report to the result (W2 at 1, 2, 4 and 8 steps, the protocol's size and seeds);
* **total**: start to result, what the run holds the trainer for.

The load average is printed with the figures: other work on the machine inflates every one of them.
Figures only; nothing asserts on time.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cmcore import evaluate, procjob, retrain_job, zoo  # noqa: E402


def one_run(steps: int, seed: int) -> dict[str, float]:
    recipe = zoo.DEFAULT
    teacher = zoo.get_teacher(recipe.teacher)
    cfg = dataclasses.replace(recipe.consistency, steps=steps, seed=seed)
    noise, _ = evaluate.eval_noise(0, 500)
    train = procjob.in_child(retrain_job.RetrainWork(cfg, teacher, recipe.teacher.dataset, noise))
    reports: list[float] = []
    t0 = time.perf_counter()
    result = train(lambda info: reports.append(time.perf_counter()), lambda: False)
    end = time.perf_counter()
    return {"start-up": reports[0] - t0, "training": result.seconds, "scoring": end - reports[-1], "total": end - t0}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=600, help="optimiser steps per run (page 3's default: 1,200)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    load_before = os.getloadavg()[0]
    runs = [one_run(args.steps, seed) for seed in range(1, args.runs + 1)]
    print(f"{args.runs} retrains of {args.steps:,} steps (our recipe, 2 torch threads); 1-minute load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    print("| phase | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " | median |")
    print("|---|" + "---|" * (len(runs) + 1))
    for phase in runs[0]:
        values = [r[phase] for r in runs]
        print(f"| {phase} | " + " | ".join(f"{v:.1f} s" for v in values) + f" | {statistics.median(values):.1f} s |")


if __name__ == "__main__":
    main()
