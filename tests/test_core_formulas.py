"""The maths of cmcore, recomputed by hand and compared with the library.

Flow:        x_t = (1 - t) x0 + t eps,  target eps - x0
Consistency: f(x, t) = c_skip(t) x + c_out(t) F(x, t), c_skip = s/t, c_out = (t - s)/t
Solvers:     Euler and Heun against dx/dt = a x, whose exact solution is known.
"""
import math

import numpy as np
import pytest
import torch
from torch import nn

from cmcore import consistency as cons
from cmcore import flow
from cmcore.config import SIGMA_MAX, SIGMA_MIN
from cmcore.nets import MLP, ConsistencyModel, c_out, c_skip, frozen_copy


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=gen(seed), dtype=dtype)


def seeded_model(cls, *args, seed=0, **kwargs):
    torch.manual_seed(seed)
    return cls(*args, **kwargs)


class Linear(nn.Module):
    """v(x, t) = a x: the ODE dx/dt = a x has x(t1) = x(t0) exp(a (t1 - t0))."""

    def __init__(self, a: float):
        super().__init__()
        self.a = a
        self.calls = 0
        self.ts: list[torch.Tensor] = []

    def forward(self, x, t):
        self.calls += 1
        self.ts.append(t.clone())
        return self.a * x


class TimeOnly(nn.Module):
    """v(x, t) = c t (independent of x): Heun's trapezoid rule integrates it exactly."""

    def __init__(self, c: float):
        super().__init__()
        self.c = c

    def forward(self, x, t):
        return self.c * t.reshape(-1, 1).to(x.dtype).expand_as(x)


# --- Flow matching ------------------------------------------------------------

@pytest.mark.parametrize("t_shape", [(64,), (64, 1)])
def test_interpolate_is_the_straight_line_from_data_to_noise(t_shape):
    x0, eps = randn(64, 2, seed=1), randn(64, 2, seed=2)
    t = torch.rand(t_shape, generator=gen(3))
    xt = flow.interpolate(x0, eps, t)
    tt = t.reshape(64)
    for i in range(64):  # point by point, no broadcasting tricks
        expected = (1 - tt[i]) * x0[i] + tt[i] * eps[i]
        torch.testing.assert_close(xt[i], expected, rtol=0, atol=1e-6)
    assert torch.equal(flow.interpolate(x0, eps, torch.zeros(64)), x0)
    assert torch.equal(flow.interpolate(x0, eps, torch.ones(64)), eps)


def test_velocity_target_is_the_time_derivative_of_the_interpolation():
    x0, eps = randn(32, 2, seed=1, dtype=torch.float64), randn(32, 2, seed=2, dtype=torch.float64)
    v = flow.velocity_target(x0, eps)
    torch.testing.assert_close(v, eps - x0, rtol=0, atol=0)
    t, h = torch.full((32,), 0.4, dtype=torch.float64), 1e-4
    finite_diff = (flow.interpolate(x0, eps, t + h) - flow.interpolate(x0, eps, t - h)) / (2 * h)
    torch.testing.assert_close(finite_diff, v, rtol=0, atol=1e-8)


def test_flow_matching_loss_is_the_mse_to_eps_minus_x0_at_the_drawn_t_and_eps():
    model = seeded_model(MLP, 16)
    x0 = randn(128, 2, seed=5)
    loss = flow.flow_matching_loss(model, x0, gen(11))
    g = gen(11)  # same draws, in the documented order: eps then t
    eps = torch.randn(x0.shape, generator=g)
    t = torch.rand(128, 1, generator=g)
    xt = (1 - t) * x0 + t * eps
    expected = ((model(xt, t) - (eps - x0)) ** 2).mean()
    torch.testing.assert_close(loss, expected, rtol=1e-6, atol=1e-7)


def test_x0_prediction_inverts_the_interpolation_with_the_true_velocity():
    x0, eps = randn(50, 2, seed=1), randn(50, 2, seed=2)
    t = torch.rand(50, generator=gen(3))
    xt = flow.interpolate(x0, eps, t)
    torch.testing.assert_close(flow.x0_prediction(eps - x0, xt, t), x0, rtol=0, atol=1e-5)
    torch.testing.assert_close(flow.x0_prediction(eps - x0, eps, 1.0), x0, rtol=0, atol=1e-6)


