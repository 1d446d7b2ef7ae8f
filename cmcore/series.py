"""Long series made short: equal windows and the mean of each (a job's loss curve, a stored study's).

numpy only and no project import, so the generic job pool (``cmcore.jobs``) may use it.
"""
from __future__ import annotations

import numpy as np


def window_means(values, windows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At most ``windows`` equal, non-empty windows over ``values``: (last step, centre step, mean) of each.

    Steps are 1-based; a series no longer than ``windows`` comes back point by point (centre = step).
    """
    y = np.asarray(values, dtype=np.float64)
    if len(y) == 0:
        return np.zeros(0, dtype=int), np.zeros(0), np.zeros(0)
    edges = np.linspace(0, len(y), min(windows, len(y)) + 1).round().astype(int)
    means = np.add.reduceat(y, edges[:-1]) / np.diff(edges)
    return edges[1:], (edges[:-1] + 1 + edges[1:]) / 2, means
