"""Page 4's computed sentences on hand-made scores: each verdict and story follows the one comparison rule."""
from __future__ import annotations

from cmcore.sampler_study import SamplerStudy, Variant, variants
from cmcore.stats import Score
from tests.scores import independent
from viz.words import loss as loss_words
from viz.words import samplers as sw


def s(mean: float, spread: float = 0.001) -> Score:
    """A score of three seeds of its own with this mean and a small spread (tests/scores.py)."""
    return independent((mean - spread, mean, mean + spread), 2000)


def test_vs_five_grades_each_outcome():
    assert sw.vs_five_verdict(s(0.10), s(0.20))[0] == (sw.VS_FIVE[0],)
    assert sw.vs_five_verdict(s(0.30), s(0.20))[0] == (sw.VS_FIVE[2],)
    accepted, because = sw.vs_five_verdict(s(0.201, 0.05), s(0.20, 0.05))
    assert accepted == (sw.VS_FIVE[1],) and "indistinguishable at this sample size" in because


def test_match_is_the_fewest_steps_not_measurably_worse_than_fifty():
    t50 = s(0.10)
    cms = {1: s(0.40), 2: s(0.101, 0.01), 4: s(0.09), 8: s(0.09)}
    accepted, because = sw.match_verdict(cms, t50)
    assert accepted == ("2 steps",) and sw.fewest_matching(cms, t50) == 2
    assert str(cms[2]) in because and str(t50) in because and "are 2 steps; fewer are measurably worse" in because
    assert sw.match_verdict({k: s(0.09) for k in (1, 2, 4, 8)}, t50)[0] == ("1 step",)
    none, because = sw.match_verdict({k: s(0.5) for k in (1, 2, 4, 8)}, t50)
    assert none == (sw.MATCH[-1],) and "measurably worse" in because


def test_eight_against_four_calls_a_tie_a_tie():
    assert sw.eight_vs_four_verdict(s(0.10), s(0.20))[0] == (sw.EIGHT_VS_FOUR[0],)
    assert sw.eight_vs_four_verdict(s(0.30), s(0.20))[0] == (sw.EIGHT_VS_FOUR[2],)
    accepted, because = sw.eight_vs_four_verdict(s(0.20, 0.03), s(0.21, 0.03))
    assert accepted == (sw.EIGHT_VS_FOUR[1],) and "indistinguishable at this sample size" in because


def study(same: dict[int, Score], spacing: dict[tuple[int, str], Score], lesson: float = 0.2) -> SamplerStudy:
    scores = {}
    for v in variants():
        scores[v] = (same[v.k] if v.same_noise else s(lesson) if v.is_lesson else spacing.get((v.k, v.spacing),
                                                                                                s(lesson)))
    from cmcore.evaluate import EvalSpec
    return SamplerStudy(scores, EvalSpec())


def test_noise_story_counts_outcomes_and_names_ties():
    worse = study({k: s(0.4) for k in (2, 4, 8)}, {})
    text = sw.noise_story(worse)
    assert "the notebook's warning holds for this model" in text and text.count("is worse than fresh noise") == 3
    tied = study({k: s(0.2005, 0.02) for k in (2, 4, 8)}, {})
    text = sw.noise_story(tied)
    assert "cannot be seen" in text and text.count("indistinguishable at this sample size") == 3
    mixed = study({2: s(0.4), 4: s(0.1), 8: s(0.2)}, {})
    assert "worse at 1, better at 1 and indistinguishable at 1 of 3" in sw.noise_story(mixed)


def test_spacing_story_names_what_beats_even_spacing():
    none = study({k: s(0.4) for k in (2, 4, 8)}, {})
    assert "No other spacing is measurably better" in sw.spacing_story(none)
    karras = study({k: s(0.4) for k in (2, 4, 8)}, {(4, "karras"): s(0.1), (8, "karras"): s(0.1)})
    text = sw.spacing_story(karras)
    assert f"{sw.SPACING_LABELS['karras']} at 2 of 3" in text
    assert sw.SPACING_LABELS["high"] not in text.splitlines()[-1]
    line4 = next(line for line in text.splitlines() if line.startswith("- 4 steps"))
    assert f"{sw.SPACING_LABELS['karras']} {s(0.1)}, better than even spacing" in line4
    assert f"{sw.SPACING_LABELS['high']} {s(0.2)}, indistinguishable from even spacing at this sample size" in line4


def test_every_spacing_has_one_label():
    from cmcore.consistency import SAMPLING_RHO
    assert list(sw.SPACING_LABELS) == list(SAMPLING_RHO)


def test_variant_keys_stay_readable():
    assert Variant(4, True, "karras").key() == "4:same:karras"


def test_loss_story_reads_the_points():
    assert "was lowest at step 20" in loss_words.loss_story([(10, 1.0), (20, 0.1), (30, 0.4)])
    dip = [(10, 1.0), (20, 0.1), (30, 0.5), (40, 0.3), (50, 0.2), (60, 0.15), (70, 0.12), (80, 0.11), (90, 0.05),
           (100, 0.06)]
    assert "fell to 1.00e-01 by step 20, then rose to 5.00e-01 at step 30 (5.0×)" in loss_words.loss_story(dip)
    assert "rose" not in loss_words.loss_story([(10, 1.0), (20, 0.5), (30, 0.4), (40, 0.3)])
    assert "4.0× its lowest" in loss_words.loss_story([(10, 1.0), (20, 0.1), (30, 0.4)])
    assert "10.0× lower" in loss_words.loss_story([(10, 1.0), (20, 0.5), (30, 0.1)])
    assert "higher" in loss_words.loss_story([(10, 0.1), (20, 0.5), (30, 1.0)])
