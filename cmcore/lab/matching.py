"""The matching behind W2 (page lab_w2): the optimal pairs, their lengths against the floor's."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import evaluate


# The samplers the W2 explainer can match against real data: key -> label.
W2_SAMPLERS: dict[str, str] = {
    "teacher_1": "Teacher, 1 Euler step",
    "teacher_50": "Teacher, 50 Euler steps",
    "cm_1": "Consistency model, 1 step",
    "floor": "Second real sample (the floor)",
}
# The same samplers as the subject of a sentence ("... is worse than the floor").
W2_SAMPLER_NOUNS: dict[str, str] = {
    "teacher_1": "the teacher's one-step sample",
    "teacher_50": "the teacher's 50-step sample",
    "cm_1": "the consistency model's one-step sample",
    "floor": "a second real sample",
}
TEACHER_SAMPLER_STEPS = {"teacher_1": 1, "teacher_50": 50}  # Euler steps of the teacher samplers
LONG_LINE_QUANTILE = 0.95  # a line is "long" when fewer than 5% of the floor's lines are as long
TOP_SHARE = 0.10  # the explainer reports the share of W2^2 carried by the longest tenth of the lines


def _check_sampler(name: str) -> None:
    if name not in W2_SAMPLERS:
        raise ValueError(f"Unknown sampler {name!r}; choose one of {', '.join(W2_SAMPLERS)}.")


def sampler_points(name: str, teacher: nn.Module, cm: nn.Module, dataset: str, seed: int, n: int) -> torch.Tensor:
    """``n`` points of sampler ``name`` from the evaluation noise (or, for the floor, the floor sample) of ``seed``."""
    _check_sampler(name)
    if name in TEACHER_SAMPLER_STEPS:
        return evaluate.teacher_samples(teacher, seed, n, TEACHER_SAMPLER_STEPS[name])
    if name == "cm_1":
        return evaluate.cm_samples(cm, seed, n, 1)
    return evaluate.floor_sample(dataset, seed, n)


def w2_matching(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> tuple[np.ndarray, float]:
    """The optimal matching behind the exact W2 of two equal-size sets: (perm, W2).

    ``a[i]`` is matched to ``b[perm[i]]``; the matching minimises sum_i |a_i - b_perm(i)|^2 over all
    permutations, and W2 = sqrt(mean_i |a_i - b_perm(i)|^2) (equal sizes, uniform weights: the optimal plan
    is a permutation, so this is the value ``metrics.w2`` computes).
    """
    from scipy.optimize import linear_sum_assignment

    a, b = _np(a), _np(b)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"A matching needs two [n, d] sets of the same size; got {a.shape} and {b.shape}.")
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    rows, perm = linear_sum_assignment(cost)  # rows come back as 0..n-1 in order
    return perm, float(np.sqrt(cost[rows, perm].mean()))


def _np(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


@dataclass(frozen=True)
class LineStats:
    """What the lines of a matching say: W2 is the root-mean-square of their lengths."""

    w2: float
    median: float  # the typical line
    long_threshold: float  # LONG_LINE_QUANTILE of the floor's line lengths at the same size
    long_share: float  # share of lines longer than long_threshold
    top_share: float  # share of sum(length^2) carried by the longest TOP_SHARE of the lines


def line_stats(lengths: np.ndarray, floor_lengths: np.ndarray) -> LineStats:
    lengths = np.asarray(lengths, dtype=np.float64)
    threshold = float(np.quantile(floor_lengths, LONG_LINE_QUANTILE))
    sq = np.sort(lengths ** 2)[::-1]
    top = max(1, int(round(TOP_SHARE * len(sq))))
    return LineStats(float(np.sqrt((lengths ** 2).mean())), float(np.median(lengths)), threshold,
                     float((lengths > threshold).mean()), float(sq[:top].sum() / sq.sum()) if sq.sum() > 0 else 0.0)
