"""One name per setting and per run: what the picker, page 3, *Recipes compared*, legends and Home call them.

``setting_name`` names a teacher + consistency config ("Our defaults", "The lesson's recipe",
"Ours, μ = 0"); ``run_name`` adds how far a run trained ("Ours, μ = 0 (1,200 steps)");
``shipped_name`` names a model that ships with the app; ``setting_change`` words one changed
field for a person ("network starts as: the teacher → random").  Pure functions of configs:
no Streamlit, testable alone.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Mapping

from cmcore.config import LESSON_CONSISTENCY, ConsistencyConfig

OURS_CFG = ConsistencyConfig()
RECIPE_NAMES = {"ours": "Our defaults", "lesson": "The lesson's recipe"}
BASE_NAMES = {"ours": "Ours", "lesson": "Lesson's recipe"}  # the start of a variant's name
BASE_CFGS = {"ours": OURS_CFG, "lesson": LESSON_CONSISTENCY}
TEACHER_NAMES = {"ours": "our teacher", "lesson": "the lesson's teacher"}
NOT_NAMED = {"threads", "steps"}  # speed only / shown in the run's name, not the setting's

# A field's human name (what the form calls it) and how one of its values reads.
SETTING_LABELS = {"mode": "method", "n_levels": "noise levels N", "schedule": "level spacing", "rho": "ρ",
                  "ema_mu": "EMA μ", "lr": "learning rate", "lr_schedule": "learning-rate schedule",
                  "steps": "training steps", "batch": "batch", "teacher_solver": "teacher's ODE step",
                  "loss": "distance", "huber_c": "Huber c", "init_from_teacher": "network starts as",
                  "seed": "seed", "hidden": "width", "ema": "weight EMA", "dataset": "dataset",
                  "sigma_min": "σ_min", "sigma_max": "σ_max"}
FIELD_LABELS = {k: v[0].upper() + v[1:] for k, v in SETTING_LABELS.items()}  # the same, at the start of a line
_VALUE_WORDS = {("init_from_teacher", True): "the teacher", ("init_from_teacher", False): "random",
                ("mode", "distillation"): "distillation (a teacher)", ("mode", "training"): "training (no teacher)",
                ("loss", "pseudo_huber"): "pseudo-Huber", ("loss", "l2"): "squared L2",
                ("teacher_solver", "heun"): "Heun", ("teacher_solver", "euler"): "Euler",
                ("schedule", "uniform"): "uniform", ("schedule", "karras"): "Karras",
                ("lr_schedule", "onecycle"): "one-cycle", ("lr_schedule", "constant"): "constant"}
# The short form of a changed field inside a name ("Ours, μ = 0, 20 levels").
_SHORT = {"ema_mu": lambda v: f"μ = {v:g}", "n_levels": lambda v: f"{v} levels",
          "init_from_teacher": lambda v: "starts from the teacher" if v else "random start",
          "teacher_solver": lambda v: f"{value_word('teacher_solver', v)} teacher step",
          "loss": lambda v: f"{value_word('loss', v)} loss", "schedule": lambda v: f"{value_word('schedule', v)} levels",
          "mode": lambda v: "consistency training (no teacher)" if v == "training" else "distilled",
          "lr": lambda v: f"learning rate {v:g}", "lr_schedule": lambda v: f"{value_word('lr_schedule', v)} rate"}
MAX_NAMED_CHANGES = 3  # more changes than this: counted, not listed


def value_word(field: str, value: object) -> str:
    """One value of a setting as a person reads it (``True`` for init_from_teacher -> "the teacher")."""
    if (field, value) in _VALUE_WORDS:
        return _VALUE_WORDS[(field, value)]
    return f"{value:g}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value)


def setting_change(field: str, old: object, new: object) -> str:
    """"network starts as: the teacher → random": one changed setting, in the form's words."""
    return f"{SETTING_LABELS.get(field, field)}: {value_word(field, old)} → {value_word(field, new)}"


def _short(field: str, value: object) -> str:
    return _SHORT[field](value) if field in _SHORT else f"{SETTING_LABELS.get(field, field)} {value_word(field, value)}"


def _changes(cfg: ConsistencyConfig, base: ConsistencyConfig) -> list[str]:
    changed = [f.name for f in fields(ConsistencyConfig)
               if f.name not in NOT_NAMED and getattr(cfg, f.name) != getattr(base, f.name)]
    if "mode" in changed and cfg.mode == "training":  # training has no teacher to start from: implied
        changed = [f for f in changed if f != "init_from_teacher"]
    if {"lr", "lr_schedule"} <= set(changed):  # one phrase: "constant learning rate 0.0003"
        changed.remove("lr_schedule")
        return [f"{value_word('lr_schedule', cfg.lr_schedule)} learning rate {cfg.lr:g}" if f == "lr"
                else _short(f, getattr(cfg, f)) for f in changed]
    return [_short(f, getattr(cfg, f)) for f in changed]


def setting_name(teacher: str, cfg: ConsistencyConfig) -> str:
    """The name of a teacher + consistency settings: a recipe's, or the recipe it starts from and what changes."""
    base = BASE_CFGS[teacher]
    changes = _changes(cfg, base)
    if not changes:
        return RECIPE_NAMES[teacher]
    if len(changes) > MAX_NAMED_CHANGES:
        return f"{BASE_NAMES[teacher]} with {len(changes)} changes"
    return f"{BASE_NAMES[teacher]}, {', '.join(changes)}"


def steps_words(steps_done: int, steps: int) -> str:
    """"1,200 steps", or "stopped at 300 of 1,200 steps" for a run kept before its end."""
    total = f"{steps:,} step{'s' if steps != 1 else ''}"
    return total if steps_done >= steps else f"stopped at {steps_done:,} of {total}"


def run_name(teacher: str, cfg: ConsistencyConfig, steps_done: int | None = None) -> str:
    """A run trained on this server: "Ours, μ = 0 (1,200 steps)"."""
    done = cfg.steps if steps_done is None else steps_done
    return f"{setting_name(teacher, cfg)} ({steps_words(done, cfg.steps)})"


def shipped_name(teacher: str, trained: bool = True) -> str:
    """A model that ships with the app: "Our defaults (shipped)"; on uploaded points none is trained yet."""
    return f"{RECIPE_NAMES[teacher]} ({'shipped' if trained else 'not trained yet'})"


def changes_between(cfg: Mapping[str, object], reference: Mapping[str, object]) -> list[str]:
    """``setting_change`` for every named field of ``cfg`` that differs from ``reference`` (speed-only fields left out)."""
    return [setting_change(k, reference[k], v) for k, v in cfg.items()
            if k in SETTING_LABELS and k != "threads" and v != reference.get(k)]
