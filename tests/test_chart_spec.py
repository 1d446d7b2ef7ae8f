"""ui.compute.chart_spec: a chart builder is passed as the function itself and cached under its own name."""
from __future__ import annotations

import numpy as np

from ui import compute
from viz import charts


def one_chart() -> dict:
    return {"mark": "point"}


def another_chart() -> dict:
    return {"mark": "line"}


def test_each_builder_has_its_own_cache_entries():
    assert compute.builder_key(one_chart) == f"{__name__}.one_chart"
    assert compute.chart_spec(one_chart) == {"mark": "point"}
    assert compute.chart_spec(another_chart) == {"mark": "line"}  # same arguments, another builder: not a cache hit
    assert compute.chart_spec(one_chart) == {"mark": "point"}


def test_a_viz_builder_is_drawn_as_its_vega_lite_dict():
    panel = charts.Panel("real data", np.zeros((5, 2)))
    spec = compute.chart_spec(charts.scatter_panels, [panel])
    assert spec == charts.to_spec(charts.scatter_panels([panel])) and spec["title"]["text"] == "real data"
