"""W2 (POT's network simplex) equals the optimal-assignment value from scipy's linear_sum_assignment."""
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from cmcore import metrics


def assignment_w2(a: np.ndarray, b: np.ndarray) -> float:
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    rows, cols = linear_sum_assignment(cost)
    return float(np.sqrt(cost[rows, cols].mean()))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_w2_matches_optimal_assignment(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(400, 2))
    b = rng.normal(size=(400, 2)) * [2.0, 0.5] + [0.3, -1.0]
    assert metrics.w2(a, b) == pytest.approx(assignment_w2(a, b), rel=1e-9)


def test_w2_matches_assignment_on_a_collapsed_set():
    # the degenerate case (every point on one spot) that made the assignment solver slow
    rng = np.random.default_rng(3)
    a = 1e-3 * rng.normal(size=(300, 2))
    b = rng.normal(size=(300, 2))
    assert metrics.w2(a, b) == pytest.approx(assignment_w2(a, b), rel=1e-9)
