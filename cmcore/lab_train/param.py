"""The parameterisation study (page "Parameterisations"): consistency distillation from the shipped teacher
with the shipped recipe, shortened, once per parameterisation and training seed; the one-step W2 of each run by
the evaluation protocol, its loss curve, and its W2 along training."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import zoo
from ..config import DEFAULT_DATASET, ConsistencyConfig, TeacherConfig, from_dict, to_dict
from ..evaluate import EvalSpec, Score, cm_score, floor_score
from ..nets import frozen_copy
from ..parameterisation import LESSON, Parameterisation, ScaledConsistencyModel
from ..series import window_means
from ..train import ConsistencyObjective, StepInfo, TrainResult, fit
from .stored import dataset_flag, dataset_suffix, load_stored, of_dataset

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


def param_study_path(start: str = "teacher", dataset: str = DEFAULT_DATASET) -> Path:
    """checkpoints/lab_param[_random][-<dataset>].json (beside the shipped models: a page reads it at run time)"""
    if start not in PARAM_STARTS:
        raise ValueError(f"Unknown start {start!r}; choose one of {', '.join(PARAM_STARTS)}.")
    return zoo.checkpoint_dir() / f"{PARAM_STARTS[start]}{dataset_suffix(dataset)}.json"


def param_command(start: str = "teacher", dataset: str = DEFAULT_DATASET, seeds=PARAM_SEEDS,
                  steps: int = PARAM_STEPS) -> str:
    """The command that writes ``param_study_path(start, dataset)`` with these training seeds and steps."""
    return (f"python -m cmcore.lab_cli param{' --start random' if start == 'random' else ''}{dataset_flag(dataset)}"
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
        return load_stored(ParamStudy.from_json, path or param_study_path(), rebuild)


    @staticmethod
    def of(start: str = "teacher", dataset: str = DEFAULT_DATASET) -> "ParamStudy":
        """The stored study of ``dataset`` with the network started ``start``; refuses a file of other data."""
        rebuild, path = param_command(start, dataset), param_study_path(start, dataset)
        return of_dataset(ParamStudy.load(path, rebuild), dataset, path, rebuild)
