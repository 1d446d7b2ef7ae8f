"""AppTest for the lab pages of issue 9 (items 5, 8, 9): each renders, draws, states computed findings."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 120


def open_page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()  # AppTest maps a file to its st.navigation url_path only after a first run
    at.query_params.update(query or {})
    at.switch_page(page)
    return at.run()


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def charts(at: AppTest) -> list:
    return list(at.get("vega_lite_chart"))


def text(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("markdown", "caption", "info", "success", "warning") for e in getattr(at, kind))


def test_param_page_draws_curves_scores_and_findings():
    at = open_page("pages/lab_param.py")
    no_exception(at)
    assert len(charts(at)) == 5
    body = text(at)
    assert f"c_skip = {0.25 / (0.998 ** 2 + 0.25):.3f}" in body  # sigma_data 0.5 at t = 1, by hand
    assert "After 400 steps" in body and "floor" in body
    at.select_slider(key="lp_sigma").set_value(2.0).run()
    no_exception(at)
    assert "σ_data = 2" in text(at)
    assert at.query_params["lp_sigma"] in ("2.0", ["2.0"])


def test_param_page_link_sets_sigma_data():
    at = open_page("pages/lab_param.py", {"lp_sigma": "0.25"})
    no_exception(at)
    assert at.select_slider(key="lp_sigma").value == 0.25
