"""The lab pages' numbers: ``cmcore.lab`` behind Streamlit's caches, returned as numpy.

Keyed on frozen configs plus plain settings, like ``ui.compute``; models come from ``ui.models`` (shared,
frozen) and are only called under no_grad inside cmcore.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
import torch

from cmcore import evaluate, lab
from cmcore.threads import use_one_thread
from cmcore.config import ConsistencyConfig, TeacherConfig
from cmcore.evaluate import EvalSpec, Score
from ui import models
from ui.models import Selection
from ui import compute
from ui.compute import to_numpy
from viz import charts, lab_charts



# --- What W2 means -------------------------------------------------------------------------------

@dataclass(frozen=True)
class MatchingView:
    generated: np.ndarray  # [n, 2] the sampler's points
    real: np.ndarray  # [n, 2] the protocol's reference sample
    perm: np.ndarray  # generated[i] is matched to real[perm[i]]
    lengths: np.ndarray  # [n] line lengths
    floor_lengths: np.ndarray  # [n] line lengths of the floor's matching (second real sample vs the reference)
    stats: lab.LineStats
    floor: lab.LineStats


@st.cache_data(show_spinner=False, max_entries=64)
def matching(sel: Selection, sampler: str, n: int, seed: int) -> MatchingView:
    """The optimal matching of ``n`` points of ``sampler`` to the reference sample of ``seed``, and the floor's."""
    use_one_thread()
    dataset = sel.teacher_cfg.dataset
    real = evaluate.eval_reference(dataset, seed, n)
    gen = lab.sampler_points(sampler, models.teacher(sel.teacher_cfg), models.consistency(sel),
                             dataset, seed, n)
    perm, _ = lab.w2_matching(gen, real)
    floor_perm, _ = lab.w2_matching(evaluate.floor_sample(dataset, seed, n), real)
    gen, real_np = to_numpy(gen), to_numpy(real)
    lengths = np.linalg.norm(gen - real_np[perm], axis=1)
    floor_lengths = np.linalg.norm(to_numpy(evaluate.floor_sample(dataset, seed, n)) - real_np[floor_perm], axis=1)
    return MatchingView(gen, real_np, perm, lengths, floor_lengths, lab.line_stats(lengths, floor_lengths),
                        lab.line_stats(floor_lengths, floor_lengths))


def protocol_score(sel: Selection, sampler: str, spec: EvalSpec = EvalSpec()) -> Score:
    """The protocol's W2 of ``sampler``, through the app's one set of shared score caches (``ui.compute``)."""
    if sampler in lab.TEACHER_SAMPLER_STEPS:
        return compute.teacher_score(sel.teacher_cfg, lab.TEACHER_SAMPLER_STEPS[sampler], spec)
    if sampler == "cm_1":
        return compute.cm_score(sel, 1, spec)
    return compute.floor_score(sel.teacher_cfg.dataset, spec)


# --- What f_theta does at each t -------------------------------------------------------------------

@dataclass(frozen=True)
class FrameView:
    frames: pd.DataFrame  # one row per (t, point): t, point, xt_x, xt_y, cm_x, cm_y, tx_x, tx_y, end_x, end_y
    curve: pd.DataFrame  # one row per (t, series): t, series, error (mean distance to the endpoint)
    ts: np.ndarray
    cm_error: np.ndarray  # [F]
    teacher_error: np.ndarray  # [F]


@st.cache_data(show_spinner=False, max_entries=16)
def ftheta_frames(sel: Selection, m: int, seed: int) -> FrameView:
    """``m`` data points noised to every frame time with fixed noise, and where each jump sends them."""
    use_one_thread()
    teacher = models.teacher(sel.teacher_cfg)
    x0 = evaluate.eval_reference(sel.teacher_cfg.dataset, seed, m)
    eps, _ = evaluate.eval_noise(seed, m)
    fr = lab.noised_frames(teacher, x0, eps, lab.frame_times())
    cm_j, tx_j = lab.consistency_jumps(models.consistency(sel), fr), lab.teacher_jumps(teacher, fr)
    f = len(fr.ts)
    ts = to_numpy(fr.ts).round(4)
    cols = {"t": np.repeat(ts, m), "point": np.tile(np.arange(m), f)}
    for name, arr in (("xt", fr.x_t), ("cm", cm_j), ("tx", tx_j), ("end", fr.endpoint)):
        flat = to_numpy(arr).reshape(f * m, 2)
        cols[f"{name}_x"], cols[f"{name}_y"] = flat[:, 0], flat[:, 1]
    cm_err, tx_err = to_numpy(lab.mean_endpoint_error(cm_j, fr)), to_numpy(lab.mean_endpoint_error(tx_j, fr))
    curve = pd.DataFrame({"t": np.r_[ts, ts], "series": [lab_charts.CM_JUMP] * f + [lab_charts.TEACHER_JUMP] * f,
                          "error": np.r_[cm_err, tx_err]})
    return FrameView(pd.DataFrame(cols), curve, ts, cm_err, tx_err)


