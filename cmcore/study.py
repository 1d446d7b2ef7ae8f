"""`python -m cmcore study`: which of our changes fixes the lesson's failing claims, and claim (f) measured.

Two measurements, both with the evaluation protocol (``cmcore.evaluate``: W2 mean ± standard
error over seeds, ``compare`` as the only rule, ``lesson_claims`` for the claims):

1. **One change at a time.**  The lesson's recipe with ONE of our changes applied, and our
   recipe with ONE change reverted to the lesson's.  Each variant is distilled, scored and its
   claims are judged against the teacher it was distilled from.
2. **Claim (f), "the EMA target prevents collapse".**  Our teacher, target rate
   μ ∈ {0, 0.95, 0.999} × init from the teacher on/off, plus the lesson's exact recipe.  A run
   has *collapsed* by ``cmcore.collapse.is_collapsed``, the definition every page uses.

The results go to a small JSON file that the app reads through ``load`` (plain dataclasses,
``None`` for a missing or damaged file) and to a generated markdown page.  Every sentence is a
pure function of the stored numbers (``claim_findings``, ``collapse_statement``).
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from . import zoo
from .bench import self_consistency_mean
from .collapse import COLLAPSE_SPREAD_FRACTION, is_collapsed, model_spread, spread_score
from .collapse import data_spread as measure_data_spread
from .config import LESSON_CONSISTENCY, ConsistencyConfig, from_dict, to_dict
from .evaluate import (CM_STEPS, FAILS, HOLDS, UNDECIDED, EvalSpec, QualityTable, Score, cm_score,
                       compare, floor_score, lesson_claims, quality_table, teacher_samples)
from .files import atomic_write
from .presets import OURS, PRESETS
from .threads import ONE_THREAD
from .train import train_consistency

FORMAT = "cmcore-study/1"
DEFAULT_JSON = Path("checkpoints/study.json")
DEFAULT_MD = Path("bench/STUDY.md")
COLLAPSE_MUS = (0.0, 0.95, 0.999)  # claim (f): target rates measured
QUICK_SPEC = EvalSpec(n=128, seeds=(0, 1))  # --quick: a smoke run of the whole pipeline, not a measurement
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


def _mu_label(mu: float, init: bool) -> str:
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
            collapse.append(Plan(key, _mu_label(mu, init), "ours", adapt(cfg)))
    lesson = base["lesson"]
    collapse.append(dataclasses.replace(lesson, label=f"{lesson.label} "
                                        f"({_mu_label(lesson.cfg.ema_mu, lesson.cfg.init_from_teacher)}, its teacher)"))
    return {"fix": fix, "break": brk, "collapse": collapse}


# --- Measurements --------------------------------------------------------------

@dataclass(frozen=True)
class TeacherResult:
    w2: dict[int, Score]  # Euler ODE, keyed by steps
    self_consistency: float  # mean re-solved endpoint distance (bench.self_consistency_mean)
    one_step_spread: Score  # spread of the single Euler step, for comparison with a collapsed CM


@dataclass(frozen=True)
class Run:
    key: str
    teacher: str
    cfg: ConsistencyConfig
    change: str
    detail: str
    seconds: float  # distillation wall time on the machine named in the study
    w2: dict[int, Score]  # consistency model at 1, 2, 4, 8 steps
    spread: Score  # spread of its one-step samples
    claims: dict[str, str]  # lesson_claims key -> status, judged against its own teacher


@dataclass(frozen=True)
class ClaimFinding:
    """What the one-change runs say about one claim that fails (or is undecided) on the lesson's recipe."""

    key: str
    text: str
    lesson_status: str
    ours_status: str
    fixed_by: tuple[str, ...]  # changes that alone make it hold on the lesson's recipe
    fix_undecided: tuple[str, ...]  # ... after which it is indistinguishable at this sample size
    broken_by: tuple[str, ...]  # reverts that alone make it fail on ours (only when it holds on ours)
    break_undecided: tuple[str, ...]

    @property
    def sentence(self) -> str:
        return " ".join(_finding_sentences(self))


@dataclass(frozen=True)
class CollapseRow:
    label: str
    mu: float
    init: bool
    teacher: str
    w2_1: Score
    teacher_1: Score  # the teacher's single Euler step
    spread: Score
    spread_fraction: float  # spread.mean / data spread.mean
    collapsed: bool


