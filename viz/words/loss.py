"""How a loss curve went (page 3: a stored curve, a run's own), and why the loss is not a score."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from viz.words.english import plural

RISE_FACTOR = 2.0  # a low that the loss later more than doubles from is described as a dip and a rise


def loss_story(points: Sequence[tuple[int, float]]) -> str:
    """Where the loss started, an early dip it rose from, its lowest point and where it ended
    (``points``: (step, window mean) pairs)."""
    if not points:
        return "No loss was stored for this model."
    (s0, first), (s1, last) = points[0], points[-1]
    text = f"The loss (each point a mean over {plural(s0)}) started at {first:.2e}"
    rise = largest_rise(points)
    if rise is not None:
        (sd, dip), (sr, top) = rise
        text += f", fell to {dip:.2e} by step {sd:,}, then rose to {top:.2e} at step {sr:,} ({top / dip:.1f}×)"
    sb, best = min(points, key=lambda p: p[1])
    if sb not in (s0, s1):
        text += f"; it was lowest at step {sb:,} ({best:.2e}) and ended at {last:.2e}, {last / best:.1f}× its lowest"
    else:
        text += f" and ended at {last:.2e} at step {s1:,}, {first / last:.1f}× lower" if last < first else \
            f" and ended at {last:.2e} at step {s1:,}, {last / first:.1f}× higher"
    return text + "."


def largest_rise(points: Sequence[tuple[int, float]]) -> tuple[tuple[int, float], tuple[int, float]] | None:
    """The (low, later high) pair with the largest ratio, if the loss more than ``RISE_FACTOR``-folds from it."""
    best, low = None, points[0] if points else None
    for p in points[1:]:
        if best is None or p[1] / low[1] > best[1][1] / best[0][1]:
            best = (low, p)
        if p[1] < low[1]:
            low = p
    return best if best is not None and best[1][1] > RISE_FACTOR * best[0][1] else None


LOSS_NOT_A_SCORE = ("The consistency loss compares the model with θ⁻, its own moving average, so the target moves as "
                    "the model learns: the loss need not fall, and it is not a score. W2 is the score.")


def run_loss_story(steps, losses, window: int = 20) -> str:
    """How a run's loss went (``loss_story`` on means of ``window`` points), then why that is not a score."""
    steps, losses = np.asarray(steps, dtype=np.float64), np.asarray(losses, dtype=np.float64)
    n = len(losses) // window
    if n < 2:
        return LOSS_NOT_A_SCORE
    points = [(int(round(steps[(i + 1) * window - 1])), float(losses[i * window:(i + 1) * window].mean()))
              for i in range(n)]
    return f"{loss_story(points)} {LOSS_NOT_A_SCORE}"
