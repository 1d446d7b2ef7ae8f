"""The lab engine (cmcore.lab) and its sentences (ui.lab_words): formulas re-derived by hand, invariants."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from cmcore import evaluate, lab, zoo
from cmcore.evaluate import EvalSpec, Score
from cmcore.metrics import w2
from ui import lab_words


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


def test_sampler_score_is_the_protocol_score(shipped):
    teacher, cm = shipped
    spec = EvalSpec(200, (0, 1))
    assert lab.sampler_score("floor", teacher, cm, "two_moons", spec) == evaluate.floor_score("two_moons", spec)
    assert lab.sampler_score("cm_1", teacher, cm, "two_moons", spec) == evaluate.cm_score(cm, "two_moons", 1, spec=spec)
    table = evaluate.QualityTable({1: Score((1.0,), 9), 50: Score((0.2,), 9)}, {1: Score((0.3,), 9)},
                                  Score((0.1,), 9))
    assert [lab.score_from_table(k, table).mean for k in lab.W2_SAMPLERS] == [1.0, 0.2, 0.3, 0.1]


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
