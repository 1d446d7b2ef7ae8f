"""AppTest for the lab pages: each renders at its defaults, widgets change the numbers, sentences match them.

All tests run in one process, so ``st.cache_data``/``st.cache_resource`` results (the short training run
with its checkpoints, the protocol's W2) are computed once and shared.
"""
from __future__ import annotations

import re

import pytest

from cmcore import lab
from tests.conftest import charts, no_exception, open_page
from tests.test_app_pages import view

W2_PAGE = "pages/lab_w2.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def number_after(text: str, prefix: str) -> float:
    m = re.search(re.escape(prefix) + r"\s*\**\s*(\d+\.\d+)", text)
    assert m, f"{prefix!r} not found in:\n{text[:3000]}"
    return float(m.group(1))


# --- What W2 means -------------------------------------------------------------------------------

def test_w2_page_defaults_and_sentences_match_the_numbers():
    at = open_page(W2_PAGE)
    no_exception(at)
    assert len(charts(at)) == 2
    assert at.selectbox(key="w2_sampler").value == "cm_1"
    assert at.select_slider(key="w2_n").value == 150
    m, text = metrics(at), view(at)
    small = float(m["W2 at 150 points"])
    assert number_after(text, "W2 is the root-mean-square length of these lines:") == small
    assert f"the matching above reads {small:.3f}" in text
    floor_small = float(m["Floor at 150 points"])  # a floor says its size
    assert f"score W2 {floor_small:.3f}" in text
    score, floor = m["Protocol W2 (mean ± sem)"], m["Protocol floor at 2,000 points (mean ± sem)"]
    assert re.fullmatch(r"[\d.]+ ± [\d.]+", score) and re.fullmatch(r"[\d.]+ ± [\d.]+", floor)
    assert f"scores W2 **{score}** (mean ± standard error over seeds)" in text and f"the floor of **{floor}**" in text
    assert lab.W2_SAMPLER_NOUNS["cm_1"] in text


@pytest.mark.parametrize("key, value", [("w2_sampler", "teacher_1"), ("w2_n", 50), ("w2_seed", 3)])
def test_w2_page_widgets_change_the_numbers(key, value):
    at = open_page(W2_PAGE)
    before = metrics(at)
    at.get_by_key(key).set_value(value)  # type: ignore[attr-defined]
    at.run()
    no_exception(at)
    assert metrics(at)["W2 at 50 points" if key == "w2_n" else "W2 at 150 points"] != before["W2 at 150 points"]
    assert at.query_params[key] in (str(value), [str(value)])  # the view is in the link


def test_w2_page_floor_sampler_and_link():
    at = open_page(W2_PAGE, {"w2_sampler": "floor", "w2_n": "100"})
    no_exception(at)
    m = metrics(at)
    assert m["W2 at 100 points"] == m["Floor at 100 points"]  # the floor sampler is the floor's own matching
    assert "this is the floor every model is measured against" in view(at)
    bad = open_page(W2_PAGE, {"w2_n": "7", "w2_sampler": "teacher_9"})
    assert bad.select_slider(key="w2_n").value == 150 and bad.selectbox(key="w2_sampler").value == "cm_1"
    assert any("could not be used" in w.value for w in bad.warning)


# --- What f_theta does at each t ---------------------------------------------------------------------

FTHETA_PAGE = "pages/lab_ftheta.py"


def chart_spec(at, i: int = 0) -> dict:
    """The i-th chart's Vega-Lite spec, with its named datasets (Streamlit ships them as Arrow) as row lists."""
    import json

    import pyarrow as pa

    proto = charts(at)[i].proto
    spec = json.loads(proto.spec)
    spec["datasets"] = {d.name: pa.ipc.open_stream(d.data.data).read_pandas().to_dict("records")
                        for d in proto.datasets}
    return spec


def test_ftheta_page_has_every_frame_and_a_bound_slider():
    at = open_page(FTHETA_PAGE)
    no_exception(at)
    assert at.get_by_key("ft_n").value == 120  # type: ignore[attr-defined]
    spec = chart_spec(at)
    slider = next(p for p in spec["params"] if p["name"] == "t_frame")
    assert slider["bind"]["input"] == "range" and slider["bind"]["min"] == pytest.approx(lab.FRAME_T_MIN)
    rows = max(spec["datasets"].values(), key=len)
    assert len(rows) == lab.FRAME_COUNT * 120  # every frame ships with the page: the slider needs no server
    assert len({r["t"] for r in rows}) == lab.FRAME_COUNT
    text = view(at)
    cm = float(re.search(r"the consistency model lands ([\d.]+)", text).group(1))
    teacher = float(re.search(r"x₀ prediction ([\d.]+)", text).group(1))
    curve = [r for r in min(spec["datasets"].values(), key=len) if r["t"] == 1.0]
    assert sorted(round(r["error"], 3) for r in curve) == sorted([cm, teacher])  # the chart draws the same numbers
    # The frame's numbers are the chart's own readout (they follow the slider): no fixed metric beside it.
    assert not [k for k in metrics(at) if "error at t" in k]


