"""Parameterisations: the paper's c_skip/c_out re-derived by hand, boundary invariants, the stored study, the words."""
from __future__ import annotations

import math

import pytest
import torch

from cmcore import datasets, zoo
from cmcore.config import DEFAULT_DATASET
from cmcore.evaluate import Score, compare
from cmcore.lab_train import PARAM_STARTS, ParamStudy, param_command, param_study_path, loss_curve
from cmcore.nets import ConsistencyModel
from cmcore.parameterisation import LESSON, Parameterisation, ScaledConsistencyModel, song_c_out, song_c_skip
from tests.conftest import charts, no_exception, open_page
from tests.test_lab2_pages import an_upload, infos, text
from tests.scores import independent
from viz.words.lab_studies import coefficients_at_noise, param_findings, start_finding, study_fallback

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
    assert loss_curve([1.0, 3.0, 5.0, 7.0], points=2) == [(2, 2.0), (4, 6.0)]
    assert loss_curve([2.0], points=5) == [(1, 2.0)]


def _s(*v):
    return independent(v, 1000)


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


@pytest.mark.parametrize("dataset", list(datasets.REGISTRY))
@pytest.mark.parametrize("start", list(PARAM_STARTS))
def test_stored_study_is_complete(start, dataset):
    study = ParamStudy.of(start, dataset)
    assert study.teacher_config == zoo.recipe("ours", dataset).teacher  # that dataset's shipped teacher
    assert zoo.is_shipped_teacher(study.teacher_config)
    assert study.config.init_from_teacher == (start == "teacher")
    assert LESSON in study.variants and len(study.variants) >= 2
    for p in study.variants:
        assert len(study.runs_of(p)) >= 2 and study.score(p).sem > 0  # runs of other seeds differ
        assert all(r.loss and r.w2_curve for r in study.runs_of(p))
    assert study.floor.mean > 0
    # No model measurably beats two real samples (on eight Gaussians at 1,000 points some means fall inside the
    # floor's noise, below its mean).
    assert not any(compare(study.score(p), study.floor).lower for p in study.variants)


def test_study_files_are_named_by_dataset_and_the_lessons_keep_their_names():
    assert param_study_path("teacher").name == "lab_param.json"
    assert param_study_path("random").name == "lab_param_random.json"
    assert param_study_path("random", "circles").name == "lab_param_random-circles.json"
    assert (param_command("random", "circles", (0, 1))
            == "python -m cmcore.lab_cli param --start random --dataset circles --seeds 0 1")
    with pytest.raises(ValueError, match="choose one of teacher, random"):
        param_study_path("noise")


def test_a_study_of_other_data_is_refused(tmp_path, monkeypatch):
    moons = param_study_path("teacher").read_text()
    monkeypatch.setenv(zoo.CHECKPOINT_DIR_ENV, str(tmp_path))
    (tmp_path / "lab_param-circles.json").write_text(moons)  # two moons' study under circles' name
    with pytest.raises(ValueError, match="holds a study on 'two_moons', not 'circles'.*--dataset circles"):
        ParamStudy.of("teacher", "circles")
    with pytest.raises(FileNotFoundError, match="--start random --dataset circles"):
        ParamStudy.of("random", "circles")


OTHER = "circles"


def test_the_fallback_note_says_why_for_an_upload_and_for_a_dataset_without_a_study():
    upload = study_fallback("upload-0123456789ab", DEFAULT_DATASET, "unused")
    assert upload.startswith("This page shows the stored study on **two moons**, not on your uploaded points "
                             "(0123456789ab), the data chosen in the sidebar")
    assert "an upload has none" in upload and "unused" not in upload
    missing = study_fallback("circles", DEFAULT_DATASET, param_command(dataset="circles"))
    assert "no study is stored for concentric circles yet" in missing
    assert "python -m" not in missing  # a student page names no developer command (issue 16)


def test_param_page_shows_the_chosen_datasets_study():
    at = open_page("pages/lab_param.py", {"data": OTHER})
    no_exception(at)
    assert len(charts(at)) == 5
    body, own, lesson = text(at), ParamStudy.of("teacher", OTHER), ParamStudy.of("teacher")
    assert str(own.score(LESSON)) in body and str(own.floor) in body  # circles' numbers, in the findings
    assert str(lesson.score(LESSON)) not in body and str(lesson.floor) not in body
    assert f"shipped teacher of **{datasets.noun(OTHER)}**" in body and "two moons" not in body
    assert not infos(at)  # no "shown on other data" note: this is the chosen data's study
    at.segmented_control(key="lp_start").set_value("random").run()
    no_exception(at)
    assert str(ParamStudy.of("random", OTHER).score(LESSON)) in text(at)


def test_param_page_on_an_upload_shows_the_lessons_study_and_says_why():
    name = an_upload()
    at = open_page("pages/lab_param.py", {"data": name})
    no_exception(at)
    note = infos(at)
    assert "an upload has none" in note and datasets.noun(name) in note
    assert f"stored study on **{datasets.noun(DEFAULT_DATASET)}**" in note
    lesson = ParamStudy.of("teacher")
    assert str(lesson.score(LESSON)) in text(at) and str(lesson.floor) in text(at)
