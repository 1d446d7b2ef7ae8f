"""AppTest for Home and the exercise pages 1, 2 and 4: render, predict-first, widgets, links.

Everything runs in one process, so ``st.cache_data`` results (trajectories, samples,
W2 values) are shared between the tests: the first test of a page pays for its
computations, the rest are quick.
"""
from __future__ import annotations

import hashlib
import json

import pytest
from streamlit.testing.v1 import AppTest

from cmcore import zoo
from tests.conftest import charts, no_exception, open_page
from ui import teach

EXERCISES = {  # page -> (question key, URL flag that reveals the results)
    "pages/1_self-consistency.py": ("sc", "sc_show"),
    "pages/2_one-step-ode.py": ("os", "os_show"),
    "pages/4_multistep.py": ("ms", "ms_show"),
}


def revealed(page: str, query: dict | None = None) -> AppTest:
    """The page with its results shown, as a shared link would open it."""
    return open_page(page, {EXERCISES[page][1]: "1", **(query or {})})


def view(at: AppTest) -> str:
    """Everything the page shows, as one string (texts, metrics, tables, chart specs and data)."""
    parts = [e.value for kind in ("markdown", "caption", "info", "success", "warning") for e in getattr(at, kind)]
    parts += [f"{m.label}={m.value}" for m in at.metric]
    parts += [d.value.to_csv() for d in at.dataframe] + [t.value.to_csv() for t in at.table]
    parts += [hashlib.sha256(c.proto.SerializeToString()).hexdigest() for c in charts(at)]
    return "\n".join(parts)


# --- Every page renders at its defaults ----------------------------------------------------


def test_home_renders_with_claims_and_links():
    at = open_page("pages/home.py")
    no_exception(at)
    assert len(at.get("page_link")) >= 5  # start here + the four exercises
    text = view(at)
    assert "(of 6 claims)" in text and "holds" in text
    stored = zoo.load_quality(zoo.DEFAULT.teacher, zoo.DEFAULT.consistency)
    assert str(stored.consistency[1]) in text  # the stored protocol table, with its spread
    at = open_page("pages/lesson_checked.py")
    no_exception(at)
    assert "±" in at.table[-2].value["consistency, 1 step"].iloc[0]
    assert "What we changed, lesson → ours" in view(at)


@pytest.mark.parametrize("page", EXERCISES)
def test_exercise_hides_results_until_answered(page):
    key, _ = EXERCISES[page]
    at = open_page(page)
    no_exception(at)
    assert not charts(at), "results must stay hidden before the prediction"
    assert any(i.value.startswith(("Answer the question above", "Answer the three questions above")) for i in at.info)
    asked = [r.key for r in at.radio if (r.key or "").startswith("predict_")]  # page 4 asks three questions
    assert f"predict_{key}" in asked and all(at.radio(key=k).value is None for k in asked)  # nothing preselected
    for k in asked:
        at.radio(key=k).set_value(at.radio(key=k).options[0]).run()
    no_exception(at)
    assert charts(at), "answering reveals the charts"
    assert any("What just happened" in m.value for m in at.markdown)
    assert any("Key takeaway" in m.value for m in at.markdown)
    verdict = [e.value for e in (*at.success, *at.warning) if "prediction matched" in e.value or "Not quite" in e.value]
    assert verdict, "the page says whether the prediction matched the numbers"
    assert EXERCISES[page][1] not in at.query_params  # a copied link asks its recipient the question too
    assert at.radio(key=f"predict_{key}").disabled  # the answer is locked once given
    at.checkbox(key=EXERCISES[page][1]).check().run()  # unless the sender shares the results view
    assert at.query_params[EXERCISES[page][1]] in ("1", ["1"])


