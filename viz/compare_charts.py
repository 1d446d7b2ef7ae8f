"""Charts of the "Recipes compared" lab page: two runs' W2 (mean ± standard error) against training step and NFE.

Both charts take one long frame with columns ``run`` (the series name), the x column,
``w2`` and ``sem``, and the series' names and colours (run A amber, run B violet, on both), and the floor (two real
samples at the same size) is a dashed blue line, as on every W2 chart of the app.
"""
from __future__ import annotations

from typing import Sequence

import altair as alt
import pandas as pd

from viz.charts import PALETTE, themed, chart_data

SIDE_COLORS = (PALETTE["teacher_one"], PALETTE["consistency"])  # run A, run B
CHART_HEIGHT = 340  # px, legend and axes included: leaves ~240 px of plot
LEGEND_LABEL_LIMIT = 260  # px: a long run name is cut with an ellipsis rather than widening a phone's page
FLOOR_COLOR = PALETTE["real"]
STEP_TICKS = 6  # about this many labels on the step axis (they fit 420 px)
STEP_MARGIN = 1.04  # the step axis ends a little after the last point, so its dot is not cut in half


def _w2_lines(df: pd.DataFrame, x: alt.X, field: str, names: Sequence[str], colors: Sequence[str] | None,
              floor: float | None, floor_sem: float) -> alt.LayerChart:
    """Lines with error bars (± standard error) per run on a log W2 axis, and the floor."""
    df = df.assign(lo=(df["w2"] - df["sem"]).clip(lower=1e-3), hi=df["w2"] + df["sem"])
    lows = [float(df["lo"].min())] + ([floor] if floor is not None else [])
    y_scale = alt.Scale(type="log", domain=[min(lows) * 0.8, float(df["hi"].max()) * 1.25], nice=False)
    hues = alt.Scale(domain=list(names), range=list(colors or SIDE_COLORS[:len(names)]))
    color = alt.Color("run:N", scale=hues, title=None,
                      legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=LEGEND_LABEL_LIMIT))
    base = alt.Chart(chart_data(df)).encode(
        x, alt.Y("w2:Q", title="W2 (log scale, lower is better)", scale=y_scale), color,
        tooltip=["run:N", f"{field}:Q", alt.Tooltip("w2:Q", format=".3f", title="W2 (mean)"),
                 alt.Tooltip("sem:Q", format=".3f", title="± standard error")])
    bars = alt.Chart(chart_data(df)).mark_rule(strokeWidth=2, opacity=0.8).encode(
        x, alt.Y("lo:Q", scale=y_scale), alt.Y2("hi:Q"), alt.Color("run:N", scale=hues, legend=None))
    layers = [base.mark_line(strokeWidth=2), bars, base.mark_point(filled=True, size=50)]
    if floor is not None:
        fl = chart_data(pd.DataFrame({"w2": [floor], "label": [f"floor {floor:.3f} ± {floor_sem:.3f}"]}))
        layers.append(alt.Chart(fl).mark_rule(color=FLOOR_COLOR, strokeDash=[4, 4]).encode(y="w2:Q"))
        layers.append(alt.Chart(fl).mark_text(color=FLOOR_COLOR, align="left", x=4, dy=-8, fontSize=11)
                      .encode(y="w2:Q", text="label:N"))
    return alt.layer(*layers, height=CHART_HEIGHT, width="container")


def track_chart(df: pd.DataFrame, names: Sequence[str], colors: Sequence[str] | None = None,
                floor: float | None = None, floor_sem: float = 0.0, title: str = "") -> alt.LayerChart:
    """One-step W2 against training step (columns run, step, w2, sem), one line per run."""
    right = float(df["step"].max()) * STEP_MARGIN
    x = alt.X("step:Q", title="training step", scale=alt.Scale(domain=[0, right], nice=False),
              axis=alt.Axis(tickCount=STEP_TICKS))
    return themed(_w2_lines(df, x, "step", names, colors, floor, floor_sem).properties(title=title))


def nfe_chart(df: pd.DataFrame, names: Sequence[str], colors: Sequence[str] | None = None,
              floor: float | None = None, floor_sem: float = 0.0, title: str = "") -> alt.LayerChart:
    """W2 against sampling steps (columns run, nfe, w2, sem; NFE = steps for a consistency model), log x."""
    top = float(df["nfe"].max())
    x = alt.X("nfe:Q", title="sampling steps = network evaluations (NFE, log)",
              scale=alt.Scale(type="log", domain=[0.9, top * 1.15], nice=False),
              axis=alt.Axis(values=sorted(df["nfe"].unique().tolist()), format="d"))
    return themed(_w2_lines(df, x, "nfe", names, colors, floor, floor_sem).properties(title=title))