@pytest.mark.parametrize("key, value", [("ft_n", 60), ("ft_seed", 5)])
def test_ftheta_page_widgets_change_the_numbers(key, value):
    at = open_page(FTHETA_PAGE)
    before = view(at)
    at.get_by_key(key).set_value(value)  # type: ignore[attr-defined]
    at.run()
    no_exception(at)
    assert view(at) != before
    assert at.query_params[key] in (str(value), [str(value)])


# --- Anatomy of one distillation step ------------------------------------------------------------------

ANATOMY_PAGE = "pages/lab_anatomy.py"


def test_anatomy_page_defaults_and_sentence():
    at = open_page(ANATOMY_PAGE)  # the first run trains the short snapshot run (cached for the process)
    no_exception(at)
    assert len(charts(at)) == 3
    assert (at.slider(key="an_n").value, at.select_slider(key="an_step").value) == (6, 0)
    gap = float(metrics(at)["Gap |f_θ − f_θ⁻|"])
    text = view(at)
    assert f"Before training (step 0) the online prediction and the target's are **{gap:.4f}** apart" in text
    legend = str(chart_spec(at, 0))  # each point of the step is named by its formula in the plane's legend
    for formula in ("x_t₇ = (1−t₇)x₀ + t₇ε", "f_θ(x_t₇, t₇), online",
                    "f_θ⁻(x̂_t₆, t₆), target (EMA)",
                    "x̂_t₆ = Heun step of the teacher from t₇", "loss: pseudo-Huber d(f_θ, f_θ⁻)"):
        assert formula in legend, formula


def test_anatomy_page_checkpoints_bring_the_predictions_together():
    at = open_page(ANATOMY_PAGE)
    gap0 = float(metrics(at)["Gap |f_θ − f_θ⁻|"])
    last = lab.snapshot_steps()[-1]
    at.select_slider(key="an_step").set_value(last).run()
    no_exception(at)
    gap = float(metrics(at)["Gap |f_θ − f_θ⁻|"])
    text = view(at)
    assert f"At step {last} of {last} the online prediction and the target's are **{gap:.4f}** apart" in text
    word = "closer than" if gap < gap0 else "further apart than"
    assert f"{word} at step 0 ({gap0:.4f})" in text
    assert at.query_params["an_step"] in (str(last), [str(last)])


@pytest.mark.parametrize("key, value", [("an_n", 2), ("an_point", 17), ("an_noise", 3)])
def test_anatomy_page_widgets_change_the_numbers(key, value):
    at = open_page(ANATOMY_PAGE)
    before = metrics(at)
    at.get_by_key(key).set_value(value)  # type: ignore[attr-defined]
    at.run()
    no_exception(at)
    assert metrics(at) != before


def test_anatomy_page_corrects_a_level_the_model_does_not_have():
    at = open_page(ANATOMY_PAGE, {"an_n": "15", "an_step": "13"})
    no_exception(at)
    assert at.slider(key="an_n").value == 6 and at.select_slider(key="an_step").value == 0
    assert any("an_n" in w.value and "an_step" in w.value for w in at.warning)


# --- Where is the model consistent? --------------------------------------------------------------------

MAP_PAGE = "pages/lab_consistency_map.py"


def test_consistency_map_page_defaults_and_sentences():
    at = open_page(MAP_PAGE)
    no_exception(at)
    assert len(charts(at)) == 3
    assert (at.select_slider(key="map_t").value, at.select_slider(key="map_step").value) == (0.5, 25)
    m, text = metrics(at), view(at)
    cur, early = m["Selected model: mean error where data lands"], m["Step 25: mean error where data lands"]
    assert f"the selected model is **{cur}** and that of the step-25 checkpoint **{early}**" in text
    spec = chart_spec(at, 0)
    hover = [p for p in spec.get("params", []) + [p for layer in spec["layer"] for p in layer.get("params", [])]
             if p["name"] == "hover_cell"]
    assert hover and hover[0]["select"]["on"] == "pointerover"  # hovering is drawn by Vega, not by a rerun
    cells = next(rows for rows in spec["datasets"].values() if rows and "error" in rows[0])
    assert len(cells) == lab.MAP_GRID ** 2


@pytest.mark.parametrize("key, value", [("map_t", 0.9), ("map_step", 100)])
def test_consistency_map_page_widgets_change_the_numbers(key, value):
    at = open_page(MAP_PAGE)
    before = metrics(at)
    at.select_slider(key=key).set_value(value).run()
    no_exception(at)
    after = metrics(at)
    assert after != before
    if key == "map_t":  # the selected model's side moves with t; the checkpoint name stays
        assert "At t = 0.90" in view(at)
    else:
        assert "Step 100: mean error where data lands" in after and "short run, step 100" in str(chart_spec(at, 2))
