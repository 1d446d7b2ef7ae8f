"""Where is the model consistent? (page lab_consistency_map): a grid of ODE paths and how far each model's jump lands."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .. import evaluate
from ..flow import solve
from ..metrics import endpoint_error


MAP_DOMAIN = (-4.5, 4.5)  # the dashboard's shared square window (viz.charts.DOMAIN)
MAP_GRID = 24  # cells per side of the consistency map
MAP_PATH_POINTS = 12  # points kept along each cell's ODE path (for hovering)
CONSISTENT_WITHIN = 0.05  # a cell counts as consistent when |f(x_t, t) - ODE endpoint| is below this


def grid_points(g: int, domain: tuple[float, float]) -> tuple[torch.Tensor, float]:
    """Centres of a g x g grid of square cells over domain x domain (row by row, x fastest), and the cell size."""
    if g < 2:
        raise ValueError(f"A map needs at least 2 cells per side; got {g}.")
    lo, hi = domain
    size = (hi - lo) / g
    c = lo + size * (torch.arange(g, dtype=torch.float32) + 0.5)
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1), size


@dataclass(frozen=True)
class OdeMap:
    """The teacher's ODE from every cell centre x_t at one t: its 200-step endpoint and a thinned path."""

    t: float
    x_t: torch.Tensor  # [G*G, 2] cell centres
    cell: float  # cell size
    endpoint: torch.Tensor  # [G*G, 2]
    path: torch.Tensor  # [K, G*G, 2] from x_t (first) to the endpoint (last)


@torch.no_grad()
def ode_map(teacher: nn.Module, t: float, g: int = MAP_GRID, domain: tuple[float, float] = MAP_DOMAIN,
            n_steps: int = evaluate.REFERENCE_ODE_STEPS, keep: int = MAP_PATH_POINTS) -> OdeMap:
    if not 0 < t <= 1:
        raise ValueError(f"The map's time must lie in (0, 1]; got t={t}.")
    x_t, size = grid_points(g, domain)
    traj = solve(teacher, x_t, t, 0.0, n_steps)
    idx = torch.linspace(0, n_steps, keep).round().long()
    return OdeMap(float(t), x_t, size, traj.endpoint, traj.xs[idx])


@torch.no_grad()
def map_jumps(model: nn.Module, m: OdeMap) -> tuple[torch.Tensor, torch.Tensor]:
    """(f(x_t, t) [G*G, 2], consistency error |f(x_t, t) - ODE endpoint| [G*G]) over the map."""
    jumps = model(m.x_t, torch.full((len(m.x_t), 1), m.t))
    return jumps, endpoint_error(jumps, m.endpoint)


def visited_cells(points: torch.Tensor, g: int = MAP_GRID, domain: tuple[float, float] = MAP_DOMAIN) -> torch.Tensor:
    """bool [G*G]: the cells that hold at least one of ``points`` (where noised data actually lands)."""
    lo, hi = domain
    ij = ((points - lo) / (hi - lo) * g).floor().long()
    ok = ((ij >= 0) & (ij < g)).all(dim=1)
    hit = torch.zeros(g * g, dtype=torch.bool)
    hit[ij[ok, 1] * g + ij[ok, 0]] = True
    return hit
