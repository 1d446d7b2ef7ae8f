"""What a training run costs on this server, before it starts: seconds per step by kind of step and batch.

An estimate is ``overhead + sum(steps * seconds_per_step(kind, batch))`` over the run's phases (a teacher
trained first for an upload, then the consistency phase).  Seconds per step come from, in order:

1. this server's own measurement at that kind and batch (``StepCosts.record``: each finished phase's steps and
   the seconds it trained, pauses excluded; a recent one weighs half);
2. the prior ``a + b * batch`` of that kind (``PRIOR``: fitted by ``python bench/step_cost.py`` on the 2-core
   development machine) scaled by this server's speed: the median ratio of measured to prior seconds over its
   last ``SPEED_SAMPLES`` measurements of any kind and batch;
3. the prior alone, until this server has measured anything.

The overhead (starting the training process, the W2 track, the final scoring) is measured the same way: the
running time of a finished run less its training seconds.  Generic over who trains: no torch here.

``SessionBudget`` charges each session the training time of the runs it started (its estimate while a run is
active, the time it really ran once it ended) over a rolling window, so one session cannot hold the trainer for
the whole class.
"""
from __future__ import annotations

import math
import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Hashable

# Kinds of step, cheapest first: a teacher step (flow matching), consistency training (no teacher), distillation
# with one Euler or one Heun teacher step (one or two teacher evaluations more per point).
KINDS = ("teacher", "training", "distillation-euler", "distillation-heun")
# Seconds per step = a + b * batch, per kind, fitted by `python bench/step_cost.py --steps 100` on the quiet 2-core
# development machine (load average 1.0-1.3, 2 torch threads).  The full 20,000 x 4,096 run of bench/LOAD.md
# trained at 31.8 ms a step there (the W2 track included).  A server replaces all of this with its own
# measurements as its runs end.
PRIOR: dict[str, tuple[float, float]] = {
    "teacher": (2.28e-3, 3.03e-6),  # 3.8 ms at 512, 14.7 ms at 4,096
    "training": (2.58e-3, 4.96e-6),  # 5.1 ms at 512, 22.9 ms at 4,096
    "distillation-euler": (2.50e-3, 6.21e-6),  # 5.7 ms at 512, 27.9 ms at 4,096
    "distillation-heun": (2.52e-3, 6.94e-6),  # 6.1 ms at 512, 31.0 ms at 4,096
}
# Start the process, measure W2 ~12 times, score at the end: `python bench/retrain_phases.py` (600 steps, quiet
# machine) measured 8.2 s of a 14.4 s run besides its 6.2 s of training.  A first guess until a run ends here.
PRIOR_OVERHEAD_S = 8.0
MEASURED_WEIGHT = 0.5  # a new measurement at a (kind, batch) moves that point's seconds per step this far
SPEED_SAMPLES = 20  # measurements (ratio to the prior) that set this server's speed
MIN_STEPS, MIN_SECONDS = 100, 1.0  # a phase shorter than this measures start-up noise, not a step's cost


def kind_of(mode: str, teacher_solver: str) -> str:
    """The kind of a consistency step: ``training``, or ``distillation-<solver>``."""
    return "training" if mode == "training" else f"distillation-{teacher_solver}"


@dataclass(frozen=True)
class Phase:
    kind: str  # one of KINDS
    batch: int
    steps: int


@dataclass(frozen=True)
class Estimate:
    """A run's estimated running time on this server, and what it rests on."""

    seconds: float  # overhead plus every phase's steps
    per_step: tuple[float, ...]  # seconds per step of each phase
    measured: bool  # True: from steps this server trained; False: the development machine's prior only
    steps: int  # every phase's steps together


