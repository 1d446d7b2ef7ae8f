"""Minibatch optimal-transport coupling for flow matching (Tong et al. 2023, "Improving and generalizing
flow-based generative models with minibatch optimal transport", Alg. 2, OT-CFM).

Independent coupling (the lesson)   x0 ~ data, eps ~ N(0, I), drawn independently
Minibatch OT coupling               draw a batch of each, then pair x0_i with eps_{sigma(i)}, where the
                                    permutation sigma minimises sum_i ||x0_i - eps_{sigma(i)}||^2
                                    (an exact assignment; with equal sizes and uniform weights the
                                    optimal transport plan is a permutation)
Both then regress v_theta(x_t, t) on eps - x0 along x_t = (1 - t) x0 + t eps.

Paired points are close, so the straight lines between them cross less and the learned ODE's
paths are straighter: few Euler steps get close to the endpoint.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import datasets
from .config import TeacherConfig, check_choice
from .flow import interpolate, velocity_target
from .train import FlowMatchingObjective

OT_SOLVERS = ("scipy", "pot")  # scipy: Jonker-Volgenant (linear_sum_assignment); pot: network simplex (ot.emd)
COUPLINGS = ("independent", "minibatch_ot")


def squared_cost(x0: torch.Tensor, eps: torch.Tensor) -> np.ndarray:
    """C_ij = ||x0_i - eps_j||^2 in float64."""
    a, b = x0.detach().double().numpy(), eps.detach().double().numpy()
    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


def assignment(cost: np.ndarray, solver: str = "scipy") -> np.ndarray:
    """The permutation sigma minimising sum_i cost[i, sigma(i)] (exact)."""
    if solver == "scipy":
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(cost)
        perm = np.empty(len(rows), dtype=np.int64)
        perm[rows] = cols
        return perm
    if solver == "pot":
        import ot

        n = cost.shape[0]
        plan = ot.emd(np.full(n, 1.0 / n), np.full(n, 1.0 / n), cost)
        return plan.argmax(axis=1).astype(np.int64)  # a vertex of the Birkhoff polytope: one 1/n per row
    raise ValueError(f"Unknown OT solver {solver!r}; choose one of {', '.join(OT_SOLVERS)}.")


def ot_pairing(x0: torch.Tensor, eps: torch.Tensor, solver: str = "scipy", blocks: int = 1) -> torch.Tensor:
    """Indices ``perm`` such that (x0[i], eps[perm[i]]) is the minibatch OT pairing.

    ``blocks > 1`` solves ``blocks`` independent assignments on consecutive slices (exact within each slice,
    cheaper: the solver's cost grows about as n^3); ``blocks=1`` is the exact pairing of the whole batch.
    """
    n = x0.shape[0]
    if blocks < 1 or n % blocks:
        raise ValueError(f"blocks={blocks} must be a positive divisor of the batch size {n}.")
    size = n // blocks
    perm = np.empty(n, dtype=np.int64)
    for b in range(blocks):
        sl = slice(b * size, (b + 1) * size)
        perm[sl] = b * size + assignment(squared_cost(x0[sl], eps[sl]), solver)
    return torch.from_numpy(perm)


def coupled_flow_matching_loss(model: nn.Module, x0: torch.Tensor, generator: torch.Generator,
                               pair=None) -> torch.Tensor:
    """``flow.flow_matching_loss`` with the noise re-ordered by ``pair(x0, eps)`` (None: independent)."""
    eps = torch.randn(x0.shape, generator=generator)
    if pair is not None:
        eps = eps[pair(x0, eps)]
    t = torch.rand(x0.shape[0], 1, generator=generator)
    return F.mse_loss(model(interpolate(x0, eps, t), t), velocity_target(x0, eps))


@dataclass(frozen=True)
class OTTeacherConfig(TeacherConfig):
    """A flow-matching teacher trained with minibatch OT coupling (all ``TeacherConfig`` fields, plus these)."""

    coupling: str = "minibatch_ot"  # how data and noise are paired within a batch
    ot_solver: str = "pot"  # exact solver: on two-moons vs noise at batch 512, POT's network simplex beat scipy's LSA
    ot_blocks: int = 1  # 1: one exact assignment per batch; k: k exact assignments of batch/k points

    def validate(self) -> "OTTeacherConfig":
        super().validate()
        check_choice(self, "coupling", COUPLINGS)
        check_choice(self, "ot_solver", OT_SOLVERS)
        if self.ot_blocks < 1 or self.batch % self.ot_blocks:
            raise ValueError(f"OTTeacherConfig.ot_blocks={self.ot_blocks} must be a positive divisor of "
                             f"batch={self.batch}.")
        return self

    def base(self) -> TeacherConfig:
        """The plain ``TeacherConfig`` part (what a checkpoint's config field holds)."""
        return TeacherConfig(**{f.name: getattr(self, f.name) for f in dataclasses.fields(TeacherConfig)})

    @property
    def coupling_metadata(self) -> dict:
        return {"coupling": self.coupling, "ot_solver": self.ot_solver, "ot_blocks": self.ot_blocks}


class OTFlowMatchingObjective(FlowMatchingObjective):
    """The teacher's objective with minibatch OT pairing; ``pairing_seconds`` adds up the solver's time."""

    def __init__(self, cfg: OTTeacherConfig, init: torch.Generator):
        super().__init__(cfg, init)
        self.pairing_seconds = 0.0

    def _pair(self, x0: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        start = time.perf_counter()
        perm = ot_pairing(x0, eps, self.cfg.ot_solver, self.cfg.ot_blocks)
        self.pairing_seconds += time.perf_counter() - start
        return perm

    def loss(self, generator: torch.Generator) -> torch.Tensor:
        x0 = datasets.sample(self.cfg.dataset, self.cfg.batch, generator)
        pair = self._pair if self.cfg.coupling == "minibatch_ot" else None
        return coupled_flow_matching_loss(self.model, x0, generator, pair)

