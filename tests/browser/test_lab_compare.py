"""The "Recipes compared" lab page in headless Chromium: both charts drawn, the verdict computed from the numbers
shown, a run chosen from the menu lands in the URL.  (At 420 px: ``test_narrow.py``.)"""
from __future__ import annotations

import pytest

from cmcore import evaluate, zoo
from cmcore.stats import compare
from viz.words import compare as cw
from viz.words.compare import says

pytestmark = pytest.mark.browser


def shipped_scores(name: str) -> dict:
    recipe = zoo.RECIPES[name]
    return zoo.load_quality(recipe.teacher, recipe.consistency).consistency


def test_compare_page_draws_both_charts_and_the_verdict(app):
    from playwright.sync_api import expect

    app.goto("lab_compare")
    expect(app.main().locator("h1").first).to_contain_text("Recipes compared")
    app.assert_charts_drawn(at_least=2)
    a, b = shipped_scores("lesson"), shipped_scores("ours")
    summary = cw.nfe_summary("A", "B", {k: compare(b[k], a[k]) for k in evaluate.CM_STEPS})
    expect(app.main()).to_contain_text("Verdict. " + summary)  # the bold A/B read as plain text in the page
    for k in evaluate.CM_STEPS:
        expect(app.main()).to_contain_text(f"B {b[k]}, A {a[k]}. {says(compare(b[k], a[k]), 'B', 'A')}.")
    expect(app.main()).to_contain_text("At the end of training")
    app.assert_no_exception()
    assert not app.page_errors, app.page_errors


def test_choosing_a_preset_updates_the_link_and_offers_training(app):
    from playwright.sync_api import expect

    app.goto("lab_compare")
    app.assert_charts_drawn(at_least=2)
    app.main().get_by_role("combobox", name="Run B").click()
    option = app.page.get_by_role("option", name="Ours, Karras levels (1,200 steps)", exact=True)
    app.rerun(option.click, until=app.main().get_by_role("button", name="Train it"))
    assert app.query().get("rc_b") == ["ours_karras"]
    expect(app.main()).to_contain_text("has not been trained on this server yet")
    app.assert_charts_drawn(at_least=2)  # A's track and scores are still drawn
    app.assert_no_exception()
