"""Page 4's sampler experiments in the engine: level spacings re-derived by hand, the same-noise sampler's
re-noise, the study's variants, storage and the stored track's loss curve."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cmcore import evaluate, sampler_study, tracks
from cmcore.consistency import SAMPLING_RHO, default_sampling_levels, sample_multistep, sampling_levels
from cmcore.evaluate import EvalSpec, Score
from cmcore.flow import interpolate
from tests.tolerances import REMEASURED_W2_ABS


class Shrink(nn.Module):
    """f(x, t) = (1 - t/2) x: a deterministic stand-in for a consistency model."""

    sigma_min = 0.002

    def forward(self, x, t):
        return (1 - t.reshape(-1, 1) / 2) * x


def test_uniform_spacing_is_the_lesson_levels_bit_for_bit():
    for k in (1, 2, 4, 8):
        assert torch.equal(sampling_levels(k, "uniform"), default_sampling_levels(k))


@pytest.mark.parametrize("spacing", list(SAMPLING_RHO))
@pytest.mark.parametrize("k", [1, 2, 4, 8])
def test_every_spacing_starts_at_pure_noise_and_decreases(spacing, k):
    levels = sampling_levels(k, spacing)
    assert len(levels) == k and float(levels[0]) == 1.0
    assert bool((levels[1:] < levels[:-1]).all()) and float(levels[-1]) > 0.002


def test_spacings_match_the_formula_by_hand():
    lo, hi = 0.002, 1.0
    # K = 2: the one re-noise level is the midpoint of sigma^(1/rho) between sigma_max and sigma_min.
    for spacing, rho in SAMPLING_RHO.items():
        mid = ((hi ** (1 / rho) + lo ** (1 / rho)) / 2) ** rho
        assert float(sampling_levels(2, spacing)[1]) == pytest.approx(mid, rel=1e-5)
    assert float(sampling_levels(2, "high")[1]) == pytest.approx(math.sqrt((1 + 0.002 ** 2) / 2), rel=1e-5)
    assert float(sampling_levels(2, "karras")[1]) < float(sampling_levels(2, "uniform")[1]) < \
        float(sampling_levels(2, "high")[1])  # packed low, even, packed high


def test_unknown_spacing_says_what_to_choose():
    with pytest.raises(ValueError, match="uniform, karras, high"):
        sampling_levels(4, "cosine")
    with pytest.raises(ValueError, match="at least one"):
        sampling_levels(0, "karras")


def test_same_noise_renoises_with_the_starting_noise():
    z = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    levels = sampling_levels(3, "uniform")
    g = torch.Generator().manual_seed(1)
    same = sample_multistep(Shrink(), z, levels, g, same_noise=True)
    for i in (1, 2):
        expected = interpolate(same.x0_hats[i - 1], z, levels[i].expand(5))
        assert torch.equal(same.inputs[i], expected)
    assert torch.equal(g.get_state(), torch.Generator().manual_seed(1).get_state())  # no fresh noise drawn
    fresh = sample_multistep(Shrink(), z, levels, torch.Generator().manual_seed(1))
    assert not torch.allclose(fresh.inputs[1], same.inputs[1])
    assert torch.equal(fresh.x0_hats[0], same.x0_hats[0])  # the first jump is the same: only re-noising differs


def test_variants_cover_both_experiments_per_step_count():
    vs = sampler_study.variants((2, 4))
    assert len(vs) == 2 * (2 + len(SAMPLING_RHO) - 1)
    assert sum(v.is_lesson for v in vs) == 2
    assert {v.key() for v in vs} == {sampler_study.Variant.from_key(v.key()).key() for v in vs}
    with pytest.raises(ValueError):
        sampler_study.Variant.from_key("2:stale:uniform")


def test_variant_score_is_the_protocol_on_those_levels():
    cm, spec = Shrink(), EvalSpec(40, (0, 1))
    v = sampler_study.Variant(4, same_noise=True, spacing="karras")
    expected = evaluate.cm_score(cm, "two_moons", 4, sampling_levels(4, "karras"), spec, same_noise=True)
    assert sampler_study.variant_score(cm, "two_moons", v, spec) == expected


def test_study_reuses_known_scores_round_trips_and_rejects_another_spec(tmp_path, monkeypatch):
    cm, spec = Shrink(), EvalSpec(40, (0, 1))
    known = {2: Score((9.0, 9.0), 40)}
    study = sampler_study.run(cm, "two_moons", spec, steps=(2,), known=known)
    assert study.lesson(2) == known[2]
    assert study.same_noise(2) != known[2] and study.steps == (2,)
    # a stored table on more seeds is reused on the study's own, so the variants pair up seed by seed
    wider = sampler_study.run(cm, "two_moons", spec, steps=(2,), known={2: Score((9.0, 8.0, 7.0), 40)})
    assert wider.lesson(2) == Score((9.0, 8.0), 40, (0, 1)) and wider.lesson(2).seeds == wider.same_noise(2).seeds
    other_size = sampler_study.run(cm, "two_moons", spec, steps=(2,), known={2: Score((9.0, 8.0), 80)})
    assert other_size.lesson(2) != Score((9.0, 8.0), 80)  # measured afresh, not borrowed from another size
    back = sampler_study.SamplerStudy.from_json(study.to_json())
    assert back == study
    full = sampler_study.run(cm, "two_moons", spec)
    from cmcore import zoo
    path = sampler_study.save(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency, full, tmp_path)
    assert path.name.startswith("samplers-")
    assert sampler_study.load(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency, spec, tmp_path) == full
    assert sampler_study.load(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency, EvalSpec(), tmp_path) is None
    path.write_text("{not json")
    assert sampler_study.load(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency, spec, tmp_path) is None


def test_loss_curve_averages_equal_windows():
    losses = [float(i) for i in range(1, 11)]  # steps 1..10
    assert tracks.loss_curve(losses, points=5) == ((2, 1.5), (4, 3.5), (6, 5.5), (8, 7.5), (10, 9.5))
    assert tracks.loss_curve(losses, points=3) == ((4, 2.5), (8, 6.5), (10, 9.5))  # last window is shorter
    assert tracks.loss_curve(losses, points=50) == tuple((i, float(i)) for i in range(1, 11))


def test_shipped_tracks_store_their_loss():
    from cmcore import zoo
    for recipe in zoo.RECIPES.values():
        loss = tracks.load_loss(recipe.teacher, recipe.consistency)
        assert loss is not None and len(loss) == tracks.LOSS_POINTS, recipe.name
        assert loss[-1][0] == recipe.consistency.steps and all(v > 0 for _, v in loss)


def test_shipped_sampler_studies_are_stored_and_current():
    """The stored study of our shipped pair: complete at the standard spec, and one variant re-measured agrees."""
    from cmcore import zoo
    recipe = zoo.DEFAULT
    study = sampler_study.load(recipe.teacher, recipe.consistency)
    assert study is not None, "run `python -m cmcore.lab_cli samplers` to store the sampler studies"
    cm = zoo.load_consistency(recipe.teacher, recipe.consistency).model
    v = sampler_study.Variant(2, same_noise=True)
    again = sampler_study.variant_score(cm, recipe.teacher.dataset, v)
    assert again.values == pytest.approx(study.scores[v].values, abs=REMEASURED_W2_ABS, rel=0)
