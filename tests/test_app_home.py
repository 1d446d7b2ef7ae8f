"""Home, *The lesson, checked* and the Glossary, one vocabulary and one naming (issue 16, deliver 1 and 2).

AppTest drives the real app.py; the W2 numbers asserted are the stored protocol tables
(``zoo.load_quality``), so the tests are deterministic.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cmcore import evaluate, study, zoo
from cmcore.config import LESSON_CONSISTENCY, ConsistencyConfig
from cmcore.presets import PRESETS
from tests.conftest import no_exception, open_page
from viz import glossary, lesson_claims, names
from viz.words import claims as claim_words
from viz.words.reports import STUDY_MD
from viz.words.study import collapse_statement, finding_text

ROOT = Path(__file__).resolve().parent.parent
OTHER = "eight_gaussians"
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))
# What a student must never read outside a "How this was measured" expander.
DEVELOPER_WORDS = re.compile(r"python -m|lab_cli|cmcore\.|vl-convert|\bStreamlit\b|\btorch\b|safetensors\.torch")


def panel_titles(at: AppTest) -> dict[str, str]:
    """Title -> subtitle of every single-panel chart drawn (the sample grids)."""
    out = {}
    for chart in at.get("vega_lite_chart"):
        title = json.loads(chart.proto.spec).get("title")
        if isinstance(title, dict) and "text" in title:
            out[title["text"]] = title.get("subtitle", "")
    return out


def shown_text(at: AppTest, skip_expanders: bool = True) -> str:
    """Every text a student reads on the page (expanders left out: they may show commands)."""
    inside = {id(e) for x in at.expander for e in _walk(x)} if skip_expanders else set()
    kinds = ("markdown", "caption", "info", "success", "warning", "title", "subheader", "header")
    parts = [e.value for kind in kinds for e in getattr(at, kind) if id(e) not in inside]
    parts += [m.label for m in at.metric] + [w.label for kind in ("selectbox", "slider", "number_input", "button")
                                               for w in getattr(at, kind)]
    parts += [d.value.to_csv() for d in at.dataframe] + [t.value.to_csv() for t in at.table]
    return "\n".join(str(p) for p in parts)


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


# --- Home ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dataset,model", [("two_moons", "ours"), (OTHER, "lesson")])
def test_home_shows_the_same_noise_three_ways_titled_with_the_stored_w2(dataset, model):
    at = open_page("pages/home.py", {"data": dataset, "model": model})
    no_exception(at)
    recipe = zoo.recipe(model, dataset)
    stored = zoo.load_quality(recipe.teacher, recipe.consistency)
    titles = panel_titles(at)
    assert titles == {"Teacher · 1 Euler step": f"W2 {stored.teacher[1]}",
                      "Teacher · 50 Euler steps": f"W2 {stored.teacher[50]}",
                      "Consistency model · 1 step": f"W2 {stored.consistency[1]}",
                      "Real data": f"floor {stored.floor}"}
    assert "two real samples of 2,000 points" in shown_text(at)  # the floor says its size
    # the caption names the seeds the titles' scores were measured on (a stored table may hold 20, not 3)
    assert f"by the protocol ({stored.consistency[1].describe()})" in shown_text(at)


def test_home_starts_students_on_page_1_and_keeps_the_claims_split():
    at = open_page("pages/home.py")
    no_exception(at)
    links = [link.proto.label for link in at.get("page_link")]
    assert links[0].startswith("**Start here") and "exercise 1" in links[0]
    text = shown_text(at)
    for kind_head in ("What the notebook asserts", "What it asks you to predict"):
        assert kind_head in text
    for nb in lesson_claims.NOTEBOOK.values():
        assert f"“{nb.quote}”" in text
    assert "2–4 consistency steps can approach the quality of 20–50 ODE steps" in text
    assert "checked strictly: 2 steps against the 50-step ODE" in text
    assert not at.dataframe  # the tables moved to *The lesson, checked*


def test_home_says_the_lessons_teacher_falls_short_from_the_stored_numbers():
    at = open_page("pages/home.py")
    lesson = zoo.recipe("lesson", "two_moons")
    stored = zoo.load_quality(lesson.teacher, lesson.consistency)
    line = next(m.value for m in at.markdown if m.value.startswith("The lesson's own teacher"))
    assert str(stored.teacher[50]) in line and str(stored.floor) in line
    assert f"{stored.teacher[50].mean / stored.floor.mean:.1f}× the floor" in line


def test_the_lesson_teacher_sentence_follows_its_numbers():
    s = evaluate.Score
    far = claim_words.lesson_teacher_sentence(s((0.7, 0.69, 0.71), 2000), s((0.06, 0.061, 0.062), 2000), 2000, "x")
    near = claim_words.lesson_teacher_sentence(s((0.06, 0.07, 0.05), 2000), s((0.06, 0.061, 0.062), 2000), 2000, "x")
    assert "× the floor" in far and "indistinguishable from the floor" in near


def test_every_claim_has_the_notebooks_wording_and_a_kind():
    table = zoo.load_quality(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency)
    claims = evaluate.lesson_claims(table, 0.0)
    asserted, predicted = lesson_claims.split(claims)
    assert len(asserted) + len(predicted) == len(claims)
    assert {c.key for c, _ in predicted} == {"cm_one_step_below_five", "cm_diminishing_returns"}
    assert all(nb.quote.endswith("?") for _, nb in predicted)


# --- The lesson, checked -------------------------------------------------------------------------

def test_the_lesson_checked_page_has_the_departure_the_study_and_the_collapse_figure():
    at = open_page("pages/lesson_checked.py")
    no_exception(at)
    text = shown_text(at)
    assert "What we changed, lesson → ours" in text
    assert "network starts as: random → the teacher" in text  # human names, not "Init from teacher False → True"
    assert "False → True" not in text and "Init from teacher" not in text
    assert "Does the EMA target prevent collapse?" in text
    assert at.get("arrow_vega_lite_chart") or len(at.get("vega_lite_chart")) >= 2  # W2 per NFE + the collapse grid
    assert len(at.table) >= 3
    ours = zoo.load_quality(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency)
    assert f"W2 over {ours.consistency[1].describe()}" in text  # the stored tables' own seeds, not the live 3


def test_the_page_and_study_md_narrate_each_finding_with_the_same_words():
    """*The lesson, checked* and bench/STUDY.md state the stored study's findings with one function each."""
    found = study.load()
    assert found is not None and found.findings(), "the stored study (checkpoints/study.json) is missing"
    at = open_page("pages/lesson_checked.py")
    no_exception(at)
    text, md = shown_text(at), STUDY_MD.read_text()
    for f in found.findings():
        assert f"*{f.text}* {finding_text(f)}" in text
        assert finding_text(f) in md, "bench/STUDY.md is stale: run `python -m viz.reports study`"
    assert collapse_statement(found.collapse_rows()) in text and collapse_statement(found.collapse_rows()) in md


