"""One distillation step of our recipe against its matmul floor, before and after a change, in one window.

    python bench/step_floor.py [--against REV] [--threads 1 2] [--steps 200] [--rounds 3]

``python -m cmcore bench`` reports the same ratio, but it trains both recipes in full (minutes on a quiet
machine, far longer on a busy one), so a before/after pair of its runs lands in two different load windows.
This script times ``--steps`` distillation steps of our recipe (shipped teacher, ``cmcore.train``'s own loop:
data, teacher ODE step, online and target nets, backward, Adam, schedule, EMA) and, in the same process just
before them, the 512x128x128 matmul rate that ``cmcore.bench`` turns into the floor.  With ``--against REV``
the same measurement also runs on that git revision's ``cmcore`` (extracted to a temporary folder), the two
alternating round by round, so both see the same load.  A step's time is the median of its per-step times
(the first ``WARMUP`` steps left out), which a burst of other work moves less than a total would.
Each is reported twice: in wall-clock time (what ``cmcore.bench`` reports) and in the process's CPU time,
the floor's matmul timed the same way; on a machine where other work runs, CPU time leaves out the waits
for a core (with 2 threads it still counts a thread's spinning at a barrier, so read it at 1 thread).
Each measurement runs in its own process, so torch's thread settings start fresh every time.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 20  # steps left out of the median: allocator and first-call set-up

_CHILD = r"""
import dataclasses, json, statistics, sys, time
import torch
sys.path.insert(0, sys.argv[1])
from cmcore import bench, zoo
from cmcore.train import train_consistency
threads, steps, warmup = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
recipe = zoo.RECIPES["ours"]
cfg = dataclasses.replace(recipe.consistency, steps=steps, threads=threads)
teacher = zoo.load_teacher(recipe.teacher).model
flops = bench.distill_step_flops(cfg.batch, cfg.teacher_solver)
gflops = bench.matmul_gflops(threads)  # wall clock, as cmcore.bench measures it
m, k, n = bench.MATMUL_SHAPE
a, b = torch.randn(m, k), torch.randn(k, n)
cpu = time.process_time()
for _ in range(2000):
    a @ b
cpu_gflops = 2 * m * k * n * 2000 / (time.process_time() - cpu) / 1e9  # the same matmul, in CPU time
wall, cpu = [], []
def on_step(info):
    wall.append(time.perf_counter())
    cpu.append(time.process_time())
train_consistency(cfg, teacher, recipe.teacher.dataset, on_step=on_step)
med = lambda ts: statistics.median(y - x for x, y in zip(ts[warmup:], ts[warmup + 1:]))
print(json.dumps({"step_ms": 1000 * med(wall), "floor_ms": 1000 * flops / (gflops * 1e9),
                  "cpu_step_ms": 1000 * med(cpu), "cpu_floor_ms": 1000 * flops / (cpu_gflops * 1e9)}))
"""

def extract(rev: str, into: Path) -> Path:
    """``rev``'s cmcore package, unpacked under ``into`` (the shipped checkpoints stay this checkout's)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "cmcore"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure(code_root: Path, threads: int, steps: int) -> dict:
    env = {**os.environ, "CMCORE_CHECKPOINT_DIR": os.environ.get("CMCORE_CHECKPOINT_DIR", str(ROOT / "checkpoints"))}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(code_root), str(threads), str(steps), str(WARMUP)],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", help="a git revision to measure alternately with this checkout")
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        codes = {"this checkout": ROOT}
        if args.against:
            codes = {args.against: extract(args.against, Path(tmp)), **codes}
        for threads in args.threads:
            rows = {name: [] for name in codes}
            load_before = os.getloadavg()[0]
            for _ in range(args.rounds):
                for name, code in codes.items():
                    rows[name].append(measure(code, threads, args.steps))
            load_after = os.getloadavg()[0]
            print(f"{threads} thread(s), {args.steps} steps x {args.rounds} rounds, load average "
                  f"{load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores:")
            for name, runs in rows.items():
                for clock, key in (("wall", ""), ("CPU", "cpu_")):
                    cells = ", ".join(f"{r[key + 'step_ms']:.2f} / {r[key + 'floor_ms']:.2f} ms = "
                                      f"{r[key + 'step_ms'] / r[key + 'floor_ms']:.2f}x" for r in runs)
                    print(f"  {name}, {clock} time, step / floor per round: {cells}")


if __name__ == "__main__":
    main()
