"""Shipped models: where their checkpoints live, and load-or-train for any config.

The repo ships checkpoints for two recipes (ours and the lesson's), so nothing
trains at start-up.  Files are named by a hash of their configs, so a file can
never be mistaken for a model of other settings.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from . import store
from .evaluate import EvalSpec, QualityTable
from .config import (LESSON_CONSISTENCY, LESSON_TEACHER, ConsistencyConfig, TeacherConfig, config_hash)
from .files import atomic_write
from .train import train_consistency, train_teacher

CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
CHECKPOINT_DIR_ENV = "CMCORE_CHECKPOINT_DIR"  # overrides where shipped checkpoints are read (tests, deployments)


def checkpoint_dir() -> Path:
    return Path(os.environ.get(CHECKPOINT_DIR_ENV) or CHECKPOINT_DIR)


@dataclass(frozen=True)
class Recipe:
    name: str
    label: str
    teacher: TeacherConfig
    consistency: ConsistencyConfig


RECIPES = {
    "ours": Recipe("ours", "Consistency Explorer defaults", TeacherConfig(), ConsistencyConfig()),
    "lesson": Recipe("lesson", "The lesson's recipe", LESSON_TEACHER, LESSON_CONSISTENCY),
}
DEFAULT = RECIPES["ours"]


def recipe(name: str, dataset: str = DEFAULT.teacher.dataset) -> Recipe:
    """Recipe ``name`` (a key of ``RECIPES``) with its teacher trained on ``dataset``.

    Only the teacher's ``dataset`` changes: the consistency model distils that teacher, so it
    learns the same data.  On the default dataset this is ``RECIPES[name]`` itself (same hash).
    """
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; choose one of {', '.join(RECIPES)}.")
    base = RECIPES[name]
    if dataset == base.teacher.dataset:
        return base
    return dataclasses.replace(base, teacher=dataclasses.replace(base.teacher, dataset=dataset))


def teacher_path(cfg: TeacherConfig, root: Path | None = None) -> Path:
    return (root or checkpoint_dir()) / f"teacher-{config_hash(cfg)}.safetensors"


def consistency_path(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, root: Path | None = None) -> Path:
    return (root or checkpoint_dir()) / f"consistency-{config_hash(teacher_cfg, cfg)}.safetensors"


def is_shipped_teacher(cfg: TeacherConfig, root: Path | None = None) -> bool:
    return teacher_path(cfg, root).is_file()


def is_shipped_consistency(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, root: Path | None = None) -> bool:
    return consistency_path(teacher_cfg, cfg, root).is_file()


def load_teacher(cfg: TeacherConfig, root: Path | None = None) -> store.Checkpoint:
    """Load the checkpoint trained with exactly ``cfg`` (CheckpointError if there is none)."""
    return store.load(teacher_path(cfg, root), kind="teacher", expect_config=cfg)


def load_consistency(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, root: Path | None = None) -> store.Checkpoint:
    ckpt = store.load(consistency_path(teacher_cfg, cfg, root), kind="consistency", expect_config=cfg)
    if ckpt.teacher_config != teacher_cfg:
        raise store.CheckpointError(consistency_path(teacher_cfg, cfg, root), "was distilled from another teacher")
    return ckpt


def get_teacher(cfg: TeacherConfig, root: Path | None = None, **hooks) -> nn.Module:
    """The shipped checkpoint if there is one for ``cfg``, else a fresh training run."""
    if is_shipped_teacher(cfg, root):
        return load_teacher(cfg, root).model
    return train_teacher(cfg, **hooks).model


def get_consistency(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, teacher: nn.Module | None = None,
                    root: Path | None = None, **hooks) -> nn.Module:
    if is_shipped_consistency(teacher_cfg, cfg, root):
        return load_consistency(teacher_cfg, cfg, root).model
    teacher = teacher if teacher is not None else get_teacher(teacher_cfg, root)
    return train_consistency(cfg, teacher if cfg.mode == "distillation" else None, teacher_cfg.dataset, **hooks).model


def quality_path(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, root: Path | None = None) -> Path:
    return (root or checkpoint_dir()) / f"quality-{config_hash(teacher_cfg, cfg)}.json"


def save_quality(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, table: QualityTable, spec: EvalSpec,
                 root: Path | None = None) -> Path:
    """The evaluation protocol's table for a shipped pair, so no page measures it at start-up."""
    path = quality_path(teacher_cfg, cfg, root)
    data = {"seeds": list(spec.seeds), **table.to_json()}
    return atomic_write(path, json.dumps(data, indent=1) + "\n")


def load_quality(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, spec: EvalSpec = EvalSpec(),
                 root: Path | None = None) -> QualityTable | None:
    """The stored table if it covers ``spec``; None if absent, damaged or for another spec.

    A table covers a spec of its size whose seeds are its first seeds: the shipped tables are measured at
    ``evaluate.SHIPPED_EVAL_SEEDS`` seeds (0..19), which cover the live protocol's 0..2, and are returned
    whole, the same measurement on more seeds (each Score records its seeds)."""
    path = quality_path(teacher_cfg, cfg, root)
    try:
        data = json.loads(path.read_text())
        if int(data["n"]) != spec.n or tuple(data["seeds"])[:len(spec.seeds)] != tuple(spec.seeds):
            return None
        return QualityTable.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
