"""The lab pages' engine: the matching behind W2, f_theta at every t, one distillation step, consistency maps.

torch and numpy only.  Every sampler draws through ``cmcore.evaluate``'s seeded functions, so a lab number
at the protocol's size is the protocol's number, and at a smaller size it is one term of the same protocol.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import evaluate
from .config import DEFAULT_DATASET, ConsistencyConfig
from .consistency import distance
from .flow import interpolate, ode_step, solve, x0_prediction
from .metrics import endpoint_error
from .nets import frozen_copy
from .threads import ONE_THREAD
from .train import ConsistencyObjective, StepInfo, fit

# --- What W2 means: the optimal matching ------------------------------------------------

# The samplers the W2 explainer can match against real data: key -> label.
W2_SAMPLERS: dict[str, str] = {
    "teacher_1": "Teacher, 1 Euler step",
    "teacher_50": "Teacher, 50 Euler steps",
    "cm_1": "Consistency model, 1 step",
    "floor": "Second real sample (the floor)",
}
# The same samplers as the subject of a sentence ("... is worse than the floor").
W2_SAMPLER_NOUNS: dict[str, str] = {
    "teacher_1": "the teacher's one-step sample",
    "teacher_50": "the teacher's 50-step sample",
    "cm_1": "the consistency model's one-step sample",
    "floor": "a second real sample",
}
TEACHER_SAMPLER_STEPS = {"teacher_1": 1, "teacher_50": 50}  # Euler steps of the teacher samplers
LONG_LINE_QUANTILE = 0.95  # a line is "long" when fewer than 5% of the floor's lines are as long
TOP_SHARE = 0.10  # the explainer reports the share of W2^2 carried by the longest tenth of the lines


def _check_sampler(name: str) -> None:
    if name not in W2_SAMPLERS:
        raise ValueError(f"Unknown sampler {name!r}; choose one of {', '.join(W2_SAMPLERS)}.")


def sampler_points(name: str, teacher: nn.Module, cm: nn.Module, dataset: str, seed: int, n: int) -> torch.Tensor:
    """``n`` points of sampler ``name`` from the evaluation noise (or, for the floor, the floor sample) of ``seed``."""
    _check_sampler(name)
    if name in TEACHER_SAMPLER_STEPS:
        return evaluate.teacher_samples(teacher, seed, n, TEACHER_SAMPLER_STEPS[name])
    if name == "cm_1":
        return evaluate.cm_samples(cm, seed, n, 1)
    return evaluate.floor_sample(dataset, seed, n)


def w2_matching(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> tuple[np.ndarray, float]:
    """The optimal matching behind the exact W2 of two equal-size sets: (perm, W2).

    ``a[i]`` is matched to ``b[perm[i]]``; the matching minimises sum_i |a_i - b_perm(i)|^2 over all
    permutations, and W2 = sqrt(mean_i |a_i - b_perm(i)|^2) (equal sizes, uniform weights: the optimal plan
    is a permutation, so this is the value ``metrics.w2`` computes).
    """
    from scipy.optimize import linear_sum_assignment

    a, b = _np(a), _np(b)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"A matching needs two [n, d] sets of the same size; got {a.shape} and {b.shape}.")
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    rows, perm = linear_sum_assignment(cost)  # rows come back as 0..n-1 in order
    return perm, float(np.sqrt(cost[rows, perm].mean()))


def _np(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


@dataclass(frozen=True)
class LineStats:
    """What the lines of a matching say: W2 is the root-mean-square of their lengths."""

    w2: float
    median: float  # the typical line
    long_threshold: float  # LONG_LINE_QUANTILE of the floor's line lengths at the same size
    long_share: float  # share of lines longer than long_threshold
    top_share: float  # share of sum(length^2) carried by the longest TOP_SHARE of the lines


def line_stats(lengths: np.ndarray, floor_lengths: np.ndarray) -> LineStats:
    lengths = np.asarray(lengths, dtype=np.float64)
    threshold = float(np.quantile(floor_lengths, LONG_LINE_QUANTILE))
    sq = np.sort(lengths ** 2)[::-1]
    top = max(1, int(round(TOP_SHARE * len(sq))))
    return LineStats(float(np.sqrt((lengths ** 2).mean())), float(np.median(lengths)), threshold,
                     float((lengths > threshold).mean()), float(sq[:top].sum() / sq.sum()) if sq.sum() > 0 else 0.0)


# --- What f_theta does at each t --------------------------------------------------------------------

FRAME_COUNT = 25  # frames of the page's t slider
FRAME_T_MIN = 0.04  # the lowest frame: t = 0.04, 0.08, ..., 1.00


def frame_times(count: int = FRAME_COUNT, t_min: float = FRAME_T_MIN) -> torch.Tensor:
    """Evenly spaced times from ``t_min`` to 1 (float64, so frames can be matched exactly)."""
    if count < 2 or not 0 < t_min < 1:
        raise ValueError(f"Need at least 2 frames and 0 < t_min < 1; got count={count}, t_min={t_min}.")
    return torch.linspace(t_min, 1.0, count, dtype=torch.float64)


@torch.no_grad()
def ode_endpoints_from(teacher: nn.Module, x: torch.Tensor, t: torch.Tensor,
                       n_steps: int = evaluate.REFERENCE_ODE_STEPS, solver: str = "euler") -> torch.Tensor:
    """Solve each point from its own time ``t[i]`` to 0 in ``n_steps`` equal steps, all points in one batch.

    Point i follows the grid t_i (1 - k / n_steps), k = 0..n_steps: the grid ``flow.solve`` uses from t_i.
    """
    t = torch.as_tensor(t, dtype=torch.float64).reshape(-1, 1)
    for k in range(n_steps):
        # Euler (or Heun) step from t_i (1 - k/K) to t_i (1 - (k+1)/K).
        x = ode_step(teacher, x, (t * (1 - k / n_steps)).float(), (t * (1 - (k + 1) / n_steps)).float(), solver)
    return x


@dataclass(frozen=True)
class NoisedFrames:
    """The same data points and noise at several times: ``x_t[f] = (1 - ts[f]) x0 + ts[f] eps``."""

    ts: torch.Tensor  # [F] float64
    x_t: torch.Tensor  # [F, m, 2]
    endpoint: torch.Tensor  # [F, m, 2] where the teacher's 200-step ODE from (x_t, t) lands

    def flat(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(x [F*m, 2], t [F*m, 1]): every frame's points in one batch."""
        f, m = self.x_t.shape[:2]
        return self.x_t.reshape(f * m, 2), self.ts.float().repeat_interleave(m).reshape(-1, 1)


