"""f_theta at every t (page lab_ftheta): noised frames of one sample and every model's jump."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .. import evaluate
from ..flow import interpolate, ode_step, x0_prediction
from ..metrics import endpoint_error


FRAME_COUNT = 25  # frames of the page's t slider
FRAME_T_MIN = 0.04  # the lowest frame: t = 0.04, 0.08, ..., 1.00


def frame_times(count: int = FRAME_COUNT, t_min: float = FRAME_T_MIN) -> torch.Tensor:
    """Evenly spaced times from ``t_min`` to 1 (float64, so frames can be matched exactly)."""
    if count < 2 or not 0 < t_min < 1:
        raise ValueError(f"Need at least 2 frames and 0 < t_min < 1; got count={count}, t_min={t_min}.")
    return torch.linspace(t_min, 1.0, count, dtype=torch.float64)


@torch.no_grad()
def ode_endpoints_from(teacher: nn.Module, x: torch.Tensor, t: torch.Tensor,
                       n_steps: int = evaluate.REFERENCE_ODE_STEPS, solver: str = "euler") -> torch.Tensor:
    """Solve each point from its own time ``t[i]`` to 0 in ``n_steps`` equal steps, all points in one batch.

    Point i follows the grid t_i (1 - k / n_steps), k = 0..n_steps: the grid ``flow.solve`` uses from t_i.
    """
    t = torch.as_tensor(t, dtype=torch.float64).reshape(-1, 1)
    for k in range(n_steps):
        # Euler (or Heun) step from t_i (1 - k/K) to t_i (1 - (k+1)/K).
        x = ode_step(teacher, x, (t * (1 - k / n_steps)).float(), (t * (1 - (k + 1) / n_steps)).float(), solver)
    return x


@dataclass(frozen=True)
class NoisedFrames:
    """The same data points and noise at several times: ``x_t[f] = (1 - ts[f]) x0 + ts[f] eps``."""

    ts: torch.Tensor  # [F] float64
    x_t: torch.Tensor  # [F, m, 2]
    endpoint: torch.Tensor  # [F, m, 2] where the teacher's 200-step ODE from (x_t, t) lands

    def flat(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(x [F*m, 2], t [F*m, 1]): every frame's points in one batch."""
        f, m = self.x_t.shape[:2]
        return self.x_t.reshape(f * m, 2), self.ts.float().repeat_interleave(m).reshape(-1, 1)


@torch.no_grad()
def noised_frames(teacher: nn.Module, x0: torch.Tensor, eps: torch.Tensor, ts: torch.Tensor,
                  n_steps: int = evaluate.REFERENCE_ODE_STEPS) -> NoisedFrames:
    f, m = len(ts), len(x0)
    t = torch.as_tensor(ts, dtype=torch.float64).float().repeat_interleave(m).reshape(-1, 1)
    x_t = interpolate(x0.repeat(f, 1), eps.repeat(f, 1), t)
    end = ode_endpoints_from(teacher, x_t, torch.as_tensor(ts, dtype=torch.float64).repeat_interleave(m), n_steps)
    return NoisedFrames(torch.as_tensor(ts, dtype=torch.float64), x_t.reshape(f, m, 2), end.reshape(f, m, 2))


@torch.no_grad()
def consistency_jumps(cm: nn.Module, frames: NoisedFrames) -> torch.Tensor:
    """f_theta(x_t, t) for every frame: [F, m, 2]."""
    x, t = frames.flat()
    return cm(x, t).reshape(frames.x_t.shape)


@torch.no_grad()
def teacher_jumps(teacher: nn.Module, frames: NoisedFrames) -> torch.Tensor:
    """The teacher's x0 prediction x_t - t v(x_t, t) (one Euler jump to t = 0) for every frame: [F, m, 2]."""
    x, t = frames.flat()
    return x0_prediction(teacher(x, t), x, t).reshape(frames.x_t.shape)


def mean_endpoint_error(jumps: torch.Tensor, frames: NoisedFrames) -> torch.Tensor:
    """Mean distance |jump - ODE endpoint| per frame: [F]."""
    return endpoint_error(jumps, frames.endpoint).mean(dim=1)
