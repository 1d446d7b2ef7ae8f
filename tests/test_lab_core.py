"""The lab engine (cmcore.lab) and its sentences (viz.words.lab): formulas re-derived by hand, invariants."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from cmcore import evaluate, lab, threads, zoo
from cmcore.evaluate import EvalSpec, Score
from cmcore.metrics import w2
from viz.words import lab as lab_words


@pytest.fixture(scope="module")
def shipped():
    recipe = zoo.DEFAULT
    return zoo.load_teacher(recipe.teacher).model, zoo.load_consistency(recipe.teacher, recipe.consistency).model


# --- What W2 means -------------------------------------------------------------------------------

def test_matching_is_the_cheapest_permutation_by_brute_force():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    perm, value = lab.w2_matching(a, b)
    assert sorted(perm) == list(range(6))
    costs = {p: ((a - b[list(p)]) ** 2).sum(axis=1).mean() for p in itertools.permutations(range(6))}
    best = min(costs.values())
    assert ((a - b[perm]) ** 2).sum(axis=1).mean() == pytest.approx(best, rel=1e-12)
    assert value == pytest.approx(math.sqrt(best), rel=1e-12)


def test_matching_total_cost_is_w2_squared_and_agrees_with_the_metric():
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(200, 2, generator=g), torch.randn(200, 2, generator=g) + 0.5
    perm, value = lab.w2_matching(a, b)
    a64, b64 = a.double().numpy(), b.double().numpy()
    assert ((a64 - b64[perm]) ** 2).sum(axis=1).mean() == pytest.approx(value ** 2, rel=1e-12)
    assert value == pytest.approx(w2(a, b), rel=1e-9)  # POT's network simplex, the protocol's W2


def test_matching_of_a_set_with_itself_is_the_identity():
    a = np.random.default_rng(1).normal(size=(50, 2))
    perm, value = lab.w2_matching(a, a)
    assert list(perm) == list(range(50)) and value == 0.0


def test_matching_refuses_sets_of_different_sizes():
    with pytest.raises(ValueError, match="same size"):
        lab.w2_matching(np.zeros((3, 2)), np.zeros((4, 2)))


def test_line_stats_by_hand():
    lengths = np.array([0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 2.0])
    floor = np.linspace(0.0, 0.2, 101)  # 95th percentile: 0.19
    s = lab.line_stats(lengths, floor)
    assert s.w2 == pytest.approx(math.sqrt((lengths ** 2).mean()))
    assert s.median == pytest.approx(0.3)
    assert s.long_threshold == pytest.approx(0.19)
    assert s.long_share == pytest.approx(0.8)  # 8 of 10 lines exceed 0.19
    assert s.top_share == pytest.approx(4.0 / (lengths ** 2).sum())  # the longest 10 %: one line of 2.0


def test_samplers_draw_through_the_protocol(shipped):
    teacher, cm = shipped
    got = lab.sampler_points("teacher_1", teacher, cm, "two_moons", 4, 100)
    assert torch.equal(got, evaluate.teacher_samples(teacher, 4, 100, 1))
    assert torch.equal(lab.sampler_points("teacher_50", teacher, cm, "two_moons", 4, 100),
                       evaluate.teacher_samples(teacher, 4, 100, 50))
    assert torch.equal(lab.sampler_points("cm_1", teacher, cm, "two_moons", 4, 100), evaluate.cm_samples(cm, 4, 100, 1))
    assert torch.equal(lab.sampler_points("floor", teacher, cm, "two_moons", 4, 100),
                       evaluate.floor_sample("two_moons", 4, 100))
    with pytest.raises(ValueError, match="Unknown sampler"):
        lab.sampler_points("teacher_7", teacher, cm, "two_moons", 4, 100)


def test_w2_sentences_follow_the_numbers():
    spread = lab.LineStats(w2=0.4, median=0.31, long_threshold=0.28, long_share=0.57, top_share=0.36)
    text = lab_words.w2_lines("the model's sample", 150, spread)
    for number in ("0.400", "0.310", "0.280", "57%", "36%", "150 points"):
        assert number in text
    assert "spread over many lines" in text
    assert "a few far-off points drive" in lab_words.w2_lines("x", 150, spread.__class__(1.0, 0.1, 0.2, 0.1, 0.8))
    spec = EvalSpec()
    worse = lab_words.w2_protocol("the sample", spec, 150, 0.4, Score((0.16, 0.17, 0.18), 2000),
                                  Score((0.06, 0.061, 0.062), 2000), False)
    assert "0.170 ± 0.006" in worse and "worse than the floor" in worse and "2.8× the floor" in worse
    assert "overstate" in worse
    same = lab_words.w2_protocol("the sample", spec, 150, 0.05, Score((0.06, 0.07, 0.05), 2000),
                                 Score((0.06, 0.061, 0.062), 2000), False)
    assert "indistinguishable" in same and "overstate" not in same and "lower than" in same
    floor = lab_words.w2_protocol("a second real sample", spec, 150, 0.17, Score((0.06, 0.061, 0.062), 2000),
                                  Score((0.06, 0.061, 0.062), 2000), True)
    assert "this is the floor" in floor


# --- What f_theta does at each t ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_frames(shipped):
    teacher, _ = shipped
    x0 = evaluate.eval_reference("two_moons", 0, 16)
    eps, _ = evaluate.eval_noise(0, 16)
    ts = torch.tensor([0.2, 0.6, 1.0], dtype=torch.float64)
    return x0, eps, ts, lab.noised_frames(teacher, x0, eps, ts)


def test_frame_times_and_their_checks():
    ts = lab.frame_times()
    assert len(ts) == lab.FRAME_COUNT and float(ts[0]) == pytest.approx(lab.FRAME_T_MIN) and float(ts[-1]) == 1.0
    assert torch.allclose(ts[1:] - ts[:-1], torch.full((lab.FRAME_COUNT - 1,), 0.04, dtype=torch.float64))
    with pytest.raises(ValueError, match="at least 2 frames"):
        lab.frame_times(1)


def test_frames_hold_x_t_and_the_200_step_endpoint_of_each_frame(shipped, small_frames):
    from cmcore.flow import interpolate, solve

    teacher, _ = shipped
    x0, eps, ts, fr = small_frames
    for f, t in enumerate(ts.tolist()):
        assert torch.equal(fr.x_t[f], interpolate(x0, eps, torch.full((16, 1), t)))
        direct = solve(teacher, fr.x_t[f], t, 0.0, evaluate.REFERENCE_ODE_STEPS).endpoint
        assert torch.allclose(fr.endpoint[f], direct, atol=1e-5), (t, (fr.endpoint[f] - direct).abs().max())


def test_jumps_equal_direct_calls(shipped, small_frames):
    teacher, cm = shipped
    _, _, ts, fr = small_frames
    cm_j, tx_j = lab.consistency_jumps(cm, fr), lab.teacher_jumps(teacher, fr)
    for f, t in enumerate(ts.tolist()):
        tt = torch.full((16, 1), t)
        with torch.no_grad():
            assert torch.allclose(cm_j[f], cm(fr.x_t[f], tt), atol=1e-6)
            assert torch.allclose(tx_j[f], fr.x_t[f] - t * teacher(fr.x_t[f], tt), atol=1e-6)  # x0 = x_t - t v
        by_hand = ((cm_j[f] - fr.endpoint[f]) ** 2).sum(dim=1).sqrt().mean()
        assert float(lab.mean_endpoint_error(cm_j, fr)[f]) == pytest.approx(float(by_hand), rel=1e-6)


def test_ftheta_sentence_follows_the_curves():
    ts = [0.2, 0.6, 1.0]
    text = lab_words.ftheta_curve(ts, [0.01, 0.02, 0.05], [0.005, 0.4, 1.5])
    assert "lands 0.050" in text and "1.500" in text and "30.0× further" in text
    assert "closer of the two for t = 0.60 to 1.00; the teacher's jump for t = 0.20" in text
    assert "every t shown" in lab_words.ftheta_curve(ts, [0.01, 0.02, 0.05], [0.1, 0.4, 1.5])
    worse = lab_words.ftheta_curve(ts, [0.5, 0.6, 3.0], [0.1, 0.4, 1.5])
    assert "teacher's jump is the closer of the two at every t" in worse and "2.0× closer" in worse


# --- Anatomy of one distillation step ------------------------------------------------------------------

TINY = dict(steps=20, batch=32, threads=1)


@pytest.fixture(scope="module")
def tiny_run(shipped):
    import dataclasses

    teacher, _ = shipped
    cfg = dataclasses.replace(zoo.DEFAULT.consistency, **TINY)
    return cfg, lab.train_with_snapshots(cfg, teacher, "two_moons", every=10)


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_snapshot_run_saves_both_networks_and_trains_as_the_trainer_does(shipped, tiny_run):
    from cmcore.nets import ConsistencyModel
    from cmcore.train import train_consistency

    teacher, _ = shipped
    cfg, run = tiny_run
    assert run.steps == (0, 10, 20) == lab.snapshot_steps(20, 10)
    assert math.isnan(run.snapshots[0].loss) and all(s.loss > 0 for s in run.snapshots[1:])
    start = ConsistencyModel.from_teacher(teacher, cfg.sigma_min)  # init from the teacher: f starts as an Euler jump
    assert _same_weights(run.at(0).online, start) and _same_weights(run.at(0).target, start)
    assert _same_weights(run.at(20).online, train_consistency(cfg, teacher, "two_moons").model)  # same loop, seed
    assert not _same_weights(run.at(10).online, run.at(10).target)  # mu = 0.95: the target lags
    assert all(not p.requires_grad for s in run.snapshots for p in s.online.parameters())  # frozen copies
    with pytest.raises(ValueError, match="No checkpoint at step 7"):
        run.at(7)


def test_target_is_the_ema_of_the_online_weights(shipped):
    import dataclasses

    teacher, _ = shipped
    copy_cfg = dataclasses.replace(zoo.DEFAULT.consistency, ema_mu=0.0, **TINY)  # theta^- <- theta after each step
    run = lab.train_with_snapshots(copy_cfg, teacher, "two_moons", every=10)
    assert all(_same_weights(s.online, s.target) for s in run.snapshots)


def test_lab_run_config_only_shortens():
    cfg = lab.lab_run_config(zoo.DEFAULT.consistency)
    assert (cfg.steps, cfg.batch, cfg.threads) == (lab.LAB_RUN_STEPS, lab.LAB_RUN_BATCH, threads.ONE_THREAD)
    assert cfg.ema_mu == zoo.DEFAULT.consistency.ema_mu and cfg.n_levels == zoo.DEFAULT.consistency.n_levels


def test_step_anatomy_rederived(shipped, tiny_run):
    from cmcore.flow import ode_step

    teacher, _ = shipped
    cfg, run = tiny_run
    x0, eps = torch.tensor([0.5, -0.3]), torch.tensor([1.2, 0.4])
    n = 4
    a = lab.step_anatomy(teacher, run, x0, eps, n)
    t_n, t_next = float(run.levels[n - 1]), float(run.levels[n])  # paper's 1-based t_n, t_{n+1}
    assert (a.t_n, a.t_next) == (t_n, t_next)
    assert torch.allclose(a.x_next, (1 - t_next) * x0 + t_next * eps)
    tn, tn1 = torch.full((1, 1), t_n), torch.full((1, 1), t_next)
    with torch.no_grad():
        assert torch.allclose(a.x_hat, ode_step(teacher, a.x_next[None], tn1, tn, cfg.teacher_solver)[0])
        for k, snap in enumerate(run.snapshots):
            online, target = snap.online(a.x_next[None], tn1)[0], snap.target(a.x_hat[None], tn)[0]
            assert torch.allclose(a.online[k], online) and torch.allclose(a.target[k], target)
            c = cfg.huber_c  # pseudo-Huber, Song & Dhariwal 2023 Eq. 9
            assert float(a.loss[k]) == pytest.approx(math.sqrt(float(((online - target) ** 2).sum()) + c * c) - c,
                                                     rel=1e-5)
            assert float(a.gap[k]) == pytest.approx(float((online - target).norm()), rel=1e-6)
    with pytest.raises(ValueError, match="choose n from 1 to"):
        lab.step_anatomy(teacher, run, x0, eps, cfg.n_levels)


def test_training_mode_pairs_use_the_same_noise():
    import dataclasses

    cfg = dataclasses.replace(zoo.DEFAULT.consistency, mode="training", init_from_teacher=False)
    x0, eps = torch.tensor([[0.5, -0.3]]), torch.tensor([[1.2, 0.4]])
    x_next, x_lower = lab.pair_inputs(None, x0, eps, 0.3, 0.4, cfg)
    assert torch.allclose(x_next, 0.6 * x0 + 0.4 * eps) and torch.allclose(x_lower, 0.7 * x0 + 0.3 * eps)


def test_anatomy_sentence_follows_the_numbers():
    labels = lab_words.anatomy_labels(6, "distillation", "heun", "pseudo_huber")
    assert labels.x_next == "x_t₇ = (1−t₇)x₀ + t₇ε" and labels.online.startswith("f_θ(x_t₇, t₇)")
    assert labels.target.startswith("f_θ⁻(x̂_t₆, t₆)") and "Heun step" in labels.x_hat
    steps, gap, loss = (0, 50, 100), [0.2, 0.05, 0.01], [0.17, 0.03, 0.005]
    text = lab_words.anatomy_step(labels, steps, 2, gap, loss, [0.4, 0.1, 0.02], [0.3, 0.1, 0.03], 256)
    assert "At step 100 of 100" in text and "**0.0100** apart" in text
    assert "20.0× closer than at step 0 (0.2000)" in text
    assert "5.00e-03" in text and "mean gap is 0.0300 (step 0: 0.3000)" in text and "0.0200 from the true ODE" in text
    start = lab_words.anatomy_step(labels, steps, 0, gap, loss, [0.4, 0.1, 0.02], [0.3, 0.1, 0.03], 256)
    assert start.startswith("Before training (step 0)") and "step 0:" not in start
    apart = lab_words.anatomy_step(labels, steps, 1, [0.1, 0.3, 0.2], loss, [0.4, 0.5, 0.02], [0.3, 0.1, 0.03], 8)
    assert "3.0× further apart than" in apart and "further than at step 0" in apart


# --- Where is the model consistent? --------------------------------------------------------------------

def test_grid_points_are_cell_centres():
    pts, size = lab.grid_points(4, (-2.0, 2.0))
    assert size == 1.0 and pts.shape == (16, 2)
    assert pts[0].tolist() == [-1.5, -1.5] and pts[1].tolist() == [-0.5, -1.5] and pts[4].tolist() == [-1.5, -0.5]
    with pytest.raises(ValueError, match="at least 2 cells"):
        lab.grid_points(1, (-1.0, 1.0))


def test_ode_map_and_its_errors_rederived(shipped):
    from cmcore.flow import solve

    teacher, cm = shipped
    m = lab.ode_map(teacher, 0.5, g=6, domain=(-3.0, 3.0), keep=5)
    direct = solve(teacher, m.x_t, 0.5, 0.0, evaluate.REFERENCE_ODE_STEPS)
    assert torch.equal(m.endpoint, direct.endpoint) and torch.equal(m.path[0], m.x_t)
    assert torch.equal(m.path[-1], m.endpoint) and m.path.shape == (5, 36, 2)
    jumps, err = lab.map_jumps(cm, m)
    with torch.no_grad():
        assert torch.allclose(jumps, cm(m.x_t, torch.full((36, 1), 0.5)))
    assert torch.allclose(err, ((jumps - m.endpoint) ** 2).sum(dim=1).sqrt())
    with pytest.raises(ValueError, match="must lie in"):
        lab.ode_map(teacher, 0.0)


def test_visited_cells_by_hand():
    pts = torch.tensor([[-1.9, -1.9], [1.5, -1.5], [1.6, -1.2], [5.0, 0.0]])  # the last lies outside the window
    hit = lab.visited_cells(pts, g=4, domain=(-2.0, 2.0))
    assert hit.nonzero().flatten().tolist() == [0, 3]  # row 0: x-cells 0 and 3


def test_consistency_map_sentences_follow_the_numbers():
    cur, early = np.array([0.01, 0.02, 0.5, 0.6]), np.array([0.2, 0.04, 0.7, 0.5])
    text = lab_words.consistency_map(0.5, cur, early, [True, True, False, False], "model A", "model B")
    assert "lands in 2 of 4 cells" in text and "**0.015**" in text and "**0.120**" in text and "8.0× larger" in text
    assert "100% and 50% of those cells are within 0.05" in text
    assert "the means are 0.550 and 0.600: the consistency property is learned where" in text
    assert "no noised data point" in lab_words.consistency_map(0.5, cur, early, [False] * 4, "A", "B")
    over = lab_words.consistency_over_t([0.5, 1.0], [0.05, 0.06], [0.1, 1.2], [0.4, 1.8], "A", "B")
    assert "A is the more consistent at every t shown" in over and "0.060, against 1.200" in over
    assert "reaches 1.800 (at t = 1.00)" in over
    mixed = lab_words.consistency_over_t([0.5, 1.0], [0.05, 2.0], [0.1, 1.2], [0.4, 1.8], "A", "B")
    assert "A is the more consistent at 1 of 2 times" in mixed
