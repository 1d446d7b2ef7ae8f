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

from cmcore import evaluate, lab, zoo
from cmcore.config import ConsistencyConfig, TeacherConfig
from cmcore.evaluate import EvalSpec, Score
from ui import models
from ui.compute import _np, _one_thread
from viz import charts, lab_charts


@st.cache_data(show_spinner=False, max_entries=64)
def spec(builder: str, *args, **kwargs) -> dict:
    """``viz.lab_charts.<builder>(*args, **kwargs)`` as a cached Vega-Lite dict (draw with ``st.vega_lite_chart``)."""
    return charts.to_spec(getattr(lab_charts, builder)(*args, **kwargs))


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
def matching(teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig, sampler: str, n: int, seed: int) -> MatchingView:
    """The optimal matching of ``n`` points of ``sampler`` to the reference sample of ``seed``, and the floor's."""
    _one_thread()
    dataset = teacher_cfg.dataset
    real = evaluate.eval_reference(dataset, seed, n)
    gen = lab.sampler_points(sampler, models.teacher(teacher_cfg), models.consistency(teacher_cfg, cm_cfg),
                             dataset, seed, n)
    perm, _ = lab.w2_matching(gen, real)
    floor_perm, _ = lab.w2_matching(evaluate.floor_sample(dataset, seed, n), real)
    gen, real_np = _np(gen), _np(real)
    lengths = np.linalg.norm(gen - real_np[perm], axis=1)
    floor_lengths = np.linalg.norm(_np(evaluate.floor_sample(dataset, seed, n)) - real_np[floor_perm], axis=1)
    return MatchingView(gen, real_np, perm, lengths, floor_lengths, lab.line_stats(lengths, floor_lengths),
                        lab.line_stats(floor_lengths, floor_lengths))


@st.cache_data(show_spinner=False, max_entries=32)
def protocol_score(teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig, sampler: str,
                   spec: EvalSpec = EvalSpec()) -> Score:
    """The protocol's W2 of ``sampler``: from the stored quality table when there is one, else measured now."""
    table = zoo.load_quality(teacher_cfg, cm_cfg, spec)
    stored = lab.score_from_table(sampler, table) if table is not None else None
    if stored is not None:
        return stored
    _one_thread()
    return lab.sampler_score(sampler, models.teacher(teacher_cfg), models.consistency(teacher_cfg, cm_cfg),
                             teacher_cfg.dataset, spec)


# --- What f_theta does at each t -------------------------------------------------------------------

@dataclass(frozen=True)
class FrameView:
    frames: pd.DataFrame  # one row per (t, point): t, point, xt_x, xt_y, cm_x, cm_y, tx_x, tx_y, end_x, end_y
    curve: pd.DataFrame  # one row per (t, series): t, series, error (mean distance to the endpoint)
    ts: np.ndarray
    cm_error: np.ndarray  # [F]
    teacher_error: np.ndarray  # [F]


@st.cache_data(show_spinner=False, max_entries=16)
def ftheta_frames(teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig, m: int, seed: int) -> FrameView:
    """``m`` data points noised to every frame time with fixed noise, and where each jump sends them."""
    _one_thread()
    teacher = models.teacher(teacher_cfg)
    x0 = evaluate.eval_reference(teacher_cfg.dataset, seed, m)
    eps, _ = evaluate.eval_noise(seed, m)
    fr = lab.noised_frames(teacher, x0, eps, lab.frame_times())
    cm_j, tx_j = lab.consistency_jumps(models.consistency(teacher_cfg, cm_cfg), fr), lab.teacher_jumps(teacher, fr)
    f = len(fr.ts)
    ts = _np(fr.ts).round(4)
    cols = {"t": np.repeat(ts, m), "point": np.tile(np.arange(m), f)}
    for name, arr in (("xt", fr.x_t), ("cm", cm_j), ("tx", tx_j), ("end", fr.endpoint)):
        flat = _np(arr).reshape(f * m, 2)
        cols[f"{name}_x"], cols[f"{name}_y"] = flat[:, 0], flat[:, 1]
    cm_err, tx_err = _np(lab.mean_endpoint_error(cm_j, fr)), _np(lab.mean_endpoint_error(tx_j, fr))
    curve = pd.DataFrame({"t": np.r_[ts, ts], "series": [lab_charts.CM_JUMP] * f + [lab_charts.TEACHER_JUMP] * f,
                          "error": np.r_[cm_err, tx_err]})
    return FrameView(pd.DataFrame(cols), curve, ts, cm_err, tx_err)


@st.cache_data(show_spinner=False, max_entries=16)
def ftheta_chart(teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig, m: int, seed: int) -> dict:
    """The page's Vega-Lite spec, keyed on the settings alone (hashing the frames on every rerun costs more)."""
    v = ftheta_frames(teacher_cfg, cm_cfg, m, seed)
    return charts.to_spec(lab_charts.jump_frames_chart(v.frames, v.curve, float(v.ts[-1])))


# --- Anatomy of one distillation step --------------------------------------------------------------

ANATOMY_POOL = 200  # the data points one can pick: the protocol's reference sample of seed 0, this size
LEVEL_POINTS = 256  # points behind the mean gap at a level pair
BACKGROUND_POINTS = 600  # faint real data behind the plane


@st.cache_resource(show_spinner=False, max_entries=4)
def snapshot_run(teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig) -> lab.SnapshotRun:
    """A short run of the selected recipe (``lab.lab_run_config``) with theta and theta^- saved along the way.

    Shared by every session (st.cache_resource): the snapshots are frozen copies and are only ever evaluated.
    """
    return lab.train_with_snapshots(lab.lab_run_config(cm_cfg), models.teacher(teacher_cfg), teacher_cfg.dataset)


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
def anatomy(teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig, point: int, noise_seed: int, n: int) -> AnatomyView:
    _one_thread()
    run, teacher, dataset = snapshot_run(teacher_cfg, cm_cfg), models.teacher(teacher_cfg), teacher_cfg.dataset
    x0 = evaluate.eval_reference(dataset, 0, ANATOMY_POOL)[point]
    a = lab.step_anatomy(teacher, run, x0, point_noise(noise_seed), n)
    xs = evaluate.eval_reference(dataset, 1, LEVEL_POINTS)
    level = lab.level_gaps(teacher, run, xs, evaluate.eval_noise(1, LEVEL_POINTS)[0], n)
    return AnatomyView(n, a.t_n, a.t_next, _np(a.x0), _np(a.x_next), _np(a.x_hat), _np(a.endpoint), a.steps,
                       _np(a.online), _np(a.target), _np(a.gap), _np(a.loss), _np(a.online_error), _np(level),
                       _np(evaluate.eval_reference(dataset, 2, BACKGROUND_POINTS)), run.cfg, run.seconds)
