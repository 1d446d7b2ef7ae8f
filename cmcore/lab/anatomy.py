"""Anatomy of one distillation step (page lab_anatomy): a short run with both networks saved, and one step of it
taken apart (the pair of levels, the two predictions, their gap)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from ..config import DEFAULT_DATASET, ConsistencyConfig
from ..consistency import distance
from ..flow import interpolate, ode_step
from ..metrics import endpoint_error
from ..nets import frozen_copy
from ..threads import ONE_THREAD
from ..train import ConsistencyObjective, StepInfo, fit
from .frames import ode_endpoints_from


LAB_RUN_STEPS = 300  # a short run: long enough for the two predictions to meet, short enough for a first visit
LAB_RUN_BATCH = 256  # half the default batch: the run is a demonstration, its first visit should be quick
LAB_SNAPSHOT_EVERY = 25  # steps between saved checkpoints (13 in all, with step 0)


class OnlineAndTarget(nn.Module):
    """Both networks of a consistency run at one moment: the online f_theta and its EMA target f_theta^-."""

    def __init__(self, online: nn.Module, target: nn.Module):
        super().__init__()
        self.online, self.target = online, target

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.online(x, t)  # the model a run produces samples with (Song et al. sample with theta)


class SnapshotObjective(ConsistencyObjective):
    """The trainer's consistency objective, unchanged, except that a snapshot holds theta and theta^-."""

    def result(self) -> nn.Module:
        return frozen_copy(OnlineAndTarget(self.model, self.target))


@dataclass(frozen=True)
class Snapshot:
    step: int  # optimiser steps taken (0: before training)
    online: nn.Module  # f_theta, frozen
    target: nn.Module  # f_theta^-, the EMA of theta, frozen
    loss: float  # the training loss of that step (nan at step 0)


@dataclass(frozen=True)
class SnapshotRun:
    cfg: ConsistencyConfig
    levels: torch.Tensor  # t_1 < ... < t_N
    snapshots: tuple[Snapshot, ...]  # ascending steps, from 0 to cfg.steps
    losses: tuple[float, ...]
    seconds: float

    @property
    def steps(self) -> tuple[int, ...]:
        return tuple(s.step for s in self.snapshots)

    def at(self, step: int) -> Snapshot:
        for s in self.snapshots:
            if s.step == step:
                return s
        raise ValueError(f"No checkpoint at step {step}; saved: {', '.join(map(str, self.steps))}.")


def lab_run_config(cfg: ConsistencyConfig, steps: int = LAB_RUN_STEPS) -> ConsistencyConfig:
    """``cfg`` shortened for the lab: fewer steps, a smaller batch, one thread; every other setting kept."""
    return dataclasses.replace(cfg, steps=steps, batch=min(cfg.batch, LAB_RUN_BATCH), threads=ONE_THREAD)


def snapshot_steps(steps: int = LAB_RUN_STEPS, every: int = LAB_SNAPSHOT_EVERY) -> tuple[int, ...]:
    """The steps a snapshot run saves: 0, every, 2 every, ..., and the last step."""
    return tuple(sorted({0, *range(every, steps + 1, every), steps}))


def train_with_snapshots(cfg: ConsistencyConfig, teacher: nn.Module | None, dataset: str = DEFAULT_DATASET,
                         every: int = LAB_SNAPSHOT_EVERY, **hooks) -> SnapshotRun:
    """``train.train_consistency`` with both networks saved at step 0 and every ``every`` steps.

    Same config and seed -> the same weights as ``train_consistency`` (the loop is ``train.fit``).
    """
    cfg.validate()
    teacher = teacher if cfg.mode == "distillation" else None
    def make(init: torch.Generator) -> SnapshotObjective:
        return SnapshotObjective(cfg, dataset, teacher, init)

    start = make(torch.Generator().manual_seed(cfg.seed))  # as ``fit`` seeds the initialisation
    snaps = [Snapshot(0, *_pair(start.result()), float("nan"))]

    def on_step(info: StepInfo) -> None:
        if info.snapshot is not None:
            snaps.append(Snapshot(info.step, *_pair(info.snapshot), info.loss))
        if hooks.get("on_step"):
            hooks["on_step"](info)

    res = fit(make, steps=cfg.steps, lr=cfg.lr, lr_schedule=cfg.lr_schedule, seed=cfg.seed, threads=cfg.threads,
              on_step=on_step, cancel=hooks.get("cancel"), snapshot_every=every)
    return SnapshotRun(cfg, start.levels.clone(), tuple(snaps), tuple(res.losses), res.seconds)


def _pair(m: OnlineAndTarget) -> tuple[nn.Module, nn.Module]:
    return m.online, m.target


