"""The dashboard's background job: retrain one consistency model, with live one-step previews.

``jobs.JobManager`` runs any ``fn(on_step, cancel)``; this module supplies the torch
one (consistency distillation or training) and the policy of how often it sends a
preview frame.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import evaluate, store
from .config import SIGMA_MAX, ConsistencyConfig, TeacherConfig
from .consistency import sample_one_step
from .jobs import CancelFlag, JobFn, OnStep, Preview
from .train import StepInfo, TrainResult, train_consistency, train_teacher

SNAPSHOT_FRAMES = 12  # preview frames per run (about)
SNAPSHOT_MIN_EVERY, SNAPSHOT_MAX_EVERY = 10, 250  # steps between previews, whatever the run length
TRACK_SPEC = evaluate.EvalSpec(n=500, seeds=(0, 1, 2))  # W2 while training: small, so it costs the trainer little
TRACK_POINTS = 12  # W2 measurements per run (about): each costs ~0.1-0.3 s of the trainer's time


def snapshot_every(total_steps: int) -> int:
    """Steps between preview snapshots: ~SNAPSHOT_FRAMES frames, but never rarer than every 250 steps."""
    return max(SNAPSHOT_MIN_EVERY, min(SNAPSHOT_MAX_EVERY, math.ceil(total_steps / SNAPSHOT_FRAMES)))


def shifted(on_step: OnStep, before: int, total: int, seconds: float = 0.0) -> OnStep:
    """Report a stage of a chained job as part of the whole: ``before`` steps (``seconds``) already done of ``total``."""
    def report(info: StepInfo) -> None:
        on_step(dataclasses.replace(info, step=info.step + before, total=total, elapsed=info.elapsed + seconds))

    return report


def consistency_job(cfg: ConsistencyConfig, teacher: nn.Module | None, dataset: str) -> JobFn:
    """``fn(on_step, cancel)`` that trains one consistency model; the teacher is only read, never changed.

    The config is validated here, so an impossible one fails before it is queued.
    """
    cfg.validate()

    def run(on_step: OnStep, cancel: CancelFlag) -> TrainResult:
        return train_consistency(cfg, teacher if cfg.mode == "distillation" else None, dataset, on_step=on_step,
                                 cancel=cancel, snapshot_every=snapshot_every(cfg.steps))

    return run


def teacher_then_consistency_job(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig,
                                 keep_teacher=lambda teacher: None) -> JobFn:
    """Train the teacher, hand it to ``keep_teacher``, then distil it: one job, its steps counted as one run
    (``teacher_cfg.steps + cfg.steps``), for data with no shipped teacher (an upload)."""
    teacher_cfg.validate()
    cfg.validate()
    total = teacher_cfg.steps + cfg.steps

    def run(on_step: OnStep, cancel: CancelFlag) -> TrainResult:
        first = train_teacher(teacher_cfg, on_step=shifted(on_step, 0, total), cancel=cancel)
        keep_teacher(first.model)
        then = consistency_job(cfg, first.model, teacher_cfg.dataset)
        return then(shifted(on_step, teacher_cfg.steps, total, first.seconds), cancel)

    return run


def one_step_preview(noise: torch.Tensor, sigma_max: float = SIGMA_MAX) -> Preview:
    """Preview = f(z, T) on one fixed noise batch, so consecutive frames differ only by training."""
    noise = noise.detach().clone()

    def preview(snapshot: nn.Module) -> np.ndarray:
        return sample_one_step(snapshot, noise, sigma_max).numpy()

    return preview


@dataclass(frozen=True)
class TrackPoint:
    step: int
    score: evaluate.Score  # one-step W2 under TRACK_SPEC


@dataclass(frozen=True)
class Track:
    """A run's one-step W2 against training step, as its Tracker measured it: what outlives the run (stored in
    the run's card, or beside a shipped checkpoint by ``python -m cmcore.lab_cli track``)."""

    points: tuple[TrackPoint, ...]
    spec: evaluate.EvalSpec = TRACK_SPEC

    def to_json(self) -> dict:
        return {"n": self.spec.n, "seeds": list(self.spec.seeds),
                "points": [[p.step, list(p.score.values)] for p in self.points]}

    @staticmethod
    def from_json(data: dict, spec: evaluate.EvalSpec = TRACK_SPEC) -> "Track | None":
        """The stored track if it was measured under ``spec`` (None otherwise: its numbers would not compare)."""
        if int(data["n"]) != spec.n or tuple(int(s) for s in data["seeds"]) != tuple(spec.seeds):
            return None
        points = tuple(TrackPoint(int(step), evaluate.Score(tuple(float(v) for v in values), spec.n))
                       for step, values in data["points"])
        return Track(points, spec)


