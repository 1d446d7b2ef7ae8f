"""What the dashboard measures: W2 per sampler and NFE, the exercises' numbers, the lesson's claims.

All evaluations use fixed seeds (``EvalSpec``), so a number on screen is the same
number the benchmark and the tests compute.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from . import datasets
from .consistency import default_sampling_levels, sample_multistep
from .flow import SOLVER_NFE_PER_STEP, Trajectory, ode_endpoint, ode_step, solve
from .metrics import DEFAULT_EVAL_POINTS, DEFAULT_EVAL_SEEDS, endpoint_error, w2

NOISE_SEED_BASE = 1000  # eval noise seed s -> generator seeded 1000 + s
REFERENCE_SEED_BASE = 2000  # eval reference seed s -> generator seeded 2000 + s
REFERENCE_ODE_STEPS = 200  # "true" ODE endpoint: 200 Euler steps (lesson)
TEACHER_STEPS = (1, 5, 10, 20, 50)  # lesson, exercise 4
CM_STEPS = (1, 2, 4, 8)  # lesson, exercise 4
SELF_CONSISTENCY_TOLERANCE = 0.02  # mean distance at which self-consistency counts as holding
CLOSE_RATIO = 1.1  # "approaches": within 10% of the teacher's 50-step W2
DIMINISHING_GAIN = 0.05  # 8 vs 4 CM steps: less than this W2 gain counts as diminishing returns


@dataclass(frozen=True)
class EvalSpec:
    n: int = DEFAULT_EVAL_POINTS
    seeds: tuple[int, ...] = DEFAULT_EVAL_SEEDS


def eval_noise(seed: int, n: int) -> tuple[torch.Tensor, torch.Generator]:
    g = torch.Generator().manual_seed(NOISE_SEED_BASE + seed)
    return torch.randn(n, 2, generator=g), g


def eval_reference(dataset: str, seed: int, n: int) -> torch.Tensor:
    return datasets.sample(dataset, n, torch.Generator().manual_seed(REFERENCE_SEED_BASE + seed))


def teacher_w2(teacher: nn.Module, dataset: str, steps: int, solver: str = "euler", spec: EvalSpec = EvalSpec()) -> float:
    vals = []
    for s in spec.seeds:
        z, _ = eval_noise(s, spec.n)
        vals.append(w2(ode_endpoint(teacher, z, 1.0, 0.0, steps, solver), eval_reference(dataset, s, spec.n)))
    return sum(vals) / len(vals)


def cm_w2(cm: nn.Module, dataset: str, k: int, levels=None, spec: EvalSpec = EvalSpec()) -> float:
    levels = default_sampling_levels(k, cm.sigma_min) if levels is None else levels
    vals = []
    for s in spec.seeds:
        z, g = eval_noise(s, spec.n)
        vals.append(w2(sample_multistep(cm, z, levels, g).samples, eval_reference(dataset, s, spec.n)))
    return sum(vals) / len(vals)


def data_floor(dataset: str, spec: EvalSpec = EvalSpec()) -> float:
    """W2 between two independent real samples: the best any model can score."""
    vals = [w2(datasets.sample(dataset, spec.n, torch.Generator().manual_seed(3000 + s)),
               eval_reference(dataset, s, spec.n)) for s in spec.seeds]
    return sum(vals) / len(vals)


@dataclass
class QualityTable:
    """W2 (mean over seeds) keyed by NFE, for the teacher's Euler ODE and the consistency model."""

    teacher: dict[int, float]
    consistency: dict[int, float]
    floor: float | None = None

    def as_rows(self) -> list[dict]:
        rows = [{"model": "teacher (Euler ODE)", "nfe": k, "w2": v} for k, v in self.teacher.items()]
        return rows + [{"model": "consistency model", "nfe": k, "w2": v} for k, v in self.consistency.items()]


