"""A first-time student's hour, in one browser session, the way a student moves: through the sidebar.

Home -> 1 -> 2 (k = 20, a prediction) -> 3 (retrain with our defaults, then with μ = 0, at the fewest steps the form
allows) -> 4 -> a lab page -> another dataset -> an uploaded CSV -> back.  It fails on a traceback, a "Computing"
note that never clears (every wait requires none left), a page that scrolls sideways at 420 px, text about a run
or a prediction that names another dataset, and a setting lost on the way.  Waits are on conditions only.
"""
from __future__ import annotations

import math
import re

import pytest

from cmcore import datasets
from tests.browser.conftest import pw_expect as expect
from ui import retrain_form

pytestmark = pytest.mark.browser

NARROW = {"width": 420, "height": 900}
WIDE = {"width": 1400, "height": 1000}
FEWEST_STEPS = int(retrain_form.SPEC_PARAMS[[p.key for p in retrain_form.SPEC_PARAMS].index("cd_steps")].lo)
RUN_TIMEOUT_MS = 300_000  # a guard against a hang on a busy 2-core machine, not a speed check
NAV = {"": "Home", "self-consistency": "1. Self-consistency", "one-step-ode": "2. One-step ODE vs endpoint",
       "distillation": "3. Consistency distillation", "multistep": "4. Multi-step consistency",
       "lab_ftheta": "What f_θ does at each t"}
TITLES = {"": "Consistency Explorer", "self-consistency": "1.", "one-step-ode": "2.", "distillation": "3.",
          "multistep": "4.", "lab_ftheta": "What f_θ"}
SKIP = "Skip the question and show the results"
OTHER = "checkerboard"


def ring_csv(n: int = 200) -> str:
    """A ring of ``n`` points, deterministic (no random draw)."""
    rows = [f"{math.cos(2 * math.pi * i / n) * (1 + 0.1 * (i % 3)):.5f},"
            f"{math.sin(2 * math.pi * i / n) * (1 + 0.1 * (i % 3)):.5f}" for i in range(n)]
    return "x,y\n" + "\n".join(rows) + "\n"


class Student:
    def __init__(self, app):
        self.app, self.visited = app, []

    def check(self, name: str) -> None:
        """No traceback; nothing scrolls sideways at 420 px (measured on this page, then back to 1400 px)."""
        app = self.app
        app.wait_idle()  # no run in progress and no "Computing" note left (conftest._IDLE_JS)
        app.assert_no_exception()
        assert not app.page_errors, app.page_errors
        app.page.set_viewport_size(NARROW)
        try:
            app.frames(2)
            try:  # charts re-fit to the narrow width before measuring
                app.page.wait_for_function("() => true")
                app.assert_charts_drawn(at_least=0)
            except AssertionError:
                pass
            app.frames(2)
            o, wide = app.overflow(), app.wide_elements()
            app.screenshot(f"first_hour_{name}_w420")
            assert o["doc"] <= o["win"] and o["main"] <= o["mainClient"] and not wide, \
                f"{name} scrolls sideways at 420 px: {o}; {wide}"
        finally:
            app.page.set_viewport_size(WIDE)
            app.frames(2)
        app.screenshot(f"first_hour_{name}")

    def go(self, path: str) -> None:
        app = self.app
        link = app.sidebar().get_by_role("link", name=NAV[path], exact=True)
        app.rerun(link.click, until=lambda: expect(app.main().locator("h1").first).to_contain_text(TITLES[path]))
        app.page.wait_for_url(re.compile(rf"/{re.escape(path)}(\?|$)"))
        app.wait_idle()

    def skip_question(self) -> None:
        skip = self.app.main().get_by_role("button", name=SKIP)
        for _ in range(5):  # a page may ask several questions (page 4 asks three), each skipped in turn
            if not skip.count():
                return
            self.app.rerun(skip.first.click)

    def wait_query(self, key: str, value: str) -> None:
        """Wait until the address bar's query has ``key=value`` (Streamlit rewrites it without a navigation)."""
        self.app.page.wait_for_function("([k, v]) => new URL(location.href).searchParams.get(k) === v", arg=[key, value])

    def main_text(self) -> str:
        return self.app.main().inner_text()

    def number(self, label: str):
        return self.app.main().get_by_role("spinbutton", name=label)

    def set_number(self, label: str, value) -> None:
        box = self.number(label)
        box.fill(str(value))
        self.app.rerun(lambda: box.press("Enter"))
        expect(box).to_have_value(str(value))

    def retrain(self, url_model_before: str | None) -> str:
        """Press Retrain and wait until the finished run is the session's model (a new ?model=); return its id."""
        app = self.app
        app.main().get_by_role("button", name="Retrain").click()
        app.page.wait_for_function(
            "(before) => { const m = new URL(location.href).searchParams.get('model');"
            " return m && m.startsWith('run-') && m !== before; }", arg=url_model_before or "", timeout=RUN_TIMEOUT_MS)
        done = app.main().get_by_text(re.compile(r"^Retrained on two moons: "))
        expect(done).to_be_visible(timeout=RUN_TIMEOUT_MS)
        app.wait_idle(RUN_TIMEOUT_MS)
        return app.query()["model"][0]