@st.cache_data(show_spinner=False, max_entries=16)
def ftheta_chart(sel: Selection, m: int, seed: int) -> dict:
    """The page's Vega-Lite spec, keyed on the settings alone (hashing the frames on every rerun costs more)."""
    v = ftheta_frames(sel, m, seed)
    return charts.to_spec(lab_charts.jump_frames_chart(v.frames, v.curve, float(v.ts[-1])))


# --- Anatomy of one distillation step --------------------------------------------------------------

ANATOMY_POOL = 200  # the data points one can pick: the protocol's reference sample of seed 0, this size
LEVEL_POINTS = 256  # points behind the mean gap at a level pair
BACKGROUND_POINTS = 600  # faint real data behind the plane


@st.cache_resource(show_spinner=False, max_entries=4)
def snapshot_run(sel: Selection) -> lab.SnapshotRun:
    """A short run of the selected recipe (``lab.lab_run_config``) with theta and theta^- saved along the way.

    Shared by every session (st.cache_resource): the snapshots are frozen copies and are only ever evaluated.
    """
    return lab.train_with_snapshots(lab.lab_run_config(sel.cm_cfg), models.teacher(sel.teacher_cfg), sel.teacher_cfg.dataset)


@dataclass(frozen=True)
class AnatomyView:
    n: int
    t_n: float
    t_next: float
    x0: np.ndarray
    x_next: np.ndarray
    x_hat: np.ndarray
    endpoint: np.ndarray
    steps: tuple[int, ...]
    online: np.ndarray  # [S, 2]
    target: np.ndarray  # [S, 2]
    gap: np.ndarray  # [S] |f_theta - f_theta^-| for this point
    loss: np.ndarray  # [S] d(f_theta, f_theta^-) for this point
    online_error: np.ndarray  # [S] |f_theta - ODE endpoint| for this point
    level_gap: np.ndarray  # [S] mean gap over LEVEL_POINTS points at this level pair
    real: np.ndarray  # background data
    run_cfg: ConsistencyConfig
    run_seconds: float


def point_noise(noise_seed: int) -> torch.Tensor:
    """The noise eps [2] of the picked point: its own stream, seeded from the protocol's noise base."""
    return torch.randn(2, generator=torch.Generator().manual_seed(evaluate.NOISE_SEED_BASE + noise_seed))


@st.cache_data(show_spinner=False, max_entries=128)
def anatomy(sel: Selection, point: int, noise_seed: int, n: int) -> AnatomyView:
    use_one_thread()
    run, teacher, dataset = snapshot_run(sel), models.teacher(sel.teacher_cfg), sel.teacher_cfg.dataset
    x0 = evaluate.eval_reference(dataset, 0, ANATOMY_POOL)[point]
    a = lab.step_anatomy(teacher, run, x0, point_noise(noise_seed), n)
    xs = evaluate.eval_reference(dataset, 1, LEVEL_POINTS)
    level = lab.level_gaps(teacher, run, xs, evaluate.eval_noise(1, LEVEL_POINTS)[0], n)
    return AnatomyView(n, a.t_n, a.t_next, to_numpy(a.x0), to_numpy(a.x_next), to_numpy(a.x_hat), to_numpy(a.endpoint), a.steps,
                       to_numpy(a.online), to_numpy(a.target), to_numpy(a.gap), to_numpy(a.loss), to_numpy(a.online_error), to_numpy(level),
                       to_numpy(evaluate.eval_reference(dataset, 2, BACKGROUND_POINTS)), run.cfg, run.seconds)


# --- Where is the model consistent? ------------------------------------------------------------------

MAP_DATA_POINTS = 500  # data noised to t: which cells training actually visits
CURVE_POINTS = 200  # noised data points per t of the error curve
CURVE_FRAMES = 13  # t = 0.04, 0.12, ..., 1.00


@dataclass(frozen=True)
class MapSide:
    """One model on the map: its jumps and errors per cell."""

    cells: pd.DataFrame  # cell, x0, x1, y0, y1, x, y, jx, jy, ex, ey, error
    error: np.ndarray  # [G*G]


