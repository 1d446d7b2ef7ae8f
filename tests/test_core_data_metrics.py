"""Datasets (registry, determinism, the lesson's two-moons recipe) and the sample-quality metrics."""
import itertools
import math

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons

from cmcore import config, datasets, metrics

NAMES = list(datasets.REGISTRY)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- Datasets --------------------------------------------------------------------

def test_one_registry_names_every_dataset():
    assert set(datasets.REGISTRY) == set(datasets.LABELS) == set(datasets.NOUNS)  # one list of names
    assert config.DEFAULT_DATASET in datasets.REGISTRY and not hasattr(config, "DATASETS")
    assert len(NAMES) == 5


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [1, 257])
def test_every_dataset_returns_n_by_2_float32_finite(name, n):
    x = datasets.sample(name, n, gen(0))
    assert x.shape == (n, 2) and x.dtype == torch.float32
    assert bool(torch.isfinite(x).all())


@pytest.mark.parametrize("name", NAMES)
def test_every_dataset_is_deterministic_per_seed_and_differs_across_seeds(name):
    a = datasets.sample(name, 500, gen(3))
    b = datasets.sample(name, 500, gen(3))
    c = datasets.sample(name, 500, gen(4))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    # an int seed is the same as a generator seeded with it
    assert torch.equal(datasets.sample(name, 500, 3), a)
    # successive draws from one generator differ
    g = gen(3)
    first, second = datasets.sample(name, 500, g), datasets.sample(name, 500, g)
    assert torch.equal(first, a) and not torch.allclose(first, second)


@pytest.mark.parametrize("name", NAMES)
def test_datasets_draw_only_from_the_given_generator(name):
    torch.manual_seed(0)
    np.random.seed(0)
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    torch.manual_seed(1)  # the global seed must not matter ...
    a = datasets.sample(name, 100, gen(5))
    torch.manual_seed(0)
    b = datasets.sample(name, 100, gen(5))
    assert torch.equal(a, b)
    # ... and sampling must not consume global randomness
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
               for x, y in zip(np.random.get_state(), np_state))


def test_unknown_dataset_raises_naming_the_choices():
    with pytest.raises(ValueError) as exc:
        datasets.sample("spirals", 10, 0)
    msg = str(exc.value)
    assert "spirals" in msg
    for name in NAMES:
        assert name in msg


def test_zero_points_are_rejected():
    with pytest.raises(ValueError):
        datasets.sample("two_moons", 0, 0)


@pytest.mark.parametrize("seed", [0, 1, 42])
@pytest.mark.parametrize("n", [7, 512])
def test_two_moons_is_the_lessons_recipe(seed, n):
    g = gen(seed)
    r = int(torch.randint(0, 2**31 - 1, (1,), generator=gen(seed)).item())  # the first draw seeds sklearn
    data, _ = make_moons(n_samples=n, noise=0.06, random_state=r)
    expected = torch.tensor((data - data.mean(axis=0)) * 2, dtype=torch.float32)
    got = datasets.sample("two_moons", n, g)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    torch.testing.assert_close(got.double().mean(0), torch.zeros(2, dtype=torch.float64), rtol=0, atol=1e-6)
    # the generator advanced by exactly that one draw
    g_ref = gen(seed)
    torch.randint(0, 2**31 - 1, (1,), generator=g_ref)
    assert torch.equal(torch.rand(4, generator=g), torch.rand(4, generator=g_ref))


def test_toy_dataset_geometry():
    g = gen(0)
    eight = datasets.sample("eight_gaussians", 4000, g)
    assert float(eight.norm(dim=1).mean()) == pytest.approx(2.5, abs=0.05)
    angles = torch.atan2(eight[:, 1], eight[:, 0]) / (2 * math.pi / 8)
    assert float((angles - angles.round()).abs().mean()) < 0.1  # clustered on the 8 directions (uniform: 0.25)
    rings = datasets.sample("circles", 4000, g).norm(dim=1)
    inner, outer = rings[rings < 2.0], rings[rings >= 2.0]
    assert float(inner.mean()) == pytest.approx(1.25, abs=0.03) and float(outer.mean()) == pytest.approx(2.75, abs=0.03)
    assert 0.4 < len(inner) / 4000 < 0.6
    board = datasets.sample("checkerboard", 4000, g)
    cells = torch.floor(board / 1.5 + 2).long()
    assert bool(((cells[:, 0] + cells[:, 1]) % 2 == 0).all())  # only one colour of squares
    assert float(board.abs().max()) <= 3.0


