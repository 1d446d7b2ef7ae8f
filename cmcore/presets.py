"""Named recipes: the lesson's, ours, and variants of ours that change one thing.

One registry, used by page 3's preset menu, the lab's recipe comparison and the
ablation study (``python -m cmcore study``).  A preset names the teacher it distils
from (a key of ``zoo.RECIPES``) and the full consistency config, so filling a form
from it reproduces the recipe exactly.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .config import LESSON_CONSISTENCY, ConsistencyConfig

OURS = ConsistencyConfig()


@dataclass(frozen=True)
class Preset:
    key: str  # stable id (URL value, JSON key)
    label: str  # what a person reads in the menu
    teacher: str  # "ours" or "lesson": which shipped teacher it distils from (zoo.RECIPES)
    cfg: ConsistencyConfig
    change: str = ""  # the one thing it changes relative to ours ("" for the two full recipes)


def _variant(key: str, label: str, change: str, **fields) -> Preset:
    return Preset(key, label, "ours", dataclasses.replace(OURS, **fields), change)


PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset("ours", "Our defaults", "ours", OURS),
    Preset("lesson", "The lesson's recipe (its teacher and its distillation settings)", "lesson", LESSON_CONSISTENCY),
    _variant("ours_mu0999", "Ours with μ = 0.999 (the lesson's target)", "EMA μ 0.95 → 0.999", ema_mu=0.999),
    _variant("ours_mu0", "Ours with μ = 0 (target = online network)", "EMA μ 0.95 → 0", ema_mu=0.0),
    _variant("ours_noinit", "Ours without init from the teacher", "init from teacher → random init",
             init_from_teacher=False),
    _variant("ours_mu0999_noinit", "Ours with μ = 0.999 and random init (collapses)",
             "EMA μ 0.95 → 0.999 and random init", ema_mu=0.999, init_from_teacher=False),
    _variant("ours_euler", "Ours with an Euler teacher step", "Heun → Euler teacher step", teacher_solver="euler"),
    _variant("ours_l2", "Ours with the squared L2 loss", "pseudo-Huber → squared L2", loss="l2"),
    _variant("ours_20levels", "Ours with 20 levels", "12 → 20 levels", n_levels=20),
    _variant("ours_karras", "Ours with Karras-spaced levels", "uniform → Karras levels", schedule="karras"),
    _variant("ours_constant_lr", "Ours with the lesson's learning rate (3e-4 constant)",
             "one-cycle 5e-3 → constant 3e-4", lr=3e-4, lr_schedule="constant"),
    _variant("ours_training", "Consistency training (no teacher)", "distillation → training (no teacher)",
             mode="training", init_from_teacher=False),
)}
