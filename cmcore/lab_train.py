"""Offline studies behind the lab pages: objectives built on ``train.fit`` and their stored results.

Nothing here runs at page start-up: ``python -m cmcore.lab_cli`` trains and measures once and
writes a small JSON file beside the shipped checkpoints (``zoo.checkpoint_dir()``: the folder the image copies);
the pages read it (``ParamStudy.load``).

Parameterisation study (page "Parameterisations"): consistency distillation from the shipped
teacher with the shipped recipe, shortened, once per parameterisation and training seed; the
one-step W2 of each run by the evaluation protocol, its loss curve, and its W2 along training.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import datasets, store, zoo
from .config import DEFAULT_DATASET, ConsistencyConfig, TeacherConfig, from_dict, to_dict
from .evaluate import (EvalSpec, QualityTable, Score, cm_score, endpoint_error_curve, eval_noise, floor_score,
                       quality_table)
from .files import atomic_write
from .nets import frozen_copy
from .ot_coupling import OT_SOLVERS, OTFlowMatchingObjective, OTTeacherConfig, ot_pairing
from .parameterisation import LESSON, Parameterisation, ScaledConsistencyModel
from .series import window_means
from .threads import ONE_THREAD
from .train import ConsistencyObjective, StepInfo, TrainResult, fit

REPORT_DIR = Path(__file__).resolve().parent.parent / "bench"  # Markdown reports for people (no page reads them)
PARAM_STARTS = {  # where the network starts -> the stem of the study's file name
    "teacher": "lab_param",  # the shipped recipe: F = x - t v_teacher (the lesson's form is then one Euler jump)
    "random": "lab_param_random",  # a freshly initialised network, as the lesson trains it
}
PARAM_STEPS = 400  # a short run: the shipped recipe's 1,200 steps cut to a third
PARAM_SEEDS = (0, 1, 2)  # training seeds: the spread of a W2 here is the spread over training runs
PARAM_SIGMA_DATA = (0.25, 0.5, 1.0, 2.0)  # the paper's form at these sigma_data (0.5 is the paper's value)
PARAM_EVAL = (1000, 3)  # small protocol spec per run: 1,000 points on 3 evaluation seeds of its own
CURVE_EVERY = 50  # W2 along training: one snapshot every this many steps
CURVE_SPEC = EvalSpec(1000, (0,))  # ... each scored on one evaluation seed
LOSS_POINTS = 80  # loss curve stored as this many window means


def dataset_suffix(dataset: str) -> str:
    """File-name suffix of a dataset's stored study: none for the lesson's data (the files it always had)."""
    return "" if dataset == DEFAULT_DATASET else f"-{dataset}"


def param_study_path(start: str = "teacher", dataset: str = DEFAULT_DATASET) -> Path:
    """checkpoints/lab_param[_random][-<dataset>].json (beside the shipped models: a page reads it at run time)"""
    if start not in PARAM_STARTS:
        raise ValueError(f"Unknown start {start!r}; choose one of {', '.join(PARAM_STARTS)}.")
    return zoo.checkpoint_dir() / f"{PARAM_STARTS[start]}{dataset_suffix(dataset)}.json"


def _flag(dataset: str) -> str:
    return f" --dataset {dataset}" if dataset != DEFAULT_DATASET else ""


def param_command(start: str = "teacher", dataset: str = DEFAULT_DATASET, seeds=PARAM_SEEDS,
                  steps: int = PARAM_STEPS) -> str:
    """The command that writes ``param_study_path(start, dataset)`` with these training seeds and steps."""
    return (f"python -m cmcore.lab_cli param{' --start random' if start == 'random' else ''}{_flag(dataset)}"
            + (f" --seeds {' '.join(map(str, seeds))}" if tuple(seeds) != PARAM_SEEDS else "")
            + (f" --steps {steps}" if steps != PARAM_STEPS else ""))



class ParamDistillationObjective(ConsistencyObjective):
    """``ConsistencyObjective`` whose online and target models use ``param``'s c_skip/c_out."""

    def __init__(self, cfg: ConsistencyConfig, dataset: str, teacher: nn.Module | None, param: Parameterisation,
                 init: torch.Generator):
        super().__init__(cfg, dataset, teacher, init)
        self.model = ScaledConsistencyModel.wrap(self.model, param)
        self.target = frozen_copy(self.model).train()