@dataclass(frozen=True)
class MapView:
    t: float
    current: MapSide
    early: MapSide
    paths: pd.DataFrame  # cell, order, x, y
    noised: np.ndarray  # [MAP_DATA_POINTS, 2] data noised to t
    visited: np.ndarray  # bool [G*G]: cells holding noised data


def _side(m: lab.OdeMap, model) -> MapSide:
    jumps, err = lab.map_jumps(model, m)
    c, half = to_numpy(m.x_t), m.cell / 2
    j, e = to_numpy(jumps), to_numpy(m.endpoint)
    cells = pd.DataFrame({"cell": np.arange(len(c)), "x0": c[:, 0] - half, "x1": c[:, 0] + half, "y0": c[:, 1] - half,
                          "y1": c[:, 1] + half, "x": c[:, 0], "y": c[:, 1], "jx": j[:, 0], "jy": j[:, 1],
                          "ex": e[:, 0], "ey": e[:, 1], "error": to_numpy(err)})
    return MapSide(cells, to_numpy(err))


@st.cache_data(show_spinner=False, max_entries=64)
def consistency_map(sel: Selection, t: float, step: int) -> MapView:
    """The selected model and the short run's checkpoint at ``step`` over a grid of x_t at time ``t``."""
    use_one_thread()
    teacher = models.teacher(sel.teacher_cfg)
    m = lab.ode_map(teacher, t, domain=charts.DOMAIN)
    early = snapshot_run(sel).at(step).online
    k, n = m.path.shape[:2]
    p = to_numpy(m.path)
    paths = pd.DataFrame({"cell": np.tile(np.arange(n), k), "order": np.repeat(np.arange(k), n),
                          "x": p[:, :, 0].ravel(), "y": p[:, :, 1].ravel()})
    x0 = evaluate.eval_reference(sel.teacher_cfg.dataset, 0, MAP_DATA_POINTS)
    noised = (1 - t) * x0 + t * evaluate.eval_noise(0, MAP_DATA_POINTS)[0]
    return MapView(t, _side(m, models.consistency(sel)), _side(m, early), paths, to_numpy(noised),
                   to_numpy(lab.visited_cells(noised, domain=charts.DOMAIN)).astype(bool))


@st.cache_data(show_spinner=False, max_entries=8)
def curve_frames(teacher_cfg: TeacherConfig) -> lab.NoisedFrames:
    """Data noised to every t of the curve and the teacher's 200-step endpoints (the costly part, per teacher)."""
    use_one_thread()
    x0 = evaluate.eval_reference(teacher_cfg.dataset, 0, CURVE_POINTS)
    return lab.noised_frames(models.teacher(teacher_cfg), x0, evaluate.eval_noise(0, CURVE_POINTS)[0],
                             lab.frame_times(CURVE_FRAMES))


@st.cache_data(show_spinner=False, max_entries=32)
def consistency_curve(sel: Selection, step: int) -> dict[str, np.ndarray]:
    """Mean |f(x_t, t) − ODE endpoint| on noised data per t: the selected model, the checkpoint, the teacher's jump.

    Returns {"t": [F], "current": [F], "early": [F], "teacher": [F]}.
    """
    use_one_thread()
    teacher, fr = models.teacher(sel.teacher_cfg), curve_frames(sel.teacher_cfg)
    early = snapshot_run(sel).at(step).online
    err = lambda jumps: to_numpy(lab.mean_endpoint_error(jumps, fr))  # noqa: E731
    current = models.consistency(sel)
    return {"t": to_numpy(fr.ts).round(4), "current": err(lab.consistency_jumps(current, fr)),
            "early": err(lab.consistency_jumps(early, fr)), "teacher": err(lab.teacher_jumps(teacher, fr))}


MAP_HOVER_NOTE = "hover a cell: its ODE path (green) to the end (red), the model's jump (violet)"


@st.cache_data(show_spinner=False, max_entries=64)
def map_chart(sel: Selection, t: float, step: int, which: str,
              title: str) -> dict:
    """The heat map of ``which`` ("current" or "early") as a Vega-Lite spec, both panels on one colour scale."""
    v = consistency_map(sel, t, step)
    top = float(max(np.quantile(v.current.error, 0.99), np.quantile(v.early.error, 0.99)))
    side = v.current if which == "current" else v.early
    return charts.to_spec(lab_charts.consistency_heatmap(side.cells, v.paths, v.noised, top, title, MAP_HOVER_NOTE))
