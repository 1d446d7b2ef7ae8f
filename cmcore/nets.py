"""Pure model code (torch only): the lesson's MLP, the consistency parameterisation, and seeded construction.

Parameters are drawn from an explicit ``torch.Generator`` (``seeded``), never from
torch's process-global RNG, so two models built at once in two threads cannot
interleave their draws.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)

LINEAR_INIT_A = math.sqrt(5)  # nn.Linear's default: kaiming-uniform with a = sqrt(5), i.e. U(+-1/sqrt(fan_in))


class MLP(nn.Module):
    """The lesson's network: (x_t, t) -> a 2D vector.

    A small time MLP embeds the scalar t; its embedding is concatenated with x_t
    and fed to a 4-layer SiLU MLP.  As a teacher the output is the velocity
    v_theta(x_t, t); inside a consistency model it is the backbone F_theta.
    """

    def __init__(self, hidden: int):
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

    def __init__(self, hidden: int, sigma_min: float, backbone: str = "direct"):
        super().__init__()
        if backbone not in self.BACKBONES:
            raise ValueError(f"Unknown backbone {backbone!r}; choose one of {', '.join(self.BACKBONES)}.")
        self.sigma_min = sigma_min
        self.backbone = backbone
        self.net = MLP(hidden)

    @classmethod
    def from_teacher(cls, teacher: MLP, sigma_min: float) -> "ConsistencyModel":
        """F starts as the teacher's own MLP (weights copied; the teacher is only read)."""
        with torch.device("meta"):  # no init draws: every weight is overwritten by the teacher's
            model = cls(hidden=teacher.net[0].out_features, sigma_min=sigma_min, backbone="x0_from_velocity")
        model.to_empty(device="cpu")
        model.net.load_state_dict(teacher.state_dict())
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


def reset_linear_(layer: nn.Linear, generator: torch.Generator) -> None:
    """``nn.Linear.reset_parameters`` drawn from ``generator``: the same distributions, in the same order."""
    nn.init.kaiming_uniform_(layer.weight, a=LINEAR_INIT_A, generator=generator)
    if layer.bias is not None:
        bound = 1 / math.sqrt(layer.in_features) if layer.in_features > 0 else 0.0
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def seeded(build: Callable[[], M], generator: torch.Generator) -> M:
    """``build()`` with every parameter drawn from ``generator`` and nothing from the global RNG.

    The module is built on the meta device (no memory, no draws), then each ``nn.Linear`` is
    initialised in registration order, which for these models is the order PyTorch's default
    init runs in at construction.  So ``seeded(f, torch.Generator().manual_seed(s))`` holds
    the same weights as ``torch.manual_seed(s); f()``.
    """
    with torch.device("meta"):
        model = build()
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    covered = {id(p) for m in linears for p in m.parameters()}
    others = [name for name, p in model.named_parameters() if id(p) not in covered]
    if others:
        raise TypeError(f"seeded() only knows nn.Linear's initialisation; {type(model).__name__} also has "
                        f"{', '.join(others)}. Add that layer's default init to cmcore.nets.seeded.")
    model.to_empty(device="cpu")
    for layer in linears:
        reset_linear_(layer, generator)
    return model