def train_param(cfg: ConsistencyConfig, param: Parameterisation, teacher: nn.Module | None,
                dataset: str = DEFAULT_DATASET, **hooks) -> TrainResult:
    cfg.validate()
    param.validate()
    return fit(lambda init: ParamDistillationObjective(cfg, dataset, teacher, param, init), steps=cfg.steps, lr=cfg.lr,
               lr_schedule=cfg.lr_schedule, seed=cfg.seed, threads=cfg.threads, **hooks)


def loss_curve(values: list[float], points: int = LOSS_POINTS) -> list[tuple[int, float]]:
    """(last step of the window, mean loss over it) for ``points`` equal windows (``series.window_means``), rounded
    to 6 significant digits: a small, smooth curve for a committed file."""
    ends, _, means = window_means(values, points)
    return [(int(e), float(f"{m:.6g}")) for e, m in zip(ends, means)]


def run_spec(seed: int, n: int = PARAM_EVAL[0], count: int = PARAM_EVAL[1]) -> EvalSpec:
    """The evaluation seeds of training seed ``seed``: disjoint per seed, so a Score over runs carries both
    the training noise and the evaluation-sample noise."""
    return EvalSpec.from_base(n, count * seed, count)


def param_variants(sigma_datas=PARAM_SIGMA_DATA) -> list[Parameterisation]:
    return [LESSON] + [Parameterisation("song", sd) for sd in sigma_datas]


def run_param_study(teacher: nn.Module, teacher_cfg: TeacherConfig, cm_cfg: ConsistencyConfig,
                    variants: list[Parameterisation], seeds=PARAM_SEEDS, steps: int = PARAM_STEPS,
                    log=print) -> dict:
    """Train every (variant, seed) for ``steps`` steps; return the JSON-ready results."""
    dataset = teacher_cfg.dataset
    floor_spec = EvalSpec(PARAM_EVAL[0], tuple(s for seed in seeds for s in run_spec(seed).seeds))
    runs = []
    for param in variants:
        for seed in seeds:
            cfg = dataclasses.replace(cm_cfg, steps=steps, seed=seed)
            curve: list[tuple[int, float]] = []

            def on_step(info: StepInfo) -> None:
                if info.snapshot is not None:
                    curve.append((info.step, cm_score(info.snapshot, dataset, 1, spec=CURVE_SPEC).mean))

            start = time.perf_counter()
            res = train_param(cfg, param, teacher, dataset, on_step=on_step, snapshot_every=CURVE_EVERY)
            # the weights ``fit`` started from (it seeds the initialisation the same way)
            init = ParamDistillationObjective(cfg, dataset, teacher, param, torch.Generator().manual_seed(seed)).model
            runs.append({"form": param.form, "sigma_data": param.sigma_data, "seed": seed,
                         "w2": list(cm_score(res.model, dataset, 1, spec=run_spec(seed)).values),
                         "w2_init": cm_score(frozen_copy(init), dataset, 1, spec=CURVE_SPEC).mean,
                         "loss": loss_curve(res.losses), "w2_curve": curve, "train_seconds": res.seconds})
            log(f"  {param.label:<24} seed {seed}: W2 {np.mean(runs[-1]['w2']):.3f} "
                f"({time.perf_counter() - start:.0f} s)")
    return {"teacher_config": to_dict(teacher_cfg), "config": to_dict(dataclasses.replace(cm_cfg, steps=steps)),
            "seeds": list(seeds), "spec": {"n": floor_spec.n, "seeds": list(floor_spec.seeds)},
            "curve_spec": {"n": CURVE_SPEC.n, "seeds": list(CURVE_SPEC.seeds)},
            "floor": list(floor_score(dataset, floor_spec).values), "runs": runs}


@dataclass(frozen=True)
class ParamRun:
    param: Parameterisation
    seed: int
    w2: float  # one-step W2, mean over the spec's evaluation seeds
    w2_init: float  # one-step W2 before training (CURVE_SPEC)
    loss: tuple[tuple[int, float], ...]
    w2_curve: tuple[tuple[int, float], ...]
    train_seconds: float