# --- Glossary and tooltips --------------------------------------------------------------------------

REQUIRED_TERMS = ("w2", "floor", "nfe", "ema_mu", "theta", "protocol", "c_skip", "pseudo_huber", "heun", "karras",
                  "teacher", "consistency_model")


def test_the_glossary_has_the_required_terms_and_its_page_lists_every_one():
    assert set(REQUIRED_TERMS) <= set(glossary.TERMS)
    at = open_page("pages/glossary.py")
    no_exception(at)
    text = shown_text(at)
    for term in glossary.TERMS.values():
        assert f"**{term.term}**" in text and term.explanation in text
    with pytest.raises(KeyError, match="known"):
        glossary.tip("nope")


@pytest.mark.parametrize("page,widget,kind,term", [
    ("pages/3_distillation.py", "cd_mu", "number_input", "ema_mu"),
    ("pages/3_distillation.py", "cd_levels", "number_input", "levels"),
    ("pages/3_distillation.py", "cd_schedule", "selectbox", "karras"),
    ("pages/3_distillation.py", "cd_huber", "number_input", "pseudo_huber"),
    ("pages/3_distillation.py", "cd_solver", "selectbox", "heun"),
    ("pages/1_self-consistency.py", "sc_solver", "button_group", "heun"),
    ("pages/2_one-step-ode.py", "os_k", "slider", "nfe"),
    ("pages/lab_compare.py", "rc_a", "selectbox", "consistency_model"),
    ("pages/lab_anatomy.py", "an_n", "slider", "levels"),
])
def test_key_widgets_show_the_glossarys_tooltip(page, widget, kind, term):
    at = open_page(page)
    no_exception(at)
    element = next(e for e in at.get(kind) if getattr(e, "key", None) == widget or e.proto.id.endswith(widget))
    assert glossary.tip(term) in element.proto.help


