"""Training tracks of the shipped pairs: one-step W2 against training step, replayed offline and stored.

A run trained in the dashboard keeps the track its ``retrain_job.Tracker`` measured
(in the run's card, ``cmcore.runstore``).  The shipped consistency models were
trained by ``python -m cmcore train``, which measures nothing along the way; since
training is deterministic given the config (``cmcore.train``), ``replay`` trains the
same config again with the same Tracker riding along and gets the track the shipped
run would have shown.  ``python -m cmcore.lab_cli track`` writes it beside the
checkpoint as ``track-<hash>.json`` (a few hundred bytes), and says whether the
replayed weights equal the shipped ones bit for bit.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import zoo
from .config import ConsistencyConfig, TeacherConfig, config_hash
from .retrain_job import Track, Tracker, snapshot_every
from .train import TrainResult, train_consistency

PREVIEW_NOISE_POINTS = 1  # the Tracker also draws preview samples; a replay shows none, so one point suffices


@dataclass(frozen=True)
class Replay:
    track: Track
    result: TrainResult


def replay(cfg: ConsistencyConfig, teacher: nn.Module | None, dataset: str, **hooks) -> Replay:
    """Train ``cfg`` with a Tracker at the dashboard's snapshot cadence; the track it measured and the result."""
    tracker = Tracker("", cfg, dataset, torch.zeros(PREVIEW_NOISE_POINTS, 2))
    on_step = hooks.pop("on_step", None)

    def step(info) -> None:
        if info.snapshot is not None:
            tracker(info.snapshot)
        if on_step is not None:
            on_step(info)

    result = train_consistency(cfg, teacher if cfg.mode == "distillation" else None, dataset, on_step=step,
                               snapshot_every=snapshot_every(cfg.steps), **hooks)
    return Replay(tracker.track(), result)


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def track_path(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, root: Path | None = None) -> Path:
    return (root or zoo.checkpoint_dir()) / f"track-{config_hash(teacher_cfg, cfg)}.json"


def save_track(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, track: Track, root: Path | None = None) -> Path:
    path = track_path(teacher_cfg, cfg, root)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(track.to_json()) + "\n")
    tmp.replace(path)
    return path


def load_track(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, root: Path | None = None) -> Track | None:
    """The stored track of a shipped pair; None if absent, damaged or measured under another spec."""
    try:
        return Track.from_json(json.loads(track_path(teacher_cfg, cfg, root).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