@dataclass(frozen=True)
class ParamStudy:
    """The stored parameterisation study, read back (``load``) with one ``Score`` per variant."""

    teacher_config: TeacherConfig
    config: ConsistencyConfig
    spec: EvalSpec  # every evaluation seed used (each run has PARAM_EVAL[1] of them)
    floor: Score
    runs: tuple[ParamRun, ...]

    @property
    def variants(self) -> list[Parameterisation]:
        return list(dict.fromkeys(r.param for r in self.runs))

    def runs_of(self, param: Parameterisation) -> list[ParamRun]:
        return [r for r in self.runs if r.param == param]

    def score(self, param: Parameterisation) -> Score:
        """One-step W2 over training seeds (each run: the mean over its own evaluation seeds, ``run_spec``)."""
        return Score(tuple(r.w2 for r in self.runs_of(param)), self.spec.n)

    @staticmethod
    def from_json(d: dict) -> "ParamStudy":
        spec = EvalSpec(int(d["spec"]["n"]), tuple(d["spec"]["seeds"]))
        runs = tuple(ParamRun(Parameterisation(r["form"], float(r["sigma_data"])) if r["form"] != "lesson" else LESSON,
                              int(r["seed"]), float(np.mean(r["w2"])), float(r["w2_init"]),
                              tuple((int(s), float(v)) for s, v in r["loss"]),
                              tuple((int(s), float(v)) for s, v in r["w2_curve"]), float(r["train_seconds"]))
                     for r in d["runs"])
        return ParamStudy(from_dict(TeacherConfig, d["teacher_config"]), from_dict(ConsistencyConfig, d["config"]),
                          spec, Score(tuple(float(x) for x in d["floor"]), spec.n), runs)

    @property
    def dataset(self) -> str:
        return self.teacher_config.dataset

    @property
    def seeds(self) -> tuple[int, ...]:
        """The training seeds it ran."""
        return tuple(sorted({r.seed for r in self.runs}))

    @property
    def command(self) -> str:
        """The command that wrote it (its start, dataset, seeds and steps)."""
        return param_command("teacher" if self.config.init_from_teacher else "random", self.dataset, self.seeds,
                             self.config.steps)

    @staticmethod
    def load(path: Path | None = None, rebuild: str = "python -m cmcore.lab_cli param") -> "ParamStudy":
        """Raises FileNotFoundError/ValueError with the command that rebuilds the file (default: the lesson's)."""
        path = path or param_study_path()
        try:
            return ParamStudy.from_json(json.loads(Path(path).read_text()))
        except FileNotFoundError:
            raise FileNotFoundError(f"{path} is missing; run `{rebuild}` to rebuild it.") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is unreadable ({exc}); run `{rebuild}` to rebuild it.") from None

    @staticmethod
    def of(start: str = "teacher", dataset: str = DEFAULT_DATASET) -> "ParamStudy":
        """The stored study of ``dataset`` with the network started ``start``; refuses a file of other data."""
        rebuild, path = param_command(start, dataset), param_study_path(start, dataset)
        study = ParamStudy.load(path, rebuild)
        if study.dataset != dataset:
            raise ValueError(f"{path} holds a study on {study.dataset!r}, not {dataset!r}; run `{rebuild}`.")
        return study


def save_json(data: dict, path: Path) -> Path:
    return atomic_write(path, json.dumps(data, separators=(",", ":")) + "\n")  # compact: committed to the repo


# --- Straight paths: a minibatch-OT teacher and a consistency model distilled from it -----------------

OT_TEACHER = OTTeacherConfig(threads=ONE_THREAD)  # the shipped teacher's recipe + one exact 512 x 512 pairing per step
OT_TEACHER_BLOCKS = dataclasses.replace(OT_TEACHER, ot_blocks=4)  # cheaper: 4 exact 128 x 128 assignments per step
OT_CONSISTENCY = dataclasses.replace(zoo.DEFAULT.consistency, threads=ONE_THREAD)  # the shipped distillation recipe
OT_TEACHER_STEPS = (1, 2, 5, 10, 20, 50)  # Euler steps scored (the reference: 1, 2, 5, 50)
OT_CM_STEPS = (1, 2, 4)
OT_SPEC = EvalSpec(2000, (0, 1, 2, 3, 4, 5))  # the reference used 6 seeds
PAIRING_BATCHES = (128, 256, 512)
PAIRING_REPEATS = 20


def ot_study_path(dataset: str = DEFAULT_DATASET) -> Path:
    """checkpoints/lab_ot[-<dataset>].json (beside the shipped models: a page reads it at run time)"""
    return zoo.checkpoint_dir() / f"lab_ot{dataset_suffix(dataset)}.json"