def quality_table(teacher: nn.Module, cm: nn.Module | None, dataset: str = "two_moons",
                  teacher_steps=TEACHER_STEPS, cm_steps=CM_STEPS, spec: EvalSpec = EvalSpec(),
                  with_floor: bool = False) -> QualityTable:
    t = {k: teacher_w2(teacher, dataset, k, spec=spec) for k in teacher_steps}
    c = {k: cm_w2(cm, dataset, k, spec=spec) for k in cm_steps} if cm is not None else {}
    return QualityTable(t, c, data_floor(dataset, spec) if with_floor else None)


# --- Exercise 1: self-consistency --------------------------------------------

@dataclass
class SelfConsistency:
    trajectories: Trajectory  # all trajectories, xs [steps+1, n_traj, 2]
    chosen: int
    t_values: list[float]  # grid times actually used (nearest to those asked)
    points: torch.Tensor  # [k, 2] points on the chosen trajectory
    endpoints: torch.Tensor  # [k, 2] where re-solving from each point lands
    true_endpoint: torch.Tensor  # [2]
    distances: torch.Tensor  # [k]
    resolve_steps: list[int] = field(default_factory=list)


def self_consistency(teacher: nn.Module, z: torch.Tensor, chosen: int, t_values, n_steps: int = REFERENCE_ODE_STEPS,
                     solver: str = "euler", resolve_steps: int | None = None) -> SelfConsistency:
    """Solve trajectories from ``z``; re-solve from points of one to t=0 and compare endpoints.

    ``resolve_steps=None`` re-solves with the trajectory's own step density (the lesson's
    choice), otherwise with that many steps from every point.
    """
    if not 0 <= chosen < z.shape[0]:
        raise ValueError(f"Trajectory {chosen} does not exist; choose 0 to {z.shape[0] - 1}.")
    traj = solve(teacher, z, 1.0, 0.0, n_steps, solver)
    true_end = traj.endpoint[chosen]
    # Each restart is a grid point strictly before the end, nearest to the t asked for.
    starts = [min(int(torch.argmin((traj.ts - float(t)).abs())), n_steps - 1) for t in t_values]
    points = traj.xs[starts, chosen].clone()
    ends = _resolve(teacher, points, starts, n_steps, solver, resolve_steps)
    steps_used = [n_steps - i if resolve_steps is None else resolve_steps for i in starts]
    return SelfConsistency(traj, chosen, [float(traj.ts[i]) for i in starts], points, ends, true_end,
                           endpoint_error(ends, true_end[None]), steps_used)


@torch.no_grad()
def _resolve(teacher: nn.Module, points: torch.Tensor, starts: list[int], n_steps: int, solver: str,
             resolve_steps: int | None) -> torch.Tensor:
    """Solve every restart point to t = 0 in one batched pass.

    ``resolve_steps=None``: walk the trajectory's own grid; each point joins at its own index.
    Otherwise each point gets its own grid of ``resolve_steps`` equal steps from its t to 0.
    """
    grid = torch.linspace(1.0, 0.0, n_steps + 1, dtype=torch.float64)  # the grid ``solve`` used
    x = points.clone()
    if resolve_steps is None:
        first = torch.tensor(starts)
        for j in range(min(starts), n_steps):
            active = first <= j
            m = int(active.sum())
            x[active] = ode_step(teacher, x[active], torch.full((m, 1), float(grid[j])),
                                 torch.full((m, 1), float(grid[j + 1])), solver)
        return x
    if resolve_steps < 1:
        raise ValueError(f"Need at least one re-solve step; got {resolve_steps}.")
    grids = torch.stack([torch.linspace(float(grid[i]), 0.0, resolve_steps + 1, dtype=torch.float64) for i in starts])
    for r in range(resolve_steps):
        x = ode_step(teacher, x, grids[:, r].float()[:, None], grids[:, r + 1].float()[:, None], solver)
    return x


# --- Exercise 2: one step vs the endpoint ------------------------------------