# --- Consistency parameterisation -----------------------------------------------

def test_c_skip_and_c_out_match_their_formulas_and_sum_to_one():
    t = SIGMA_MIN + (1 - SIGMA_MIN) * torch.rand(200, 1, generator=gen(0), dtype=torch.float64)
    for s in (SIGMA_MIN, 0.01, 0.1):
        torch.testing.assert_close(c_skip(t, s), s / t, rtol=0, atol=0)
        torch.testing.assert_close(c_out(t, s), (t - s) / t, rtol=0, atol=0)
        torch.testing.assert_close(c_skip(t, s) + c_out(t, s), torch.ones_like(t), rtol=0, atol=1e-12)
    t1 = torch.ones(3, 1)
    torch.testing.assert_close(c_skip(t1, SIGMA_MIN), torch.full((3, 1), SIGMA_MIN), rtol=1e-6, atol=0)


@pytest.mark.parametrize("sigma_min", [SIGMA_MIN, 0.05])
def test_c_skip_is_one_and_c_out_zero_at_the_boundary(sigma_min):
    t = torch.full((4, 1), sigma_min)
    assert torch.equal(c_skip(t, sigma_min), torch.ones(4, 1))
    assert torch.equal(c_out(t, sigma_min), torch.zeros(4, 1))


@pytest.mark.parametrize("backbone", ConsistencyModel.BACKBONES)
@pytest.mark.parametrize("sigma_min", [SIGMA_MIN, 0.05])
def test_random_consistency_model_is_the_identity_at_sigma_min(backbone, sigma_min):
    model = seeded_model(ConsistencyModel, 32, sigma_min, backbone, seed=7)
    x = 3 * randn(100, 2, seed=1)
    for t in (torch.full((100, 1), sigma_min), torch.full((100,), sigma_min), torch.tensor([sigma_min])):
        out = model(x, t)
        assert torch.equal(out, x), (backbone, t.shape)
    # ... and not the identity elsewhere (the check above is not vacuous)
    assert not torch.allclose(model(x, torch.full((100, 1), 0.5)), x, atol=1e-3)


@pytest.mark.parametrize("backbone", ConsistencyModel.BACKBONES)
def test_consistency_model_output_is_c_skip_x_plus_c_out_F(backbone):
    s = SIGMA_MIN
    model = seeded_model(ConsistencyModel, 16, s, backbone, seed=3)
    x = randn(40, 2, seed=1)
    t = s + (1 - s) * torch.rand(40, 1, generator=gen(2))
    raw = model.net(x, t)
    big_f = raw if backbone == "direct" else x - t * raw
    expected = (s / t) * x + ((t - s) / t) * big_f
    torch.testing.assert_close(model(x, t), expected, rtol=1e-5, atol=1e-6)


def test_unknown_backbone_is_rejected():
    with pytest.raises(ValueError, match="backbone"):
        ConsistencyModel(8, SIGMA_MIN, "nope")


def test_from_teacher_starts_as_one_euler_jump_to_sigma_min():
    teacher = seeded_model(MLP, 24, seed=5)
    cm = ConsistencyModel.from_teacher(teacher, SIGMA_MIN)
    assert cm.backbone == "x0_from_velocity" and cm.sigma_min == SIGMA_MIN
    assert cm.net.net[0].out_features == 24
    x = 2 * randn(300, 2, seed=1)
    t = SIGMA_MIN + (1 - SIGMA_MIN) * torch.rand(300, 1, generator=gen(2))
    with torch.no_grad():
        expected = x - (t - SIGMA_MIN) * teacher(x, t)
        torch.testing.assert_close(cm(x, t), expected, rtol=1e-5, atol=2e-6)
    # the copy is independent of the teacher
    with torch.no_grad():
        for p in teacher.parameters():
            p.add_(1.0)
        assert not torch.allclose(cm(x, t), x - (t - SIGMA_MIN) * teacher(x, t))


