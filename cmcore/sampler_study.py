"""Page 4's two experiments on the multi-step sampler, measured by the protocol.

(a) Re-noise: Algorithm 1 draws fresh noise z at every re-noise; the notebook lists re-using
    the starting noise x_T instead as a common mistake.  Both are scored.
(b) Spacing: the K sampling levels evenly spaced (the lesson's), packed near sigma_min
    (Karras et al.'s rho = 7) or packed near sigma_max (``consistency.SAMPLING_RHO``).

Every variant is scored like every sampler of the dashboard (``evaluate.cm_score``: W2 at the
protocol's points and seeds, mean ± standard error), at K = 2, 4 and 8 steps: one step has
neither a re-noise nor a spacing.  ``python -m cmcore.lab_cli samplers`` stores the study of each
shipped pair beside its checkpoint (``samplers-<hash>.json``); any other model is measured when asked.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from torch import nn

from . import evaluate, zoo
from .config import ConsistencyConfig, TeacherConfig, config_hash
from .consistency import SAMPLING_RHO, sampling_levels
from .evaluate import EvalSpec, Score
from .files import atomic_write

STUDY_STEPS = (2, 4, 8)  # K: one step has nothing to re-noise and no levels to space
SPACINGS = tuple(SAMPLING_RHO)  # "uniform" (the lesson's) first
LESSON_SPACING = "uniform"


@dataclass(frozen=True)
class Variant:
    """One way of running K-step sampling: the lesson's is fresh noise and uniform spacing."""

    k: int
    same_noise: bool = False
    spacing: str = LESSON_SPACING

    @property
    def is_lesson(self) -> bool:
        return not self.same_noise and self.spacing == LESSON_SPACING

    def key(self) -> str:
        return f"{self.k}:{'same' if self.same_noise else 'fresh'}:{self.spacing}"

    @staticmethod
    def from_key(key: str) -> "Variant":
        k, noise, spacing = key.split(":")
        if noise not in ("same", "fresh") or spacing not in SAMPLING_RHO:
            raise ValueError(f"Unknown sampler variant {key!r}.")
        return Variant(int(k), noise == "same", spacing)


def variants(steps: tuple[int, ...] = STUDY_STEPS) -> list[Variant]:
    """Per K: the lesson's sampler, the same with the starting noise re-used, and each other spacing."""
    out = []
    for k in steps:
        out += [Variant(k), Variant(k, same_noise=True)]
        out += [Variant(k, spacing=s) for s in SPACINGS if s != LESSON_SPACING]
    return out


def variant_score(cm: nn.Module, dataset: str, v: Variant, spec: EvalSpec = EvalSpec()) -> Score:
    """W2 of one variant by the protocol (the same noise and reference seeds as every other sampler)."""
    levels = sampling_levels(v.k, v.spacing, cm.sigma_min)
    return evaluate.cm_score(cm, dataset, v.k, levels, spec, same_noise=v.same_noise)


@dataclass(frozen=True)
class SamplerStudy:
    scores: Mapping[Variant, Score]
    spec: EvalSpec
    spacings = SPACINGS  # the lesson's first (read by viz, which does not import torch modules)
    lesson_spacing = LESSON_SPACING

    @property
    def steps(self) -> tuple[int, ...]:
        return tuple(sorted({v.k for v in self.scores}))

    def lesson(self, k: int) -> Score:
        return self.scores[Variant(k)]

    def same_noise(self, k: int) -> Score:
        return self.scores[Variant(k, same_noise=True)]

    def spacing(self, k: int, spacing: str) -> Score:
        return self.scores[Variant(k, spacing=spacing)]

    def to_json(self) -> dict:
        return {"n": self.spec.n, "seeds": list(self.spec.seeds),
                "scores": {v.key(): list(s.values) for v, s in self.scores.items()}}

    @staticmethod
    def from_json(data: dict) -> "SamplerStudy":
        spec = EvalSpec(int(data["n"]), tuple(int(s) for s in data["seeds"]))
        return SamplerStudy({Variant.from_key(k): Score(tuple(float(x) for x in v), spec.n)
                             for k, v in data["scores"].items()}, spec)


def run(cm: nn.Module, dataset: str, spec: EvalSpec = EvalSpec(), steps: tuple[int, ...] = STUDY_STEPS,
        known: Mapping[int, Score] | None = None) -> SamplerStudy:
    """Score every variant; ``known`` (K -> the lesson's sampler's Score, e.g. a stored table) is reused on the
    study's own seeds, so every variant of a K is measured on the same seeds and compared pair by pair."""
    reused = {k: score.on(spec.seeds) for k, score in (known or {}).items() if score.n == spec.n}
    scores = {v: reused[v.k] if v.is_lesson and reused.get(v.k) else variant_score(cm, dataset, v, spec)
              for v in variants(steps)}
    return SamplerStudy(scores, spec)


def study_path(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, root: Path | None = None) -> Path:
    return (root or zoo.checkpoint_dir()) / f"samplers-{config_hash(teacher_cfg, cfg)}.json"


def save(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, study: SamplerStudy, root: Path | None = None) -> Path:
    return atomic_write(study_path(teacher_cfg, cfg, root), json.dumps(study.to_json(), indent=1) + "\n")


def load(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig, spec: EvalSpec = EvalSpec(),
         root: Path | None = None) -> SamplerStudy | None:
    """The stored study of a shipped pair at ``spec``; None if absent, damaged, for another spec or incomplete."""
    try:
        study = SamplerStudy.from_json(json.loads(study_path(teacher_cfg, cfg, root).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if study.spec != spec or not set(variants()) <= set(study.scores):
        return None
    return study
