"""Issue 16, "state that holds", where it lives in the script (AppTest): a page's settings survive leaving it
through the sidebar, and a prediction belongs to its page, dataset and model."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 120
DATA_PICKER = "_data_picker"


def open_page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.query_params.update(query or {})
    at.switch_page(page)
    return at.run()


def leave(at: AppTest, page: str) -> AppTest:
    """Go to ``page`` as the sidebar does: its link carries no settings (only the app-wide ones)."""
    for key in list(at.query_params):
        if key not in ("data", "model"):
            del at.query_params[key]
    return at.switch_page(page).run()


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def url(at: AppTest, key: str):
    value = at.query_params.get(key)
    return value[-1] if isinstance(value, list) else value


def test_page_2_keeps_k_after_going_to_page_1_and_back():
    at = open_page("pages/2_one-step-ode.py")
    at.slider(key="os_k").set_value(20).run()
    assert url(at, "os_k") == "20"
    leave(at, "pages/1_self-consistency.py")
    no_exception(at)
    assert url(at, "os_k") is None  # page 1 has no k
    leave(at, "pages/2_one-step-ode.py")
    no_exception(at)
    assert at.slider(key="os_k").value == 20
    assert url(at, "os_k") == "20"


def test_page_3_form_survives_a_round_trip_and_a_link_still_wins():
    at = open_page("pages/3_distillation.py")
    at.number_input(key="cd_mu").set_value(0.0).run()
    at.number_input(key="cd_steps").set_value(300).run()
    leave(at, "pages/4_multistep.py")
    leave(at, "pages/3_distillation.py")
    no_exception(at)
    assert at.number_input(key="cd_mu").value == 0.0 and at.number_input(key="cd_steps").value == 300
    assert url(at, "cd_mu") == "0.0" and url(at, "cd_steps") == "300"
    assert at.selectbox(key="cd_preset").value is None  # "custom settings", not the first preset's name
    # A link that carries settings of the page opens exactly those (the rest at their defaults).
    leave(at, "pages/4_multistep.py")
    at.query_params["cd_steps"] = "500"
    at.switch_page("pages/3_distillation.py").run()
    assert at.number_input(key="cd_steps").value == 500 and at.number_input(key="cd_mu").value != 0.0


def test_a_prediction_is_asked_again_on_another_dataset_and_kept_for_its_own():
    at = open_page("pages/2_one-step-ode.py")
    radio = at.radio(key="predict_os")
    answer = radio.options[1]
    radio.set_value(answer).run()
    no_exception(at)
    assert at.radio(key="predict_os").disabled  # locked (AppTest reads a disabled radio's value as None)
    at.selectbox(key=DATA_PICKER).select("checkerboard").run()
    no_exception(at)
    radio = at.radio(key="predict_os")
    assert not radio.disabled  # asked again: nothing locked, nothing graded
    assert not [s for s in at.success if "Your prediction" in s.value]
    assert not [w for w in at.warning if "You said" in w.value]
    at.selectbox(key=DATA_PICKER).select("two_moons").run()
    no_exception(at)
    assert at.radio(key="predict_os").disabled  # two moons' answer is still there
    assert at.session_state["predict_os"] == answer


def test_a_prediction_is_asked_again_for_another_model():
    at = open_page("pages/4_multistep.py")
    radio = at.radio(key="predict_ms")
    radio.set_value(radio.options[0]).run()
    assert at.radio(key="predict_ms").disabled
    picker = next(s for s in at.selectbox if s.key and s.key.startswith("_model_picker"))
    picker.select("lesson").run()
    at.run()
    no_exception(at)
    assert not at.radio(key="predict_ms").disabled


def test_the_upload_widgets_limit_is_the_one_the_help_text_states():
    from cmcore import uploads

    at = open_page("pages/home.py")
    uploader = [e for e in at.sidebar if getattr(e, "type", "") == "file_uploader"] or \
        [e for e in at.get("file_uploader")]
    assert uploader, "no file uploader in the sidebar"
    limit_mb = uploader[0].proto.max_upload_size_mb
    assert limit_mb * 1_000_000 == uploads.MAX_BYTES  # the widget refuses what cmcore would refuse
    help_text = next(c.value for c in at.caption if "points, at most" in c.value)
    assert f"at most {limit_mb} MB" in help_text and "kB" not in help_text


def test_page_2_keeps_k_in_the_link_on_an_upload_with_no_model_yet():
    """The page stops early there (no teacher to solve with): the link must still carry the page's settings."""
    import math

    from cmcore import uploads

    rows = "\n".join(f"{math.cos(i / 7):.4f},{math.sin(i / 5):.4f}" for i in range(60))
    name = uploads.accept(("x,y\n" + rows).encode())
    at = open_page("pages/2_one-step-ode.py", {"data": name})
    at.slider(key="os_k").set_value(20).run()
    assert url(at, "data") == name and url(at, "os_k") == "20"
    leave(at, "pages/1_self-consistency.py")
    leave(at, "pages/2_one-step-ode.py")
    assert at.slider(key="os_k").value == 20 and url(at, "os_k") == "20"
