"""AppTest for the dataset selector: every page on another dataset, the URL, a bad link, the models follow the data.

The shipped pairs of each dataset are read from checkpoints/ (``python -m cmcore train --dataset all``), so
nothing here trains except the lab pages' own short runs.
"""
from __future__ import annotations

import json

import pytest
import torch

from cmcore import datasets, retrain_job, uploads, zoo
from cmcore.config import DEFAULT_DATASET, ConsistencyConfig, TeacherConfig
from tests.conftest import no_exception, open_page
from tests.test_app_pages import EXERCISES, revealed, view

OTHER = "eight_gaussians"
DATA_PICKER = "_data_picker"
PAGES = ["pages/home.py", *EXERCISES, "pages/3_distillation.py", "pages/lab_w2.py", "pages/lab_anatomy.py",
         "pages/lab_ftheta.py", "pages/lab_consistency_map.py", "pages/lab_param.py", "pages/lab_ot.py",
         "pages/lab_export.py", "pages/lab_compare.py"]


def home_w2(at) -> list[str]:
    """The subtitles of Home's figure: each panel's W2 (the consistency model's first)."""
    titles = {}
    for chart in at.get("vega_lite_chart"):
        title = json.loads(chart.proto.spec).get("title")
        if isinstance(title, dict):
            titles[title["text"]] = title.get("subtitle", "")
    return [titles[k] for k in ("Consistency model · 1 step", "Teacher · 1 Euler step", "Teacher · 50 Euler steps",
                                "Real data") if k in titles]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_draws_on_another_dataset(page):
    query = {"data": OTHER}
    if page == "pages/3_distillation.py":
        query["cd_show"] = "1"
    at = revealed(page, query) if page in EXERCISES else open_page(page, query)
    no_exception(at)
    assert all("Link setting" not in w.value and "could not be used" not in w.value for w in at.warning)
    assert at.selectbox(key=DATA_PICKER).value == OTHER
    assert at.query_params["data"] == [OTHER] or at.query_params["data"] == OTHER


def test_home_names_the_dataset_and_shows_its_models():
    base, other = open_page("pages/home.py"), open_page("pages/home.py", {"data": OTHER})
    no_exception(other)
    assert datasets.noun(OTHER) in view(other) and datasets.noun(OTHER) not in view(base)
    recipe = zoo.recipe("ours", OTHER)
    stored = zoo.load_quality(recipe.teacher, recipe.consistency)
    assert str(stored.consistency[1]) in home_w2(other)[0]  # the eight-Gaussians pair's stored score
    assert str(stored.floor) in view(other)
    assert home_w2(base) != home_w2(other)


def test_picking_a_dataset_changes_the_models_and_the_url_and_survives_a_page_change():
    at = open_page("pages/home.py")
    before = home_w2(at)
    at.selectbox(key=DATA_PICKER).select("circles").run()
    no_exception(at)
    assert at.query_params["data"] in (["circles"], "circles")
    assert home_w2(at) != before and datasets.noun("circles") in view(at)
    at.switch_page("pages/4_multistep.py").run()  # the URL of the new page starts empty: the session remembers
    no_exception(at)
    assert at.selectbox(key=DATA_PICKER).value == "circles"
    assert at.query_params["data"] in (["circles"], "circles")
    at.selectbox(key=DATA_PICKER).select(DEFAULT_DATASET).run()
    assert "data" not in at.query_params  # the default is left out of links


@pytest.mark.parametrize("bad", ["moons", "upload-000000000000", "../../etc/passwd", "[x](http://e.vil)"])
def test_a_bad_data_value_is_corrected_with_a_note(bad):
    at = open_page("pages/home.py", {"data": bad})
    no_exception(at)
    notes = [w.value for w in at.warning if "Link setting `data`" in w.value]
    assert notes and "http://" not in notes[0].replace("http\\:", "")  # echoed escaped, never as a link
    assert at.selectbox(key=DATA_PICKER).value == DEFAULT_DATASET
    assert "data" not in at.query_params


def test_an_upload_without_a_trained_model_says_how_to_get_one():
    name = uploads.accept(("x,y\n" + "\n".join(f"{i % 9},{(i * 7) % 11}" for i in range(60))).encode())
    at = open_page("pages/home.py", {"data": name})
    no_exception(at)
    assert at.selectbox(key=DATA_PICKER).value == name
    assert any("No model has been trained on your uploaded points" in w.value for w in at.warning)
    at = open_page("pages/3_distillation.py", {"data": name, "cd_show": "1"})
    no_exception(at)
    assert any(b.label == "Retrain" for b in at.button)  # the form is there to train one


def test_a_teacher_then_distillation_job_trains_on_an_upload_as_one_run():
    name = uploads.accept(("\n".join(f"{i % 9},{(i * 7) % 11}" for i in range(60))).encode())
    tcfg, cfg = TeacherConfig(dataset=name, steps=20, batch=64), ConsistencyConfig(steps=10, batch=64)
    kept, reports = [], []
    result = retrain_job.teacher_then_consistency_job(tcfg, cfg, kept.append)(reports.append, lambda: False)
    assert len(kept) == 1 and result.model is not None
    assert [r.step for r in reports] == list(range(1, 31)) and {r.total for r in reports} == {30}
    assert all(b.elapsed >= a.elapsed for a, b in zip(reports, reports[1:]))
    with torch.no_grad():
        assert torch.isfinite(result.model(torch.randn(5, 2), torch.full((5,), 0.5))).all()


def test_recipes_compared_follows_the_dataset():
    at = open_page("pages/lab_compare.py", {"data": OTHER})
    no_exception(at)
    assert datasets.noun(OTHER) in view(at)
    recipe = zoo.recipe("ours", OTHER)
    stored = zoo.load_quality(recipe.teacher, recipe.consistency)
    # B (our shipped pair) is scored on eight Gaussians: the protocol's stored number for that pair, not two moons'.
    assert f"{stored.consistency[1]}" in view(at)
    assert "different data" not in view(at)


def test_page_3_compares_with_our_shipped_pair_on_the_same_data():
    at = open_page("pages/3_distillation.py", {"data": OTHER, "cd_show": "1", "model": "lesson"})
    no_exception(at)
    ours = zoo.recipe("ours", OTHER)
    stored, moons = zoo.load_quality(ours.teacher, ours.consistency), zoo.load_quality(zoo.DEFAULT.teacher,
                                                                                        zoo.DEFAULT.consistency)
    assert f"Against our shipped defaults (one-step W2 {stored.consistency[1]})" in view(at)
    assert str(moons.consistency[1]) not in view(at)  # never the two-moons model's score
