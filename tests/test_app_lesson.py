"""The notebook's parts the pages add (issue 16): page 4's three predictions and two sampler experiments, the
sampler's code; page 3's notes (why one teacher step, the common mistakes) and a shipped model's training curves."""
from __future__ import annotations

import html
import re

import pytest

from cmcore import sampler_study, tracks, zoo
from cmcore.evaluate import EvalSpec
from tests.test_app_pages import charts, no_exception, open_page
from tests.tolerances import REMEASURED_W2_ABS
from ui import distill_notes, multistep, stepcode
from viz.words import loss as loss_words
from viz.words import samplers as sw

PAGE4, PAGE3 = "pages/4_multistep.py", "pages/3_distillation.py"
KEYS = [key for key, _, _ in multistep.QUESTIONS]


def texts(at) -> str:
    return "\n".join(e.value for kind in ("markdown", "caption", "info", "success", "warning")
                     for e in getattr(at, kind))


def test_page4_asks_the_notebooks_three_questions_before_showing_anything():
    at = open_page(PAGE4)
    no_exception(at)
    assert [at.radio(key=f"predict_{k}").options for k in KEYS] == [list(sw.VS_FIVE), list(sw.MATCH),
                                                                   list(sw.EIGHT_VS_FOUR)]
    at.radio(key="predict_ms").set_value(sw.VS_FIVE[0]).run()
    at.radio(key="predict_ms_match").set_value(sw.MATCH[1]).run()
    assert not charts(at) and "Answer the three questions above" in texts(at)  # one still open: still hidden
    at.radio(key="predict_ms_more").set_value(sw.EIGHT_VS_FOUR[1]).run()
    no_exception(at)
    assert charts(at)


def table_w2(at) -> dict[str, str]:
    """'<sampler><NFE>' -> the W2 the page's table shows."""
    df = at.dataframe[0].value
    return dict(zip(df["sampler"] + df["NFE"].astype(str), df["W2"]))


@pytest.mark.parametrize("answers", [(0, 1, 1), (2, 3, 0)])
def test_page4_grades_each_prediction_from_the_numbers_it_shows(answers):
    at = open_page(PAGE4)
    for key, (_, _, options), i in zip(KEYS, multistep.QUESTIONS, answers):
        at.radio(key=f"predict_{key}").set_value(options[i]).run()
    no_exception(at)
    stored = zoo.load_quality(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency)  # the page's numbers, stored
    c, t = stored.consistency, stored.teacher
    shown = table_w2(at)
    for k in (1, 2, 4, 8):
        assert shown[f"consistency model{k}"] == str(c[k])
    assert shown["teacher (Euler ODE)5"] == str(t[5]) and shown["teacher (Euler ODE)50"] == str(t[50])
    graded = [m.value for m in at.success] + [m.value for m in at.warning]
    for (key, _, options), i, (accepted, because) in zip(multistep.QUESTIONS, answers, (
            sw.vs_five_verdict(c[1], t[5]), sw.match_verdict(c, t[50]), sw.eight_vs_four_verdict(c[8], c[4]))):
        mine = [g for g in graded if f'You said "{options[i]}"' in g and because in g]
        assert len(mine) == 1, (key, because, graded)
        assert mine[0].startswith("**Your prediction matched.**") == (options[i] in accepted), mine[0]


def test_page4_experiments_on_the_shipped_model_are_the_stored_study():
    at = open_page(PAGE4, {"ms_show": "1", "ms_n": "500"})
    no_exception(at)
    study = sampler_study.load(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency)
    text = texts(at)
    assert sw.noise_story(study) in text and sw.spacing_story(study) in text
    noise = at.dataframe[1].value
    assert list(noise[sw.NOISE_LABELS[True]]) == [str(study.same_noise(k)) for k in study.steps]
    assert list(noise[sw.NOISE_LABELS[False]]) == [str(study.lesson(k)) for k in study.steps]
    spacing = at.dataframe[2].value
    assert list(spacing["K = 4"]) == [str(study.spacing(4, s)) for s in sampler_study.SPACINGS]
    # the lesson's sampler in the experiments is the W2 table's measurement on the study's seeds (the table has more)
    table, k = zoo.load_quality(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency), len(study.spec.seeds)
    assert study.lesson(2).values == table.consistency[2].values[:k] and study.lesson(2).seeds == study.spec.seeds
    assert "`python -m cmcore.lab_cli samplers`" in text  # in the "How this was measured" expander


def test_page4_shows_the_sampler_code_and_calls_no_jump_independent():
    at = open_page(PAGE4, {"ms_show": "1", "ms_n": "500"})
    labels = [e.label for e in at.expander]
    assert "The sampler that runs, from cmcore" in labels and "Common mistakes in the notebook's sampler" in labels
    shown = html.unescape(re.sub(r"<[^>]+>", "", stepcode.sampler_code_html()))
    assert "def sample_multistep" in shown and "same_noise" in shown and "def sampling_levels" in shown
    text = texts(at)
    assert "not a trajectory step" in text and "independent jump" not in text


def test_page3_explains_one_teacher_step_lists_the_mistakes_and_shows_the_loss():
    at = open_page(PAGE3, {"cd_show": "1"})
    no_exception(at)
    labels = [e.label for e in at.expander]
    assert "Why does the teacher take only one ODE step per update?" in labels
    assert "Common mistakes in the notebook's four TODOs" in labels
    text = texts(at)
    assert all(what in text for what, _ in distill_notes.MISTAKES)
    cfg = zoo.DEFAULT.consistency
    assert f"the chain has {cfg.n_levels - 1} links" in text
    assert "How this model trained" in text
    assert loss_words.loss_story(tracks.load_loss(zoo.DEFAULT.teacher, cfg)) in text
    assert "TODO lines marked" in " ".join(labels) and "exercise lines" not in " ".join(labels)


def test_page3_curves_follow_the_model_in_use():
    at = open_page(PAGE3, {"cd_show": "1", "model": "lesson"})
    no_exception(at)
    recipe = zoo.RECIPES["lesson"]
    assert loss_words.loss_story(tracks.load_loss(recipe.teacher, recipe.consistency)) in texts(at)
    assert f"the chain has {recipe.consistency.n_levels - 1} links" in texts(at)


def test_a_measured_study_matches_the_stored_one_for_the_shipped_model():
    """What the page would measure for a model without a stored study is what the CLI stored (one K, to stay quick)."""
    cm = zoo.load_consistency(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency).model
    stored = sampler_study.load(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency)
    again = sampler_study.run(cm, "two_moons", EvalSpec(), steps=(4,))
    for v in again.scores:
        assert again.scores[v].values == pytest.approx(stored.scores[v].values, abs=REMEASURED_W2_ABS, rel=0), v
