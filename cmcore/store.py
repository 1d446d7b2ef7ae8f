"""Checkpoints: weights + config + metrics in one safetensors file.

Loading never unpickles code: safetensors holds raw tensors and a JSON header.
Writes are atomic (temporary file in the same folder, then ``os.replace``), so a
crash or a second writer never leaves a half-written checkpoint.  Every failure
to load raises ``CheckpointError`` naming the file and how to fix it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from .config import ConsistencyConfig, TeacherConfig, from_dict, to_dict
from .files import atomic_path
from .nets import MLP, ConsistencyModel, frozen_copy

FORMAT = "consistency-explorer/1"
KINDS = ("teacher", "consistency")
FIX = "Delete it and run `python -m cmcore train` to rebuild it, or restore it with `git checkout -- {path}`."


class CheckpointError(Exception):
    """A checkpoint is missing, corrupt, foreign or does not match what was asked for."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        super().__init__(f"Checkpoint {self.path}: {problem}. {FIX.format(path=self.path)}")


@dataclass
class Checkpoint:
    kind: str
    model: nn.Module  # frozen, eval mode
    config: TeacherConfig | ConsistencyConfig
    teacher_config: TeacherConfig | None = None  # for a consistency model: the teacher it came from
    metrics: dict[str, Any] = field(default_factory=dict)


def save(path: str | Path, kind: str, model: nn.Module, config, teacher_config: TeacherConfig | None = None,
         metrics: dict[str, Any] | None = None) -> Path:
    if kind not in KINDS:
        raise ValueError(f"Unknown checkpoint kind {kind!r}; choose one of {', '.join(KINDS)}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT,
        "kind": kind,
        "config": json.dumps(to_dict(config)),
        "teacher_config": json.dumps(to_dict(teacher_config)) if teacher_config is not None else "",
        "metrics": json.dumps(metrics or {}),
        "backbone": getattr(model, "backbone", ""),
    }
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return path


def load(path: str | Path, kind: str | None = None, expect_config=None) -> Checkpoint:
    """Load a checkpoint; ``kind``/``expect_config`` (if given) must match what the file holds."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(path, f"not a readable safetensors file ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(path, f"not a Consistency Explorer checkpoint (format {meta.get('format')!r})")
    if meta.get("kind") not in KINDS or (kind is not None and meta["kind"] != kind):
        raise CheckpointError(path, f"holds a {meta.get('kind')!r} model, expected {kind!r}")
    try:
        cfg_cls = TeacherConfig if meta["kind"] == "teacher" else ConsistencyConfig
        config = from_dict(cfg_cls, json.loads(meta["config"])).validate()
        teacher_config = (from_dict(TeacherConfig, json.loads(meta["teacher_config"])).validate()
                          if meta.get("teacher_config") else None)
        metrics = json.loads(meta.get("metrics") or "{}")
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(path, f"has an unreadable config ({exc})") from None
    if expect_config is not None and config != expect_config:
        raise CheckpointError(path, "was trained with a different config than the one asked for")
    try:
        if meta["kind"] == "teacher":
            model: nn.Module = MLP(config.hidden)
        else:
            first = tensors.get("net.net.0.weight")
            if first is None or first.dim() != 2:
                raise RuntimeError("the first layer 'net.net.0.weight' is missing or not a matrix")
            model = ConsistencyModel(first.shape[0], config.sigma_min, meta.get("backbone") or "direct")
        model.load_state_dict(tensors)
    except (RuntimeError, ValueError, TypeError) as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(path, f"weights do not fit the model its config describes ({first})") from None
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise CheckpointError(path, "contains NaN or infinite weights")
    return Checkpoint(meta["kind"], frozen_copy(model), config, teacher_config, metrics)