@pytest.mark.parametrize("page", EXERCISES)
def test_pages_draw_nothing_by_accident(page):
    """A bare expression in a page file is drawn by Streamlit's magic (a model's repr, a tuple): none may be."""
    for at in (open_page(page), revealed(page)):
        shown = [str(e.value) for kind in ("markdown", "code", "text", "json") for e in at.get(kind)]
        assert not any("Sequential(" in t or "MLP(" in t for t in shown), [t[:80] for t in shown if "MLP(" in t]
        assert not at.get("code") and not at.get("json")


def test_skip_button_reveals_results():
    at = open_page("pages/2_one-step-ode.py")
    assert not charts(at)
    at.button(key="skip_os").click().run()
    no_exception(at)
    assert len(charts(at)) == 6  # five panels and the error curve
    assert any("The numbers say" in i.value for i in at.info)  # no answer: the numbers' option is stated


def test_prediction_is_remembered_across_pages():
    at = open_page("pages/1_self-consistency.py")
    at.radio(key="predict_sc").set_value(at.radio(key="predict_sc").options[1]).run()
    at.switch_page("pages/4_multistep.py").run()
    assert not charts(at)  # another page asks its own question
    at.switch_page("pages/1_self-consistency.py").run()
    no_exception(at)
    assert at.radio(key="predict_sc").value == at.radio(key="predict_sc").options[1]
    assert charts(at)


# --- Each main widget changes what the page shows ----------------------------------------------


def changes(at: AppTest, key: str, value) -> None:
    before = view(at)
    at.get_by_key(key).set_value(value)  # type: ignore[attr-defined]
    at.run()
    no_exception(at)
    assert view(at) != before, f"changing {key} to {value!r} changed nothing on the page"


def test_self_consistency_widgets():
    at = revealed("pages/1_self-consistency.py")
    no_exception(at)
    same_grid = float(at.metric[0].value)
    assert same_grid < 1e-4  # retracing the trajectory's own grid lands on its endpoint
    changes(at, "sc_resolve", "5")
    assert float(at.metric[0].value) > 10 * max(same_grid, 1e-6)  # a coarse fresh grid shows solver error
    assert "fresh grid of 5" in view(at)
    assert at.query_params["sc_resolve"] in ("5", ["5"])
    for key, value in (("sc_traj", 5), ("sc_n_traj", 4), ("sc_seed", 3), ("sc_steps", 100),
                       ("sc_solver", "heun"), ("sc_t", [0.8, 0.2])):
        changes(at, key, value)
    assert len(at.dataframe[0].value) == 2  # one row per restart level
    assert at.selectbox(key="sc_traj").value == 3  # 4 trajectories: the chosen index was clamped


def test_one_step_widgets():
    at = revealed("pages/2_one-step-ode.py")
    no_exception(at)
    assert float(at.metric[2].value) < 1e-5  # one Euler step == x0 prediction for this flow
    changes(at, "os_k", 10)
    assert at.metric[1].label == "10-step ODE: mean error"
    changes(at, "os_n", 500)
    assert "these 500 points" in view(at)
    changes(at, "os_seed", 7)


def test_multistep_widgets():
    at = revealed("pages/4_multistep.py", {"ms_n": "500"})  # smaller panels keep the test quick
    no_exception(at)
    assert len(charts(at)) == 5 + 5 + 1 + 4 + 2  # teacher panels, consistency panels and data, W2 chart, jumps,
    # the two sampler experiments
    assert "±" in at.dataframe[0].value["W2"][0]
    changes(at, "ms_cm", [1, 2])
    assert "Going from 1 step to 2 steps" in view(at)
    changes(at, "ms_teacher", [1, 5, 20])
    assert "teacher's 20-step ODE" in view(at)
    for key, value in (("ms_seed", 1), ("ms_paths", 3), ("ms_path_k", 2)):
        changes(at, key, value)
    assert "one of 3 points" in view(at)