# --- Metrics ---------------------------------------------------------------------

def points(n=200, seed=0):
    return torch.randn(n, 2, generator=gen(seed), dtype=torch.float64)


def test_w2_of_a_set_with_itself_or_a_permutation_is_zero():
    a = points()
    assert metrics.w2(a, a) == 0.0
    perm = torch.randperm(200, generator=gen(1))
    assert metrics.w2(a, a[perm]) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("d", [(0.5, 0.0), (-1.0, 2.0), (3.0, 4.0)])
def test_w2_of_a_translated_set_is_the_translation_length(d):
    a = points(300)
    shift = torch.tensor(d, dtype=torch.float64)
    assert metrics.w2(a, a + shift) == pytest.approx(float(shift.norm()), rel=1e-9)
    # shuffled too: the optimal assignment, not the given order
    perm = torch.randperm(300, generator=gen(2))
    assert metrics.w2(a, (a + shift)[perm]) == pytest.approx(float(shift.norm()), rel=1e-9)


def test_w2_equals_brute_force_over_all_assignments():
    a, b = points(6, seed=3).numpy(), points(6, seed=4).numpy()
    best = min(np.mean([((a[i] - b[p[i]]) ** 2).sum() for i in range(6)]) for p in itertools.permutations(range(6)))
    assert metrics.w2(a, b) == pytest.approx(math.sqrt(best), rel=1e-12)
    assert metrics.w2(b, a) == pytest.approx(metrics.w2(a, b), rel=1e-12)
    assert metrics.w2(torch.from_numpy(a).float(), b) == pytest.approx(math.sqrt(best), rel=1e-6)


@pytest.mark.parametrize("shape_b", [(199, 2), (200, 3)])
def test_w2_and_sliced_w2_reject_shape_mismatch(shape_b):
    a, b = points(200), torch.zeros(shape_b, dtype=torch.float64)
    with pytest.raises(ValueError):
        metrics.w2(a, b)
    with pytest.raises(ValueError):
        metrics.sliced_w2(a, b)


def test_sliced_w2_identical_is_zero_and_shifted_is_between_zero_and_the_shift():
    a = points(400)
    assert metrics.sliced_w2(a, a) == 0.0
    assert metrics.sliced_w2(a, a[torch.randperm(400, generator=gen(1))]) == pytest.approx(0.0, abs=1e-12)
    d = np.array([1.2, -0.5])
    sw = metrics.sliced_w2(a, a + torch.from_numpy(d))
    assert 0 < sw <= np.linalg.norm(d) + 1e-12
    # each projection of a translation is the 1D shift |d . theta|; recompute with the same directions
    theta = np.random.default_rng(0).normal(size=(2, 256))
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    assert sw == pytest.approx(float(np.sqrt(np.mean((d @ theta) ** 2))), rel=1e-9)
    assert sw == pytest.approx(np.linalg.norm(d) / math.sqrt(2), rel=0.1)  # E[cos^2] = 1/2 in 2D


def test_mmd_is_zero_for_identical_sets_and_grows_with_the_shift():
    a = points(300)
    assert abs(metrics.mmd(a, a)) < 1e-12
    values = [metrics.mmd(a, a + torch.tensor([s, 0.0], dtype=torch.float64)) for s in (0.1, 0.5, 2.0)]
    assert 0 < values[0] < values[1] < values[2]
    b = points(300, seed=9)
    assert metrics.mmd(a, b) == pytest.approx(metrics.mmd(b, a), rel=1e-12)
    assert metrics.mmd(a, b) < values[1]  # two samples of one distribution are closer than a shifted set


def test_mmd_recomputed_by_hand():
    a, b = points(5, seed=1).numpy(), points(4, seed=2).numpy()
    hs = (0.1, 0.3, 1.0)

    def k(x, y):
        return sum(math.exp(-((x - y) ** 2).sum() / (2 * h * h)) for h in hs)

    def mean_k(x, y):
        return sum(k(p, q) for p in x for q in y) / (len(x) * len(y))

    expected = mean_k(a, a) + mean_k(b, b) - 2 * mean_k(a, b)
    assert metrics.mmd(a, b) == pytest.approx(expected, rel=1e-10)


def test_endpoint_error_is_the_per_point_euclidean_distance():
    a, b = points(10, seed=1), points(10, seed=2)
    expected = torch.tensor([math.dist(a[i].tolist(), b[i].tolist()) for i in range(10)], dtype=torch.float64)
    torch.testing.assert_close(metrics.endpoint_error(a, b), expected, rtol=1e-12, atol=0)
