"""Consistency models: level schedules, the distillation/training losses, samplers.

Notation follows Song et al., "Consistency Models" (2023), with the lesson's
flow x_t = (1 - t) x0 + t eps standing in for the paper's VE noise:
  levels          t_1 = sigma_min < t_2 < ... < t_N = sigma_max
  distillation    x_{t_{n+1}} = (1 - t_{n+1}) x0 + t_{n+1} eps,
                  x_hat_{t_n} = one teacher ODE step from t_{n+1} to t_n       (Alg. 2)
  training        x_hat_{t_n} = (1 - t_n) x0 + t_n eps (same eps; no teacher)  (Alg. 3)
  loss            d( f_theta(x_{t_{n+1}}, t_{n+1}),  f_theta^-(x_hat_{t_n}, t_n) )
  target update   theta^- <- mu theta^- + (1 - mu) theta
  sampling        Alg. 1: x0_hat = f(x_T, T); for each lower level tau:
                  x_tau = (1 - tau) x0_hat + tau z,  x0_hat = f(x_tau, tau)
                  (z fresh at each re-noise; ``same_noise`` re-uses x_T's, the notebook's common mistake)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import SIGMA_MAX, SIGMA_MIN
from .flow import interpolate, ode_step


# --- Level schedules -------------------------------------------------------

def uniform_levels(n: int, sigma_min: float, sigma_max: float) -> torch.Tensor:
    """N evenly spaced levels, ascending (the lesson's schedule)."""
    return torch.linspace(sigma_min, sigma_max, n)


def karras_levels(n: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> torch.Tensor:
    """Karras et al. (2022) Eq. 5 levels, ascending: dense near sigma_min for rho > 1 (even for rho = 1)."""
    i = torch.arange(n, dtype=torch.float64) / (n - 1)
    levels = (sigma_min ** (1 / rho) + i * (sigma_max ** (1 / rho) - sigma_min ** (1 / rho))) ** rho
    return levels.float()


def levels_for(schedule: str, n: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> torch.Tensor:
    if n < 2:
        raise ValueError(f"A schedule needs at least 2 levels; got {n}.")
    if schedule == "uniform":
        return uniform_levels(n, sigma_min, sigma_max)
    if schedule == "karras":
        return karras_levels(n, sigma_min, sigma_max, rho)
    raise ValueError(f"Unknown schedule {schedule!r}; choose uniform or karras.")


# --- Losses ----------------------------------------------------------------

def distance(a: torch.Tensor, b: torch.Tensor, kind: str, c: float = 0.03) -> torch.Tensor:
    """Mean distance between point sets: squared L2 (per coordinate, as MSE) or pseudo-Huber."""
    if kind == "l2":
        return ((a - b) ** 2).mean()  # [TODO 3]
    if kind == "pseudo_huber":
        # sqrt(||a - b||^2 + c^2) - c  (Song & Dhariwal 2023, Eq. 9).
        return (torch.sqrt(((a - b) ** 2).sum(dim=1) + c * c) - c).mean()  # [TODO 3]
    raise ValueError(f"Unknown loss {kind!r}; choose l2 or pseudo_huber.")


def adjacent_levels(levels: torch.Tensor, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n ~ U{1, ..., N-1}: returns (t_n, t_{n+1}) for each point."""
    n = torch.randint(0, len(levels) - 1, (batch,), generator=generator)
    return levels[n].reshape(-1, 1), levels[n + 1].reshape(-1, 1)


@dataclass(frozen=True)
class ConsistencyPair:
    """The two inputs the loss compares: (x_{t_{n+1}}, t_{n+1}) online, (x_hat_{t_n}, t_n) target."""

    x_next: torch.Tensor
    t_next: torch.Tensor
    x_hat: torch.Tensor
    t: torch.Tensor


def distillation_pair(teacher: nn.Module, x0: torch.Tensor, levels: torch.Tensor, solver: str,
                      generator: torch.Generator) -> ConsistencyPair:
    """Algorithm 2 inputs: noise x0 to t_{n+1}, then one teacher ODE step down to t_n."""
    t_n, t_n1 = adjacent_levels(levels, x0.shape[0], generator)
    eps = torch.randn(x0.shape, generator=generator)
    x_tn1 = interpolate(x0, eps, t_n1)  # [TODO 1]
    with torch.no_grad():
        x_hat_tn = ode_step(teacher, x_tn1, t_n1, t_n, solver)  # [TODO 2]
    return ConsistencyPair(x_tn1, t_n1, x_hat_tn, t_n)


def training_pair(x0: torch.Tensor, levels: torch.Tensor, generator: torch.Generator) -> ConsistencyPair:
    """Algorithm 3 inputs: the same eps at both levels; the clean x0 stands in for the teacher."""
    t_n, t_n1 = adjacent_levels(levels, x0.shape[0], generator)
    eps = torch.randn(x0.shape, generator=generator)
    return ConsistencyPair(interpolate(x0, eps, t_n1), t_n1, interpolate(x0, eps, t_n), t_n)


def consistency_loss(model: nn.Module, target: nn.Module, pair: ConsistencyPair, kind: str, c: float) -> torch.Tensor:
    pred_online = model(pair.x_next, pair.t_next)
    with torch.no_grad():
        pred_target = target(pair.x_hat, pair.t)
    return distance(pred_online, pred_target, kind, c)  # [TODO 3]


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, mu: float) -> None:
    """theta^- <- mu theta^- + (1 - mu) theta  (mu = 0 copies the online weights)."""
    for p_target, p_online in zip(target.parameters(), online.parameters()):
        p_target.lerp_(p_online, 1.0 - mu)  # [TODO 4]


# --- Sampling ----------------------------------------------------------------

def default_sampling_levels(k: int, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX) -> torch.Tensor:
    """K descending levels evenly spaced from sigma_max toward sigma_min (the lesson's choice)."""
    if k < 1:
        raise ValueError(f"Need at least one sampling step; got {k}.")
    return torch.linspace(sigma_max, sigma_min, k + 1)[:-1]


# Spacings of the K sampling levels: tau_i = (sigma_max^(1/rho) + i/K (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho,
# i = 0..K-1, the Karras et al. (2022) Eq. 5 family read from the top (rho = 1 is even spacing).
SAMPLING_RHO = {
    "uniform": 1.0,  # the lesson's: evenly spaced
    "karras": 7.0,  # Karras et al.'s rho: levels packed near sigma_min, large first re-noise steps down
    "high": 0.5,  # packed near sigma_max, where the notebook says the prediction is hardest
}


def sampling_levels(k: int, spacing: str = "uniform", sigma_min: float = SIGMA_MIN,
                    sigma_max: float = SIGMA_MAX) -> torch.Tensor:
    """K descending sampling levels from sigma_max toward sigma_min (sigma_min itself is never a level)."""
    if spacing not in SAMPLING_RHO:
        raise ValueError(f"Unknown spacing {spacing!r}; choose one of {', '.join(SAMPLING_RHO)}.")
    if spacing == "uniform":
        return default_sampling_levels(k, sigma_min, sigma_max)  # bit for bit the levels the stored scores used
    if k < 1:
        raise ValueError(f"Need at least one sampling step; got {k}.")
    levels = karras_levels(k + 1, sigma_min, sigma_max, SAMPLING_RHO[spacing]).flip(0)[:-1]
    levels[0] = sigma_max  # the first jump starts from pure noise, whatever the rounding
    return levels


@dataclass(frozen=True)
class MultistepResult:
    """Multi-step consistency sampling: ``x0_hats[i]`` is the jump from ``inputs[i]`` at ``levels[i]``."""

    samples: torch.Tensor  # [n, 2], the last jump
    levels: torch.Tensor  # [K] descending
    inputs: torch.Tensor  # [K, n, 2]: x_T, then each re-noised point
    x0_hats: torch.Tensor  # [K, n, 2]
    nfe: int


@torch.no_grad()
def sample_multistep(model: nn.Module, z: torch.Tensor, levels: torch.Tensor | list[float],
                     generator: torch.Generator, same_noise: bool = False) -> MultistepResult:
    """Algorithm 1: jump to x0_hat, re-noise to the next lower level with fresh z, repeat.

    ``z`` is the starting noise (x at levels[0]); no re-noise after the last jump.  ``same_noise``
    re-noises with ``z`` itself every time instead (the notebook's common mistake, measured on page 4).
    """
    levels = torch.as_tensor(levels, dtype=torch.float32).flatten()
    if len(levels) == 0:
        raise ValueError("Need at least one sampling level.")
    if len(levels) > 1 and not bool((levels[1:] < levels[:-1]).all()):
        raise ValueError(f"Sampling levels must strictly decrease; got {levels.tolist()}.")
    sigma_min = getattr(model, "sigma_min", 0.0)
    if float(levels[-1]) < sigma_min or float(levels[0]) > 1.0:
        raise ValueError(f"Sampling levels must lie in [{sigma_min}, 1]; got {levels.tolist()}.")
    x = z
    inputs, x0_hats = [], []
    for i, tau in enumerate(levels):
        if i > 0:
            # Re-noise the clean estimate to the next lower level, with fresh noise (or x_T's again).
            noise = z if same_noise else torch.randn(z.shape, generator=generator)
            x = interpolate(x0_hats[-1], noise, tau.expand(z.shape[0]))
        inputs.append(x)
        # Jump to the clean estimate.
        x0_hats.append(model(x, tau.expand(z.shape[0], 1)))
    return MultistepResult(x0_hats[-1], levels, torch.stack(inputs), torch.stack(x0_hats), nfe=len(levels))


@torch.no_grad()
def sample_one_step(model: nn.Module, z: torch.Tensor, sigma_max: float = 1.0) -> torch.Tensor:
    """f(x_T, T): one network evaluation from noise to data."""
    return model(z, torch.full((z.shape[0], 1), sigma_max))
