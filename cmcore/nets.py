"""Pure model code (torch only): the lesson's MLP and the consistency parameterisation."""
from __future__ import annotations

import copy

import torch
from torch import nn


class MLP(nn.Module):
    """The lesson's network: (x_t, t) -> a 2D vector.

    A small time MLP embeds the scalar t; its embedding is concatenated with x_t
    and fed to a 4-layer SiLU MLP.  As a teacher the output is the velocity
    v_theta(x_t, t); inside a consistency model it is the backbone F_theta.
    """

    def __init__(self, hidden: int = 128):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.net = nn.Sequential(
            nn.Linear(2 + hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = t.reshape(-1, 1).expand(x.shape[0], 1)
        return self.net(torch.cat([x, self.time_mlp(t)], dim=-1))


def c_skip(t: torch.Tensor, sigma_min: float) -> torch.Tensor:
    """Skip weight: sigma_min / t, equal to 1 at t = sigma_min."""
    return sigma_min / t


def c_out(t: torch.Tensor, sigma_min: float) -> torch.Tensor:
    """Output weight: (t - sigma_min) / t, equal to 0 at t = sigma_min."""
    return (t - sigma_min) / t


class ConsistencyModel(nn.Module):
    """f_theta(x_t, t) = c_skip(t) x_t + c_out(t) F_theta(x_t, t); f(x, sigma_min) = x exactly.

    ``backbone="x0_from_velocity"`` reads the MLP's output as a velocity v and uses
    F = x_t - t v, the flow's own x0-prediction.  With the MLP copied from the
    teacher, f then starts as one Euler jump x_t - (t - sigma_min) v(x_t, t).
    """

    BACKBONES = ("direct", "x0_from_velocity")

    def __init__(self, hidden: int = 128, sigma_min: float = 0.002, backbone: str = "direct"):
        super().__init__()
        if backbone not in self.BACKBONES:
            raise ValueError(f"Unknown backbone {backbone!r}; choose one of {', '.join(self.BACKBONES)}.")
        self.sigma_min = sigma_min
        self.backbone = backbone
        self.net = MLP(hidden)

    @classmethod
    def from_teacher(cls, teacher: MLP, sigma_min: float) -> "ConsistencyModel":
        hidden = teacher.net[0].out_features
        model = cls(hidden=hidden, sigma_min=sigma_min, backbone="x0_from_velocity")
        model.net.load_state_dict(copy.deepcopy(teacher.state_dict()))
        return model

    def F(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = self.net(x, t)
        if self.backbone == "x0_from_velocity":
            out = x - t * out
        return out

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = t.reshape(-1, 1).expand(x.shape[0], 1)
        return c_skip(t, self.sigma_min) * x + c_out(t, self.sigma_min) * self.F(x, t)


def frozen_copy(model: nn.Module) -> nn.Module:
    """A detached eval-mode copy: safe to hand to other threads and caches."""
    clone = copy.deepcopy(model).eval()
    for p in clone.parameters():
        p.requires_grad_(False)
    return clone
