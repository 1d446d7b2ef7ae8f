"""Straight paths (page "Straight paths"): a minibatch-OT teacher and a consistency model distilled from it,
scored against the shipped (independent) pair; their checkpoints and the stored study."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import datasets, store, zoo
from ..config import DEFAULT_DATASET, ConsistencyConfig
from ..evaluate import EvalSpec, QualityTable, Score, endpoint_error_curve, eval_noise, floor_score, quality_table
from ..ot_coupling import OT_SOLVERS, OTFlowMatchingObjective, OTTeacherConfig, ot_pairing
from ..threads import ONE_THREAD
from ..train import TrainResult, fit
from .stored import dataset_flag, dataset_suffix, load_stored, of_dataset

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


def ot_command(dataset: str = DEFAULT_DATASET, eval_seeds: int = len(OT_SPEC.seeds)) -> str:
    """The commands that write ``ot_study_path(dataset)`` (the checkpoints first, then their scores)."""
    flag = dataset_flag(dataset)
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
        """Raises FileNotFoundError/ValueError with the command that rebuilds the file."""
        return load_stored(OTStudy.from_json, path or ot_study_path(), rebuild)

    @staticmethod
    def of(dataset: str = DEFAULT_DATASET) -> "OTStudy":
        """The stored study of ``dataset``; refuses a file measured on other data."""
        rebuild, path = ot_command(dataset), ot_study_path(dataset)
        return of_dataset(OTStudy.load(path, rebuild), dataset, path, rebuild)