def ot_table_path(dataset: str = DEFAULT_DATASET) -> Path:
    """bench/LAB_OT[-<dataset>].md"""
    return REPORT_DIR / f"LAB_OT{dataset_suffix(dataset)}.md"


def ot_command(dataset: str = DEFAULT_DATASET, eval_seeds: int = len(OT_SPEC.seeds)) -> str:
    """The commands that write ``ot_study_path(dataset)`` (the checkpoints first, then their scores)."""
    flag = _flag(dataset)
    return (f"python -m cmcore.lab_cli train-ot{flag}{' --exact-only' if flag else ''} && "
            f"python -m cmcore.lab_cli ot-bench{flag}"
            + (f" --eval-seeds {eval_seeds}" if eval_seeds != len(OT_SPEC.seeds) else ""))




def ot_teacher_config(dataset: str = DEFAULT_DATASET, blocks: int = 1) -> OTTeacherConfig:
    """The OT teacher of ``dataset``: the dataset is part of the config, so of the checkpoint's content address."""
    return dataclasses.replace(OT_TEACHER, dataset=dataset, ot_blocks=blocks)


def train_ot_teacher(cfg: OTTeacherConfig, **hooks) -> tuple[TrainResult, float]:
    """(the trained teacher, seconds the assignment solver took in all)."""
    cfg.validate()
    made: list[OTFlowMatchingObjective] = []

    def make(init: torch.Generator) -> OTFlowMatchingObjective:
        made.append(OTFlowMatchingObjective(cfg, init))
        return made[-1]

    res = fit(make, steps=cfg.steps, lr=cfg.lr, lr_schedule=cfg.lr_schedule, seed=cfg.seed, threads=cfg.threads,
              **hooks)
    return res, made[-1].pairing_seconds


def ot_teacher_path(cfg: OTTeacherConfig) -> Path:
    return zoo.teacher_path(cfg)  # named by the hash of the OT config: never the independent teacher's file


def ot_consistency_path(cfg: OTTeacherConfig, cm_cfg: ConsistencyConfig) -> Path:
    return zoo.consistency_path(cfg, cm_cfg)


def save_ot_teacher(cfg: OTTeacherConfig, model: nn.Module, metrics: dict) -> Path:
    """A plain teacher checkpoint (store format) whose metadata says how its batches were coupled."""
    return store.save(ot_teacher_path(cfg), "teacher", model, cfg.base(), metrics={**metrics, **cfg.coupling_metadata})


def save_ot_consistency(cfg: OTTeacherConfig, cm_cfg: ConsistencyConfig, model: nn.Module, metrics: dict) -> Path:
    return store.save(ot_consistency_path(cfg, cm_cfg), "consistency", model, cm_cfg, cfg.base(),
                      metrics={**metrics, **{f"teacher_{k}": v for k, v in cfg.coupling_metadata.items()}})


def _check_coupling(path: Path, metrics: dict, cfg: OTTeacherConfig, prefix: str = "") -> None:
    found = {k: metrics.get(prefix + k) for k in cfg.coupling_metadata}
    if found != cfg.coupling_metadata:
        raise store.CheckpointError(path, f"was trained with coupling {found}, expected {cfg.coupling_metadata}")


def load_ot_teacher(cfg: OTTeacherConfig) -> store.Checkpoint:
    path = ot_teacher_path(cfg)
    ckpt = store.load(path, kind="teacher", expect_config=cfg.base())
    _check_coupling(path, ckpt.metrics, cfg)
    return ckpt


def load_ot_consistency(cfg: OTTeacherConfig, cm_cfg: ConsistencyConfig) -> store.Checkpoint:
    path = ot_consistency_path(cfg, cm_cfg)
    ckpt = store.load(path, kind="consistency", expect_config=cm_cfg)
    if ckpt.teacher_config != cfg.base():
        raise store.CheckpointError(path, "was distilled from another teacher")
    _check_coupling(path, ckpt.metrics, cfg, "teacher_")
    return ckpt


