"""Two ways to write the consistency model's skip connection (torch only).

    f_theta(x_t, t) = c_skip(t) x_t + c_out(t) F_theta(x_t, t),   with c_skip(sigma_min) = 1, c_out(sigma_min) = 0

lesson  c_skip(t) = sigma_min / t,
        c_out(t)  = (t - sigma_min) / t                                  (the lesson; ``cmcore.nets``)
song    c_skip(t) = sigma_data^2 / ((t - sigma_min)^2 + sigma_data^2),
        c_out(t)  = sigma_data (t - sigma_min) / sqrt(sigma_data^2 + t^2)
                                                (Song et al., "Consistency Models", 2023, Appendix C)

``cmcore.nets.ConsistencyModel`` (the shipped checkpoints) keeps the lesson's form; ``ScaledConsistencyModel``
adds the choice without changing it.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch

from .nets import ConsistencyModel, c_out as lesson_c_out, c_skip as lesson_c_skip

FORMS = ("lesson", "song")
SIGMA_DATA = 0.5  # Song et al. (2023): the standard deviation of images scaled to [-1, 1]
SIGMA_DATA_RANGE = (0.05, 5.0)  # accepted at the boundary


def song_c_skip(t: torch.Tensor | float, sigma_min: float, sigma_data: float) -> torch.Tensor:
    """sigma_data^2 / ((t - sigma_min)^2 + sigma_data^2): 1 at t = sigma_min."""
    t = torch.as_tensor(t, dtype=torch.float32)
    return sigma_data ** 2 / ((t - sigma_min) ** 2 + sigma_data ** 2)


def song_c_out(t: torch.Tensor | float, sigma_min: float, sigma_data: float) -> torch.Tensor:
    """sigma_data (t - sigma_min) / sqrt(sigma_data^2 + t^2): 0 at t = sigma_min."""
    t = torch.as_tensor(t, dtype=torch.float32)
    return sigma_data * (t - sigma_min) / torch.sqrt(sigma_data ** 2 + t ** 2)


@dataclass(frozen=True)
class Parameterisation:
    """Which c_skip/c_out a consistency model uses."""

    form: str = "lesson"  # lesson (sigma_min / t) or song (the paper's, with sigma_data)
    sigma_data: float = SIGMA_DATA  # song only: the data's standard deviation the weights assume

    def validate(self) -> "Parameterisation":
        if self.form not in FORMS:
            raise ValueError(f"Parameterisation.form={self.form!r} is unknown; choose one of {', '.join(FORMS)}.")
        lo, hi = SIGMA_DATA_RANGE
        if not (lo <= self.sigma_data <= hi) or math.isnan(self.sigma_data):
            raise ValueError(f"Parameterisation.sigma_data={self.sigma_data!r} is out of range; "
                             f"use a value in [{lo}, {hi}].")
        return self

    @property
    def label(self) -> str:
        return "lesson (σ_min / t)" if self.form == "lesson" else f"paper, σ_data = {self.sigma_data:g}"

    @property
    def name(self) -> str:
        """For sentences: "the lesson's form", "the paper's form (σ_data = 0.5)"."""
        return "the lesson's form" if self.form == "lesson" else f"the paper's form (σ_data = {self.sigma_data:g})"

    def c_skip(self, t: torch.Tensor | float, sigma_min: float) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float32)
        return lesson_c_skip(t, sigma_min) if self.form == "lesson" else song_c_skip(t, sigma_min, self.sigma_data)

    def c_out(self, t: torch.Tensor | float, sigma_min: float) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float32)
        return lesson_c_out(t, sigma_min) if self.form == "lesson" else song_c_out(t, sigma_min, self.sigma_data)


LESSON = Parameterisation("lesson")


class ScaledConsistencyModel(ConsistencyModel):
    """``ConsistencyModel`` with a chosen parameterisation; with ``LESSON`` it computes exactly the same f."""

    def __init__(self, hidden: int = 128, sigma_min: float = 0.002, backbone: str = "direct",
                 param: Parameterisation = LESSON):
        super().__init__(hidden, sigma_min, backbone)
        self.param = param.validate()

    @classmethod
    def wrap(cls, model: ConsistencyModel, param: Parameterisation) -> "ScaledConsistencyModel":
        """The same network weights and backbone as ``model``, under ``param``."""
        hidden = model.net.net[0].out_features
        out = cls(hidden, model.sigma_min, model.backbone, param)
        out.net.load_state_dict(copy.deepcopy(model.net.state_dict()))
        return out

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = t.reshape(-1, 1).expand(x.shape[0], 1)
        return self.param.c_skip(t, self.sigma_min) * x + self.param.c_out(t, self.sigma_min) * self.F(x, t)