def test_frozen_copy_is_detached_and_in_eval_mode():
    model = seeded_model(MLP, 8)
    clone = frozen_copy(model)
    assert not clone.training and all(not p.requires_grad for p in clone.parameters())
    assert all(p.requires_grad for p in model.parameters())
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    assert not torch.equal(next(model.parameters()), next(clone.parameters()))


# --- ODE solvers ---------------------------------------------------------------

A = 1.5


def linear_endpoint(solver, n, t_start=1.0, t_end=0.0, x=None):
    x = randn(8, 2, seed=4, dtype=torch.float64) if x is None else x
    model = Linear(A)
    traj = flow.solve(model, x, t_start, t_end, n, solver)
    return x, traj, model


@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_solvers_match_their_own_closed_form_on_a_linear_ode(solver):
    # Each Euler step multiplies by (1 + a h); each Heun step by (1 + a h + (a h)^2 / 2), h = -1/n.
    for n in (1, 3, 10):
        x, traj, _ = linear_endpoint(solver, n)
        ah = -A / n
        factor = (1 + ah) if solver == "euler" else (1 + ah + ah * ah / 2)
        torch.testing.assert_close(traj.endpoint, x * factor ** n, rtol=1e-6, atol=1e-9)


def test_euler_is_first_order_and_heun_second_order():
    x = randn(8, 2, seed=4, dtype=torch.float64)
    exact = x * math.exp(A * (0.0 - 1.0))

    def err(solver, n):
        return float((flow.solve(Linear(A), x, 1.0, 0.0, n, solver).endpoint - exact).abs().max())

    for n in (16, 32, 64):
        r_euler = err("euler", n) / err("euler", 2 * n)
        r_heun = err("heun", n) / err("heun", 2 * n)
        assert 1.8 < r_euler < 2.2, (n, r_euler)  # error ~ 1/n
        assert 3.6 < r_heun < 4.4, (n, r_heun)  # error ~ 1/n^2
        assert err("heun", n) < err("euler", n) / 10
    assert err("euler", 200) < 3e-3 and err("heun", 200) < 1e-5


def test_solve_on_a_partial_interval_uses_the_right_times():
    x = randn(5, 2, seed=9, dtype=torch.float64)
    traj = flow.solve(Linear(A), x, 0.8, 0.3, 400, "heun")
    torch.testing.assert_close(traj.endpoint, x * math.exp(A * (0.3 - 0.8)), rtol=1e-6, atol=1e-9)
    # time-dependent field v = c t: Heun (trapezoid) is exact, Euler misses by c (t0 - t1)^2 / (2 n)
    c, n = 2.0, 7
    exact = x + c * (0.3 ** 2 - 0.8 ** 2) / 2
    heun = flow.solve(TimeOnly(c), x, 0.8, 0.3, n, "heun").endpoint
    euler = flow.solve(TimeOnly(c), x, 0.8, 0.3, n, "euler").endpoint
    torch.testing.assert_close(heun, exact, rtol=0, atol=1e-6)
    torch.testing.assert_close(exact - euler, torch.full_like(x, c * 0.5 ** 2 / (2 * n)), rtol=0, atol=1e-6)


@pytest.mark.parametrize("solver,per_step", [("euler", 1), ("heun", 2)])
def test_trajectory_shape_times_and_nfe(solver, per_step):
    n = 6
    x, traj, model = linear_endpoint(solver, n, 1.0, 0.25)
    assert traj.nfe == per_step * n == model.calls
    assert traj.xs.shape == (n + 1, 8, 2)
    assert torch.equal(traj.xs[0], x) and torch.equal(traj.endpoint, traj.xs[-1])
    torch.testing.assert_close(traj.ts, torch.linspace(1.0, 0.25, n + 1), rtol=0, atol=1e-7)
    # Euler evaluates at the left end of each step; Heun also at the right end
    first_times = [float(t[0, 0]) for t in model.ts]
    expected = [float(v) for v in torch.linspace(1.0, 0.25, n + 1)]
    if solver == "euler":
        assert first_times == pytest.approx(expected[:-1], abs=1e-7)
    else:
        pairs = [v for k in range(n) for v in (expected[k], expected[k + 1])]
        assert first_times == pytest.approx(pairs, abs=1e-7)


