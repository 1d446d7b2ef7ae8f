"""Flow matching (rectified-flow form) and its ODE solvers.

Interpolation  x_t = (1 - t) x0 + t eps,   t in [0, 1], eps ~ N(0, I)
Velocity       dx_t/dt = eps - x0           (the regression target)
Sampling       integrate dx/dt = v_theta(x, t) from t = 1 down to t = 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

SOLVER_NFE_PER_STEP = {"euler": 1, "heun": 2}


def interpolate(x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = (1 - t) x0 + t eps (t broadcast over the point dimension)."""
    t = t.reshape(-1, 1)
    return (1 - t) * x0 + t * eps  # [TODO 1]


def velocity_target(x0: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """d x_t / dt = eps - x0."""
    return eps - x0


def flow_matching_loss(model: nn.Module, x0: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """E_{t, eps} || v_theta(x_t, t) - (eps - x0) ||^2 (mean over points and coordinates)."""
    eps = torch.randn(x0.shape, generator=generator)
    t = torch.rand(x0.shape[0], 1, generator=generator)
    return F.mse_loss(model(interpolate(x0, eps, t), t), velocity_target(x0, eps))


def x0_prediction(v: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """DDIM-style estimate of the clean point: x0 = x_t - t v (exact when v = eps - x0)."""
    if isinstance(t, torch.Tensor):
        t = t.reshape(-1, 1)
    return x_t - t * v


@dataclass(frozen=True)
class Trajectory:
    """An ODE solution: ``xs[k]`` is the state at ``ts[k]``; ``xs[-1]`` is the endpoint."""

    xs: torch.Tensor  # [n_steps + 1, n_points, 2]
    ts: torch.Tensor  # [n_steps + 1]
    nfe: int  # network evaluations used

    @property
    def endpoint(self) -> torch.Tensor:
        return self.xs[-1]


def ode_step(model: nn.Module, x: torch.Tensor, t: torch.Tensor, t_next: torch.Tensor, solver: str) -> torch.Tensor:
    """One step of dx/dt = v(x, t) from t to t_next (per-point times; t_next < t runs toward data)."""
    t, t_next = t.reshape(-1, 1), t_next.reshape(-1, 1)
    h = t_next - t
    d = model(x, t)
    # Euler step.
    x_euler = x + h * d  # [TODO 2]
    if solver == "euler":
        return x_euler
    if solver == "heun":
        # Apply 2nd order correction: average the slopes at both ends.
        return x + h * 0.5 * (d + model(x_euler, t_next))  # [TODO 2]
    raise ValueError(f"Unknown solver {solver!r}; choose one of {', '.join(SOLVER_NFE_PER_STEP)}.")


@torch.no_grad()
def solve(
    model: nn.Module,
    x_start: torch.Tensor,
    t_start: float = 1.0,
    t_end: float = 0.0,
    n_steps: int = 50,
    solver: str = "euler",
) -> Trajectory:
    """Integrate dx/dt = v(x, t) from t_start down to t_end in ``n_steps`` equal steps."""
    if solver not in SOLVER_NFE_PER_STEP:
        raise ValueError(f"Unknown solver {solver!r}; choose one of {', '.join(SOLVER_NFE_PER_STEP)}.")
    if not t_start > t_end:
        raise ValueError(f"The ODE runs from noise to data: need t_start > t_end, got {t_start} and {t_end}.")
    if n_steps < 1:
        raise ValueError(f"Need at least one step; got n_steps={n_steps}.")
    ts = torch.linspace(t_start, t_end, n_steps + 1, dtype=torch.float64)
    n = x_start.shape[0]
    xs = [x_start.clone()]
    for k in range(n_steps):
        t, t_next = torch.full((n, 1), float(ts[k])), torch.full((n, 1), float(ts[k + 1]))
        xs.append(ode_step(model, xs[-1], t, t_next, solver))
    return Trajectory(xs=torch.stack(xs), ts=ts.float(), nfe=n_steps * SOLVER_NFE_PER_STEP[solver])


def ode_endpoint(model: nn.Module, x_start: torch.Tensor, t_start: float = 1.0, t_end: float = 0.0,
                 n_steps: int = 50, solver: str = "euler") -> torch.Tensor:
    return solve(model, x_start, t_start, t_end, n_steps, solver).endpoint
