"""Charts of the lab's W2 page: the optimal matching behind an exact W2, and its line lengths."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from viz.charts import PALETTE, chart_data, square, themed, xy_channels, zoom_domain
from viz.lab_charts import LAB_SIZE, LINE, LONG_LINE, REAL_LABEL, legend_scale


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
    scale = legend_scale([(label, color), (REAL_LABEL, PALETTE["real"]), (short_label, LINE),
                           (long_label, LONG_LINE)])
    color_enc = alt.Color("series:N", scale=scale, title=None, legend=alt.Legend(columns=2, symbolLimit=4))
    ex, ey = xy_channels(*zoom_domain(points[["x", "y"]].to_numpy(), pad=0.04), titles=False)  # square: lengths stay true
    tips = [alt.Tooltip("length:Q", format=".3f", title="line length")]
    layers = [
        alt.Chart(chart_data(points.round(4))).mark_circle(size=16, opacity=0.9).encode(ex, ey, color_enc),
        alt.Chart(chart_data(lines.round(4))).mark_rule(strokeWidth=1.3, opacity=0.85)
        .encode(ex, ey, alt.X2("x2:Q"), alt.Y2("y2:Q"), color_enc, tooltip=tips),
    ]
    return square(alt.layer(*layers, width=size, height=size))


def line_lengths_chart(lengths: np.ndarray, floor_lengths: np.ndarray, label: str, color: str,
                       long_threshold: float) -> alt.LayerChart:
    """Every line's length, sorted (a quantile plot), for the chosen sampler and for two real samples."""
    def sorted_frame(values: np.ndarray, series: str) -> pd.DataFrame:
        v = np.sort(np.asarray(values, dtype=np.float64))
        return pd.DataFrame({"share": (np.arange(len(v)) + 0.5) / len(v), "length": np.maximum(v, 1e-4),
                             "series": series})

    floor_label = "two real samples (floor)"
    df = pd.concat([sorted_frame(lengths, label), sorted_frame(floor_lengths, floor_label)], ignore_index=True)
    scale = legend_scale([(label, color), (floor_label, PALETTE["real"])])
    line = (alt.Chart(chart_data(df.round(5))).mark_line(strokeWidth=2)
            .encode(alt.X("share:Q", title="share of the lines (shortest → longest)", axis=alt.Axis(format="%")),
                    alt.Y("length:Q", title="line length (log)", scale=alt.Scale(type="log")),
                    alt.Color("series:N", scale=scale, title=None),
                    tooltip=["series:N", alt.Tooltip("share:Q", format=".0%"), alt.Tooltip("length:Q", format=".3f")]))
    rule = (alt.Chart(chart_data(pd.DataFrame({"length": [long_threshold]})))
            .mark_rule(color=LONG_LINE, strokeDash=[4, 4]).encode(y="length:Q"))
    return themed(alt.layer(line, rule, height=220, width="container"))