@pytest.mark.parametrize("t_start,t_end", [(0.0, 1.0), (0.5, 0.5), (0.2, 0.7)])
def test_solve_rejects_a_forward_or_empty_interval(t_start, t_end):
    with pytest.raises(ValueError, match="t_start"):
        flow.solve(Linear(A), torch.zeros(2, 2), t_start, t_end, 4, "euler")


def test_solve_rejects_unknown_solver_and_zero_steps():
    with pytest.raises(ValueError, match="rk4"):
        flow.solve(Linear(A), torch.zeros(2, 2), 1.0, 0.0, 4, "rk4")
    with pytest.raises(ValueError, match="euler"):
        flow.ode_step(Linear(A), torch.zeros(2, 2), torch.ones(2), torch.zeros(2), "rk4")
    with pytest.raises(ValueError):
        flow.solve(Linear(A), torch.zeros(2, 2), 1.0, 0.0, 0, "euler")


def test_ode_endpoint_is_the_trajectory_endpoint():
    model = seeded_model(MLP, 16)
    z = randn(20, 2, seed=3)
    assert torch.equal(flow.ode_endpoint(model, z, 1.0, 0.0, 5, "heun"),
                       flow.solve(model, z, 1.0, 0.0, 5, "heun").xs[-1])


# --- Multi-step consistency sampling -------------------------------------------

class Stub(nn.Module):
    """Returns 10 * (call number) everywhere, so every jump's output is known in advance."""

    sigma_min = SIGMA_MIN

    def __init__(self):
        super().__init__()
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x, t):
        self.calls.append((x.clone(), t.clone()))
        return x * 0 + 10.0 * len(self.calls)


def test_multistep_with_one_level_is_one_step_sampling():
    cm = seeded_model(ConsistencyModel, 16, SIGMA_MIN, "direct", seed=2)
    z = randn(64, 2, seed=1)
    one = cons.sample_one_step(cm, z)
    multi = cons.sample_multistep(cm, z, [1.0], gen(0))
    assert torch.equal(multi.samples, one) and multi.nfe == 1
    assert torch.equal(cons.sample_multistep(cm, z, cons.default_sampling_levels(1), gen(0)).samples, one)
    torch.testing.assert_close(one, cm(z, torch.ones(64, 1)), rtol=0, atol=0)


def test_multistep_renoises_the_latest_jump_with_fresh_noise_and_not_after_the_last():
    stub = Stub()
    z = randn(50, 2, seed=1)
    levels = [1.0, 0.6, 0.3]
    g = gen(123)
    res = cons.sample_multistep(stub, z, levels, g)
    g_ref = gen(123)
    z1 = torch.randn(z.shape, generator=g_ref)
    z2 = torch.randn(z.shape, generator=g_ref)
    expected_inputs = [z, (1 - 0.6) * 10.0 + 0.6 * z1, (1 - 0.3) * 20.0 + 0.3 * z2]
    assert res.nfe == 3 and len(stub.calls) == 3
    for i, (x_in, t_in) in enumerate(stub.calls):
        torch.testing.assert_close(x_in, expected_inputs[i], rtol=0, atol=1e-6)
        torch.testing.assert_close(res.inputs[i], expected_inputs[i], rtol=0, atol=1e-6)
        assert torch.equal(t_in, torch.full((50, 1), float(torch.tensor(levels[i]))))
        assert torch.equal(res.x0_hats[i], torch.full((50, 2), 10.0 * (i + 1)))
    assert torch.equal(res.samples, torch.full((50, 2), 30.0))
    assert torch.equal(res.levels, torch.tensor(levels))
    # exactly two fresh draws: no re-noise after the last jump
    assert torch.equal(torch.randn(3, generator=g), torch.randn(3, generator=g_ref))
    # the starting noise is used as is, and the fresh noise differs from it
    assert not torch.allclose(z1, z)


