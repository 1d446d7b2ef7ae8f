"""The pages' numbers: cmcore evaluations behind a cache, returned as numpy/pandas/Scores.

Every function is keyed on frozen configs (or a ``models.Selection``) plus plain
settings, so a rerun with the same widgets costs a dictionary look-up, and every
session of the server shares the result.  The per-seed numbers a student's widgets
ask for (trajectories, references, samples) sit in ``ui.shared`` caches, which the
pages fill in off the script run (``ui.later``) and which let go of what nobody asked
for in two minutes; the rest (scores on the protocol's fixed seeds, chart specs) in
``st.cache_data``.  W2 always comes from the one protocol,
``cmcore.evaluate``: a ``Score`` (mean ± standard error over seeds), read against the
floor at the same size.  Shipped models' scores at the standard spec are read from the
tables stored beside the checkpoints (``zoo.load_quality``), so no page measures them
at start-up.  Inference runs on one torch thread (``cmcore.threads``, the engine's one
policy; the count is per thread, so this does not slow a training worker).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import FunctionType
from typing import Any, Callable

import numpy as np
import pandas as pd
import streamlit as st
import torch

from cmcore import bench, collapse, evaluate, metrics, zoo
from cmcore.config import TeacherConfig
from cmcore.evaluate import EvalSpec, QualityTable, Score
from cmcore.consistency import default_sampling_levels, sample_multistep
from cmcore.flow import ode_endpoint
from cmcore.metrics import endpoint_error
from cmcore.threads import use_one_thread
from ui import faults, models, runs, shared
from ui.models import Selection
from viz.spec import to_spec

STANDARD = EvalSpec()  # the protocol's standard size: Home, page 3 and page 4's defaults


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """A tensor as a float64 array, off the autograd graph (what every view of the pages holds)."""
    return x.detach().cpu().numpy().astype(np.float64)


def builder_key(builder: Callable) -> str:
    """How the chart cache names a builder: ``viz.charts.scatter_panels`` (Streamlit cannot hash a function)."""
    return f"{builder.__module__}.{builder.__qualname__}"


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs={FunctionType: builder_key})
def chart_spec(builder: Callable[..., Any], *args, **kwargs) -> dict:
    """``builder(*args, **kwargs)`` (a chart builder of ``viz``) as a Vega-Lite dict, cached (building a chart of
    thousands of points costs a tenth of a second or more).  Draw it with ``st.vega_lite_chart``.  A ``*_spec``
    builder returns the dict itself (built from a layout it keeps)."""
    built = builder(*args, **kwargs)
    return built if isinstance(built, dict) else to_spec(built)


# --- The protocol's scores ---------------------------------------------------------------------

def _stored_table(teacher_cfg: TeacherConfig, cm_cfg=None) -> QualityTable | None:
    """The stored standard-spec table of a shipped pair (for a teacher: any shipped pair that uses it)."""
    for recipe in (zoo.recipe(name, teacher_cfg.dataset) for name in zoo.RECIPES):
        if recipe.teacher == teacher_cfg and (cm_cfg is None or recipe.consistency == cm_cfg):
            return zoo.load_quality(recipe.teacher, recipe.consistency, STANDARD)
    return None


@st.cache_data(show_spinner=False, max_entries=256)
def teacher_score(teacher_cfg: TeacherConfig, steps: int, spec: EvalSpec = STANDARD) -> Score:
    """W2 of the teacher's ``steps``-step Euler ODE (NFE = steps)."""
    stored = _stored_table(teacher_cfg) if spec == STANDARD else None
    if stored is not None and steps in stored.teacher:
        return stored.teacher[steps]
    use_one_thread()
    return evaluate.teacher_score(models.teacher(teacher_cfg), teacher_cfg.dataset, steps, spec=spec)


@st.cache_data(show_spinner=False, max_entries=256)
def cm_score(sel: Selection, k: int, spec: EvalSpec = STANDARD) -> Score:
    """W2 of ``k``-step consistency sampling (NFE = k)."""
    stored = _stored_table(sel.teacher_cfg, sel.cm_cfg) if sel.shipped and spec == STANDARD else None
    if stored is not None and k in stored.consistency:
        return stored.consistency[k]
    run = runs.find(sel.model_id) if not sel.shipped and spec == STANDARD else None
    measured = dict(run.scores) if run is not None else {}
    if k in measured:  # scored by the training job as it finished
        return measured[k]
    use_one_thread()
    return evaluate.cm_score(models.consistency(sel), sel.teacher_cfg.dataset, k, spec=spec)