@dataclass
class OneStepComparison:
    true_endpoints: torch.Tensor  # 200-step Euler
    euler_one: torch.Tensor  # one Euler step from t=1 to 0
    x0_prediction: torch.Tensor  # x_T - 1 * v(x_T, 1)
    k_step: torch.Tensor
    k: int
    errors: dict[str, torch.Tensor]  # per-point distance to the true endpoints


@torch.no_grad()
def one_step_comparison(teacher: nn.Module, z: torch.Tensor, k: int = 5) -> OneStepComparison:
    true_end = ode_endpoint(teacher, z, 1.0, 0.0, REFERENCE_ODE_STEPS)
    euler_one = ode_endpoint(teacher, z, 1.0, 0.0, 1)
    v = teacher(z, torch.ones(z.shape[0], 1))
    x0_pred = z - 1.0 * v  # x0 = x_t - t v at t = 1
    k_step = ode_endpoint(teacher, z, 1.0, 0.0, k)
    errors = {name: endpoint_error(x, true_end) for name, x in
              (("euler_one", euler_one), ("x0_prediction", x0_pred), ("k_step", k_step))}
    return OneStepComparison(true_end, euler_one, x0_pred, k_step, k, errors)


@torch.no_grad()
def endpoint_error_curve(teacher: nn.Module, z: torch.Tensor, steps=(1, 2, 3, 5, 10, 20, 50, 100),
                         solvers=("euler",)) -> list[dict]:
    """Mean/max distance to the 200-step endpoint for each solver and step count (one shared reference)."""
    true_end = ode_endpoint(teacher, z, 1.0, 0.0, REFERENCE_ODE_STEPS)
    rows = []
    for solver in solvers:
        for k in steps:
            err = endpoint_error(ode_endpoint(teacher, z, 1.0, 0.0, k, solver), true_end)
            rows.append({"steps": k, "nfe": k * SOLVER_NFE_PER_STEP[solver], "solver": solver,
                         "mean_error": float(err.mean()), "max_error": float(err.max())})
    return rows


# --- The lesson's claims -------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    key: str
    text: str  # the claim, in our words
    holds: bool
    evidence: str  # the numbers it was judged on


def lesson_claims(table: QualityTable, self_consistency_mean: float) -> list[Claim]:
    """Judge each claim of the lesson on measured numbers (W2 from ``table``)."""
    t, c = table.teacher, table.consistency
    claims = [
        Claim("self_consistency", "Re-solving the ODE from any point of a trajectory reaches the same endpoint.",
              self_consistency_mean <= SELF_CONSISTENCY_TOLERANCE,
              f"mean endpoint distance {self_consistency_mean:.4f} (tolerance {SELF_CONSISTENCY_TOLERANCE})"),
        Claim("one_step_ode_poor", "One Euler step from noise gives clearly worse samples than a 5-step ODE.",
              t[1] > t[5], f"teacher W2: 1 step {t[1]:.3f}, 5 steps {t[5]:.3f}"),
    ]
    if c:
        claims += [
            Claim("cm_beats_teacher_one_step", "The consistency model's 1-step samples beat the teacher's 1-step ODE.",
                  c[1] < t[1], f"W2: consistency 1 step {c[1]:.3f}, teacher 1 step {t[1]:.3f}"),
            Claim("cm_one_step_below_five", "One consistency step is better than five teacher ODE steps.",
                  c[1] < t[5], f"W2: consistency 1 step {c[1]:.3f}, teacher 5 steps {t[5]:.3f}"),
            Claim("cm_few_steps_approach_50", "2 consistency steps come close to the teacher's 50-step ODE "
                  f"(within {int(round((CLOSE_RATIO - 1) * 100))}%).",
                  c[2] <= CLOSE_RATIO * t[50], f"W2: consistency 2 steps {c[2]:.3f}, teacher 50 steps {t[50]:.3f}"),
            Claim("cm_diminishing_returns", "Beyond 4 consistency steps the gains are small.",
                  c[4] - c[8] < DIMINISHING_GAIN, f"W2: 4 steps {c[4]:.3f}, 8 steps {c[8]:.3f}"),
        ]
    return claims