def test_a_first_time_students_hour(app, tmp_path):
    s = Student(app)
    app.goto("")
    s.check("home")

    s.go("self-consistency")
    s.skip_question()
    app.assert_charts_drawn(at_least=1)
    s.check("page1")

    # Page 2: k = 20 (the slider, by keyboard), and a prediction answered on two moons.
    s.go("one-step-ode")
    slider = app.main().get_by_role("slider", name="k for the k-step ODE")
    slider.focus()
    app.rerun(lambda: [slider.press("ArrowRight") for _ in range(15)])
    expect(slider).to_have_value("20")
    s.wait_query("os_k", "20")
    radio = app.main().locator('[data-testid="stRadio"] [data-testid="stRadioOption"]')
    app.rerun(radio.nth(1).click, until=app.main().get_by_text(re.compile(r"Your prediction matched|Not quite")).first)
    s.check("page2")

    # Page 3: retrain with our defaults at the fewest steps, then with μ = 0.
    s.go("distillation")
    s.set_number("Steps", FEWEST_STEPS)
    first = s.retrain(None)
    assert f"Retrained on two moons: {FEWEST_STEPS} step" in s.main_text()
    s.set_number("EMA μ of the target", 0)
    second = s.retrain(first)
    assert second != first
    s.skip_question()  # a new model: the page asks its question again
    table = app.main().locator('[data-testid="stDataFrame"]')
    expect(table).to_be_visible()
    text = s.main_text()
    assert "Training time is not compared" in text
    assert "Train one on page 3" not in text
    s.check("page3")

    s.go("multistep")
    s.skip_question()
    app.assert_charts_drawn(at_least=1)
    s.check("page4")

    s.go("lab_ftheta")
    app.assert_charts_drawn(at_least=1)
    s.check("lab_ftheta")

    # Another dataset: nothing on screen speaks of the two-moons run or the two-moons prediction.
    picker = app.sidebar().get_by_role("combobox", name="Dataset (every page)")
    picker.click()
    app.rerun(app.page.get_by_role("option", name=datasets.label(OTHER), exact=True).click)
    expect(picker).to_have_value(datasets.label(OTHER))
    for path in ("distillation", "one-step-ode"):
        s.go(path)
        text = s.main_text()
        assert "two moons" not in text, f"/{path} on {OTHER} speaks of two moons:\n{text[:3000]}"
        assert not re.search(r"Retrained on|Your prediction matched|Not quite", text), text[:3000]
    radio = app.main().locator('[data-testid="stRadio"] input[type="radio"]')
    expect(radio.first).to_be_enabled()  # the prediction is asked again on this dataset
    s.check(f"page2_{OTHER}")

    # An upload: the sidebar and page 3 say what is true of it.
    path = tmp_path / "ring.csv"
    path.write_text(ring_csv())
    app.sidebar().get_by_text("Your own data (CSV upload)").click()
    uploader = app.sidebar().locator('[data-testid="stFileUploader"] input[type="file"]')
    app.rerun(lambda: uploader.set_input_files(str(path)),
              until=app.sidebar().get_by_text(re.compile(r"Accepted as")))
    app.page.wait_for_function("() => /^upload-[0-9a-f]{12}$/.test(new URL(location.href).searchParams.get('data'))")
    app.wait_idle()
    model_picker = app.sidebar().get_by_role("combobox", name="Models shown on every page")
    assert not model_picker.input_value().startswith("Shipped"), model_picker.input_value()
    s.go("distillation")
    text = s.main_text()
    assert "No model has been trained on your uploaded points" in text and "Train one on page 3" not in text
    assert not model_picker.input_value().startswith("Shipped"), model_picker.input_value()
    assert "two moons" not in text and datasets.noun(OTHER) not in text
    s.check("page3_upload")

    # Back: page 2 still has k = 20, in the widget and the link.
    s.go("one-step-ode")
    expect(app.main().get_by_role("slider", name="k for the k-step ODE")).to_have_value("20")
    s.wait_query("os_k", "20")
    s.check("page2_back")
    s.go("")
    s.check("home_back")
