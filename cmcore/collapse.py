"""When a consistency model has *collapsed*: the one definition every page and the study use.

A model has collapsed when its one-step samples are squeezed onto (nearly) one spot AND they are
no better than the teacher's single Euler step, both judged with ``compare`` (mean ± standard
error over the protocol's seeds), so a verdict inside the noise is never called a collapse:

* the spread (``metrics.spread``) of its one-step samples is measurably below
  ``COLLAPSE_SPREAD_FRACTION`` × the data's spread, and
* its one-step W2 is not measurably lower than the teacher's one-step W2.

The threshold is relative to the data's spread, so it reads the same on every dataset (an upload
is normalised to its own spread, two moons has about 2.0).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .evaluate import EvalSpec, Score, cm_samples, compare, eval_reference
from .metrics import spread

# A fifth of the data's spread.  In the stored study (bench/STUDY.md, `python -m cmcore study`) the
# collapsed runs sit at 0.001-0.008 x the data's spread and the narrowest run that still draws the
# data's shape at 0.38 x; a fifth lies between the two with a wide margin on both sides.
COLLAPSE_SPREAD_FRACTION = 0.2


def spread_score(sample: Callable[[int, int], torch.Tensor], spec: EvalSpec) -> Score:
    """``spread`` of ``sample(seed, n)`` per seed, read as mean ± standard error like a W2."""
    return Score(tuple(spread(sample(s, spec.n)) for s in spec.seeds), spec.n)


def is_collapsed(spread_: Score, data_spread: Score, w2_1: Score, teacher_1: Score,
                 fraction: float = COLLAPSE_SPREAD_FRACTION) -> bool:
    """Collapsed: spread measurably below ``fraction`` x the data's AND W2 not measurably below the teacher's 1 step."""
    return compare(spread_, data_spread, fraction).lower and not compare(w2_1, teacher_1).lower


def model_spread(cm: nn.Module, spec: EvalSpec = EvalSpec()) -> Score:
    """Spread of the consistency model's one-step samples on the protocol's noise."""
    return spread_score(lambda s, n: cm_samples(cm, s, n, 1), spec)


def data_spread(dataset: str, spec: EvalSpec = EvalSpec()) -> Score:
    """Spread of the protocol's real reference samples."""
    return spread_score(lambda s, n: eval_reference(dataset, s, n), spec)


def collapsed(cm: nn.Module, dataset: str, w2_1: Score, teacher_1: Score, spec: EvalSpec = EvalSpec()) -> bool:
    """``is_collapsed`` measured for one model: its one-step W2 ``w2_1`` and the teacher's ``teacher_1`` at ``spec``."""
    return is_collapsed(model_spread(cm, spec), data_spread(dataset, spec), w2_1, teacher_1)