def pairing_costs(dataset: str = DEFAULT_DATASET, batches=PAIRING_BATCHES, repeats: int = PAIRING_REPEATS,
                  seed: int = 0) -> list[dict]:
    """Median milliseconds per training step spent pairing, per solver, batch size and block count."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for n in batches:
        x0, eps = datasets.sample(dataset, n, g), torch.randn(n, 2, generator=g)
        for solver in OT_SOLVERS:
            for blocks in sorted({1, n // 128}):
                ot_pairing(x0, eps, solver, blocks)  # warm-up: imports, allocations
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    ot_pairing(x0, eps, solver, blocks)
                    times.append(time.perf_counter() - start)
                rows.append({"batch": n, "solver": solver, "blocks": blocks,
                             "ms": 1000 * float(np.median(times))})
    return rows


def pairing_gain(x0: torch.Tensor, eps: torch.Tensor, perm: torch.Tensor) -> float:
    """Mean squared distance of the pairs after pairing, as a share of the independent pairs' (< 1)."""
    return float(((x0 - eps[perm]) ** 2).sum(1).mean() / ((x0 - eps) ** 2).sum(1).mean())


COUPLING_LABELS = {"independent": "independent (shipped)", "minibatch_ot": "minibatch OT",
                   "minibatch_ot_blocks": "minibatch OT, 4 blocks of 128"}


def run_ot_study(dataset: str = DEFAULT_DATASET, spec: EvalSpec = OT_SPEC, log=print) -> dict:
    """Score ``dataset``'s shipped pair and its OT checkpoints with the protocol; time the pairing on batches
    of that dataset; JSON-ready."""
    recipe = zoo.recipe(zoo.DEFAULT.name, dataset)
    exact, blocks = ot_teacher_config(dataset), ot_teacher_config(dataset, OT_TEACHER_BLOCKS.ot_blocks)
    entries = {
        "independent": (zoo.load_teacher(recipe.teacher), zoo.load_consistency(recipe.teacher, recipe.consistency)),
        "minibatch_ot": (load_ot_teacher(exact), load_ot_consistency(exact, OT_CONSISTENCY)),
    }
    if ot_teacher_path(blocks).is_file():
        entries["minibatch_ot_blocks"] = (load_ot_teacher(blocks), None)
    z, _ = eval_noise(0, spec.n)
    couplings = {}
    for name, (teacher, cm) in entries.items():
        start = time.perf_counter()
        table = quality_table(teacher.model, cm.model if cm else None, dataset,
                              OT_TEACHER_STEPS if cm else OT_TEACHER_STEPS[:3],  # the block variant: few steps
                              OT_CM_STEPS if cm else (), spec, with_floor=False)
        straight = endpoint_error_curve(teacher.model, z, steps=(1,))[0]["mean_error"]
        couplings[name] = {"table": table.to_json(), "straightness": straight,
                           "train_seconds": teacher.metrics.get("seconds"),
                           "pairing_seconds": teacher.metrics.get("pairing_seconds", 0.0),
                           "cm_seconds": cm.metrics.get("seconds") if cm else None}
        log(f"  {name}: teacher 1 step {table.teacher[1]}" + (f", CM 1 step {table.consistency[1]}" if cm else "")
            + f" ({time.perf_counter() - start:.0f} s)")
    g = torch.Generator().manual_seed(0)
    x0, eps = datasets.sample(dataset, exact.batch, g), torch.randn(exact.batch, 2, generator=g)
    return {"dataset": dataset, "spec": {"n": spec.n, "seeds": list(spec.seeds)},
            "floor": list(floor_score(dataset, spec).values),
            "couplings": couplings, "pairing": pairing_costs(dataset),
            "pairing_gain": pairing_gain(x0, eps, ot_pairing(x0, eps, exact.ot_solver))}


@dataclass(frozen=True)
class CouplingResult:
    name: str
    table: QualityTable  # teacher Euler W2 by steps; consistency W2 by steps (empty: none distilled)
    straightness: float  # mean distance between the 1-step and the 200-step Euler endpoint
    train_seconds: float | None
    pairing_seconds: float

    @property
    def label(self) -> str:
        return COUPLING_LABELS.get(self.name, self.name)


