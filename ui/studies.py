"""The lab pages' stored studies and formula curves, cached and returned as pandas frames.

Studies are read from the JSON files ``python -m cmcore.lab_cli`` writes; nothing trains here.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
import torch

from torch import nn

from cmcore import datasets, evaluate, zoo
from cmcore.config import DEFAULT_DATASET
from cmcore.threads import use_one_thread
from cmcore.flow import solve
from cmcore.lab_train import (OT_CONSISTENCY, PARAM_STARTS, OTStudy, ParamStudy, load_ot_consistency, load_ot_teacher,
                              ot_study_path, ot_teacher_config, param_study_path)
from cmcore.parameterisation import Parameterisation
from ui import export, models

CURVE_POINTS = 200  # samples of t for the coefficient curves
TRAJECTORY_STEPS = 50  # Euler steps drawn per path


STUDY_ENTRIES = 2 * len(datasets.REGISTRY)  # cache room: every registry dataset's stored studies (each a few kB)


def param_dataset(dataset: str) -> str:
    """The dataset whose stored parameterisation study a page shows: ``dataset`` when both its studies (teacher
    and random start) are stored, else the lesson's. Only registry names reach the file system: an upload never
    has a study (studies are measured offline)."""
    stored = dataset in datasets.REGISTRY and all(param_study_path(s, dataset).is_file() for s in PARAM_STARTS)
    return dataset if stored else DEFAULT_DATASET


def ot_dataset(dataset: str) -> str:
    """The dataset whose stored straight-paths study a page shows (as ``param_dataset``)."""
    return dataset if dataset in datasets.REGISTRY and ot_study_path(dataset).is_file() else DEFAULT_DATASET


@st.cache_data(show_spinner=False, max_entries=STUDY_ENTRIES)
def param_study(start: str = "teacher", dataset: str = DEFAULT_DATASET) -> ParamStudy:
    return ParamStudy.of(start, dataset)


def coefficient_frame(params: tuple[Parameterisation, ...], sigma_min: float) -> pd.DataFrame:
    """c_skip and c_out of each parameterisation on a t grid from sigma_min to 1 (long format)."""
    t = torch.linspace(sigma_min, 1.0, CURVE_POINTS)
    rows = [pd.DataFrame({"t": t.numpy(), "form": p.label, "coefficient": name,
                          "value": getattr(p, name)(t, sigma_min).numpy()})
            for p in params for name in ("c_skip", "c_out")]
    return pd.concat(rows, ignore_index=True).round(5)


def score_frame(study: ParamStudy) -> pd.DataFrame:
    rows = [{"variant": p.label, "w2": study.score(p).mean, "sem": study.score(p).sem} for p in study.variants]
    return pd.DataFrame(rows)


def curve_frames(study: ParamStudy, shown: tuple[Parameterisation, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(W2 along training, loss along training) of every run of the ``shown`` variants (a line per run)."""
    w2_rows, loss_rows = [], []
    for p in shown:
        for r in study.runs_of(p):
            line = f"{p.label} / seed {r.seed}"
            w2_rows += [{"step": 0, "w2": r.w2_init, "variant": p.label, "line": line}]
            w2_rows += [{"step": s, "w2": v, "variant": p.label, "line": line} for s, v in r.w2_curve]
            loss_rows += [{"step": s, "loss": v, "variant": p.label, "line": line} for s, v in r.loss]
    return pd.DataFrame(w2_rows), pd.DataFrame(loss_rows)


def init_w2(study: ParamStudy) -> dict[Parameterisation, float]:
    """W2 before training, per variant (the same for every seed when the runs start from the teacher)."""
    return {p: float(np.mean([r.w2_init for r in study.runs_of(p)])) for p in study.variants}


def scores(study: ParamStudy) -> dict:
    return {p: study.score(p) for p in study.variants}



# --- Straight paths (minibatch-OT teacher) ----------------------------------------------------------

COUPLINGS = ("independent", "minibatch_ot")  # the two teachers (and their consistency models) side by side


@st.cache_data(show_spinner=False, max_entries=len(datasets.REGISTRY))
def ot_study(dataset: str = DEFAULT_DATASET) -> OTStudy:
    return OTStudy.of(dataset)


@st.cache_resource(show_spinner="Loading the models ...", max_entries=STUDY_ENTRIES)
def coupling_models(coupling: str, dataset: str = DEFAULT_DATASET) -> tuple[nn.Module, nn.Module]:
    """(teacher, consistency model) of one coupling on ``dataset``: its shipped pair, or its OT pair (frozen,
    shared)."""
    if coupling == "independent":
        recipe = zoo.recipe(zoo.DEFAULT.name, dataset)
        return models.teacher(recipe.teacher), models.consistency(models.shipped(recipe.name, dataset))
    cfg = ot_teacher_config(dataset)
    return load_ot_teacher(cfg).model, load_ot_consistency(cfg, OT_CONSISTENCY).model