@dataclass
class Tracker:
    """A job's preview hook that also measures: the one-step samples to draw, the one-step W2 (protocol, at
    ``TRACK_SPEC``) about ``TRACK_POINTS`` times per run, and the latest snapshot, so a UI can keep the model
    so far when the run is stopped.  Fields are replaced whole, so another thread may read them at any time.
    """

    teacher: str  # which teacher the run distils from (for display)
    cfg: ConsistencyConfig
    dataset: str
    noise: torch.Tensor
    teacher_steps: int = 0  # steps of a teacher trained first in the same job (an upload), else 0
    points: tuple[TrackPoint, ...] = ()
    latest: tuple[int, nn.Module] | None = None
    _frames: int = field(default=0, repr=False)

    def track(self, until: int | None = None) -> Track:
        """The points measured so far (up to step ``until``: a run kept at an earlier snapshot)."""
        return Track(tuple(p for p in self.points if until is None or p.step <= until))

    def __call__(self, snapshot: nn.Module | Snapshot) -> np.ndarray:
        """The preview hook: measure a snapshot here, or record one measured in a training process."""
        if isinstance(snapshot, Snapshot):
            return self.record(snapshot)
        self._frames += 1
        step = min(self._frames * snapshot_every(self.cfg.steps), self.cfg.steps)
        self.latest = (step, snapshot)
        last = self.points[-1].step if self.points else 0
        if step == self.cfg.steps or step - last >= self.cfg.steps / TRACK_POINTS:
            score = evaluate.cm_score(snapshot, self.dataset, 1, spec=TRACK_SPEC)
            self.points = self.points + (TrackPoint(step, score),)
        return sample_one_step(snapshot, self.noise, self.cfg.sigma_max).numpy()

    def record(self, snap: Snapshot) -> np.ndarray:
        self.latest = (snap.step, snap.model)
        if snap.point is not None:
            self.points = self.points + (snap.point,)
        return snap.samples


@dataclass(frozen=True)
class Snapshot:
    """What a training process reports at a snapshot: everything the UI needs, already measured there."""

    step: int
    model: nn.Module  # frozen copy (small: pickled through the pipe)
    samples: np.ndarray  # one-step samples of the tracker's noise
    point: TrackPoint | None  # the W2 measured at this snapshot, if one was due


@dataclass(frozen=True)
class RetrainResult:
    model: nn.Module
    seconds: float
    scores: tuple[tuple[int, evaluate.Score], ...]  # k -> W2 at the standard spec, measured as the run ended


@dataclass(frozen=True)
class RetrainWork:
    """A whole retrain as one picklable piece of work (for ``procjob.in_child``): train, measure each
    snapshot with a ``Tracker`` of its own, then score the final model at the standard spec for ``score_steps``.

    Step reports carry a ``Snapshot`` instead of the raw model, so the process that receives them
    (the server) only records numbers.
    """

    cfg: ConsistencyConfig
    teacher: nn.Module | None
    dataset: str
    noise: torch.Tensor
    score_steps: tuple[int, ...] = evaluate.CM_STEPS
    # With no teacher yet (an upload): train this one first and save it at ``teacher_path``, then distil it.
    teacher_cfg: TeacherConfig | None = None
    teacher_path: str | None = None

    def _train(self, report: OnStep, cancel: CancelFlag) -> TrainResult:
        if self.teacher is not None or self.teacher_cfg is None:
            return consistency_job(self.cfg, self.teacher, self.dataset)(report, cancel)

        def keep(trained: nn.Module) -> None:
            Path(self.teacher_path).parent.mkdir(parents=True, exist_ok=True)
            store.save(self.teacher_path, "teacher", trained, self.teacher_cfg)

        return teacher_then_consistency_job(self.teacher_cfg, self.cfg, keep)(report, cancel)

    def __call__(self, on_step: OnStep, cancel: CancelFlag) -> RetrainResult:
        tracker = Tracker("", self.cfg, self.dataset, self.noise)

        def report(info: StepInfo) -> None:
            snap = None
            if info.snapshot is not None:
                before = len(tracker.points)
                samples = tracker(info.snapshot)
                snap = Snapshot(tracker.latest[0], info.snapshot, samples,
                                tracker.points[-1] if len(tracker.points) > before else None)
            on_step(StepInfo(info.step, info.total, info.loss, info.elapsed, snap))

        result = self._train(report, cancel)
        scores = tuple((k, evaluate.cm_score(result.model, self.dataset, k)) for k in self.score_steps)
        return RetrainResult(result.model, result.seconds, scores)