@dataclass(frozen=True)
class OTStudy:
    spec: EvalSpec
    floor: Score
    couplings: dict[str, CouplingResult]
    pairing: tuple[dict, ...]  # rows: batch, solver, blocks, ms (median per training step)
    pairing_gain: float  # mean squared pair distance after OT pairing / before
    dataset: str = DEFAULT_DATASET  # what the teachers learned; the floor's and the pairing batches' data

    @property
    def command(self) -> str:
        """The commands that wrote it (its dataset and evaluation seeds)."""
        return ot_command(self.dataset, len(self.spec.seeds))

    def pairing_ms(self, batch: int, solver: str, blocks: int = 1) -> float | None:
        return next((r["ms"] for r in self.pairing
                     if (r["batch"], r["solver"], r["blocks"]) == (batch, solver, blocks)), None)

    @staticmethod
    def from_json(d: dict) -> "OTStudy":
        spec = EvalSpec(int(d["spec"]["n"]), tuple(d["spec"]["seeds"]))
        couplings = {name: CouplingResult(name, QualityTable.from_json({**c["table"], "floor": None}),
                                          float(c["straightness"]), c.get("train_seconds"),
                                          float(c.get("pairing_seconds") or 0.0))
                     for name, c in d["couplings"].items()}
        return OTStudy(spec, Score(tuple(float(x) for x in d["floor"]), spec.n), couplings,
                       tuple(d["pairing"]), float(d["pairing_gain"]),
                       str(d.get("dataset", DEFAULT_DATASET)))  # the first study (two moons) has no such key

    @staticmethod
    def load(path: Path | None = None, rebuild: str = "python -m cmcore.lab_cli ot-bench") -> "OTStudy":
        path = path or ot_study_path()
        try:
            return OTStudy.from_json(json.loads(Path(path).read_text()))
        except FileNotFoundError:
            raise FileNotFoundError(f"{path} is missing; run `{rebuild}` to rebuild it.") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is unreadable ({exc}); run `{rebuild}`.") from None

    @staticmethod
    def of(dataset: str = DEFAULT_DATASET) -> "OTStudy":
        """The stored study of ``dataset``; refuses a file measured on other data."""
        rebuild, path = ot_command(dataset), ot_study_path(dataset)
        study = OTStudy.load(path, rebuild)
        if study.dataset != dataset:
            raise ValueError(f"{path} holds a study on {study.dataset!r}, not {dataset!r}; run `{rebuild}`.")
        return study


def ot_markdown(study: OTStudy, findings: list[str]) -> str:
    """bench/LAB_OT.md: the measured W2 table, the pairing cost and the computed findings."""
    nfes = sorted({k for c in study.couplings.values() for k in (*c.table.teacher, *c.table.consistency)})
    flag = _flag(study.dataset)
    lines = [f"# Straight paths on {datasets.noun(study.dataset)}: minibatch-OT teacher vs the shipped (independent) "
             "teacher", "",
             f"Written by `python -m cmcore.lab_cli ot-bench{flag}` (checkpoints from "
             f"`python -m cmcore.lab_cli train-ot{flag}`).",
             f"W2 by the evaluation protocol: {study.spec.describe()}, mean ± standard error over seeds. "
             f"Floor (two real samples): {study.floor}.", "",
             "| model | " + " | ".join(f"NFE {k}" for k in nfes) + " |", "|---|" + "---|" * len(nfes)]
    for c in study.couplings.values():
        for role, scores in (("teacher, Euler", c.table.teacher), ("consistency model", c.table.consistency)):
            if scores:
                lines.append(f"| {role} ({c.label}) | "
                             + " | ".join(str(scores[k]) if k in scores else "" for k in nfes) + " |")
    lines += ["", "Training time and straightness (mean distance of the 1-step Euler endpoint from the 200-step one, "
              "2,000 points):", "", "| teacher | training s | of which pairing s | 1-step endpoint error |",
              "|---|---|---|---|"]
    for c in study.couplings.values():
        secs = f"{c.train_seconds:.0f}" if c.train_seconds else "?"
        lines.append(f"| {c.label} | {secs} | {c.pairing_seconds:.0f} | {c.straightness:.3f} |")
    lines += ["", f"Pairing cost per training step (median of {PAIRING_REPEATS} runs, milliseconds, a batch of "
              f"{datasets.noun(study.dataset)} vs Gaussian noise). Wall-clock times on a 2-core machine shared with "
              "other jobs: they move by a factor of several with the load; the ratios between rows are the robust "
              "part.", "",
              "| batch | solver | exact assignments per step | ms |", "|---|---|---|---|"]
    lines += [f"| {r['batch']} | {r['solver']} | {r['blocks']} of {r['batch'] // r['blocks']} | {r['ms']:.1f} |"
              for r in study.pairing]
    lines += ["", "## What the numbers say", ""] + [f"- {f}" for f in findings] + [""]
    return "\n".join(lines)