@dataclass
class Study:
    spec: EvalSpec
    quick: bool
    command: str
    machine: str
    total_seconds: float
    floor: Score
    data_spread: Score
    collapse_fraction: float
    claim_texts: dict[str, str]
    teachers: dict[str, TeacherResult]
    runs: dict[str, Run]
    # 'fix' / 'break' / 'collapse' -> [(run key, label)]; the first of 'fix' and 'break' is the base recipe
    groups: dict[str, list[tuple[str, str]]]

    def group(self, name: str) -> list[tuple[str, Run]]:
        return [(label, self.runs[k]) for k, label in self.groups[name]]

    def findings(self) -> list[ClaimFinding]:
        fix, brk = [r for _, r in self.group("fix")], [r for _, r in self.group("break")]
        return claim_findings(self.claim_texts, fix[0].claims, [(r.change, r.claims) for r in fix[1:]],
                              brk[0].claims, [(r.change, r.claims) for r in brk[1:]])

    def collapse_rows(self) -> list[CollapseRow]:
        return [collapse_row(label, r, self.teachers[r.teacher].w2[1], self.data_spread, self.collapse_fraction)
                for label, r in self.group("collapse")]

    def collapse_statement(self) -> str:
        return collapse_statement(self.collapse_rows())


def collapse_row(label: str, run: Run, teacher_1: Score, data_spread: Score, fraction: float) -> CollapseRow:
    return CollapseRow(label, run.cfg.ema_mu, run.cfg.init_from_teacher, run.teacher, run.w2[1], teacher_1,
                       run.spread, run.spread.mean / data_spread.mean,
                       is_collapsed(run.spread, data_spread, run.w2[1], teacher_1, fraction))


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


# --- Words, computed from the numbers ------------------------------------------