@st.cache_data(show_spinner=False, max_entries=32)
def trajectories(coupling: str, dataset: str, n: int, seed: int,
                 steps: int = TRAJECTORY_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Euler paths of the coupling's teacher from evaluation noise: (xs [steps+1, n, 2], ts [steps+1])."""
    use_one_thread()
    z, _ = evaluate.eval_noise(seed, n)
    traj = solve(coupling_models(coupling, dataset)[0], z, 1.0, 0.0, steps, "euler")
    return traj.xs.numpy().astype(np.float64), traj.ts.numpy().astype(np.float64)


@st.cache_data(show_spinner=False, max_entries=16)
def one_step(coupling: str, dataset: str, role: str, n: int, seed: int) -> np.ndarray:
    """One network call from evaluation noise: the teacher's Euler step or the consistency model's jump."""
    use_one_thread()
    teacher, cm = coupling_models(coupling, dataset)
    x = evaluate.teacher_samples(teacher, seed, n, 1) if role == "teacher" else evaluate.cm_samples(cm, seed, n, 1)
    return x.numpy().astype(np.float64)


def w2_frame(study: OTStudy) -> pd.DataFrame:
    """Rows of role, coupling (label), nfe, w2, sem for the two couplings' teachers and consistency models."""
    rows = []
    for name in COUPLINGS:
        c = study.couplings[name]
        for role, scores in (("teacher (Euler ODE)", c.table.teacher), ("consistency model", c.table.consistency)):
            rows += [{"role": role, "coupling": c.label, "nfe": k, "w2": s.mean, "sem": s.sem}
                     for k, s in scores.items()]
    return pd.DataFrame(rows)


def w2_table(study: OTStudy) -> pd.DataFrame:
    """The same scores as text, one row per model, one column per NFE (mean ± sem)."""
    rows = {}
    for c in study.couplings.values():
        for role, scores in (("teacher", c.table.teacher), ("consistency model", c.table.consistency)):
            if scores:
                rows[f"{role}, {c.label}"] = {f"NFE {k}": str(s) for k, s in scores.items()}
    table = pd.DataFrame(rows).T.fillna("")
    return table[sorted(table.columns, key=lambda c: int(c.split()[1]))]


def pairing_table(study: OTStudy) -> pd.DataFrame:
    return pd.DataFrame([{"batch": r["batch"], "solver": r["solver"],
                          "assignments per step": f"{r['blocks']} × {r['batch'] // r['blocks']}",
                          "ms per step": round(r["ms"], 1)} for r in study.pairing])


# --- Export ---------------------------------------------------------------------------------------

PREVIEW_SPEC = evaluate.EvalSpec(1000, (0, 1, 2))  # an uploaded model's W2: small protocol spec
PREVIEW_TEACHER_STEPS = 50  # an uploaded teacher is previewed with this many Euler steps


@st.cache_data(show_spinner=False, max_entries=16)
def selection_paths(teacher_cfg, n: int, seed: int, steps: int = TRAJECTORY_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Euler paths of the selected teacher from evaluation noise ``seed``: (xs [steps+1, n, 2], ts)."""
    use_one_thread()
    z, _ = evaluate.eval_noise(seed, n)
    traj = solve(models.teacher(teacher_cfg), z, 1.0, 0.0, steps, "euler")
    return traj.xs.numpy().astype(np.float64), traj.ts.numpy().astype(np.float64)


@dataclass(frozen=True)
class UploadPreview:
    kind: str
    summary: str  # the config, one line
    sampler: str  # how the points were drawn
    points: np.ndarray
    score: evaluate.Score
    floor: evaluate.Score


@st.cache_data(show_spinner="Scoring the uploaded model ...", max_entries=4)
def upload_preview(data: bytes, name: str) -> UploadPreview:
    """Load uploaded checkpoint bytes (``export.UploadError`` if unusable), sample it and score it."""
    use_one_thread()
    ckpt = export.read_checkpoint(data, name)
    dataset = (ckpt.config if ckpt.kind == "teacher" else ckpt.teacher_config or zoo.DEFAULT.teacher).dataset
    if ckpt.kind == "teacher":
        sampler = f"{PREVIEW_TEACHER_STEPS} Euler steps"
        score = evaluate.teacher_score(ckpt.model, dataset, PREVIEW_TEACHER_STEPS, spec=PREVIEW_SPEC)
        points = evaluate.teacher_samples(ckpt.model, 0, PREVIEW_SPEC.n, PREVIEW_TEACHER_STEPS)
    else:
        sampler = "1 consistency step"
        score = evaluate.cm_score(ckpt.model, dataset, 1, spec=PREVIEW_SPEC)
        points = evaluate.cm_samples(ckpt.model, 0, PREVIEW_SPEC.n, 1)
    summary = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(ckpt.config).items())
    return UploadPreview(ckpt.kind, summary, sampler, points.numpy().astype(np.float64), score,
                         evaluate.floor_score(dataset, PREVIEW_SPEC))
