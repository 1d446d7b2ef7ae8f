"""Parameterisations: the paper's c_skip/c_out re-derived by hand, boundary invariants, the stored study, the words."""
from __future__ import annotations

import math

import pytest
import torch

from cmcore.evaluate import Score
from cmcore.lab_train import PARAM_STARTS, ParamStudy, window_means
from cmcore.lab_words import coefficients_at_noise, param_findings, start_finding
from cmcore.nets import ConsistencyModel
from cmcore.parameterisation import LESSON, Parameterisation, ScaledConsistencyModel, song_c_out, song_c_skip

SIGMA_MIN = 0.002


@pytest.mark.parametrize("param", [LESSON, *(Parameterisation("song", sd) for sd in (0.1, 0.5, 1.0, 3.0))])
def test_boundary_condition_of_every_form(param):
    assert float(param.c_skip(SIGMA_MIN, SIGMA_MIN)) == pytest.approx(1.0, abs=1e-7)
    assert float(param.c_out(SIGMA_MIN, SIGMA_MIN)) == pytest.approx(0.0, abs=1e-7)


def test_paper_form_by_hand():
    # Song et al. 2023, Appendix C, at t = 1, sigma_min = 0.002, sigma_data = 0.5.
    skip = 0.5 ** 2 / ((1 - 0.002) ** 2 + 0.5 ** 2)
    out = 0.5 * (1 - 0.002) / math.sqrt(0.5 ** 2 + 1)
    assert float(song_c_skip(1.0, SIGMA_MIN, 0.5)) == pytest.approx(skip, rel=1e-6)
    assert float(song_c_out(1.0, SIGMA_MIN, 0.5)) == pytest.approx(out, rel=1e-6)
    t = torch.tensor([0.1, 0.5])
    assert torch.allclose(Parameterisation("song", 2.0).c_skip(t, SIGMA_MIN), 4.0 / ((t - SIGMA_MIN) ** 2 + 4.0))


def test_lesson_form_matches_the_shipped_model_and_song_keeps_the_boundary():
    torch.manual_seed(0)
    cm = ConsistencyModel(16, SIGMA_MIN, "x0_from_velocity")
    x, t = torch.randn(32, 2), torch.rand(32, 1) * 0.9 + 0.1
    assert torch.equal(ScaledConsistencyModel.wrap(cm, LESSON)(x, t), cm(x, t))
    song = ScaledConsistencyModel.wrap(cm, Parameterisation("song", 0.5))
    assert torch.allclose(song(x, torch.full((32, 1), SIGMA_MIN)), x, atol=1e-6)  # f(x, sigma_min) = x
    assert not torch.allclose(song(x, t), cm(x, t))


def test_bad_parameterisation_is_refused_with_a_fix():
    with pytest.raises(ValueError, match="choose one of lesson, song"):
        Parameterisation("edm").validate()
    with pytest.raises(ValueError, match="out of range"):
        Parameterisation("song", 0.0).validate()


def test_window_means():
    assert window_means([1.0, 3.0, 5.0, 7.0], points=2) == [(2, 2.0), (4, 6.0)]
    assert window_means([2.0], points=5) == [(1, 2.0)]


def _s(*v):
    return Score(tuple(v), 1000)


def test_findings_call_a_gap_inside_the_noise_indistinguishable():
    p = Parameterisation("song", 0.5)
    scores = {LESSON: _s(0.22, 0.23, 0.21), p: _s(0.221, 0.229, 0.212)}
    text = " ".join(param_findings(scores, _s(0.08, 0.081, 0.079), {LESSON: 1.9, p: 1.7}, 400, p))
    assert "indistinguishable" in text and "better" not in text and "worse" not in text
    assert "1.900" in text and "1.700" in text


def test_findings_name_the_better_form_and_the_floor():
    a, b = Parameterisation("song", 0.25), Parameterisation("song", 2.0)
    scores = {LESSON: _s(0.220, 0.221, 0.222), a: _s(0.200, 0.201, 0.202), b: _s(0.300, 0.301, 0.302)}
    lines = param_findings(scores, _s(0.08, 0.081, 0.079), {}, 400, b)
    assert "worse than the lesson's form" in lines[0]
    assert "best setting was 0.25" in lines[1] and "σ_data matters here" in lines[1]
    assert lines[2].startswith("Best σ_data against the lesson: the paper's form (σ_data = 0.25) is better")
    assert "above the floor" in lines[3]


def test_start_finding_uses_the_comparison_rule():
    text = start_finding(LESSON, _s(0.22, 0.221, 0.222), _s(0.40, 0.38, 0.42), 400)
    assert "starting from the teacher is better than starting at random" in text and "400 steps" in text
    text = start_finding(LESSON, _s(0.22, 0.25, 0.19), _s(0.23, 0.26, 0.20), 400)
    assert "indistinguishable" in text


def test_coefficients_at_noise_states_the_formula_values():
    text = coefficients_at_noise(Parameterisation("song", 1.0), SIGMA_MIN)
    assert f"{float(song_c_skip(1.0, SIGMA_MIN, 1.0)):.3f}" in text and "0.002" in text and "0.998" in text


@pytest.mark.parametrize("start", list(PARAM_STARTS))
def test_stored_study_is_complete(start):
    study = ParamStudy.load(PARAM_STARTS[start])
    assert study.config.init_from_teacher == (start == "teacher")
    assert LESSON in study.variants and len(study.variants) >= 2
    for p in study.variants:
        assert len(study.runs_of(p)) >= 2 and study.score(p).sem >= 0
        assert all(r.loss and r.w2_curve for r in study.runs_of(p))
    assert 0 < study.floor.mean < min(study.score(p).mean for p in study.variants)
