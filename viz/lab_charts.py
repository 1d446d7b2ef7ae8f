"""Altair builders for the lab pages (no Streamlit, no torch): the shared palette, domain and theme of viz.charts.

Colours keep their meaning from ``viz.charts.PALETTE`` (real data blue, teacher green, one teacher step amber,
consistency model violet, true endpoint red); the few roles only the lab has are named here.  Every chart
whose colours carry meaning has a legend.  Point clouds sit on the shared square ``DOMAIN`` at a size that
fits a 420 px wide phone screen.
"""
from __future__ import annotations

from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd

from viz.charts import DOMAIN, PALETTE, TRAJECTORY_COLOR, _finish, _frame, _xy, zoom_domain

LAB_SIZE = 330  # px, square plot area: with axis labels it fits a 420 px screen (~388 px of content)
SECOND_REAL = "#bfdbfe"  # a second, independent real sample (light blue: real data, another draw)
LONG_LINE = "#f472b6"  # a matched line longer than the floor's long-line threshold (pink)
LINE = PALETTE["arrow"]  # a matched pair
NOISY = TRAJECTORY_COLOR  # x_t, the noised input of a network (slate, as the trajectories not chosen)
# Which colour draws each W2 sampler (keys of cmcore.lab.W2_SAMPLERS).
SAMPLER_COLORS = {"teacher_1": PALETTE["teacher_one"], "teacher_50": PALETTE["teacher"],
                  "cm_1": PALETTE["consistency"], "floor": SECOND_REAL}
REAL_LABEL = "real sample"


def _square(chart):
    """Keep ``width``/``height`` as the plot area (Streamlit would otherwise fit axes and legend inside them)."""
    chart.autosize = alt.AutoSizeParams(type="pad", contains="padding")
    return _finish(chart)


def _legend_scale(items: Sequence[tuple[str, str]]) -> alt.Scale:
    return alt.Scale(domain=[k for k, _ in items], range=[c for _, c in items])


# --- What W2 means -------------------------------------------------------------------------------

def matching_chart(generated: np.ndarray, real: np.ndarray, perm: np.ndarray, long_threshold: float, label: str,
                   color: str, size: int = LAB_SIZE) -> alt.LayerChart:
    """The optimal matching: a line from each generated point to its real partner ``real[perm[i]]``.

    Lines longer than ``long_threshold`` are drawn in ``LONG_LINE``; one legend names points and lines.
    """
    gen, partner = np.asarray(generated), np.asarray(real)[np.asarray(perm)]
    length = np.linalg.norm(gen - partner, axis=1)
    long_label, short_label = f"line longer than {long_threshold:.3f}", "matched pair"
    lines = pd.DataFrame({"x": gen[:, 0], "y": gen[:, 1], "x2": partner[:, 0], "y2": partner[:, 1],
                          "length": length, "series": np.where(length > long_threshold, long_label, short_label)})
    points = pd.concat([pd.DataFrame({"x": np.asarray(real)[:, 0], "y": np.asarray(real)[:, 1], "series": REAL_LABEL}),
                        pd.DataFrame({"x": gen[:, 0], "y": gen[:, 1], "series": label})], ignore_index=True)
    scale = _legend_scale([(label, color), (REAL_LABEL, PALETTE["real"]), (short_label, LINE),
                           (long_label, LONG_LINE)])
    color_enc = alt.Color("series:N", scale=scale, title=None, legend=alt.Legend(columns=2, symbolLimit=4))
    ex, ey = _xy(*zoom_domain(points[["x", "y"]].to_numpy(), pad=0.04), titles=False)  # square: lengths stay true
    tips = [alt.Tooltip("length:Q", format=".3f", title="line length")]
    layers = [
        alt.Chart(_frame(points.round(4))).mark_circle(size=16, opacity=0.9).encode(ex, ey, color_enc),
        alt.Chart(_frame(lines.round(4))).mark_rule(strokeWidth=1.3, opacity=0.85)
        .encode(ex, ey, alt.X2("x2:Q"), alt.Y2("y2:Q"), color_enc, tooltip=tips),
    ]
    return _square(alt.layer(*layers, width=size, height=size))


def line_lengths_chart(lengths: np.ndarray, floor_lengths: np.ndarray, label: str, color: str,
                       long_threshold: float) -> alt.LayerChart:
    """Every line's length, sorted (a quantile plot), for the chosen sampler and for two real samples."""
    def sorted_frame(values: np.ndarray, series: str) -> pd.DataFrame:
        v = np.sort(np.asarray(values, dtype=np.float64))
        return pd.DataFrame({"share": (np.arange(len(v)) + 0.5) / len(v), "length": np.maximum(v, 1e-4),
                             "series": series})

    floor_label = "two real samples (floor)"
    df = pd.concat([sorted_frame(lengths, label), sorted_frame(floor_lengths, floor_label)], ignore_index=True)
    scale = _legend_scale([(label, color), (floor_label, PALETTE["real"])])
    line = (alt.Chart(_frame(df.round(5))).mark_line(strokeWidth=2)
            .encode(alt.X("share:Q", title="share of the lines (shortest → longest)", axis=alt.Axis(format="%")),
                    alt.Y("length:Q", title="line length (log)", scale=alt.Scale(type="log")),
                    alt.Color("series:N", scale=scale, title=None),
                    tooltip=["series:N", alt.Tooltip("share:Q", format=".0%"), alt.Tooltip("length:Q", format=".3f")]))
    rule = (alt.Chart(_frame(pd.DataFrame({"length": [long_threshold]})))
            .mark_rule(color=LONG_LINE, strokeDash=[4, 4]).encode(y="length:Q"))
    return _finish(alt.layer(line, rule, height=220, width="container"))