def test_home_follows_the_model_choice():
    ours, lesson = open_page("pages/home.py"), open_page("pages/home.py", {"model": "lesson"})
    no_exception(lesson)
    def failing(at):
        return sum(":red[does not hold]" in m.value for m in at.markdown)
    # ours: on the stored 20 seeds, 2 consistency steps are measurably (slightly) worse than 50 teacher steps
    assert failing(lesson) == 3 and failing(ours) == 1
    assert model_picker(lesson).value == "lesson"


def test_prediction_is_graded_once_and_not_regraded_by_sliders():
    at = open_page("pages/1_self-consistency.py")
    at.radio(key="predict_sc").set_value("Almost the same point (a small solver error)").run()
    assert any("prediction matched" in s.value for s in at.success)  # exact to rounding: "almost" is right too
    changes(at, "sc_resolve", "2")  # a coarse re-solve: new numbers ...
    graded = [s.value for s in at.success]
    assert graded and "Graded when you answered" in graded[0]  # ... the same grade, and a note that they changed
    at.button(key="again_sc").click().run()
    assert at.radio(key="predict_sc").value is None and not charts(at)


# --- Links: shared views and bad values ----------------------------------------------------------


def test_shared_link_reproduces_the_view():
    at = open_page("pages/1_self-consistency.py", {"sc_show": "1", "sc_traj": "4", "sc_resolve": "10",
                                                   "sc_t": "0.9,0.5"})
    no_exception(at)
    assert charts(at), "a link taken after the reveal opens with the results"
    assert at.selectbox(key="sc_traj").value == 4
    assert list(at.dataframe[0].value["re-solve steps"]) == [10, 10]
    assert not at.warning


@pytest.mark.parametrize("query, key, expected, bad", [
    ({"sc_n_traj": "abc"}, "sc_n_traj", 8, "sc_n_traj"),  # wrong type
    ({"sc_n_traj": "99"}, "sc_n_traj", 8, "sc_n_traj"),  # out of range
    ({"sc_resolve": "7"}, "sc_resolve", "same", "sc_resolve"),  # not a choice
    ({"sc_n_traj": "5", "bogus": "1"}, "sc_n_traj", 5, "bogus"),  # unknown name next to a good value
])
def test_bad_link_values_are_corrected_with_a_note(query, key, expected, bad):
    at = open_page("pages/1_self-consistency.py", query)
    assert not at.exception
    assert at.get_by_key(key).value == expected  # type: ignore[attr-defined]
    notes = " ".join(w.value for w in at.warning)
    assert "corrected" in notes and (f"`{bad}`" in notes or f"“{bad}”" in notes)


def test_bad_multistep_list_is_corrected():
    at = open_page("pages/4_multistep.py", {"ms_cm": "1,99", "ms_n": "123"})
    assert not at.exception
    assert at.multiselect(key="ms_cm").value == [1, 2, 4, 8]
    assert at.get_by_key("ms_n").value == 2000  # type: ignore[attr-defined]
    assert "`ms_cm`" in " ".join(w.value for w in at.warning)


def test_reveal_param_is_declared_per_page():
    assert teach.reveal_param("sc").key == "sc_show"


# --- The chart builders produce valid Vega-Lite, whatever the size of the data ---------------------


def canonical(rows: list) -> str:
    return json.dumps(rows, sort_keys=True)


