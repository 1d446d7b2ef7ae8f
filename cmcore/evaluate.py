"""What the dashboard measures: W2 per sampler and NFE, the exercises' numbers, the lesson's claims.

All evaluations use fixed seeds (``EvalSpec``), so a number on screen is the same
number the benchmark and the tests compute.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from . import datasets
from .config import DEFAULT_DATASET
from .consistency import default_sampling_levels, sample_multistep
from .flow import SOLVER_NFE_PER_STEP, Trajectory, ode_endpoint, ode_step, solve, x0_prediction
from .metrics import DEFAULT_EVAL_POINTS, DEFAULT_EVAL_SEEDS, endpoint_error, w2
from .stats import HIGHER, LOWER, SAME, Comparison, Score, compare, sample_words  # noqa: F401 (the protocol's API)

NOISE_SEED_BASE = 1000  # eval noise seed s -> generator seeded 1000 + s
REFERENCE_SEED_BASE = 2000  # eval reference seed s -> generator seeded 2000 + s
FLOOR_SEED_BASE = 3000  # a second, independent real sample for the floor
REFERENCE_ODE_STEPS = 200  # "true" ODE endpoint: 200 Euler steps (lesson)
TEACHER_STEPS = (1, 5, 10, 20, 50)  # lesson, exercise 4
CM_STEPS = (1, 2, 4, 8)  # lesson, exercise 4
SELF_CONSISTENCY_TOLERANCE = 0.02  # mean distance at which self-consistency counts as holding
FINE_SOLVE_STEPS = 400  # Heun steps of the near-exact solve that measures a solver's own error
SOLVER_ERROR_FACTOR = 2.0  # landings within 2x the solver's measured error are "the same point"
EXACT_DISTANCE = 1e-5  # below this a distance is float rounding
SHIPPED_EVAL_SEEDS = 20  # the shipped models' stored tables (eval --write) settle the claims; a live run uses 3 seeds
@dataclass(frozen=True)
class EvalSpec:
    """How a W2 is measured: ``n`` generated vs ``n`` real points, once per seed."""

    n: int = DEFAULT_EVAL_POINTS
    seeds: tuple[int, ...] = DEFAULT_EVAL_SEEDS

    @staticmethod
    def from_base(n: int, base_seed: int, count: int = len(DEFAULT_EVAL_SEEDS)) -> "EvalSpec":
        """``count`` consecutive seeds starting at ``base_seed`` (a page's seed widget picks the first)."""
        return EvalSpec(n, tuple(range(base_seed, base_seed + count)))

    def describe(self) -> str:
        return sample_words(self.n, self.seeds)


def eval_noise(seed: int, n: int) -> tuple[torch.Tensor, torch.Generator]:
    g = torch.Generator().manual_seed(NOISE_SEED_BASE + seed)
    return torch.randn(n, 2, generator=g), g


def eval_reference(dataset: str, seed: int, n: int) -> torch.Tensor:
    return datasets.sample(dataset, n, torch.Generator().manual_seed(REFERENCE_SEED_BASE + seed))


def floor_sample(dataset: str, seed: int, n: int) -> torch.Tensor:
    """A second real sample, independent of ``eval_reference``: what a perfect model would produce."""
    return datasets.sample(dataset, n, torch.Generator().manual_seed(FLOOR_SEED_BASE + seed))


def teacher_samples(teacher: nn.Module, seed: int, n: int, steps: int, solver: str = "euler") -> torch.Tensor:
    """The teacher's ODE from evaluation noise ``seed`` (NFE = steps x calls per step)."""
    z, _ = eval_noise(seed, n)
    return ode_endpoint(teacher, z, 1.0, 0.0, steps, solver)


def cm_samples(cm: nn.Module, seed: int, n: int, k: int, levels=None, same_noise: bool = False) -> torch.Tensor:
    """``k``-step consistency sampling from evaluation noise ``seed`` (re-noising draws from the same stream,
    or re-uses the starting noise with ``same_noise``)."""
    levels = default_sampling_levels(k, cm.sigma_min) if levels is None else levels
    z, g = eval_noise(seed, n)
    return sample_multistep(cm, z, levels, g, same_noise).samples


def score(sample: Callable[[int, int], torch.Tensor], dataset: str, spec: EvalSpec = EvalSpec()) -> Score:
    """W2 of ``sample(seed, n)`` against the reference sample of each seed."""
    return Score(tuple(w2(sample(s, spec.n), eval_reference(dataset, s, spec.n)) for s in spec.seeds), spec.n, spec.seeds)


def teacher_score(teacher: nn.Module, dataset: str, steps: int, solver: str = "euler",
                  spec: EvalSpec = EvalSpec()) -> Score:
    return score(lambda s, n: teacher_samples(teacher, s, n, steps, solver), dataset, spec)


def cm_score(cm: nn.Module, dataset: str, k: int, levels=None, spec: EvalSpec = EvalSpec(),
             same_noise: bool = False) -> Score:
    return score(lambda s, n: cm_samples(cm, s, n, k, levels, same_noise), dataset, spec)


def floor_score(dataset: str, spec: EvalSpec = EvalSpec()) -> Score:
    """W2 between two independent real samples: the best any model can score at this size."""
    return score(lambda s, n: floor_sample(dataset, s, n), dataset, spec)


@dataclass
class QualityTable:
    """Scores keyed by NFE, for the teacher's Euler ODE and the consistency model, plus the floor."""

    teacher: dict[int, Score]
    consistency: dict[int, Score]
    floor: Score | None = None

    def as_rows(self) -> list[dict]:
        rows = [{"model": "teacher (Euler ODE)", "nfe": k, "w2": v.mean, "sem": v.sem} for k, v in self.teacher.items()]
        return rows + [{"model": "consistency model", "nfe": k, "w2": v.mean, "sem": v.sem}
                       for k, v in self.consistency.items()]

    def to_json(self) -> dict:
        scores = lambda m: {str(k): list(v.values) for k, v in m.items()}  # noqa: E731
        return {"n": self._n(), "seeds": list(next(iter(self.teacher.values())).seeds), "teacher": scores(self.teacher),
                "consistency": scores(self.consistency), "floor": list(self.floor.values) if self.floor else None}

    @staticmethod
    def from_json(d: dict) -> "QualityTable":
        n, seeds = int(d["n"]), tuple(int(s) for s in d["seeds"]) if d.get("seeds") is not None else None
        sc = lambda v: Score(tuple(float(x) for x in v), n, seeds)  # noqa: E731
        return QualityTable({int(k): sc(v) for k, v in d["teacher"].items()},
                            {int(k): sc(v) for k, v in d["consistency"].items()}, sc(d["floor"]) if d.get("floor") else None)

    def _n(self) -> int:
        return next(iter(self.teacher.values())).n


def quality_table(teacher: nn.Module, cm: nn.Module | None, dataset: str = DEFAULT_DATASET,
                  teacher_steps=TEACHER_STEPS, cm_steps=CM_STEPS, spec: EvalSpec = EvalSpec(),
                  with_floor: bool = True) -> QualityTable:
    t = {k: teacher_score(teacher, dataset, k, spec=spec) for k in teacher_steps}
    c = {k: cm_score(cm, dataset, k, spec=spec) for k in cm_steps} if cm is not None else {}
    return QualityTable(t, c, floor_score(dataset, spec) if with_floor else None)


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
    solver_error: float = 0.0  # how far this solver's answers are from a near-exact solve (see below)

    @property
    def explained_by_solver(self) -> bool:
        """The farthest landing is within what the solver's own error explains: the same point up to the solver."""
        return float(self.distances.max()) <= SOLVER_ERROR_FACTOR * self.solver_error + EXACT_DISTANCE


def self_consistency(teacher: nn.Module, z: torch.Tensor, chosen: int, t_values, n_steps: int = REFERENCE_ODE_STEPS,
                     solver: str = "euler", resolve_steps: int | None = None, solver_error: bool = True) -> SelfConsistency:
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
    # The solver's own error: its landings and its endpoint against a near-exact (fine Heun) solve; most of the
    # cost, so ``solver_error=False`` (the distances alone) leaves it NaN.
    error = float("nan")
    if solver_error:
        fine_ends = _resolve(teacher, points, starts, n_steps, "heun", FINE_SOLVE_STEPS)
        fine_true = ode_endpoint(teacher, z[chosen:chosen + 1], 1.0, 0.0, FINE_SOLVE_STEPS, "heun")[0]
        error = float(endpoint_error(ends, fine_ends).max() + endpoint_error(true_end, fine_true))
    return SelfConsistency(traj, chosen, [float(traj.ts[i]) for i in starts], points, ends, true_end,
                           endpoint_error(ends, true_end[None]), steps_used, error)


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
    x0_pred = x0_prediction(v, z, 1.0)  # x0 = x_t - t v at t = 1
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

HOLDS, FAILS, UNDECIDED, NOT_APPLICABLE = "holds", "does not hold", "undecided", "not applicable"


@dataclass(frozen=True)
class Measured:
    """One number a claim rests on: a sampler's W2 at a step count."""
    sampler: str  # "teacher" (its Euler ODE) or "consistency" (the consistency model)
    steps: int
    score: Score


@dataclass(frozen=True)
class Claim:
    """A claim of the lesson, judged: its status and what it was judged on (the words: ``viz.words.claims``)."""
    key: str
    text: str  # the claim's statement: what is checked (a definition, like a label)
    status: str  # HOLDS | FAILS | UNDECIDED (inside the noise) | NOT_APPLICABLE (its premise is false here)
    measured: tuple[Measured, ...] = ()  # the scores it rests on, in the order they are quoted
    comparison: Comparison | None = None  # the rule's verdict on them (for NOT_APPLICABLE: on its premise)
    distance: float | None = None  # self-consistency: the mean endpoint distance, against SELF_CONSISTENCY_TOLERANCE

    @property
    def holds(self) -> bool:
        return self.status == HOLDS


def _judged(key: str, text: str, comp: Comparison, holds_if: tuple[str, ...], *measured: Measured) -> Claim:
    """A claim that holds when ``comp``'s outcome is one of ``holds_if``; inside the noise it is undecided."""
    return Claim(key, text, HOLDS if comp.outcome in holds_if else UNDECIDED if comp.same else FAILS, measured, comp)


def lesson_claims(table: QualityTable, self_consistency_mean: float) -> list[Claim]:
    """Judge each claim of the lesson on measured numbers, with ``compare`` as the only rule."""
    t, c = table.teacher, table.consistency
    T, C = (lambda k: Measured("teacher", k, t[k])), (lambda k: Measured("consistency", k, c[k]))  # noqa: E731
    claims = [
        Claim("self_consistency", "Re-solving the ODE from any point of a trajectory reaches the same endpoint.",
              HOLDS if self_consistency_mean <= SELF_CONSISTENCY_TOLERANCE else FAILS, distance=self_consistency_mean),
        _judged("one_step_ode_poor", "One Euler step from noise gives clearly worse samples than a 5-step ODE.",
                compare(t[1], t[5]), (HIGHER,), T(1), T(5)),
    ]
    if not c:
        return claims
    claims += [
        _judged("cm_beats_teacher_one_step", "The consistency model's 1-step samples beat the teacher's 1-step ODE.",
                compare(c[1], t[1]), (LOWER,), C(1), T(1)),
        _judged("cm_one_step_below_five", "One consistency step is better than five teacher ODE steps.",
                compare(c[1], t[5]), (LOWER,), C(1), T(5)),
        _judged("cm_few_steps_approach_50", "2 consistency steps are as good as the teacher's 50-step ODE "
                "(not measurably worse).", compare(c[2], t[50]), (LOWER, SAME), C(2), T(50)),
    ]
    text = "Beyond 4 consistency steps the gains are small (8 steps are not measurably better than 4)."
    premise = compare(c[4], t[1])  # the premise: 4 consistency steps beat the teacher's single step
    return claims + [Claim("cm_diminishing_returns", text, NOT_APPLICABLE, (C(4), T(1)), premise) if not premise.lower
                     else _judged("cm_diminishing_returns", text, compare(c[8], c[4]), (HIGHER, SAME), C(4), C(8))]
