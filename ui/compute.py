"""The pages' numbers: cmcore evaluations behind ``st.cache_data``, returned as numpy/pandas.

Every function is keyed on frozen configs plus plain settings, so a rerun with the
same widgets costs a dictionary look-up.  Models come from ``ui.models`` (shared,
frozen) and are only called under ``torch.no_grad`` inside cmcore.  Inference runs
on one torch thread: for these tiny MLPs, extra threads only add contention
(``torch.set_num_threads`` is per thread, so this does not slow a training worker).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
import torch

from cmcore import bench, datasets, evaluate
from viz import charts
from cmcore.config import ConsistencyConfig, TeacherConfig
from cmcore.consistency import default_sampling_levels, sample_multistep
from cmcore.evaluate import Claim, QualityTable
from cmcore.flow import ode_endpoint
from cmcore.metrics import endpoint_error, w2
from ui import models

INFERENCE_THREADS = 1  # tiny MLPs: one thread is fastest and never fights a training worker
FLOOR_SEED_BASE = 3000  # a second real sample for the W2 floor (as cmcore.evaluate.data_floor)


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy().astype(np.float64)


def _one_thread() -> None:
    torch.set_num_threads(INFERENCE_THREADS)


@st.cache_data(show_spinner=False, max_entries=64)
def chart_spec(builder: str, *args, **kwargs) -> dict:
    """``charts.<builder>(*args, **kwargs)`` as a Vega-Lite dict (``charts.to_spec``), cached: building a chart
    of thousands of points costs a tenth of a second or more, which a rerun with unchanged inputs should
    not pay again.  Draw it with ``st.vega_lite_chart``."""
    return charts.to_spec(getattr(charts, builder)(*args, **kwargs))


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


@st.cache_data(show_spinner=False, max_entries=64)
def self_consistency(teacher_cfg: TeacherConfig, n_traj: int, seed: int, n_steps: int, solver: str, chosen: int,
                     t_values: tuple[float, ...], resolve_steps: int | None) -> SelfConsistencyView:
    _one_thread()
    z, _ = evaluate.eval_noise(seed, n_traj)
    sc = evaluate.self_consistency(models.teacher(teacher_cfg), z, chosen, t_values, n_steps, solver, resolve_steps)
    return SelfConsistencyView(_np(sc.trajectories.xs), _np(sc.trajectories.ts), sc.chosen, np.array(sc.t_values),
                               _np(sc.points), _np(sc.endpoints), _np(sc.true_endpoint), _np(sc.distances),
                               tuple(sc.resolve_steps))


# --- Exercise 2 ----------------------------------------------------------------

@dataclass(frozen=True)
class OneStepView:
    real: np.ndarray
    true_endpoints: np.ndarray
    euler_one: np.ndarray
    x0_prediction: np.ndarray
    errors: dict  # name -> (mean, max) distance to the 200-step endpoint
    euler_vs_x0_max: float  # max |one Euler step - x0 prediction| over points and coordinates

    @staticmethod
    def spread(points: np.ndarray) -> float:
        """RMS distance from the cloud's own centre."""
        return float(np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean()))


@dataclass(frozen=True)
class KStepView:
    points: np.ndarray
    k: int
    error: tuple[float, float]  # (mean, max) distance to the 200-step endpoint


@st.cache_data(show_spinner=False, max_entries=32)
def one_step(teacher_cfg: TeacherConfig, n: int, seed: int) -> OneStepView:
    """``evaluate.one_step_comparison`` on eval noise: the 200-step endpoint, one Euler step, the x0 prediction."""
    _one_thread()
    z, _ = evaluate.eval_noise(seed, n)
    oc = evaluate.one_step_comparison(models.teacher(teacher_cfg), z, k=1)
    errors = {name: (float(oc.errors[name].mean()), float(oc.errors[name].max()))
              for name in ("euler_one", "x0_prediction")}
    diff = float((oc.euler_one - oc.x0_prediction).abs().max())
    real = _np(evaluate.eval_reference(teacher_cfg.dataset, seed, n))
    return OneStepView(real, _np(oc.true_endpoints), _np(oc.euler_one), _np(oc.x0_prediction), errors, diff)


@st.cache_data(show_spinner=False, max_entries=64)
def k_step(teacher_cfg: TeacherConfig, n: int, seed: int, k: int) -> KStepView:
    """A k-step Euler ODE from the same noise, scored against ``one_step``'s cached 200-step endpoint
    (kept apart so that moving k costs k network calls, not 200 more)."""
    _one_thread()
    z, _ = evaluate.eval_noise(seed, n)
    x = ode_endpoint(models.teacher(teacher_cfg), z, 1.0, 0.0, k, "euler")
    err = endpoint_error(x, torch.from_numpy(one_step(teacher_cfg, n, seed).true_endpoints).float())
    return KStepView(_np(x), k, (float(err.mean()), float(err.max())))


