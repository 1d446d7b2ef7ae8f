"""Sentences of issue 16 computed from one set of numbers (viz/words/lesson.py), and page 2 using them."""
from __future__ import annotations

import re

from viz.words import lesson as words

STEPS = [1, 2, 3, 5, 10, 20, 50, 100]
ERRORS = [0.9, 0.6, 0.45, 0.3, 0.18, 0.11, 0.05, 0.03]


def test_k_under_the_line_never_claims_more_steps_were_needed():
    text = words.ode_steps_story(30, 0.08, STEPS, ERRORS, 0.1, 500, 0)
    assert "30 steps give a mean error of 0.080, under 0.1" in text
    assert "took" not in text and "50 steps" not in text


def test_k_above_the_line_names_the_curves_first_count_under_it():
    text = words.ode_steps_story(20, 0.11, STEPS, ERRORS, 0.1, 500, 0)
    assert "0.110, above 0.1; getting under it took 50 steps" in text


def test_an_earlier_count_under_the_line_is_said_when_k_is_under_too():
    text = words.ode_steps_story(100, 0.03, STEPS, ERRORS, 0.1, 500, 0)
    assert "under 0.1; of the curve's step counts, 50 steps already got there" in text


def test_no_count_under_the_line():
    text = words.ode_steps_story(5, 0.3, STEPS, [e + 1 for e in ERRORS], 0.1, 500, 0)
    assert "none of the curve's step counts, up to 100 steps, gets under it" in text


def test_page_2_says_k_and_the_threshold_from_the_same_curve():
    from streamlit.testing.v1 import AppTest
    from tests.test_app_state import APP, TIMEOUT

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.query_params.update({"os_k": "20", "os_show": "1"})
    at.switch_page("pages/2_one-step-ode.py").run()
    assert not at.exception
    text = next(m.value for m in at.markdown if "missed the 200-step endpoint" in m.value)
    m = re.search(r"On the curve's 500 points \(noise seed 0\), 20 steps give a mean error of ([0-9.]+), "
                  r"(under|above) 0\.1", text)
    assert m, text
    value, side = float(m.group(1)), m.group(2)
    assert (value < 0.1) == (side == "under")
    took = re.search(r"getting under it took (\d+) steps", text)
    assert side == "under" or (took and int(took.group(1)) > 20), text
