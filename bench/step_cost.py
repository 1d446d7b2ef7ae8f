"""Seconds per training step against batch size, per kind of step: the prior of ``cmcore.costs``.

    python bench/step_cost.py [--steps 40] [--batches 256 512 1024 2048 4096]

Times the real training loop (``cmcore.train``) on the shipped teacher of our recipe: ``--steps`` steps after
5 warm-up steps, at each batch, for each kind of step the app trains (a teacher step, a distillation step with
a Heun or an Euler teacher step, a consistency-training step), then fits ``seconds = a + b * batch`` per kind by
least squares.  It prints the fitted constants in the form ``cmcore/costs.py`` keeps them (``PRIOR``) and the
load average while it ran: the fit is only as quiet as the machine was.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cmcore import costs, train, zoo  # noqa: E402


def seconds_per_step(kind: str, batch: int, steps: int, teacher) -> float:
    """Mean seconds of one step of ``kind`` at ``batch`` over ``steps`` steps (after 5 warm-up steps)."""
    marks: list[float] = []

    def on_step(info) -> None:
        marks.append(info.elapsed)

    recipe = zoo.DEFAULT
    total = steps + 5
    if kind == "teacher":
        train.train_teacher(dataclasses.replace(recipe.teacher, steps=total, batch=batch), on_step=on_step)
    else:
        mode, solver = ("training", "heun") if kind == "training" else ("distillation", kind.split("-")[1])
        cfg = dataclasses.replace(recipe.consistency, steps=total, batch=batch, mode=mode, teacher_solver=solver,
                                  init_from_teacher=mode == "distillation")
        train.train_consistency(cfg, teacher if mode == "distillation" else None, recipe.teacher.dataset,
                                on_step=on_step)
    return (marks[-1] - marks[4]) / steps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batches", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    ap.add_argument("--kinds", nargs="+", default=list(costs.KINDS), choices=list(costs.KINDS))
    args = ap.parse_args(argv)
    teacher = zoo.load_teacher(zoo.DEFAULT.teacher).model
    load = [os.getloadavg()[0]]
    print(f"{'kind':<20} " + " ".join(f"{b:>8}" for b in args.batches) + "   (ms per step)")
    fits = {}
    t0 = time.perf_counter()
    for kind in args.kinds:
        ms = [1000 * seconds_per_step(kind, b, args.steps, teacher) for b in args.batches]
        load.append(os.getloadavg()[0])
        print(f"{kind:<20} " + " ".join(f"{m:8.2f}" for m in ms), flush=True)
        b, a = np.polyfit(np.asarray(args.batches, float), np.asarray(ms) / 1000, 1)
        fits[kind] = (max(float(a), 0.0), float(b))
    print(f"\n{time.perf_counter() - t0:.0f} s; 1-minute load average {min(load):.1f}-{max(load):.1f} "
          f"on {os.cpu_count()} cores\nPRIOR = {{")
    for kind, (a, b) in fits.items():
        print(f'    "{kind}": ({a:.2e}, {b:.2e}),  # {1000 * (a + 512 * b):.1f} ms at 512, '
              f'{1000 * (a + 4096 * b):.1f} ms at 4096')
    print("}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
