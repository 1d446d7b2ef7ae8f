"""Running the study: distil every plan, score it with the protocol, judge its claims; the CLI's ``main``."""
from __future__ import annotations

import os
import platform
import time
from typing import Callable

import torch

from .. import zoo
from ..bench import self_consistency_mean
from ..collapse import COLLAPSE_SPREAD_FRACTION, model_spread, spread_score
from ..collapse import data_spread as measure_data_spread
from ..evaluate import (CM_STEPS, EvalSpec, QualityTable, cm_score, floor_score, lesson_claims, quality_table,
                        teacher_samples)
from ..threads import ONE_THREAD
from ..train import train_consistency
from .changes import Plan, plans
from .results import Run, Study, TeacherResult
from .storage import save

QUICK_SPEC = EvalSpec(n=128, seeds=(0, 1))  # --quick: a smoke run of the whole pipeline, not a measurement


def measure_teacher(teacher, dataset: str, spec: EvalSpec, table: QualityTable | None) -> TeacherResult:
    table = table or quality_table(teacher, None, dataset, spec=spec, with_floor=False)
    return TeacherResult(dict(table.teacher), self_consistency_mean(teacher),
                         spread_score(lambda s, n: teacher_samples(teacher, s, n, 1), spec))


def measure_run(plan: Plan, teacher, teacher_result: TeacherResult, dataset: str, spec: EvalSpec) -> tuple[Run, dict]:
    """Distil ``plan``, score it at every CM step count and judge the claims against its teacher."""
    res = train_consistency(plan.cfg, teacher, dataset)
    w2s = {k: cm_score(res.model, dataset, k, spec=spec) for k in CM_STEPS}
    claims = lesson_claims(QualityTable(teacher_result.w2, w2s), teacher_result.self_consistency)
    run = Run(plan.key, plan.teacher, plan.cfg, plan.change, plan.detail, res.seconds, w2s,
              model_spread(res.model, spec), {c.key: c.status for c in claims})
    return run, {c.key: c.text for c in claims}


def machine() -> str:
    load = ""
    try:
        load = f", load average {os.getloadavg()[0]:.1f} at start"
    except (AttributeError, OSError):
        pass
    return f"{platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch thread(s), torch {torch.__version__}{load}"


def run(quick: bool = False, spec: EvalSpec | None = None, command: str = "python -m cmcore study",
        threads: int = ONE_THREAD, log: Callable[[str], None] = print) -> Study:
    """Train and score every plan once (runs shared by several groups are trained once)."""
    spec = spec or (QUICK_SPEC if quick else EvalSpec())
    torch.set_num_threads(threads)
    start, where = time.perf_counter(), machine()
    groups = plans(quick, threads)
    dataset = zoo.RECIPES["ours"].teacher.dataset
    teachers, models, floor = {}, {}, None
    for name, recipe in zoo.RECIPES.items():
        models[name] = zoo.get_teacher(recipe.teacher)
        stored = zoo.load_quality(recipe.teacher, recipe.consistency, spec)
        floor = floor or (stored.floor if stored else None)
        log(f"[study] teacher {name}: {'stored table' if stored else 'scoring'} ...")
        teachers[name] = measure_teacher(models[name], dataset, spec, stored)
    floor = floor or floor_score(dataset, spec)
    data_spread = measure_data_spread(dataset, spec)
    # A setting read by several groups (e.g. ours with μ 0.999 in 'break' and 'collapse') is trained once.
    unique: dict[tuple, Plan] = {}
    for p in (p for ps in groups.values() for p in ps):
        unique.setdefault((p.teacher, p.cfg), p)
    runs, texts = {}, {}
    for i, plan in enumerate(unique.values(), 1):
        runs[plan.key], texts = measure_run(plan, models[plan.teacher], teachers[plan.teacher], dataset, spec)
        r = runs[plan.key]
        log(f"[study] {i}/{len(unique)} {plan.label}: {r.seconds:.1f} s, W2 1 step {r.w2[1]}, spread {r.spread}")
    entries = {g: [(unique[(p.teacher, p.cfg)].key, p.label) for p in ps] for g, ps in groups.items()}
    return Study(spec, quick, command, where, time.perf_counter() - start, floor, data_spread,
                 COLLAPSE_SPREAD_FRACTION, texts, teachers, runs, entries)


def main(out_json: str | None, quick: bool, threads: int = ONE_THREAD, log: Callable[[str], None] = print) -> Study:
    """The CLI's work: run the study, store it in ``out_json`` if given, return it (its Markdown page is
    ``python -m viz.reports study``'s)."""
    command = ("python -m cmcore study" + (" --quick" if quick else "")
               + (f" --threads {threads}" if threads != ONE_THREAD else ""))
    study = run(quick, command=command, threads=threads, log=log)
    if out_json:
        log(f"[study] wrote {save(study, out_json)}")
    return study
