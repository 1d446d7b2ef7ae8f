"""The dashboard's background job: retrain one consistency model, with live one-step previews.

``jobs.JobManager`` runs any ``fn(on_step, cancel)``; this module supplies the torch
one (consistency distillation or training) and the policy of how often it sends a
preview frame.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .config import SIGMA_MAX, ConsistencyConfig
from .consistency import sample_one_step
from .jobs import CancelFlag, JobFn, OnStep, Preview
from .train import TrainResult, train_consistency

SNAPSHOT_FRAMES = 12  # preview frames per run (about)
SNAPSHOT_MIN_EVERY, SNAPSHOT_MAX_EVERY = 10, 250  # steps between previews, whatever the run length


def snapshot_every(total_steps: int) -> int:
    """Steps between preview snapshots: ~SNAPSHOT_FRAMES frames, but never rarer than every 250 steps."""
    return max(SNAPSHOT_MIN_EVERY, min(SNAPSHOT_MAX_EVERY, math.ceil(total_steps / SNAPSHOT_FRAMES)))


def consistency_job(cfg: ConsistencyConfig, teacher: nn.Module | None, dataset: str) -> JobFn:
    """``fn(on_step, cancel)`` that trains one consistency model; the teacher is only read, never changed.

    The config is validated here, so an impossible one fails before it is queued.
    """
    cfg.validate()

    def run(on_step: OnStep, cancel: CancelFlag) -> TrainResult:
        return train_consistency(cfg, teacher if cfg.mode == "distillation" else None, dataset, on_step=on_step,
                                 cancel=cancel, snapshot_every=snapshot_every(cfg.steps))

    return run


def one_step_preview(noise: torch.Tensor, sigma_max: float = SIGMA_MAX) -> Preview:
    """Preview = f(z, T) on one fixed noise batch, so consecutive frames differ only by training."""
    noise = noise.detach().clone()

    def preview(snapshot: nn.Module) -> np.ndarray:
        return sample_one_step(snapshot, noise, sigma_max).numpy()

    return preview