def test_multistep_draws_only_from_its_generator():
    cm = seeded_model(ConsistencyModel, 16, SIGMA_MIN, seed=4)
    z = randn(30, 2, seed=1)
    a = cons.sample_multistep(cm, z, [1.0, 0.5, 0.1], gen(9)).samples
    torch.manual_seed(999)
    b = cons.sample_multistep(cm, z, [1.0, 0.5, 0.1], gen(9)).samples
    c = cons.sample_multistep(cm, z, [1.0, 0.5, 0.1], gen(10)).samples
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("levels", [[0.5, 0.5], [0.3, 0.6], [1.0, 0.2, 0.4], []])
def test_multistep_rejects_levels_that_do_not_strictly_decrease(levels):
    with pytest.raises(ValueError):
        cons.sample_multistep(Stub(), torch.zeros(4, 2), levels, gen(0))


@pytest.mark.parametrize("levels", [[1.5], [1.0, 0.001]])
def test_multistep_rejects_levels_outside_sigma_min_to_one(levels):
    with pytest.raises(ValueError):
        cons.sample_multistep(Stub(), torch.zeros(4, 2), levels, gen(0))


def test_default_sampling_levels_are_descending_from_sigma_max():
    for k in (1, 2, 4, 8):
        lv = cons.default_sampling_levels(k)
        expected = np.linspace(SIGMA_MAX, SIGMA_MIN, k + 1)[:-1]
        np.testing.assert_allclose(lv.numpy(), expected, rtol=0, atol=1e-6)
        assert len(lv) == k and float(lv[0]) == 1.0 and bool((lv[1:] < lv[:-1]).all())
    with pytest.raises(ValueError):
        cons.default_sampling_levels(0)


# --- Level schedules -----------------------------------------------------------

@pytest.mark.parametrize("n,rho", [(2, 7.0), (12, 7.0), (40, 3.0)])
def test_karras_levels_formula_endpoints_and_density(n, rho):
    lv = cons.karras_levels(n, SIGMA_MIN, SIGMA_MAX, rho)
    a, b = SIGMA_MIN ** (1 / rho), SIGMA_MAX ** (1 / rho)
    expected = [(a + i / (n - 1) * (b - a)) ** rho for i in range(n)]
    np.testing.assert_allclose(lv.numpy(), expected, rtol=1e-6)
    assert len(lv) == n and lv.dtype == torch.float32
    assert float(lv[0]) == pytest.approx(SIGMA_MIN, rel=1e-6)
    assert float(lv[-1]) == pytest.approx(SIGMA_MAX, rel=1e-6)
    gaps = lv[1:] - lv[:-1]
    assert bool((gaps > 0).all())
    assert bool((gaps[1:] > gaps[:-1]).all())  # denser near sigma_min


def test_karras_with_rho_one_is_uniform_and_denser_than_uniform_at_the_bottom():
    torch.testing.assert_close(cons.karras_levels(10, SIGMA_MIN, SIGMA_MAX, 1.0),
                               cons.uniform_levels(10, SIGMA_MIN, SIGMA_MAX), rtol=0, atol=1e-6)
    k, u = cons.karras_levels(12, SIGMA_MIN, SIGMA_MAX), cons.uniform_levels(12, SIGMA_MIN, SIGMA_MAX)
    assert float(k[1] - k[0]) < float(u[1] - u[0]) / 10


def test_uniform_levels_are_evenly_spaced_and_ascending():
    lv = cons.uniform_levels(12, SIGMA_MIN, SIGMA_MAX)
    np.testing.assert_allclose(lv.numpy(), np.linspace(SIGMA_MIN, SIGMA_MAX, 12), rtol=0, atol=1e-7)
    gaps = (lv[1:] - lv[:-1]).numpy()
    np.testing.assert_allclose(gaps, (SIGMA_MAX - SIGMA_MIN) / 11, rtol=1e-5)
    assert float(lv[0]) == pytest.approx(SIGMA_MIN) and float(lv[-1]) == pytest.approx(SIGMA_MAX)


def test_levels_for_dispatches_and_validates():
    assert torch.equal(cons.levels_for("uniform", 5, 0.01, 0.9), cons.uniform_levels(5, 0.01, 0.9))
    assert torch.equal(cons.levels_for("karras", 5, 0.01, 0.9, 5.0), cons.karras_levels(5, 0.01, 0.9, 5.0))
    with pytest.raises(ValueError):
        cons.levels_for("uniform", 1, 0.01, 0.9)
    with pytest.raises(ValueError, match="cosine"):
        cons.levels_for("cosine", 5, 0.01, 0.9)


