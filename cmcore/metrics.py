"""Sample-quality metrics on 2D point sets (numbers in the dashboard come from here)."""
from __future__ import annotations

import numpy as np
import torch

DEFAULT_EVAL_POINTS = 2000  # generated and reference points per W2 evaluation
DEFAULT_EVAL_SEEDS = (0, 1, 2)  # W2 is averaged over these seeds of noise and reference
# How far the same model's W2 moves from one machine to another (float rounding only): another torch thread
# count or CPU kernel set (ATEN_CPU_CAPABILITY=default) moved a per-seed W2 by 1.2e-7 at most, another x86-64
# machine by 2.3e-8 (python bench/tolerance_check.py).  About 80x that, and 100x below the smallest standard
# error the protocol reports (~1e-3): two W2 values closer than this are the same measurement.
W2_FLOAT_NOISE = 1e-5


def _np(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


def spread(points: torch.Tensor | np.ndarray) -> float:
    """RMS distance of the points from their own centre: 0 when every point is the same (float64)."""
    x = _np(points)
    return float(np.sqrt(((x - x.mean(axis=0)) ** 2).sum(axis=1).mean()))


EMD_MAX_ITER = 10_000_000  # network-simplex iteration cap; far above what 2,000 x 2,000 needs


def w2(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """Exact 2-Wasserstein distance between two equal-size point sets.

    With equal sizes and uniform weights the optimal transport plan is a permutation
    (Birkhoff), so this equals the optimal-assignment value that scipy's
    ``linear_sum_assignment`` finds (the tests check they agree).  POT's network simplex is
    used because it stays fast on degenerate inputs, e.g. a sampler that collapses every
    point onto one spot, where the assignment solver needs seconds to tens of seconds.
    """
    import ot  # imported on first use: with scikit-learn it costs ~1 s of app start-up

    a, b = _np(a), _np(b)
    if a.shape != b.shape:
        raise ValueError(f"W2 needs two sets of the same size; got {a.shape} and {b.shape}.")
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)  # squared Euclidean, no cancellation error
    weights = np.full(len(a), 1.0 / len(a))
    return float(np.sqrt(max(ot.emd2(weights, weights, cost, numItermax=EMD_MAX_ITER), 0.0)))


def sliced_w2(a, b, n_projections: int = 256, seed: int = 0) -> float:
    """Sliced W2: root-mean over random directions of the 1D W2 between projections."""
    a, b = _np(a), _np(b)
    if a.shape != b.shape:
        raise ValueError(f"Sliced W2 needs two sets of the same size; got {a.shape} and {b.shape}.")
    theta = np.random.default_rng(seed).normal(size=(a.shape[1], n_projections))
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    pa, pb = np.sort(a @ theta, axis=0), np.sort(b @ theta, axis=0)
    return float(np.sqrt(((pa - pb) ** 2).mean()))


def mmd(a, b, bandwidths: tuple[float, ...] = (0.1, 0.3, 1.0)) -> float:
    """Biased MMD^2 with a sum of RBF kernels; 0 for identical sets."""
    a, b = _np(a), _np(b)

    def k(x, y):
        d2 = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
        return sum(np.exp(-d2 / (2 * h * h)) for h in bandwidths)

    return float(k(a, a).mean() + k(b, b).mean() - 2 * k(a, b).mean())


def endpoint_error(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Per-point Euclidean distance to the reference endpoints."""
    return torch.linalg.vector_norm(pred - true, dim=-1)