@torch.no_grad()
def noised_frames(teacher: nn.Module, x0: torch.Tensor, eps: torch.Tensor, ts: torch.Tensor,
                  n_steps: int = evaluate.REFERENCE_ODE_STEPS) -> NoisedFrames:
    f, m = len(ts), len(x0)
    t = torch.as_tensor(ts, dtype=torch.float64).float().repeat_interleave(m).reshape(-1, 1)
    x_t = interpolate(x0.repeat(f, 1), eps.repeat(f, 1), t)
    end = ode_endpoints_from(teacher, x_t, torch.as_tensor(ts, dtype=torch.float64).repeat_interleave(m), n_steps)
    return NoisedFrames(torch.as_tensor(ts, dtype=torch.float64), x_t.reshape(f, m, 2), end.reshape(f, m, 2))


@torch.no_grad()
def consistency_jumps(cm: nn.Module, frames: NoisedFrames) -> torch.Tensor:
    """f_theta(x_t, t) for every frame: [F, m, 2]."""
    x, t = frames.flat()
    return cm(x, t).reshape(frames.x_t.shape)


@torch.no_grad()
def teacher_jumps(teacher: nn.Module, frames: NoisedFrames) -> torch.Tensor:
    """The teacher's x0 prediction x_t - t v(x_t, t) (one Euler jump to t = 0) for every frame: [F, m, 2]."""
    x, t = frames.flat()
    return x0_prediction(teacher(x, t), x, t).reshape(frames.x_t.shape)


def mean_endpoint_error(jumps: torch.Tensor, frames: NoisedFrames) -> torch.Tensor:
    """Mean distance |jump - ODE endpoint| per frame: [F]."""
    return endpoint_error(jumps, frames.endpoint).mean(dim=1)


# --- Anatomy of one distillation step: a short run with both networks saved --------------------------------

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


# --- Where is the model consistent? --------------------------------------------------------------------

MAP_DOMAIN = (-4.5, 4.5)  # the dashboard's shared square window (viz.charts.DOMAIN)
MAP_GRID = 24  # cells per side of the consistency map
MAP_PATH_POINTS = 12  # points kept along each cell's ODE path (for hovering)
CONSISTENT_WITHIN = 0.05  # a cell counts as consistent when |f(x_t, t) - ODE endpoint| is below this


def grid_points(g: int, domain: tuple[float, float]) -> tuple[torch.Tensor, float]:
    """Centres of a g x g grid of square cells over domain x domain (row by row, x fastest), and the cell size."""
    if g < 2:
        raise ValueError(f"A map needs at least 2 cells per side; got {g}.")
    lo, hi = domain
    size = (hi - lo) / g
    c = lo + size * (torch.arange(g, dtype=torch.float32) + 0.5)
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1), size


@dataclass(frozen=True)
class OdeMap:
    """The teacher's ODE from every cell centre x_t at one t: its 200-step endpoint and a thinned path."""

    t: float
    x_t: torch.Tensor  # [G*G, 2] cell centres
    cell: float  # cell size
    endpoint: torch.Tensor  # [G*G, 2]
    path: torch.Tensor  # [K, G*G, 2] from x_t (first) to the endpoint (last)


@torch.no_grad()
def ode_map(teacher: nn.Module, t: float, g: int = MAP_GRID, domain: tuple[float, float] = MAP_DOMAIN,
            n_steps: int = evaluate.REFERENCE_ODE_STEPS, keep: int = MAP_PATH_POINTS) -> OdeMap:
    if not 0 < t <= 1:
        raise ValueError(f"The map's time must lie in (0, 1]; got t={t}.")
    x_t, size = grid_points(g, domain)
    traj = solve(teacher, x_t, t, 0.0, n_steps)
    idx = torch.linspace(0, n_steps, keep).round().long()
    return OdeMap(float(t), x_t, size, traj.endpoint, traj.xs[idx])


@torch.no_grad()
def map_jumps(model: nn.Module, m: OdeMap) -> tuple[torch.Tensor, torch.Tensor]:
    """(f(x_t, t) [G*G, 2], consistency error |f(x_t, t) - ODE endpoint| [G*G]) over the map."""
    jumps = model(m.x_t, torch.full((len(m.x_t), 1), m.t))
    return jumps, endpoint_error(jumps, m.endpoint)


def visited_cells(points: torch.Tensor, g: int = MAP_GRID, domain: tuple[float, float] = MAP_DOMAIN) -> torch.Tensor:
    """bool [G*G]: the cells that hold at least one of ``points`` (where noised data actually lands)."""
    lo, hi = domain
    ij = ((points - lo) / (hi - lo) * g).floor().long()
    ok = ((ij >= 0) & (ij < g)).all(dim=1)
    hit = torch.zeros(g * g, dtype=torch.bool)
    hit[ij[ok, 1] * g + ij[ok, 0]] = True
    return hit
