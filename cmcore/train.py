"""One trainer for every mode (flow-matching teacher, consistency distillation, consistency training).

The loop is generic: an *objective* knows its model, how to compute one
mini-batch loss and what to do after an optimiser step (EMA updates).  The
trainer seeds everything, sets torch's thread count, steps Adam with an
optional one-cycle schedule, reports each step to ``on_step`` and checks
``cancel`` before every step.  A cancelled run raises ``Cancelled`` and returns
nothing, so no half-trained model can leak out.

Same config -> same weights, even with other runs training in other threads
(the job manager runs several at once; caches and job keys rely on this):

* Randomness.  Every draw comes from two explicit ``torch.Generator``s, one
  for parameter initialisation (seeded with ``seed``) and one for data, noise
  and levels (``seed + 1``).  Torch's process-global RNG is never read or
  written, so concurrent runs cannot interleave their draws.  A CPU generator
  seeded with ``s`` yields the same stream as ``torch.manual_seed(s)``, so the
  weights equal those of the earlier global-seed trainer bit for bit.
* Threads.  The intra-op thread count changes the last bits of the weights
  (measured on a 2-core x86 box with torch 2.13 CPU: 300 teacher + 150
  distillation steps of our recipe with 1, 3 or 4 threads differ from 2
  threads by up to 2e-5), so it is part of the config and ``fit`` sets it.  In
  this build (OpenMP) ``torch.set_num_threads`` sets the *calling* thread's
  count, plus the process default that a thread adopts at its first parallel
  op; threads that already ran one keep their own.  A fresh worker thread that
  only called ``set_num_threads`` would re-read that process default at its
  first op, after a concurrent run may have changed it; so ``fit`` first makes
  torch initialise the calling thread (``torch.get_num_threads()``), then sets
  its count, and restores the previous count when it returns.  Each run
  therefore computes with its own ``threads`` whatever trains beside it (see
  tests/test_core_train_store.py, the concurrent-runs test).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

import torch
from torch import nn

from . import datasets
from .config import DEFAULT_DATASET, ConsistencyConfig, TeacherConfig
from .consistency import consistency_loss, distillation_pair, ema_update, levels_for, training_pair
from .flow import flow_matching_loss
from .nets import MLP, ConsistencyModel, frozen_copy, seeded
from .threads import intra_op_threads

ONECYCLE_WARMUP = 0.15  # share of steps spent warming the learning rate up
# Adam's multi-tensor update: on CPU it runs the per-tensor update's arithmetic, so the weights are the same
# bit for bit, in one call per op instead of a Python loop over the parameters.  (``fused=True`` is faster
# still but rounds differently, so it would change every trained weight: see BENCHMARKS.md.)
ADAM_FOREACH = True


class Cancelled(Exception):
    """Training stopped by its cancel flag; nothing was produced."""


@dataclass(frozen=True)
class StepInfo:
    step: int  # 1-based step just finished
    total: int
    loss: float
    elapsed: float  # seconds since the first step started
    snapshot: nn.Module | None = None  # frozen copy of the model being trained, every `snapshot_every` steps


@dataclass
class TrainResult:
    model: nn.Module  # frozen, eval mode
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


class Objective(Protocol):
    model: nn.Module

    def loss(self, generator: torch.Generator) -> torch.Tensor: ...

    def after_step(self) -> None: ...

    def result(self) -> nn.Module: ...


class FlowMatchingObjective:
    """Teacher: regress v_theta(x_t, t) on eps - x0; sample with an EMA of the weights."""

    def __init__(self, cfg: TeacherConfig, init: torch.Generator):
        self.cfg = cfg
        self.model = seeded(lambda: MLP(cfg.hidden), init)
        self.averaged = copy.deepcopy(self.model) if cfg.ema > 0 else None

    def loss(self, generator: torch.Generator) -> torch.Tensor:
        x0 = datasets.sample(self.cfg.dataset, self.cfg.batch, generator)
        return flow_matching_loss(self.model, x0, generator)

    def after_step(self) -> None:
        if self.averaged is not None:
            ema_update(self.averaged, self.model, self.cfg.ema)

    def result(self) -> nn.Module:
        return frozen_copy(self.averaged if self.averaged is not None else self.model)


class ConsistencyObjective:
    """Consistency distillation (Alg. 2) or consistency training (Alg. 3) with an EMA target."""

    def __init__(self, cfg: ConsistencyConfig, dataset: str, teacher: nn.Module | None, init: torch.Generator):
        if cfg.mode == "distillation" and teacher is None:
            raise ValueError("Consistency distillation needs a teacher model.")
        self.cfg, self.dataset, self.teacher = cfg, dataset, teacher
        if cfg.init_from_teacher:
            self.model = ConsistencyModel.from_teacher(teacher, cfg.sigma_min)
        else:
            hidden = teacher.net[0].out_features if teacher is not None else TeacherConfig().hidden
            self.model = seeded(lambda: ConsistencyModel(hidden, cfg.sigma_min), init)
        self.target = frozen_copy(self.model).train()
        self.levels = levels_for(cfg.schedule, cfg.n_levels, cfg.sigma_min, cfg.sigma_max, cfg.rho)

    def loss(self, generator: torch.Generator) -> torch.Tensor:
        x0 = datasets.sample(self.dataset, self.cfg.batch, generator)
        if self.cfg.mode == "distillation":
            pair = distillation_pair(self.teacher, x0, self.levels, self.cfg.teacher_solver, generator)
        else:
            pair = training_pair(x0, self.levels, generator)
        return consistency_loss(self.model, self.target, pair, self.cfg.loss, self.cfg.huber_c)

    def after_step(self) -> None:
        ema_update(self.target, self.model, self.cfg.ema_mu)

    def result(self) -> nn.Module:
        # Song et al. sample with the online weights theta (the target theta^- only stabilises training).
        return frozen_copy(self.model)


def make_scheduler(opt: torch.optim.Optimizer, schedule: str, lr: float, steps: int):
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 2), pct_start=ONECYCLE_WARMUP)
    if schedule == "constant":
        return None
    raise ValueError(f"Unknown lr schedule {schedule!r}; choose constant or onecycle.")


def fit(
    make_objective: Callable[[torch.Generator], Objective],
    *,
    steps: int,
    lr: float,
    lr_schedule: str,
    seed: int,
    threads: int,
    on_step: Callable[[StepInfo], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    snapshot_every: int = 0,
) -> TrainResult:
    """The training loop shared by every mode.  Same arguments + seed -> same weights, whatever else runs.

    ``make_objective(init)`` must draw its parameters from ``init`` only.
    """
    with intra_op_threads(threads):
        objective = make_objective(torch.Generator().manual_seed(seed))  # parameter initialisation
        generator = torch.Generator().manual_seed(seed + 1)  # data, noise and level draws
        opt = torch.optim.Adam(objective.model.parameters(), lr=lr, foreach=ADAM_FOREACH)
        scheduler = make_scheduler(opt, lr_schedule, lr, steps)
        losses: list[float] = []
        start = time.perf_counter()
        for step in range(1, steps + 1):
            if cancel is not None and cancel():
                raise Cancelled(f"Training cancelled at step {step - 1} of {steps}.")
            loss = objective.loss(generator)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()
            objective.after_step()
            losses.append(float(loss.detach()))
            if on_step is not None:
                snap = objective.result() if snapshot_every and (step % snapshot_every == 0 or step == steps) else None
                on_step(StepInfo(step, steps, losses[-1], time.perf_counter() - start, snap))
        return TrainResult(objective.result(), losses, time.perf_counter() - start)


def train_teacher(cfg: TeacherConfig, **hooks) -> TrainResult:
    cfg.validate()
    return fit(lambda init: FlowMatchingObjective(cfg, init), steps=cfg.steps, lr=cfg.lr, lr_schedule=cfg.lr_schedule,
               seed=cfg.seed, threads=cfg.threads, **hooks)


def train_consistency(cfg: ConsistencyConfig, teacher: nn.Module | None, dataset: str = DEFAULT_DATASET,
                      **hooks) -> TrainResult:
    cfg.validate()
    return fit(lambda init: ConsistencyObjective(cfg, dataset, teacher, init), steps=cfg.steps, lr=cfg.lr,
               lr_schedule=cfg.lr_schedule, seed=cfg.seed, threads=cfg.threads, **hooks)
