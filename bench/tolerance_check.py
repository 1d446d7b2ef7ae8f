"""How far the numbers the tests compare with stored files move when the CPU does the arithmetic differently.

    python bench/tolerance_check.py            # prints the table (about two minutes on 2 busy cores)
    python bench/tolerance_check.py --json out.json

A test that re-measures a shipped model and compares the result with a stored file (the quality tables
``checkpoints/quality-*.json``, the training tracks ``checkpoints/track-*.json``) runs on other machines
than the one that wrote the file.  There the same float32 network gives results that differ in the last
bits: another number of torch threads splits the matrix products differently, and another CPU runs other
vector kernels (ATen's AVX-512/AVX2/default builds, MKL's own dispatch).  This script re-measures every
such quantity in a fresh process per configuration:

* ``base``: 2 torch threads, the kernels this CPU picks;
* ``1 thread``: ``torch.set_num_threads(1)``;
* ``ATEN default``: ``ATEN_CPU_CAPABILITY=default`` (ATen's kernels without AVX2/AVX-512);
* ``MKL AVX2``: ``MKL_ENABLE_INSTRUCTIONS=AVX2`` (MKL's matrix products as on a CPU without AVX-512);
* ``all three``: 1 thread, ATen default and MKL AVX2 at once;

and prints, per quantity, the largest absolute deviation of any configuration from ``base`` and from the
stored value.  The tolerances in tests/tolerances.py are set from these figures.  Figures only: nothing
here fails.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CONFIGS = {  # name -> (torch threads, extra environment)
    "base": (2, {}),
    "1 thread": (1, {}),
    "ATEN default": (2, {"ATEN_CPU_CAPABILITY": "default"}),
    "MKL AVX2": (2, {"MKL_ENABLE_INSTRUCTIONS": "AVX2"}),
    "all three": (1, {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}),
}
CLEARED = ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def measure() -> dict[str, dict[str, list[float]]]:
    """Every quantity a test re-measures against a stored file: {name: {"now": values, "stored": values}}."""
    import torch  # noqa: F401  (imported after the environment is set)

    from cmcore import evaluate, tracks, zoo
    from cmcore.retrain_job import TRACK_SPEC

    out: dict[str, dict[str, list[float]]] = {}
    for name, recipe in zoo.RECIPES.items():
        teacher = zoo.load_teacher(recipe.teacher).model
        cm = zoo.load_consistency(recipe.teacher, recipe.consistency).model
        table = zoo.load_quality(recipe.teacher, recipe.consistency)
        out[f"quality {name}: consistency, 1 step"] = {
            "now": list(evaluate.cm_score(cm, "two_moons", 1).values), "stored": list(table.consistency[1].values)}
        for steps in (1, 50):
            out[f"quality {name}: teacher, {steps} Euler step(s)"] = {
                "now": list(evaluate.teacher_score(teacher, "two_moons", steps).values),
                "stored": list(table.teacher[steps].values)}
        check = json.loads(tracks.track_path(recipe.teacher, recipe.consistency).read_text())["check"]
        out[f"track {name}: shipped model's last point (500 points)"] = {
            "now": list(evaluate.cm_score(cm, "two_moons", 1, spec=TRACK_SPEC).values),
            "stored": check["shipped_last"]}
    table = zoo.load_quality(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency)
    out["quality floor (two real samples)"] = {"now": list(evaluate.floor_score("two_moons").values),
                                                "stored": list(table.floor.values)}
    return out


def child(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
                      "values": measure()}))


def run_config(threads: int, extra: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(extra)
    done = subprocess.run([sys.executable, __file__, "--child", str(threads)], env=env, cwd=REPO,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def deviation(a: list[float], b: list[float]) -> float:
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    p.add_argument("--json", type=Path, help="also write every configuration's values here")
    args = p.parse_args(argv)
    if args.child is not None:
        child(args.child)
        return 0
    sys.path.insert(0, str(REPO))
    runs = {name: run_config(threads, extra) for name, (threads, extra) in CONFIGS.items()}
    base = runs["base"]["values"]
    others = [c for c in CONFIGS if c != "base"]
    print("Largest |deviation| of the per-seed W2 values (absolute); 'stored' is the file the tests read.")
    print("Kernels picked per configuration: " + ", ".join(f"{c}: {r['capability']}, {r['threads']} thread(s)"
                                                           for c, r in runs.items()))
    print("| quantity | " + " | ".join(f"{c} vs base" for c in others) + " | any vs stored |")
    print("|---|" + "---|" * (len(others) + 1))
    worst = {"vs base": 0.0, "vs stored": 0.0}
    for q, v in base.items():
        devs = [deviation(runs[c]["values"][q]["now"], v["now"]) for c in others]
        stored = max(deviation(r["values"][q]["now"], v["stored"]) for r in runs.values())
        worst["vs base"], worst["vs stored"] = max(worst["vs base"], *devs), max(worst["vs stored"], stored)
        print(f"| {q} | " + " | ".join(f"{d:.1e}" for d in devs) + f" | {stored:.1e} |")
    print(f"Worst over every quantity: {worst['vs base']:.1e} between configurations, "
          f"{worst['vs stored']:.1e} from the stored files.")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.path.insert(0, str(REPO))
    sys.exit(main())
