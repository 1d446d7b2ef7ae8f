"""Lab page "What f_θ does at each t": the numbers above the chart follow its t slider, and two values never
overlap where the curves cross (issue 16).  The slider is a Vega parameter (no server round trip), so the chart is
rendered here as the browser draws it, with the slider at the frame a student picked (vl-convert, the same Vega)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from viz import charts, lab_charts

TS = np.round(np.linspace(0.02, 1.0, 50), 4)  # the frames (step 0.02, like lab.frame_times)
CROSS = 0.32  # where the two error curves cross


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    pts = {f"{a}_{b}": rng.normal(size=len(TS) * 4) for a in ("xt", "cm", "tx", "end") for b in "xy"}
    fr = pd.DataFrame({"t": np.repeat(TS, 4), "point": np.tile(np.arange(4), len(TS)), **pts})
    cm, teacher = 0.2 + 0.5 * (TS - CROSS), 0.2 - 0.15 * (TS - CROSS)
    curve = pd.DataFrame({"t": np.r_[TS, TS], "series": [lab_charts.CM_JUMP] * len(TS) + [lab_charts.TEACHER_JUMP] * len(TS),
                          "error": np.r_[cm, teacher]})
    return fr, curve


def drawn_texts(t: float) -> list[tuple[str, float, float]]:
    """(text, x, y) of every text mark, as drawn with the slider at ``t``."""
    import vl_convert

    fr, curve = frames()
    svg = vl_convert.vegalite_to_svg(charts.to_spec(lab_charts.jump_frames_chart(fr, curve, t)))
    marks = re.findall(r'aria-roledescription="text mark"[^>]*transform="translate\(([-\d.]+),([-\d.]+)\)"[^>]*>([^<]*)<',
                       svg)
    return [(text, float(x), float(y)) for x, y, text in marks]


def test_the_readout_shows_the_frame_the_slider_picks():
    for t in (1.0, 0.5, CROSS):
        lines = [m[0] for m in drawn_texts(t) if m[0].startswith("t = ")]
        cm, teacher = 0.2 + 0.5 * (t - CROSS), 0.2 - 0.15 * (t - CROSS)
        assert lines == [f"t = {t:.2f}: mean error {cm:.3f} (consistency model)",
                         f"t = {t:.2f}: mean error {teacher:.3f} (teacher jump)"], lines


def test_no_two_values_overlap_where_the_curves_cross():
    numbers = [m for m in drawn_texts(CROSS) if re.search(r"\d\.\d{3}", m[0])]
    assert len(numbers) >= 2
    for i, a in enumerate(numbers):
        for b in numbers[i + 1:]:
            # text marks of 11-13 px: apart by a line's height at least, or on different columns entirely
            assert abs(a[2] - b[2]) >= 12 or abs(a[1] - b[1]) >= 120, (a, b)
