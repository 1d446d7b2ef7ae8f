"""Issue 16, "state that holds" and its broken items, where they live in the browser: a deferred download that
arrives, settings that survive leaving a page through the sidebar, the live W2 chart's axis and legend."""
from __future__ import annotations

import csv
import io
import re

import pytest

pytestmark = pytest.mark.browser


def test_export_teacher_paths_csv_arrives_with_its_rows(app):
    """The button builds the CSV when clicked, outside the script run: it once read session state there and
    the server answered the click with nothing (KeyError "ex_paths", MediaFileStorageError)."""
    app.goto("lab_export", ex_n="500", ex_paths="7")
    button = app.main().get_by_role("button", name=re.compile(r"Teacher paths \(CSV, 7\)"))
    with app.page.expect_download(timeout=180_000) as dl:  # a guard against a hang, not a speed check
        button.click()
    assert dl.value.suggested_filename == "teacher-paths-seed0.csv"
    assert dl.value.failure() is None
    with open(dl.value.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert rows and set(rows[0]) == {"path", "step", "t", "x", "y"}
    assert sorted({int(r["path"]) for r in rows}) == list(range(7))  # the 7 paths asked for, each a full path
    assert len(rows) % 7 == 0 and float(rows[0]["t"]) == 1.0
    app.assert_no_exception()


def go_via_sidebar(app, path: str, title: str) -> None:
    """Click the page's sidebar link (keeps the Streamlit session, as a student does) and wait for its run."""
    from tests.browser.conftest import pw_expect

    app.rerun(app.sidebar().get_by_role("link", name=title, exact=True).click,
              until=lambda: pw_expect(app.main().locator("h1").first).to_contain_text(title.split(" ")[0]))
    app.page.wait_for_url(re.compile(rf"/{re.escape(path)}(\?|$)"))
    app.wait_idle()


PAGE_1, PAGE_2, PAGE_3, PAGE_4 = ("self-consistency", "1. Self-consistency"), ("one-step-ode", "2. One-step ODE vs endpoint"), \
    ("distillation", "3. Consistency distillation"), ("multistep", "4. Multi-step consistency")


def test_page_2s_k_survives_the_sidebar_round_trip(app):
    from tests.browser.conftest import pw_expect

    app.goto(PAGE_2[0], os_k="20")
    slider = app.main().get_by_role("slider", name="k for the k-step ODE")
    pw_expect(slider).to_have_value("20")
    go_via_sidebar(app, *PAGE_1)
    assert "os_k" not in app.query()
    go_via_sidebar(app, *PAGE_2)
    pw_expect(slider).to_have_value("20")
    app.page.wait_for_url(re.compile(r"[?&]os_k=20(&|$)"))
    app.assert_no_exception()


def test_page_3s_form_survives_the_sidebar_round_trip(app):
    from tests.browser.conftest import pw_expect

    app.goto(PAGE_3[0], cd_mu="0", cd_steps="300")
    mu = app.main().get_by_role("spinbutton", name="EMA μ of the target")
    pw_expect(mu).to_have_value("0")
    go_via_sidebar(app, *PAGE_4)
    go_via_sidebar(app, *PAGE_3)
    pw_expect(mu).to_have_value("0")
    pw_expect(app.main().get_by_role("spinbutton", name="Steps")).to_have_value("300")
    query = app.query()
    assert query.get("cd_mu") in (["0.0"], ["0"]) and query.get("cd_steps") == ["300"], app.page.url
    app.assert_no_exception()


def test_the_live_w2_chart_is_drawn_under_its_heading_while_training(app):
    """The live chart's axis and legend are checked on its spec (tests/test_app_run_messages.py); here: it draws
    while the run trains, under a heading of its own (a chart title was clipped to a row of pixels)."""
    from tests.browser.conftest import pw_expect
    from tests.browser.test_pages import DISCARD, stop_if_training

    app.goto(PAGE_3[0], cd_steps="2400", cd_batch="16", cd_seed="404", cd_show="1")
    try:
        app.rerun(app.main().get_by_role("button", name="Retrain").click,
                  until=app.main().locator('[data-testid="stProgress"]'))
        caption = app.main().get_by_text(re.compile(r"^At step [\d,]+: W2"))
        pw_expect(caption).to_be_visible(timeout=300_000)  # the first W2 point (a guard against a hang)
        pw_expect(app.main().get_by_text("One-step W2 while training", exact=False)).to_be_visible()
        pw_expect(app.main().locator('[data-testid="stProgress"]')).to_contain_text(re.compile(r"Distilling the teacher: step"))
        charts = app.assert_charts_drawn(at_least=2)
        assert all(c["h"] >= 150 for c in charts if c["visible"]), charts
        app.screenshot("live_w2_chart")
        app.rerun(app.main().get_by_role("button", name=DISCARD).click)
    finally:
        stop_if_training(app)
    app.assert_no_exception()