def _join(items, conj: str = "and") -> str:
    """"a", "a and b", "a, b and c" (or another conjunction)."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _status_words(status: str) -> str:
    return {HOLDS: "holds", FAILS: "does not hold",
            UNDECIDED: "is undecided (indistinguishable at this sample size)"}.get(status, f"is {status}")


def claim_findings(texts: dict[str, str], lesson: dict[str, str], fixes: list[tuple[str, dict[str, str]]],
                   ours: dict[str, str], reverts: list[tuple[str, dict[str, str]]]) -> list[ClaimFinding]:
    """Per claim that fails or is undecided on the lesson's recipe: the single changes that make it hold there,
    and the single reverts that make it fail on ours.  Inside the noise counts as neither."""
    out = []
    for key, text in texts.items():
        if lesson.get(key) not in (FAILS, UNDECIDED):
            continue
        holds_on_ours = ours.get(key) == HOLDS
        out.append(ClaimFinding(
            key, text, lesson[key], ours.get(key, ""),
            tuple(c for c, st in fixes if st.get(key) == HOLDS),
            tuple(c for c, st in fixes if st.get(key) == UNDECIDED),
            tuple(c for c, st in reverts if st.get(key) == FAILS) if holds_on_ours else (),
            tuple(c for c, st in reverts if st.get(key) == UNDECIDED) if holds_on_ours else ()))
    return out


def _finding_sentences(f: ClaimFinding) -> list[str]:
    s = [f"With the lesson's recipe it {_status_words(f.lesson_status)}."]
    if f.fixed_by:
        s.append(f"Adding {_join(f.fixed_by)} alone makes it hold." if len(f.fixed_by) == 1 else
                 f"Each of {_join(f.fixed_by)} alone makes it hold.")
    else:
        s.append("No single one of our changes makes it hold.")
    if f.fix_undecided:
        s.append(f"After adding {_join(f.fix_undecided)} alone, the comparison is indistinguishable at this sample size.")
    if f.ours_status != HOLDS:
        s.append("On our recipe it does not hold either." if f.ours_status == FAILS else
                 f"On our recipe it {_status_words(f.ours_status)} too.")
        return s
    if f.broken_by:
        s.append(f"On our recipe it holds; reverting {_join(f.broken_by)} alone breaks it." if len(f.broken_by) == 1
                 else f"On our recipe it holds; reverting any one of {_join(f.broken_by, 'or')} breaks it.")
    else:
        s.append("On our recipe it holds, and no single revert breaks it.")
    if f.break_undecided:
        s.append(f"After reverting {_join(f.break_undecided)}, it is indistinguishable at this sample size.")
    both = [c for c in f.fixed_by if c in f.broken_by]
    if both:
        s.append(f"So {_join(both)} is both enough on the lesson's recipe and needed in ours.")
    return s


def _labels(rows: list[CollapseRow]) -> str:
    return _join([r.label for r in rows])


def collapse_statement(rows: list[CollapseRow]) -> str:
    """What the claim-(f) runs say about "the EMA target prevents collapse" (μ = 0: no target)."""
    if not rows:
        return "No runs were measured."
    s = []
    for init, who in ((True, "Initialised from the teacher"), (False, "From random weights")):
        group = [r for r in rows if r.init == init]
        down, up = [r for r in group if r.collapsed], [r for r in group if not r.collapsed]
        if group:
            s.append(f"{who}, {'no run collapsed' if not down else 'every run collapsed' if not up else _labels(down) + ' collapsed'}"
                     f"{' and ' + _labels(up) + ' did not' if down and up else ''}.")
    no_target_kept = [r for r in rows if r.mu == 0 and not r.collapsed]
    target_collapsed = [r for r in rows if r.mu > 0 and r.collapsed]
    rescued = [r for r in rows if r.mu > 0 and not r.collapsed
               and any(o.mu == 0 and o.collapsed and o.init == r.init for o in rows)]
    if rescued:
        s.append(f"Where the run without a target (μ = 0) collapsed, a target avoided it ({_labels(rescued)}): "
                 "the target can help.")
    if no_target_kept:
        s.append(f"Without any target, {_labels(no_target_kept)} did not collapse: a target is not needed to avoid it.")
    if target_collapsed:
        s.append(f"With a target, {_labels(target_collapsed)} collapsed: the target does not prevent it on its own.")
    collapsed = [r for r in rows if r.collapsed]
    if collapsed and any(r.init for r in rows) and not any(r.init for r in collapsed):
        s.append("Every collapse started from random weights; no run initialised from the teacher collapsed.")
    if no_target_kept or target_collapsed:
        s.append("So the claim as stated (the EMA target prevents collapse) does not hold in general here.")
    elif any(r.mu == 0 for r in rows) and collapsed:
        s.append("The numbers agree with the claim: every run without a target collapsed, none with one did.")
    else:
        s.append("These runs do not test the claim (no run collapsed, or none went without a target).")
    return " ".join(s)


# --- JSON and markdown ---------------------------------------------------------

def _scores(d: dict[int, Score]) -> dict[str, list[float]]:
    return {str(k): list(v.values) for k, v in d.items()}


def _unscores(d: dict, n: int) -> dict[int, Score]:
    return {int(k): Score(tuple(float(x) for x in v), n) for k, v in d.items()}


def to_json(study: Study) -> dict:
    return {
        "format": FORMAT, "command": study.command, "quick": study.quick, "machine": study.machine,
        "total_seconds": round(study.total_seconds, 1),
        "spec": {"n": study.spec.n, "seeds": list(study.spec.seeds)},
        "floor": list(study.floor.values), "data_spread": list(study.data_spread.values),
        "collapse_fraction": study.collapse_fraction, "claim_texts": study.claim_texts,
        "teachers": {k: {"w2": _scores(t.w2), "self_consistency": t.self_consistency,
                         "one_step_spread": list(t.one_step_spread.values)} for k, t in study.teachers.items()},
        "runs": {k: {"teacher": r.teacher, "config": to_dict(r.cfg), "change": r.change,
                     "detail": r.detail, "seconds": round(r.seconds, 2), "w2": _scores(r.w2),
                     "spread": list(r.spread.values), "claims": r.claims} for k, r in study.runs.items()},
        "groups": {g: [[k, label] for k, label in entries] for g, entries in study.groups.items()},
    }


def from_json(d: dict) -> Study:
    if d.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    spec = EvalSpec(int(d["spec"]["n"]), tuple(int(s) for s in d["spec"]["seeds"]))
    n = spec.n
    sc = lambda v: Score(tuple(float(x) for x in v), n)  # noqa: E731
    teachers = {k: TeacherResult(_unscores(t["w2"], n), float(t["self_consistency"]), sc(t["one_step_spread"]))
                for k, t in d["teachers"].items()}
    runs = {k: Run(k, str(r["teacher"]), from_dict(ConsistencyConfig, r["config"]), str(r["change"]),
                   str(r["detail"]), float(r["seconds"]), _unscores(r["w2"], n), sc(r["spread"]),
                   {str(a): str(b) for a, b in r["claims"].items()}) for k, r in d["runs"].items()}
    groups = {g: [(str(k), str(label)) for k, label in entries] for g, entries in d["groups"].items()}
    for g in ("fix", "break", "collapse"):
        if not groups.get(g) or any(k not in runs for k, _ in groups[g]):
            raise ValueError(f"group {g!r} is missing or names unknown runs")
    if any(r.teacher not in teachers or 1 not in r.w2 for r in runs.values()):
        raise ValueError("a run names an unknown teacher or lacks its 1-step W2")
    return Study(spec, bool(d["quick"]), str(d["command"]), str(d["machine"]), float(d["total_seconds"]),
                 sc(d["floor"]), sc(d["data_spread"]), float(d["collapse_fraction"]),
                 {str(k): str(v) for k, v in d["claim_texts"].items()}, teachers, runs, groups)


def load(path: str | Path = DEFAULT_JSON) -> Study | None:
    """The stored study, or None when the file is missing, damaged or of another format."""
    try:
        return from_json(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None


def save(study: Study, path: str | Path) -> Path:
    return atomic_write(path, json.dumps(to_json(study), indent=1, ensure_ascii=False) + "\n")


def _short(status: str) -> str:
    return {HOLDS: "holds", FAILS: "**fails**", UNDECIDED: "undecided"}.get(status, status)


def _run_table(entries: list[tuple[str, Run]], keys: list[str], verb: str) -> list[str]:
    head = ["| variant | teacher | distill s | W2 1 step | W2 2 steps | " + " | ".join(f"({chr(97 + i)})" for i in range(len(keys))) + " |",
            "|---|---|---|---|---|" + "---|" * len(keys)]
    rows = []
    for i, (label, r) in enumerate(entries):
        name = f"{label} (base)" if i == 0 else f"{verb} {r.change}"
        rows.append(f"| {name} | {r.teacher} | {r.seconds:.1f} | {r.w2[1]} | {r.w2[2]} | "
                    + " | ".join(_short(r.claims.get(k, "")) for k in keys) + " |")
    return head + rows


def _threads(study: Study) -> str:
    return "/".join(sorted({str(r.cfg.threads) for r in study.runs.values()}))


def markdown(study: Study) -> str:
    findings = study.findings()
    keys = [f.key for f in findings]
    fix, brk = study.group("fix"), study.group("break")
    lines = [
        "# Study: which change fixes which claim, and claim (f) measured", "",
        f"Written by `{study.command}` (do not edit by hand; the app reads `checkpoints/study.json`). "
        f"W2 = exact 2-Wasserstein distance, mean ± standard error over {study.spec.describe()}; "
        f"floor (two real samples) {study.floor}. Machine: {study.machine}; the whole study took "
        f"{study.total_seconds / 60:.1f} min. Distillation times are wall time on a shared machine: read ratios, "
        "not absolutes." + (" **Quick mode: a smoke run with tiny training and evaluation, not a measurement.**"
                            if study.quick else ""), "",
        "Each variant is distilled once (seeded, deterministic) and its claims are judged with `lesson_claims` "
        "against the teacher it was distilled from. A variant keeps its base recipe's seed. Every run uses "
        f"{_threads(study)} torch thread(s) (recorded in its config; why one: `python bench/one_thread.py`; the count "
        "changes weights only by float rounding).", "",
        "## Teachers", "",
        "| teacher | W2 1 Euler step | W2 5 steps | W2 50 steps | self-consistency | 1-step spread |",
        "|---|---|---|---|---|---|",
        *[f"| {k} | {t.w2[1]} | {t.w2[5]} | {t.w2[50]} | {t.self_consistency:.4f} | {t.one_step_spread} |"
          for k, t in study.teachers.items()], "",
        "## Which of our changes fixes each failing claim", "",
        *[f"- **({chr(97 + i)}) {f.text}** {f.sentence}" for i, f in enumerate(findings)], "",
        "### The lesson's recipe with one of our changes", "",
        *_run_table(fix, keys, "+"), "",
        "### Our recipe with one change reverted to the lesson's", "",
        *_run_table(brk, keys, "−"), "",
        "What each change moves (lesson → ours):", "",
        *[f"- {r.change}: {r.detail}" for _, r in fix[1:]], "",
        "## Claim (f): \"the EMA target prevents collapse\"", "",
        f"Collapsed = the one-step samples' spread (RMS distance from their mean) is measurably below "
        f"{study.collapse_fraction:g} × the data's spread ({study.data_spread}) AND the one-step W2 is not "
        "measurably better than the teacher's single Euler step (both with `compare`).", "",
        "| setting | teacher | W2 1 step | teacher 1 step | spread | spread / data | collapsed |",
        "|---|---|---|---|---|---|---|",
        *[f"| {r.label} | {r.teacher} | {r.w2_1} | {r.teacher_1} | {r.spread} | {r.spread_fraction:.2f} | "
          f"{'**yes**' if r.collapsed else 'no'} |" for r in study.collapse_rows()], "",
        study.collapse_statement(), "",
    ]
    return "\n".join(lines)


def main(out_json: str | None, out_md: str | None, quick: bool, threads: int = ONE_THREAD, log: Callable[[str], None] = print) -> Study:
    """The CLI's work: run the study, write what was asked for, return it."""
    command = ("python -m cmcore study" + (" --quick" if quick else "")
               + (f" --threads {threads}" if threads != ONE_THREAD else ""))
    study = run(quick, command=command, threads=threads, log=log)
    if out_json:
        log(f"[study] wrote {save(study, out_json)}")
    if out_md:
        path = Path(out_md)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown(study))
        log(f"[study] wrote {path}")
    return study
