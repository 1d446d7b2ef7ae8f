"""The one-change registry of ``python -m cmcore study``: every way our recipe differs from the lesson's,
and the plans (one distillation each) that apply or revert ONE of them, plus claim (f)'s collapse grid."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from .. import zoo
from ..config import LESSON_CONSISTENCY, ConsistencyConfig
from ..presets import OURS, PRESETS
from ..threads import ONE_THREAD

COLLAPSE_MUS = (0.0, 0.95, 0.999)  # claim (f): target rates measured
QUICK_STEP_DIVISOR = 100  # --quick: every distillation runs steps // 100 steps (1000 -> 10, 1200 -> 12)
# The two base recipes: (teacher = zoo.RECIPES key, consistency config, how a sentence names it).
BASES = {"lesson": ("lesson", LESSON_CONSISTENCY, "the lesson's recipe"), "ours": ("ours", OURS, "our recipe")}


# --- The one-change registry ----------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One way our recipe differs from the lesson's: consistency fields, or the teacher."""

    key: str
    name: str  # what it reads as: "adding <name>" to the lesson, "reverting <name>" on ours
    fields: tuple[str, ...] = ()  # ConsistencyConfig fields that move together
    teacher: bool = False  # True: the change is which teacher is distilled


LOSS_NAMES = {"pseudo_huber": "pseudo-Huber", "l2": "squared L2"}
CHANGES: tuple[Change, ...] = (
    Change("teacher", "our teacher", teacher=True),
    Change("init", "init from the teacher", ("init_from_teacher",)),
    Change("heun", f"the {OURS.teacher_solver.capitalize()} teacher step", ("teacher_solver",)),
    Change("mu", f"EMA μ {OURS.ema_mu:g}", ("ema_mu",)),
    Change("levels", f"{OURS.n_levels} levels", ("n_levels",)),
    Change("loss", f"the {LOSS_NAMES[OURS.loss]} loss", ("loss",)),
    Change("lr", f"{OURS.lr_schedule} lr {OURS.lr:g}", ("lr", "lr_schedule")),
    Change("steps", f"{OURS.steps} steps", ("steps",)),
)
# Differences the study keeps with each base recipe instead of varying: the seed.
KEPT_WITH_BASE = ("seed",)


@dataclass(frozen=True)
class Plan:
    """One distillation to run: which teacher (a zoo.RECIPES key) and which consistency config."""

    key: str
    label: str  # how its group names it
    teacher: str
    cfg: ConsistencyConfig
    change: str = ""  # Change.name ("" for a base recipe or a claim-(f) setting)
    detail: str = ""  # the fields it moves, "field a → b"


def _diff(a, b, skip: tuple[str, ...] = ()) -> str:
    """"field a → b" for every field that differs (configs of one type)."""
    return ", ".join(f"{f.name} {getattr(a, f.name)} → {getattr(b, f.name)}" for f in dataclasses.fields(a)
                     if getattr(a, f.name) != getattr(b, f.name) and f.name not in skip)


def _preset_key(teacher: str, cfg: ConsistencyConfig) -> str | None:
    return next((p.key for p in PRESETS.values() if p.teacher == teacher and p.cfg == cfg), None)


def _apply(change: Change, base: str, src: str, adapt: Callable[[ConsistencyConfig], ConsistencyConfig]) -> Plan:
    """``base``'s recipe with ``change`` taken from recipe ``src``."""
    teacher, cfg, _ = BASES[base]
    src_teacher, src_cfg, _ = BASES[src]
    new_teacher = src_teacher if change.teacher else teacher
    new_cfg = dataclasses.replace(cfg, **{f: getattr(src_cfg, f) for f in change.fields})
    detail = (_diff(zoo.RECIPES[teacher].teacher, zoo.RECIPES[new_teacher].teacher) if change.teacher
              else _diff(cfg, new_cfg, KEPT_WITH_BASE))
    sign = "+" if base == "lesson" else "−"
    key = _preset_key(new_teacher, new_cfg) or f"{base}{'+' if base == 'lesson' else '-'}{change.key}"
    return Plan(key, f"{base} {sign} {change.name}", new_teacher, adapt(new_cfg), change.name, detail)


def mu_label(mu: float, init: bool) -> str:
    return f"μ = {mu:g} with {'teacher init' if init else 'random init'}"


def plans(quick: bool = False, threads: int = ONE_THREAD) -> dict[str, list[Plan]]:
    """Every distillation of the study, by group: 'fix' (lesson + one), 'break' (ours − one), 'collapse'.

    Keys are preset keys (cmcore.presets) where a preset has the setting, whatever ``quick``/``threads``.
    """
    def adapt(c: ConsistencyConfig) -> ConsistencyConfig:
        steps = max(c.steps // QUICK_STEP_DIVISOR, 2) if quick else c.steps
        return dataclasses.replace(c, steps=steps, threads=threads)

    base = {name: Plan(_preset_key(t, c) or name, words, t, adapt(c)) for name, (t, c, words) in BASES.items()}
    fix = [base["lesson"]] + [_apply(ch, "lesson", "ours", adapt) for ch in CHANGES]
    brk = [base["ours"]] + [_apply(ch, "ours", "lesson", adapt) for ch in CHANGES]
    collapse = []
    for init in (True, False):
        for mu in COLLAPSE_MUS:
            cfg = dataclasses.replace(OURS, ema_mu=mu, init_from_teacher=init)
            key = _preset_key("ours", cfg) or f"ours_mu{mu:g}_{'init' if init else 'noinit'}".replace(".", "")
            collapse.append(Plan(key, mu_label(mu, init), "ours", adapt(cfg)))
    lesson = base["lesson"]
    collapse.append(dataclasses.replace(lesson, label=f"{lesson.label} "
                                        f"({mu_label(lesson.cfg.ema_mu, lesson.cfg.init_from_teacher)}, its teacher)"))
    return {"fix": fix, "break": brk, "collapse": collapse}