# --- Losses and the target network -----------------------------------------------

def test_l2_distance_is_the_mean_squared_coordinate_difference():
    a, b = randn(30, 2, seed=1, dtype=torch.float64), randn(30, 2, seed=2, dtype=torch.float64)
    an, bn = a.numpy(), b.numpy()
    expected = sum((an[i, j] - bn[i, j]) ** 2 for i in range(30) for j in range(2)) / 60
    assert float(cons.distance(a, b, "l2")) == pytest.approx(expected, rel=1e-12)
    assert float(cons.distance(a, a, "l2")) == 0.0


@pytest.mark.parametrize("c", [0.03, 0.5])
def test_pseudo_huber_distance_recomputed_point_by_point(c):
    a, b = randn(30, 2, seed=1, dtype=torch.float64), randn(30, 2, seed=2, dtype=torch.float64)
    an, bn = a.numpy(), b.numpy()
    per_point = [math.sqrt((an[i, 0] - bn[i, 0]) ** 2 + (an[i, 1] - bn[i, 1]) ** 2 + c * c) - c for i in range(30)]
    assert float(cons.distance(a, b, "pseudo_huber", c)) == pytest.approx(sum(per_point) / 30, rel=1e-12)
    assert float(cons.distance(a, a, "pseudo_huber", c)) == 0.0


def test_pseudo_huber_is_quadratic_near_zero_and_linear_far_away():
    c = 0.03
    small = torch.tensor([[3e-4, 4e-4]], dtype=torch.float64)  # |d| = 5e-4
    big = torch.tensor([[30.0, 40.0]], dtype=torch.float64)  # |d| = 50
    zero = torch.zeros(1, 2, dtype=torch.float64)
    assert float(cons.distance(small, zero, "pseudo_huber", c)) == pytest.approx(5e-4 ** 2 / (2 * c), rel=1e-3)
    assert float(cons.distance(big, zero, "pseudo_huber", c)) == pytest.approx(50 - c, rel=1e-5)


def test_distance_rejects_unknown_kind():
    with pytest.raises(ValueError, match="l1"):
        cons.distance(torch.zeros(2, 2), torch.zeros(2, 2), "l1")


def _pair_of_models(seed_target=1, seed_online=2):
    return seeded_model(MLP, 8, seed=seed_target), seeded_model(MLP, 8, seed=seed_online)


def test_ema_update_with_mu_zero_copies_the_online_weights():
    target, online = _pair_of_models()
    cons.ema_update(target, online, 0.0)
    for pt, po in zip(target.parameters(), online.parameters()):
        assert torch.equal(pt, po)


def test_ema_update_with_mu_near_one_barely_moves():
    target, online = _pair_of_models()
    before = [p.detach().clone() for p in target.parameters()]
    cons.ema_update(target, online, 0.99999)
    for pt, pb, po in zip(target.parameters(), before, online.parameters()):
        gap = (po.detach() - pb).abs()
        moved = (pt.detach() - pb).abs()
        # each weight moves 1e-5 of the way to the online one (float32 rounding aside), not further
        assert bool((moved <= 1e-5 * gap + 1e-7).all())
        assert float(moved.max()) > 0


@pytest.mark.parametrize("mu", [0.3, 0.9, 0.999])
def test_ema_update_is_mu_target_plus_one_minus_mu_online(mu):
    target, online = _pair_of_models()
    tb = [p.detach().clone().double() for p in target.parameters()]
    ob = [p.detach().clone() for p in online.parameters()]
    cons.ema_update(target, online, mu)
    for pt, t0, po, o0 in zip(target.parameters(), tb, online.parameters(), ob):
        torch.testing.assert_close(pt.double(), mu * t0 + (1 - mu) * o0.double(), rtol=1e-5, atol=1e-7)
        assert torch.equal(po, o0)  # the online weights are untouched


def _redraw(levels, batch, seed):
    g = gen(seed)
    idx = torch.randint(0, len(levels) - 1, (batch,), generator=g)
    eps = torch.randn(batch, 2, generator=g)
    return idx, eps


