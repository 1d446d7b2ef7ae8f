"""Why the engine's side work runs on one torch thread (``cmcore.threads``): a timing anyone can rerun.

``python bench/one_thread.py`` trains the shipped teacher recipe for ``STEPS`` steps with one
intra-op thread and with torch's default count, alternating, ``REPEATS`` times each, and prints
the medians and the load average it ran under (the figure is meant for a machine where other
work runs, as the app's server does beside its training workers).
"""
from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from cmcore.config import TeacherConfig  # noqa: E402
from cmcore.threads import ONE_THREAD  # noqa: E402
from cmcore.train import train_teacher  # noqa: E402

STEPS = 150  # teacher steps per timing: long enough to time, short enough to repeat
REPEATS = 5  # alternating one / default timings; the medians are reported


def measure(default: int, steps: int = STEPS, repeats: int = REPEATS) -> dict[int, float]:
    """Median seconds of ``steps`` teacher training steps with one thread and with ``default`` threads."""
    seconds: dict[int, list[float]] = {ONE_THREAD: [], default: []}
    for _ in range(repeats):
        for n in seconds:
            start = time.perf_counter()
            train_teacher(dataclasses.replace(TeacherConfig(), steps=steps, threads=n))
            seconds[n].append(time.perf_counter() - start)
    return {n: statistics.median(s) for n, s in seconds.items()}


if __name__ == "__main__":
    default = torch.get_num_threads()
    load = os.getloadavg()[0]
    medians = measure(default)
    print(f"{STEPS} teacher steps, median of {REPEATS}, {os.cpu_count()} cores, load average {load:.1f}: "
          + ", ".join(f"{n} thread(s) {s:.2f} s" for n, s in medians.items())
          + f" ({medians[default] / medians[ONE_THREAD]:.1f}x)")