class StepCosts:
    """Seconds per step by (kind, batch), as measured on this server; thread-safe (every session shares one)."""

    def __init__(self, prior: dict[str, tuple[float, float]] | None = None, overhead_s: float = PRIOR_OVERHEAD_S):
        self.prior = dict(PRIOR if prior is None else prior)
        self._lock = threading.Lock()
        self._measured: dict[tuple[str, int], float] = {}
        self._ratios: deque[float] = deque(maxlen=SPEED_SAMPLES)
        self._overhead, self._overhead_measured = overhead_s, False

    def prior_per_step(self, kind: str, batch: int) -> float:
        a, b = self.prior[kind]
        return a + b * batch

    def record(self, kind: str, batch: int, steps: int, seconds: float) -> bool:
        """A phase of ``steps`` steps trained for ``seconds`` (pauses excluded).  False when too short to count."""
        if kind not in self.prior or steps < MIN_STEPS or seconds < MIN_SECONDS or not math.isfinite(seconds):
            return False
        per_step = seconds / steps
        with self._lock:
            old = self._measured.get((kind, batch))
            self._measured[(kind, batch)] = per_step if old is None else old + MEASURED_WEIGHT * (per_step - old)
            self._ratios.append(per_step / self.prior_per_step(kind, batch))
        return True

    def record_overhead(self, seconds: float) -> None:
        """A finished run's running time less its training seconds."""
        if not (math.isfinite(seconds) and seconds >= 0):
            return
        with self._lock:
            first, self._overhead_measured = not self._overhead_measured, True
            self._overhead = seconds if first else self._overhead + MEASURED_WEIGHT * (seconds - self._overhead)

    def speed(self) -> float | None:
        """This server's seconds per step over the prior's (median of its recent measurements); None before any."""
        with self._lock:
            return statistics.median(self._ratios) if self._ratios else None

    def per_step(self, kind: str, batch: int) -> tuple[float, bool]:
        """(seconds per step, measured on this server?) for a step of ``kind`` at ``batch``."""
        with self._lock:
            exact = self._measured.get((kind, batch))
        if exact is not None:
            return exact, True
        speed = self.speed()
        return self.prior_per_step(kind, batch) * (speed or 1.0), speed is not None

    @property
    def overhead_s(self) -> float:
        with self._lock:
            return self._overhead

    def estimate(self, phases: tuple[Phase, ...]) -> Estimate:
        """The running time of a run made of ``phases``, in order."""
        rates = [self.per_step(p.kind, p.batch) for p in phases]
        seconds = self.overhead_s + sum(p.steps * rate for p, (rate, _) in zip(phases, rates))
        return Estimate(seconds, tuple(rate for rate, _ in rates), all(m for _, m in rates) and bool(rates),
                        sum(p.steps for p in phases))

    def max_steps(self, phases: tuple[Phase, ...], seconds: float) -> int:
        """The most steps the last of ``phases`` may have for the whole run to fit in ``seconds``."""
        *before, last = phases
        spent = self.estimate(tuple(before)).seconds
        return max(0, int((seconds - spent) / self.per_step(last.kind, last.batch)[0]))


class SessionBudget:
    """Training seconds each session may start per rolling ``window_s``; thread-safe.

    A run is charged to the session that started it (joining someone else's run costs nothing): its estimate
    while it is active, then what it really ran (``charge()`` of the entry, read at every look).
    """

    def __init__(self, budget_s: float, window_s: float = 3600.0, clock: Callable[[], float] = time.monotonic):
        self.budget_s, self.window_s, self._clock = budget_s, window_s, clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, list[tuple[float, Callable[[], float]]]] = {}

    def charge(self, session: Hashable, cost: Callable[[], float]) -> None:
        """Charge ``session`` what ``cost()`` says (read anew at every look: an estimate until the run ends)."""
        with self._lock:
            self._entries.setdefault(session, []).append((self._clock(), cost))

    def used(self, session: Hashable) -> float:
        """Seconds charged to ``session`` within the window."""
        now = self._clock()
        with self._lock:
            kept = [(t, c) for t, c in self._entries.get(session, []) if now - t < self.window_s]
            if kept:
                self._entries[session] = kept
            else:
                self._entries.pop(session, None)
        return sum(c() for _, c in kept)

    def left(self, session: Hashable) -> float:
        return max(0.0, self.budget_s - self.used(session))

    def frees_in(self, session: Hashable, need_s: float) -> float | None:
        """Seconds until ``need_s`` fits in the session's budget as runs age out of the window (None: never)."""
        if need_s > self.budget_s:
            return None
        now = self._clock()
        with self._lock:
            entries = sorted((e for e in self._entries.get(session, []) if now - e[0] < self.window_s),
                             key=lambda e: e[0])
        costs = [(t, c()) for t, c in entries]
        used, wait = sum(c for _, c in costs), 0.0
        for t, c in costs:  # oldest first: each one leaves the window at t + window_s
            if used + need_s <= self.budget_s:
                return wait
            used, wait = used - c, max(0.0, t + self.window_s - now)
        return wait
