"""The sentence under a stored loss curve (page 3), computed from its points."""
from __future__ import annotations

from typing import Sequence


def loss_story(points: Sequence[tuple[int, float]]) -> str:
    """Where the loss started, its lowest point and where it ended (``points``: (step, window mean) pairs)."""
    if not points:
        return "No loss was stored for this model."
    (s0, first), (s1, last) = points[0], points[-1]
    sb, best = min(points, key=lambda p: p[1])
    text = f"The loss (each point a mean over {s0:,} step{'s' if s0 != 1 else ''}) started at {first:.2e}"
    if sb not in (s0, s1):
        text += f", was lowest at step {sb:,} ({best:.2e}) and ended at {last:.2e}, {last / best:.1f}× its lowest"
    else:
        text += f" and ended at {last:.2e} at step {s1:,}, {first / last:.1f}× lower" if last < first else \
            f" and ended at {last:.2e} at step {s1:,}, {last / first:.1f}× higher"
    return text + "."
