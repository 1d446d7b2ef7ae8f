"""Page 4's sampler experiments as a chart: W2 (mean ± standard error) per step count, one colour per variant."""
from __future__ import annotations

from typing import Sequence

import altair as alt
import pandas as pd

from viz.charts import PALETTE, themed, chart_data

VARIANT_COLORS = (PALETTE["consistency"], PALETTE["teacher_one"], PALETTE["heun"])  # the lesson's sampler first
CHART_HEIGHT = 340  # px, the legend below and the axes included (Streamlit fits the whole chart): ~220 px of plot


def variants_chart(df: pd.DataFrame, order: Sequence[str], floor: float | None = None,
                   floor_sem: float = 0.0) -> alt.Chart:
    """``df``: columns k (steps), variant (a label of ``order``), w2, sem.  Variants side by side per K."""
    df = df.assign(lo=df["w2"] - df["sem"], hi=df["w2"] + df["sem"])
    colors = alt.Scale(domain=list(order), range=list(VARIANT_COLORS[:len(order)]))
    x = alt.X("k:O", title="consistency steps K", axis=alt.Axis(labelAngle=0))
    off = alt.XOffset("variant:N", sort=list(order))
    color = alt.Color("variant:N", scale=colors, sort=list(order), title=None,
                      legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=360))
    base = alt.Chart(chart_data(df))
    lows = [float(df["lo"].min())] + ([floor] if floor is not None else [])
    y_scale = alt.Scale(domain=[max(0.0, min(lows) * 0.85), float(df["hi"].max()) * 1.1], nice=False, zero=False)
    points = base.mark_point(filled=True, size=70).encode(
        x, off, alt.Y("w2:Q", title="W2 to real data (lower is better)", scale=y_scale), color,
        tooltip=[alt.Tooltip("variant:N"), alt.Tooltip("k:O", title="K"),
                 alt.Tooltip("w2:Q", format=".3f", title="W2 (mean)"),
                 alt.Tooltip("sem:Q", format=".3f", title="± standard error")])
    bars = base.mark_rule(strokeWidth=2).encode(x, off, alt.Y("lo:Q", scale=y_scale), alt.Y2("hi:Q"), color)
    layers = [bars, points]
    if floor is not None:
        fl = chart_data(pd.DataFrame({"w2": [floor], "label": [f"floor: two real samples, {floor:.3f} ± {floor_sem:.3f}"]}))
        layers.append(alt.Chart(fl).mark_rule(color=PALETTE["real"], strokeDash=[4, 4]).encode(y=alt.Y("w2:Q",
                                                                                                    scale=y_scale)))
        layers.append(alt.Chart(fl).mark_text(color=PALETTE["real"], align="left", x=4, dy=-8, fontSize=11)
                      .encode(y=alt.Y("w2:Q", scale=y_scale), text="label:N"))
    return themed(alt.layer(*layers, height=CHART_HEIGHT, width="container"))