@st.cache_data(show_spinner=False, max_entries=64)
def floor_score(dataset: str, spec: EvalSpec = STANDARD) -> Score:
    """W2 between two independent real samples of this size: what a perfect model would score."""
    for recipe in (zoo.recipe(name, dataset) for name in zoo.RECIPES):
        stored = zoo.load_quality(recipe.teacher, recipe.consistency, spec)
        if stored is not None and stored.floor is not None:
            return stored.floor
    return evaluate.floor_score(dataset, spec)


def quality(sel: Selection) -> QualityTable:
    """The standard table (every NFE of the lesson's exercise 4) for the selected pair."""
    return QualityTable({k: teacher_score(sel.teacher_cfg, k) for k in evaluate.TEACHER_STEPS},
                        {k: cm_score(sel, k) for k in evaluate.CM_STEPS}, floor_score(sel.teacher_cfg.dataset))


@st.cache_data(show_spinner=False, max_entries=64)
def collapsed(sel: Selection, spec: EvalSpec = STANDARD) -> bool:
    """The engine's collapse verdict (``cmcore.collapse``, the study's definition) for the selected model."""
    use_one_thread()
    return collapse.collapsed(models.consistency(sel), sel.teacher_cfg.dataset, cm_score(sel, 1, spec),
                              teacher_score(sel.teacher_cfg, 1, spec), spec)


@st.cache_data(show_spinner=False, max_entries=16)
def self_consistency_mean(teacher_cfg: TeacherConfig) -> float:
    use_one_thread()
    return bench.self_consistency_mean(models.teacher(teacher_cfg))


@st.cache_resource(show_spinner=False)
def study():
    """The one-change study and the collapse grid (``python -m cmcore study``), or None if the file is missing."""
    from cmcore import study as study_module

    return study_module.load(zoo.checkpoint_dir() / "study.json")


def claims(sel: Selection) -> list[evaluate.Claim]:
    return evaluate.lesson_claims(quality(sel), self_consistency_mean(sel.teacher_cfg))


# --- Exercise 1 ----------------------------------------------------------------

@dataclass(frozen=True)
class SelfConsistencyView:
    xs: np.ndarray  # [steps+1, n_traj, 2], t = 1 -> 0
    ts: np.ndarray  # [steps+1]
    chosen: int
    t_used: np.ndarray  # [k] grid times nearest to those asked
    points: np.ndarray  # [k, 2]
    endpoints: np.ndarray  # [k, 2] where each re-solve lands
    true_endpoint: np.ndarray  # [2]
    distances: np.ndarray  # [k]
    resolve_steps: tuple[int, ...]  # steps used from each point
    solver_error: float  # the solver's own error against a near-exact solve (evaluate.self_consistency)
    explained_by_solver: bool  # the farthest landing is within what that error explains


@shared.cached(max_entries=64)
def self_consistency(teacher_cfg: TeacherConfig, n_traj: int, seed: int, n_steps: int, solver: str, chosen: int,
                     t_values: tuple[float, ...], resolve_steps: int | None) -> SelfConsistencyView:
    faults.check(seed)  # bench/load.py --faults only: fails on purpose for the seed it names
    use_one_thread()
    z, _ = evaluate.eval_noise(seed, n_traj)
    sc = evaluate.self_consistency(models.teacher(teacher_cfg), z, chosen, t_values, n_steps, solver, resolve_steps)
    return SelfConsistencyView(to_numpy(sc.trajectories.xs), to_numpy(sc.trajectories.ts), sc.chosen, np.array(sc.t_values),
                               to_numpy(sc.points), to_numpy(sc.endpoints), to_numpy(sc.true_endpoint), to_numpy(sc.distances),
                               tuple(sc.resolve_steps), sc.solver_error, sc.explained_by_solver)


# --- Exercise 2 ----------------------------------------------------------------

@dataclass(frozen=True)
class OneStepView:
    real: np.ndarray
    true_endpoints: np.ndarray
    euler_one: np.ndarray
    x0_prediction: np.ndarray
    errors: dict  # name -> (mean, max) distance to the 200-step endpoint
    euler_vs_x0_max: float  # max |one Euler step - x0 prediction| over points and coordinates

    spread = staticmethod(metrics.spread)  # RMS distance from the cloud's own centre