@dataclass(frozen=True)
class StepAnatomy:
    """One consistency-loss term (one data point, one noise, one level pair), at every checkpoint of a run."""

    n: int  # the pair (t_n, t_{n+1}), 1-based as in the paper
    t_n: float
    t_next: float
    x0: torch.Tensor  # [2] the data point
    x_next: torch.Tensor  # [2] x_{t_{n+1}} = (1 - t_{n+1}) x0 + t_{n+1} eps
    x_hat: torch.Tensor  # [2] x_hat_{t_n}: one teacher ODE step from t_{n+1} (distillation) or x_{t_n} (training)
    endpoint: torch.Tensor  # [2] the teacher's 200-step ODE from (x_{t_{n+1}}, t_{n+1}) to 0
    steps: tuple[int, ...]  # checkpoint steps
    online: torch.Tensor  # [S, 2] f_theta(x_{t_{n+1}}, t_{n+1}) per checkpoint
    target: torch.Tensor  # [S, 2] f_theta^-(x_hat_{t_n}, t_n) per checkpoint
    loss: torch.Tensor  # [S] d(online, target): this point's term of the loss

    @property
    def gap(self) -> torch.Tensor:
        """|f_theta - f_theta^-| per checkpoint."""
        return endpoint_error(self.online, self.target)

    @property
    def online_error(self) -> torch.Tensor:
        """|f_theta - ODE endpoint| per checkpoint: do the predictions meet at the right place?"""
        return endpoint_error(self.online, self.endpoint[None])


def level_pair(levels: torch.Tensor, n: int) -> tuple[float, float]:
    """(t_n, t_{n+1}) for the 1-based level index n, 1 <= n <= N - 1."""
    if not 1 <= n <= len(levels) - 1:
        raise ValueError(f"Level n={n} has no pair; choose n from 1 to {len(levels) - 1} (N = {len(levels)} levels).")
    return float(levels[n - 1]), float(levels[n])


@torch.no_grad()
def pair_inputs(teacher: nn.Module | None, x0: torch.Tensor, eps: torch.Tensor, t_n: float, t_next: float,
                cfg: ConsistencyConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(x_{t_{n+1}}, x_hat_{t_n}) for points x0 [m, 2] and noise eps [m, 2], as the run's objective builds them."""
    m = x0.shape[0]
    tn, tn1 = torch.full((m, 1), t_n), torch.full((m, 1), t_next)
    x_next = interpolate(x0, eps, tn1)
    if cfg.mode == "distillation":
        return x_next, ode_step(teacher, x_next, tn1, tn, cfg.teacher_solver)  # Alg. 2
    return x_next, interpolate(x0, eps, tn)  # Alg. 3: the same eps at the lower level


@torch.no_grad()
def step_anatomy(teacher: nn.Module, run: SnapshotRun, x0: torch.Tensor, eps: torch.Tensor, n: int) -> StepAnatomy:
    """The distillation step for one point ``x0`` [2] with noise ``eps`` [2] at level pair n, per checkpoint."""
    cfg = run.cfg
    t_n, t_next = level_pair(run.levels, n)
    x_next, x_hat = pair_inputs(teacher, x0[None], eps[None], t_n, t_next, cfg)
    endpoint = ode_endpoints_from(teacher, x_next, torch.tensor([t_next], dtype=torch.float64))
    tn, tn1 = torch.full((1, 1), t_n), torch.full((1, 1), t_next)
    online = torch.cat([s.online(x_next, tn1) for s in run.snapshots])
    target = torch.cat([s.target(x_hat, tn) for s in run.snapshots])
    loss = torch.stack([distance(o[None], g[None], cfg.loss, cfg.huber_c) for o, g in zip(online, target)])
    return StepAnatomy(n, t_n, t_next, x0, x_next[0], x_hat[0], endpoint[0], run.steps, online, target, loss)


@torch.no_grad()
def level_gaps(teacher: nn.Module, run: SnapshotRun, x0: torch.Tensor, eps: torch.Tensor, n: int) -> torch.Tensor:
    """Mean |f_theta(x_{t_{n+1}}) - f_theta^-(x_hat_{t_n})| over points x0 [m, 2] at level pair n, per checkpoint."""
    t_n, t_next = level_pair(run.levels, n)
    x_next, x_hat = pair_inputs(teacher, x0, eps, t_n, t_next, run.cfg)
    m = x0.shape[0]
    tn, tn1 = torch.full((m, 1), t_n), torch.full((m, 1), t_next)
    return torch.stack([endpoint_error(s.online(x_next, tn1), s.target(x_hat, tn)).mean() for s in run.snapshots])
