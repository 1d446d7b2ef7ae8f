"""The lab pages of issue 9 (items 5, 8, 9) in headless Chromium: each loads, draws its charts and raises
nothing.  (Every page at 420 px: ``test_narrow.py``.)"""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

LAB_PAGES = [  # url path, heading, charts drawn at the defaults
    ("lab_param", "Parameterisations", 5),
    ("lab_ot", "Straight paths", 7),
    ("lab_export", "Export", 1),
]


def heading(app):
    return app.main().locator("h1").first


@pytest.mark.parametrize("path,title,n_charts", LAB_PAGES)
def test_lab_page_draws(app, path, title, n_charts):
    from playwright.sync_api import expect

    app.goto(path)
    expect(heading(app)).to_contain_text(title)
    app.assert_charts_drawn(at_least=n_charts)
    app.assert_no_exception()
    assert not app.page_errors, app.page_errors


@pytest.mark.parametrize("path,title,n_charts", LAB_PAGES[:2])
def test_lab_study_pages_draw_the_chosen_datasets_study(app, path, title, n_charts):
    from playwright.sync_api import expect

    app.goto(path, data="circles")
    expect(heading(app)).to_contain_text(title)
    app.assert_charts_drawn(at_least=n_charts)
    expect(app.main()).to_contain_text("concentric circles")
    expect(app.main().locator('[data-testid="stAlert"]').filter(has_text="stored study on")).to_have_count(0)
    app.assert_no_exception()
    assert not app.page_errors, app.page_errors


def test_param_slider_moves_the_curves(app):
    from playwright.sync_api import expect

    app.goto("lab_param", lp_sigma="2.0")
    app.assert_charts_drawn(at_least=5)
    expect(app.main()).to_contain_text("paper's form (σ_data = 2)")
    assert app.query().get("lp_sigma") == ["2.0"]


def test_export_chart_toolbar_offers_png_and_the_page_offers_svg(app):
    """The caption's claim: Streamlit's chart toolbar has "Download as PNG"; SVG comes from the page's button."""
    from playwright.sync_api import expect

    app.goto("lab_export", ex_n="500")
    app.assert_charts_drawn(at_least=1)
    app.main().locator('[data-testid="stVegaLiteChart"]').first.hover()
    expect(app.page.get_by_role("button", name="Download as PNG").first).to_be_visible()
    # The SVG is rendered on the server when clicked (vl-convert starts on first use): a guard, not a speed limit.
    with app.page.expect_download(timeout=180_000) as dl:
        app.main().get_by_role("button", name="SVG").click()
    assert dl.value.suggested_filename.endswith(".svg")
    with open(dl.value.path(), "rb") as f:
        assert b"<svg" in f.read(200)


def test_export_upload_round_trip_in_the_browser(app, tmp_path):
    from playwright.sync_api import expect

    app.goto("lab_export", ex_n="500")
    with app.page.expect_download(timeout=180_000) as dl:
        app.main().get_by_role("button", name="Consistency model (.safetensors)").click()
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    loaded = app.main().get_by_text(re.compile("Loaded a .*consistency.* model")).first
    app.rerun(lambda: app.main().locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(saved)),
              until=loaded)
    app.assert_charts_drawn(at_least=2)
    app.assert_no_exception()
