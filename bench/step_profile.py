"""Where one distillation step's time goes: torch.profiler over the trainer's own loop, grouped by kind of op.

    python bench/step_profile.py [--threads 1] [--steps 200]

Runs our recipe's distillation (shipped teacher) through ``cmcore.train.fit`` and profiles ``--steps`` steps
after a warm-up.  Prints the profiled self time per step of the matrix products, of SiLU and its backward,
of the bias and concatenation copies, of Adam, and of everything else (small tensor ops, autograd's
bookkeeping), then torch.profiler's own table.  The profiler adds its own cost to every op and its times are
wall-clock, so read the shares, not the milliseconds, on a machine where other work runs.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from torch.profiler import ProfilerActivity, profile  # noqa: E402

from cmcore import zoo  # noqa: E402
from cmcore.train import ConsistencyObjective, fit  # noqa: E402

WARMUP = 30  # steps before the profiler starts
KINDS = {  # kind -> the aten ops whose self time it sums
    "matrix products (addmm, mm)": ("aten::addmm", "aten::mm"),
    "SiLU and its backward": ("aten::silu", "aten::silu_backward"),
    "bias copies, concatenation, bias-gradient sums": ("aten::copy_", "aten::cat", "aten::sum"),
}
ADAM = "Optimizer.step#Adam.step"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    recipe = zoo.RECIPES["ours"]
    cfg = recipe.consistency
    teacher = zoo.load_teacher(recipe.teacher).model
    prof = profile(activities=[ProfilerActivity.CPU])

    def on_step(info) -> None:
        if info.step == WARMUP:
            prof.__enter__()
        if info.step == WARMUP + args.steps:
            prof.__exit__(None, None, None)

    load = os.getloadavg()[0]
    fit(lambda init: ConsistencyObjective(cfg, recipe.teacher.dataset, teacher, init), steps=WARMUP + args.steps + 1,
        lr=cfg.lr, lr_schedule=cfg.lr_schedule, seed=cfg.seed, threads=args.threads, on_step=on_step)
    events = {e.key: e for e in prof.key_averages()}
    total = sum(e.self_cpu_time_total for e in events.values())
    per_step = lambda us: us / 1000 / args.steps  # noqa: E731
    print(f"{args.steps} distillation steps of our recipe, {args.threads} thread(s), load average {load:.1f}; "
          f"profiled self time {per_step(total):.2f} ms per step:")
    counted = 0.0
    for kind, ops in KINDS.items():
        t = sum(events[op].self_cpu_time_total for op in ops if op in events)
        counted += t
        print(f"  {kind}: {per_step(t):.2f} ms ({100 * t / total:.0f}%)")
    rest = total - counted
    print(f"  everything else (small ops, autograd, Adam's updates): {per_step(rest):.2f} ms ({100 * rest / total:.0f}%)")
    adam = events[ADAM].cpu_time_total if ADAM in events else 0.0
    print(f"  (Adam's step, with every op it calls, also counted above: {per_step(adam):.2f} ms, "
          f"{100 * adam / total:.0f}%)")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=40))


if __name__ == "__main__":
    main()
