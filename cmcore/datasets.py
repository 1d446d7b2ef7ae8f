"""2D toy datasets behind one registry: ``sample(name, n, generator) -> Tensor[n, 2]``.

Every sampler draws only from the ``torch.Generator`` it is given, so the same
generator state gives the same points.  Two-moons is made exactly as the lesson
makes it: scikit-learn's ``make_moons(noise=0.06)``, centred on its own mean and
scaled by 2 (the generator supplies scikit-learn's integer seed).

Besides the registry, a dataset may be someone's uploaded points (``cmcore.uploads``):
its name is ``upload-<12 hex>`` and it is sampled with replacement from the stored,
normalised points while this server holds them.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from .uploads import default_store, draw, is_upload_name

Sampler = Callable[[int, torch.Generator], torch.Tensor]

MOONS_NOISE = 0.06  # lesson: make_moons(noise=0.06)
MOONS_SCALE = 2.0  # lesson: (data - mean) * 2


def _sklearn_seed(generator: torch.Generator) -> int:
    return int(torch.randint(0, 2**31 - 1, (1,), generator=generator).item())


def two_moons(n: int, generator: torch.Generator) -> torch.Tensor:
    from sklearn.datasets import make_moons  # imported on first use: it costs ~1 s of app start-up

    data, _ = make_moons(n_samples=n, noise=MOONS_NOISE, random_state=_sklearn_seed(generator))
    data = (data - data.mean(axis=0)) * MOONS_SCALE
    return torch.as_tensor(data, dtype=torch.float32)


def eight_gaussians(n: int, generator: torch.Generator, radius: float = 2.5, std: float = 0.15) -> torch.Tensor:
    k = torch.randint(0, 8, (n,), generator=generator)
    angle = k.float() * (2 * math.pi / 8)
    centres = radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return centres + std * torch.randn(n, 2, generator=generator)


def circles(n: int, generator: torch.Generator, radii: tuple[float, float] = (1.25, 2.75), std: float = 0.08) -> torch.Tensor:
    ring = torch.randint(0, 2, (n,), generator=generator)
    r = torch.tensor(radii)[ring]
    angle = 2 * math.pi * torch.rand(n, generator=generator)
    points = r[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return points + std * torch.randn(n, 2, generator=generator)


def swiss_roll(n: int, generator: torch.Generator, std: float = 0.1) -> torch.Tensor:
    # Spiral r = t for t in [1.5 pi, 4.5 pi], scaled to span about [-3, 3].
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator))
    points = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / 4.5
    return points + std * torch.randn(n, 2, generator=generator)


def checkerboard(n: int, generator: torch.Generator, cells: int = 4, size: float = 1.5) -> torch.Tensor:
    # Uniform on the "black" squares of a cells x cells board of side `size`.
    col = torch.randint(0, cells, (n,), generator=generator)
    row = 2 * torch.randint(0, cells // 2, (n,), generator=generator) + (col % 2)
    offset = torch.rand(n, 2, generator=generator)
    points = torch.stack([col, row], dim=1).float() + offset
    return (points - cells / 2) * size


REGISTRY: dict[str, Sampler] = {
    "two_moons": two_moons,
    "eight_gaussians": eight_gaussians,
    "circles": circles,
    "swiss_roll": swiss_roll,
    "checkerboard": checkerboard,
}

LABELS: dict[str, str] = {
    "two_moons": "Two moons (lesson)",
    "eight_gaussians": "8 Gaussians",
    "circles": "Concentric circles",
    "swiss_roll": "Swiss roll",
    "checkerboard": "Checkerboard",
}


# How a sentence names each dataset ("trained on two moons").
NOUNS: dict[str, str] = {
    "two_moons": "two moons",
    "eight_gaussians": "eight Gaussians",
    "circles": "concentric circles",
    "swiss_roll": "a Swiss roll",
    "checkerboard": "a checkerboard",
}


is_upload = is_upload_name


def is_known(name: str) -> bool:
    """A registry dataset, or an upload this server holds."""
    return name in REGISTRY or (is_upload_name(name) and default_store().held(name))


def label(name: str) -> str:
    """A dataset's title (select boxes, headings)."""
    return LABELS.get(name) or f"Your upload ({name[len('upload-'):]})"


def noun(name: str) -> str:
    """How a sentence names a dataset."""
    return NOUNS.get(name) or f"your uploaded points ({name[len('upload-'):]})"


def sample(name: str, n: int, generator: torch.Generator | int) -> torch.Tensor:
    """Draw ``n`` points of dataset ``name``; ``generator`` may be a seed."""
    points = default_store().get(name) if name not in REGISTRY else None
    if name not in REGISTRY and points is None:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(REGISTRY)} or an upload this server "
                         "holds.")
    if n < 1:
        raise ValueError(f"Need at least one point; got n={n}.")
    if isinstance(generator, int):
        generator = torch.Generator().manual_seed(generator)
    return REGISTRY[name](n, generator) if points is None else draw(points, n, generator)
