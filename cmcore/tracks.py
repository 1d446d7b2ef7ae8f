"""Training tracks of the shipped pairs: one-step W2 against training step, replayed offline and stored.

A run trained in the dashboard keeps the track its ``retrain_job.Tracker`` measured
(in the run's card, ``cmcore.runstore``).  The shipped consistency models were
trained by ``python -m cmcore train``, which measures nothing along the way; since
training is deterministic given the config (``cmcore.train``), ``replay`` trains the
same config again with the same Tracker riding along and gets the track the shipped
run would have shown.  ``python -m cmcore.lab_cli track`` writes it beside the
checkpoint as ``track-<hash>.json`` (a few kilobytes), with the training loss the
replay recorded, averaged over ``LOSS_POINTS`` equal windows of steps (``loss_curve``).

Same config gives the same weights on one machine; on another CPU the last bits of
the arithmetic may differ, so a replay need not equal the shipped weights bit for
bit.  ``check`` therefore also measures the shipped model at the track's last point:
the track is written only when the replay's final W2 and the shipped model's are
indistinguishable by the protocol's rule, and the file records both.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import evaluate, zoo
from .config import ConsistencyConfig, TeacherConfig, config_hash
from .files import atomic_write
from .metrics import W2_FLOAT_NOISE
from .retrain_job import TRACK_SPEC, Track, Tracker, snapshot_every
from .stats import Score, compare
from .train import TrainResult, train_consistency

PREVIEW_NOISE_POINTS = 1  # the Tracker also draws preview samples; a replay shows none, so one point suffices
LOSS_POINTS = 200  # stored loss points per track: each the mean over one window of consecutive steps


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


def loss_curve(losses: list[float], points: int = LOSS_POINTS) -> tuple[tuple[int, float], ...]:
    """The per-step losses as ``points`` (step, mean loss) pairs: step s is the last step (1-based) of its window.

    A window's mean keeps the curve's level where single mini-batch losses scatter by an order of magnitude.
    """
    if points < 1:
        raise ValueError(f"A loss curve needs at least one point; got {points}.")
    width = max(1, -(-len(losses) // points))  # ceil: at most ``points`` windows
    return tuple((min(i + width, len(losses)), sum(losses[i:i + width]) / len(losses[i:i + width]))
                 for i in range(0, len(losses), width))


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    return max_weight_diff(a, b) == 0.0


def max_weight_diff(a: nn.Module, b: nn.Module) -> float:
    sa, sb = a.state_dict(), b.state_dict()
    if sa.keys() != sb.keys():
        return float("inf")
    return max(float((sa[k] - sb[k]).abs().max()) for k in sa)


@dataclass(frozen=True)
class ReplayCheck:
    """How a replay relates to the shipped model it stands for."""

    max_weight_diff: float  # 0: the same weights bit for bit
    replay_last: Score  # the replay's one-step W2 at its last snapshot (TRACK_SPEC)
    shipped_last: Score  # the shipped model's, on the same spec

    @property
    def agrees(self) -> bool:
        """The same weights, the same W2 up to float rounding (another machine's replay), or a last point
        indistinguishable from the shipped model's by the protocol's rule.  The rounding case comes first: a
        paired test would call a drift of 1e-8 on every seed "different", since its spread is smaller still."""
        if self.max_weight_diff == 0.0:
            return True
        moved = max(abs(a - b) for a, b in zip(self.replay_last.values, self.shipped_last.values))
        return moved <= W2_FLOAT_NOISE or compare(self.replay_last, self.shipped_last).same

    def to_json(self) -> dict:
        return {"max_weight_diff": self.max_weight_diff, "replay_last": list(self.replay_last.values),
                "shipped_last": list(self.shipped_last.values)}


def check(rep: Replay, shipped: nn.Module, dataset: str) -> ReplayCheck:
    return ReplayCheck(max_weight_diff(rep.result.model, shipped), rep.track.points[-1].score,
                       evaluate.cm_score(shipped, dataset, 1, spec=TRACK_SPEC))


def track_path(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, root: Path | None = None) -> Path:
    return (root or zoo.checkpoint_dir()) / f"track-{config_hash(teacher_cfg, cfg)}.json"


def save_track(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, track: Track, root: Path | None = None,
               replay_check: ReplayCheck | None = None, loss: tuple[tuple[int, float], ...] = ()) -> Path:
    """Write the track, its replay check and its loss curve (``loss_curve`` of the replay's losses)."""
    path = track_path(teacher_cfg, cfg, root)
    data = {**track.to_json(), **({"check": replay_check.to_json()} if replay_check else {}),
            **({"loss": [[step, value] for step, value in loss]} if loss else {})}
    return atomic_write(path, json.dumps(data) + "\n")


def load_track(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, root: Path | None = None) -> Track | None:
    """The stored track of a shipped pair; None if absent, damaged or measured under another spec."""
    try:
        return Track.from_json(json.loads(track_path(teacher_cfg, cfg, root).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_loss(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig,
              root: Path | None = None) -> tuple[tuple[int, float], ...] | None:
    """The stored loss curve of a shipped pair ((step, mean loss) pairs); None if absent or damaged."""
    try:
        data = json.loads(track_path(teacher_cfg, cfg, root).read_text())
        return tuple((int(step), float(value)) for step, value in data["loss"]) or None
    except (OSError, ValueError, KeyError, TypeError):
        return None