@dataclass(frozen=True)
class KStepView:
    points: np.ndarray
    k: int
    error: tuple[float, float]  # (mean, max) distance to the 200-step endpoint


@shared.cached(max_entries=32)
def one_step(teacher_cfg: TeacherConfig, n: int, seed: int) -> OneStepView:
    """``evaluate.one_step_comparison`` on eval noise: the 200-step endpoint, one Euler step, the x0 prediction."""
    use_one_thread()
    z, _ = evaluate.eval_noise(seed, n)
    oc = evaluate.one_step_comparison(models.teacher(teacher_cfg), z, k=1)
    errors = {name: (float(oc.errors[name].mean()), float(oc.errors[name].max()))
              for name in ("euler_one", "x0_prediction")}
    diff = float((oc.euler_one - oc.x0_prediction).abs().max())
    real = to_numpy(evaluate.eval_reference(teacher_cfg.dataset, seed, n))
    return OneStepView(real, to_numpy(oc.true_endpoints), to_numpy(oc.euler_one), to_numpy(oc.x0_prediction), errors, diff)


@shared.cached(max_entries=64)
def k_step(teacher_cfg: TeacherConfig, n: int, seed: int, k: int) -> KStepView:
    """A k-step Euler ODE from the same noise, scored against ``one_step``'s cached 200-step endpoint
    (kept apart so that moving k costs k network calls, not 200 more)."""
    use_one_thread()
    z, _ = evaluate.eval_noise(seed, n)
    x = ode_endpoint(models.teacher(teacher_cfg), z, 1.0, 0.0, k, "euler")
    err = endpoint_error(x, torch.tensor(one_step(teacher_cfg, n, seed).true_endpoints, dtype=torch.float32))
    return KStepView(to_numpy(x), k, (float(err.mean()), float(err.max())))


@st.cache_data(show_spinner=False, max_entries=16)
def error_curve(teacher_cfg: TeacherConfig, n: int, seed: int) -> pd.DataFrame:
    """Mean/max endpoint error against ODE steps, Euler and Heun, on the same noise."""
    use_one_thread()
    z, _ = evaluate.eval_noise(seed, n)
    teacher = models.teacher(teacher_cfg)
    return pd.DataFrame(evaluate.endpoint_error_curve(teacher, z, solvers=("euler", "heun")))


# --- Exercise 4 and page 3: samples (scores come from the protocol above) ----------------------

@shared.cached(max_entries=64)
def real_points(dataset: str, n: int, seed: int) -> np.ndarray:
    """The real reference sample of evaluation seed ``seed`` (what W2 is measured against)."""
    return to_numpy(evaluate.eval_reference(dataset, seed, n))


@shared.cached(max_entries=128)
def teacher_points(teacher_cfg: TeacherConfig, steps: int, n: int, seed: int) -> np.ndarray:
    """The teacher's Euler ODE with ``steps`` steps from evaluation noise ``seed``."""
    use_one_thread()
    return to_numpy(evaluate.teacher_samples(models.teacher(teacher_cfg), seed, n, steps))


@shared.cached(max_entries=128)
def cm_points(sel: Selection, k: int, n: int, seed: int) -> np.ndarray:
    """``k``-step consistency sampling from the same evaluation noise as the teacher."""
    use_one_thread()
    return to_numpy(evaluate.cm_samples(models.consistency(sel), seed, n, k))


@dataclass(frozen=True)
class JumpPaths:
    levels: np.ndarray  # [K] descending
    inputs: np.ndarray  # [K, m, 2]
    x0_hats: np.ndarray  # [K, m, 2]


@shared.cached(max_entries=64)
def jump_paths(sel: Selection, k: int, m: int, seed: int) -> JumpPaths:
    """The first ``m`` points of multi-step sampling, every input and every jump."""
    use_one_thread()
    cm = models.consistency(sel)
    z, g = evaluate.eval_noise(seed, m)
    res = sample_multistep(cm, z, default_sampling_levels(k, cm.sigma_min), g)
    return JumpPaths(to_numpy(res.levels), to_numpy(res.inputs), to_numpy(res.x0_hats))