@st.cache_data(show_spinner=False, max_entries=16)
def error_curve(teacher_cfg: TeacherConfig, n: int, seed: int) -> pd.DataFrame:
    """Mean/max endpoint error against ODE steps, Euler and Heun, on the same noise."""
    _one_thread()
    z, _ = evaluate.eval_noise(seed, n)
    teacher = models.teacher(teacher_cfg)
    return pd.DataFrame(evaluate.endpoint_error_curve(teacher, z, solvers=("euler", "heun")))


# --- Exercise 4 ----------------------------------------------------------------

@dataclass(frozen=True)
class Samples:
    points: np.ndarray
    w2: float  # to a fresh real sample of the same size (evaluate.eval_reference)
    nfe: int


@st.cache_data(show_spinner=False, max_entries=64)
def real_data(dataset: str, n: int, seed: int) -> Samples:
    """The real reference sample itself, with the W2 floor (a second real sample against it)."""
    ref = evaluate.eval_reference(dataset, seed, n)
    other = datasets.sample(dataset, n, torch.Generator().manual_seed(FLOOR_SEED_BASE + seed))
    return Samples(_np(ref), w2(other, ref), 0)


@st.cache_data(show_spinner=False, max_entries=128)
def teacher_samples(teacher_cfg: TeacherConfig, steps: int, n: int, seed: int) -> Samples:
    """The teacher's Euler ODE with ``steps`` steps from eval noise ``seed`` (NFE = steps)."""
    _one_thread()
    z, _ = evaluate.eval_noise(seed, n)
    x = ode_endpoint(models.teacher(teacher_cfg), z, 1.0, 0.0, steps, "euler")
    return Samples(_np(x), w2(x, evaluate.eval_reference(teacher_cfg.dataset, seed, n)), steps)


@st.cache_data(show_spinner=False, max_entries=128)
def cm_samples(teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig, k: int, n: int, seed: int) -> Samples:
    """Multi-step consistency sampling with ``k`` evenly spaced levels (NFE = k), same noise as the teacher."""
    _one_thread()
    cm = models.consistency(teacher_cfg, cm_cfg)
    z, g = evaluate.eval_noise(seed, n)
    res = sample_multistep(cm, z, default_sampling_levels(k, cm.sigma_min), g)
    return Samples(_np(res.samples), w2(res.samples, evaluate.eval_reference(teacher_cfg.dataset, seed, n)), res.nfe)


@dataclass(frozen=True)
class JumpPaths:
    levels: np.ndarray  # [K] descending
    inputs: np.ndarray  # [K, m, 2]
    x0_hats: np.ndarray  # [K, m, 2]


@st.cache_data(show_spinner=False, max_entries=64)
def jump_paths(teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig, k: int, m: int, seed: int) -> JumpPaths:
    """The first ``m`` points of multi-step sampling, every input and every jump."""
    _one_thread()
    cm = models.consistency(teacher_cfg, cm_cfg)
    z, g = evaluate.eval_noise(seed, m)
    res = sample_multistep(cm, z, default_sampling_levels(k, cm.sigma_min), g)
    return JumpPaths(_np(res.levels), _np(res.inputs), _np(res.x0_hats))


# --- Home: the lesson's claims --------------------------------------------------------

@dataclass(frozen=True)
class Quality:
    teacher: dict  # steps -> W2 (mean over evaluate's default seeds)
    consistency: dict  # steps -> W2
    self_consistency: float  # bench.self_consistency_mean on the teacher
    source: str  # "live" (measured now) or "checkpoint" (measured when the checkpoint was written)

    def claims(self) -> list[Claim]:
        return evaluate.lesson_claims(QualityTable(self.teacher, self.consistency), self.self_consistency)


@st.cache_data(show_spinner=False, max_entries=16)
def self_consistency_mean(teacher_cfg: TeacherConfig) -> float:
    _one_thread()
    return bench.self_consistency_mean(models.teacher(teacher_cfg))


@st.cache_data(show_spinner=False, max_entries=16)
def quality(teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig) -> Quality:
    """Measure now: ``evaluate.quality_table`` at its default evaluation size (slow: tens of seconds)."""
    _one_thread()
    table = evaluate.quality_table(models.teacher(teacher_cfg), models.consistency(teacher_cfg, cm_cfg),
                                   teacher_cfg.dataset)
    return Quality(table.teacher, table.consistency, self_consistency_mean(teacher_cfg), "live")


def stored_quality(teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig) -> Quality | None:
    """The W2 table a shipped checkpoint carries (written by ``quality_table`` when it was trained), or None."""
    from cmcore import zoo

    if not zoo.is_shipped_consistency(teacher_cfg, cm_cfg):
        return None
    metrics = models.shipped_metrics(teacher_cfg, cm_cfg)
    t = {int(k): float(v) for k, v in metrics["teacher"].get("w2", {}).items()}
    c = {int(k): float(v) for k, v in metrics["consistency"].get("w2", {}).items()}
    if not set(evaluate.TEACHER_STEPS) <= set(t) or not set(evaluate.CM_STEPS) <= set(c):
        return None
    return Quality(t, c, self_consistency_mean(teacher_cfg), "checkpoint")