@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_distillation_pair_noises_to_t_next_and_takes_one_teacher_step_down(solver):
    teacher = seeded_model(MLP, 16, seed=3)
    levels = cons.uniform_levels(12, SIGMA_MIN, SIGMA_MAX)
    x0 = randn(2000, 2, seed=1)
    pair = cons.distillation_pair(teacher, x0, levels, solver, gen(42))
    idx, eps = _redraw(levels, 2000, 42)
    t, t_next = levels[idx].reshape(-1, 1), levels[idx + 1].reshape(-1, 1)
    assert torch.equal(pair.t, t) and torch.equal(pair.t_next, t_next)
    assert set(idx.tolist()) == set(range(11))  # every adjacent pair, n = 1..N-1, is drawn
    torch.testing.assert_close(pair.x_next, (1 - t_next) * x0 + t_next * eps, rtol=0, atol=1e-6)
    with torch.no_grad():
        d = teacher(pair.x_next, t_next)
        x_euler = pair.x_next + (t - t_next) * d
        expected = x_euler if solver == "euler" else pair.x_next + (t - t_next) * 0.5 * (d + teacher(x_euler, t))
    torch.testing.assert_close(pair.x_hat, expected, rtol=1e-6, atol=1e-6)
    assert not pair.x_hat.requires_grad


def test_distillation_pair_with_euler_equals_one_euler_solve_step_per_point():
    teacher = seeded_model(MLP, 16, seed=3)
    levels = cons.karras_levels(6, SIGMA_MIN, SIGMA_MAX)
    x0 = randn(5, 2, seed=1)
    pair = cons.distillation_pair(teacher, x0, levels, "euler", gen(7))
    for i in range(5):
        t_next, t = float(pair.t_next[i]), float(pair.t[i])
        step = flow.solve(teacher, pair.x_next[i:i + 1], t_next, t, 1, "euler").endpoint[0]
        torch.testing.assert_close(pair.x_hat[i], step, rtol=1e-5, atol=1e-6)


def test_training_pair_uses_the_same_eps_at_both_adjacent_levels():
    levels = cons.karras_levels(10, SIGMA_MIN, SIGMA_MAX)
    x0 = randn(500, 2, seed=1, dtype=torch.float32)
    pair = cons.training_pair(x0, levels, gen(5))
    idx, eps = _redraw(levels, 500, 5)
    assert torch.equal(pair.t, levels[idx].reshape(-1, 1))
    assert torch.equal(pair.t_next, levels[idx + 1].reshape(-1, 1))
    torch.testing.assert_close(pair.x_next, (1 - pair.t_next) * x0 + pair.t_next * eps, rtol=0, atol=1e-6)
    torch.testing.assert_close(pair.x_hat, (1 - pair.t) * x0 + pair.t * eps, rtol=0, atol=1e-6)
    # solving each interpolation for its noise gives one and the same eps
    eps_next = (pair.x_next - (1 - pair.t_next) * x0) / pair.t_next
    eps_here = (pair.x_hat - (1 - pair.t) * x0) / pair.t
    torch.testing.assert_close(eps_next, eps_here, rtol=0, atol=2e-3)


def test_consistency_loss_compares_online_at_t_next_with_target_at_t_and_only_trains_online():
    model = seeded_model(ConsistencyModel, 16, SIGMA_MIN, seed=1)
    target = seeded_model(ConsistencyModel, 16, SIGMA_MIN, seed=2)
    pair = cons.training_pair(randn(64, 2, seed=3), cons.uniform_levels(8, SIGMA_MIN, SIGMA_MAX), gen(4))
    loss = cons.consistency_loss(model, target, pair, "pseudo_huber", 0.03)
    with torch.no_grad():
        a, b = model(pair.x_next, pair.t_next), target(pair.x_hat, pair.t)
        expected = (torch.sqrt(((a - b) ** 2).sum(1) + 0.03 ** 2) - 0.03).mean()
    torch.testing.assert_close(loss.detach(), expected, rtol=1e-6, atol=1e-8)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert all(p.grad is None for p in target.parameters())