def test_chart_builders_are_valid_vega_lite_and_take_big_data():
    import numpy as np
    import pandas as pd

    from viz import charts as C
    from viz import trajectories as T

    rng = np.random.default_rng(0)
    big = rng.normal(size=(20_000, 2))  # far over Altair's 5,000-row limit
    xs = rng.normal(size=(201, 8, 2))
    built = {
        "scatter_panels": C.scatter_panels([C.Panel("a", big, "real", "W2 0.1"), C.Panel("b", big[:10], "teacher")]),
        "loss_curve": C.loss_curve(pd.DataFrame({"step": np.arange(20_000), "loss": np.exp(-np.arange(20_000) / 5e3)})),
        "error_vs_steps": C.error_vs_steps(pd.DataFrame([{"steps": k, "nfe": k, "solver": "euler", "mean_error": 1 / k,
                                                          "max_error": 2 / k} for k in (1, 2, 5)]), 2),
        "w2_vs_nfe": C.w2_vs_nfe(pd.DataFrame([{"model": "consistency model", "nfe": k, "w2": 0.2} for k in (1, 2)]),
                                 0.1),
        "self_consistency_chart": T.self_consistency_chart(xs, np.linspace(1, 0, 201), 2, xs[[20, 100], 2], [0.9, 0.5],
                                                           xs[[-1, -1], 2], xs[-1, 2]),
        "self_consistency_zoom": T.self_consistency_chart(xs, np.linspace(1, 0, 201), 2, xs[[20, 100], 2], [0.9, 0.5],
                                                          xs[[-1, -1], 2], xs[-1, 2], part="zoom"),
        "multistep_steps_chart": T.multistep_steps_chart(rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 6, 2)),
                                                         [1.0, 0.67, 0.33], big),
    }
    for name, chart in built.items():
        spec = C.to_spec(chart, validate=True)  # the structure against the Vega-Lite schema
        rows = [len(v) for v in spec.get("datasets", {}).values()]
        assert rows and max(rows) <= C.MAX_POINTS_PER_PANEL * 2, name  # capped per panel, whatever the input
        json.dumps(spec, allow_nan=False)  # valid JSON: missing values are null, not NaN
        own = chart.to_dict()["datasets"]  # the fast path carries the same rows as Altair's own conversion
        assert sorted(map(canonical, spec["datasets"].values())) == sorted(map(canonical, own.values())), name
    for panel in (C.Panel("a", big, "real", "W2 0.1"), C.Panel("b", big[:10], "teacher"), C.Panel("b", big[:5], "teacher")):
        assert C.panel_spec(panel, 170) == C.to_spec(C.scatter_panels([panel], 1, 170)), panel.title  # the grids' path
    steps = (rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 6, 2)), [1.0, 0.67, 0.33], big)
    for only in (None, 0, 2):  # page 4's fast path: a layout built once, then only the rows change
        fast = T.multistep_steps_spec(*steps, size=185, only_step=only)
        assert fast == C.to_spec(T.multistep_steps_chart(*steps, size=185, only_step=only)), only
        assert T.multistep_steps_spec(*steps, size=185, only_step=only) == fast  # a second call, from the kept layout
    other = T.multistep_steps_spec(rng.normal(size=(3, 6, 2)), *steps[1:], size=185, only_step=0)
    first = T.multistep_steps_spec(*steps, size=185, only_step=0)
    assert other["data"] != first["data"] and list(other["datasets"]) == [other["data"]["name"]]  # nothing stale
    drawn = [(C.panel_spec(C.Panel("a", big, "real"), 170), C.panel_spec(C.Panel("a", big, "real"), 170, table=True)),
             (first, T.multistep_steps_spec(*steps, size=185, only_step=0, table=True))]
    for with_rows, with_table in drawn:  # what the pages draw: the same chart, its rows as one Arrow table
        (name, table), = with_table["datasets"].items()
        assert with_table["data"] == {"name": name} and table.to_pylist() == with_rows["datasets"][with_rows["data"]["name"]]
        assert {**with_table, "data": None, "datasets": None} == {**with_rows, "data": None, "datasets": None}
    new_seed = T.multistep_steps_spec(rng.normal(size=(3, 6, 2)), *steps[1:], size=185, only_step=0, table=True)
    assert new_seed["data"] == drawn[1][1]["data"]  # new rows, the same name: the browser swaps the data in place


def model_picker(at):
    """The sidebar's model select box (its key carries the model it opened on, so find it by its label)."""
    from ui import models

    return next(box for box in at.sidebar.selectbox if box.label == models.PICKER_LABEL)