@pytest.mark.parametrize("page,term", [("pages/lab_anatomy.py", "theta"),
                                       ("pages/lab_consistency_map.py", "self_consistency")])
def test_the_lab_metrics_show_the_glossarys_tooltip(page, term):
    at = open_page(page)
    no_exception(at)
    assert at.metric and all(m.proto.help for m in at.metric), [m.label for m in at.metric if not m.proto.help]
    assert glossary.tip(term) in at.metric[0].proto.help


def test_the_model_picker_has_a_tooltip():
    at = open_page("pages/home.py")
    picker = next(s for s in at.selectbox if s.key and s.key.startswith("_model_picker"))
    assert glossary.tip("consistency_model") in picker.proto.help


# --- One naming ------------------------------------------------------------------------------------

def test_settings_and_runs_have_one_human_name():
    mu0 = PRESETS["ours_mu0"].cfg
    assert names.setting_name("ours", ConsistencyConfig()) == "Our defaults"
    assert names.setting_name("lesson", LESSON_CONSISTENCY) == "The lesson's recipe"
    assert names.run_name("ours", mu0) == "Ours, μ = 0 (1,200 steps)"
    assert names.run_name("ours", mu0, 300) == "Ours, μ = 0 (stopped at 300 of 1,200 steps)"
    # on uploaded points nothing ships: the picker says so without pointing at page 3 from page 3 itself
    assert names.shipped_name("ours", trained=False) == "Our defaults (not trained yet)"
    assert names.setting_change("init_from_teacher", False, True) == "network starts as: random → the teacher"
    assert len({names.setting_name(p.teacher, p.cfg) for p in PRESETS.values()}) == len(PRESETS)  # all distinct


def test_the_picker_and_recipes_compared_use_the_same_names():
    at = open_page("pages/lab_compare.py")
    no_exception(at)
    a, b = at.selectbox(key="rc_a"), at.selectbox(key="rc_b")
    assert a.format_func(a.value) == names.shipped_name("lesson")
    assert b.format_func(b.value) == names.shipped_name("ours")
    assert names.run_name("ours", PRESETS["ours_mu0"].cfg) in b.options
    picker = next(s for s in at.selectbox if s.key and s.key.startswith("_model_picker"))
    assert picker.format_func(picker.value) == names.shipped_name("ours")
    chart = json.dumps([json.loads(c.proto.spec) for c in at.get("vega_lite_chart")], ensure_ascii=False)
    assert f"B: {names.shipped_name('ours')}" in chart  # the legend's name


# --- No developer command on a student's screen ------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_no_developer_command_or_library_name_on_any_page(page):
    at = open_page(page)
    no_exception(at)
    found = DEVELOPER_WORDS.findall(shown_text(at))
    assert not found, found


def test_the_command_check_sees_what_an_expander_hides():
    at = open_page("pages/lesson_checked.py")
    assert DEVELOPER_WORDS.search(shown_text(at, skip_expanders=False))  # "How this was measured" names it
    assert not DEVELOPER_WORDS.search(shown_text(at))
