"""Charts of *The lesson, checked*: the collapse grid (μ against how the network starts) as coloured cells."""
from __future__ import annotations

import altair as alt
import pandas as pd

from viz.charts import PALETTE, themed, chart_data

CELL_W, CELL_H = 88, 64  # px per cell: 3 columns and the row titles fit a 420 px phone
COLLAPSED_COLOR, HEALTHY_COLOR = PALETTE["endpoint"], PALETTE["teacher"]


def collapse_grid(df: pd.DataFrame) -> alt.LayerChart:
    """One cell per run (columns ``mu``, ``start``, ``collapsed`` (bool), ``label``: two text lines joined by
    "\\n"), red where the run collapsed, green where it did not."""
    df = df.assign(state=df["collapsed"].map({True: "collapsed", False: "did not collapse"}),
                   line1=df["label"].str.split("\n").str[0], line2=df["label"].str.split("\n").str[1])
    mus = [str(m) for m in sorted(df["mu"].unique())]
    base = alt.Chart(chart_data(df.assign(mu=df["mu"].map(str)))).encode(
        alt.X("mu:N", title="EMA μ of the target", sort=mus, axis=alt.Axis(labelAngle=0, orient="top")),
        alt.Y("start:N", title="network starts as", axis=alt.Axis(labelLimit=80)))
    cells = base.mark_rect(stroke="#0e1117", strokeWidth=3, opacity=0.85).encode(
        alt.Color("state:N", scale=alt.Scale(domain=["collapsed", "did not collapse"],
                                             range=[COLLAPSED_COLOR, HEALTHY_COLOR]),
                  legend=alt.Legend(title=None, orient="bottom")),
        tooltip=[alt.Tooltip("state:N", title="run"), alt.Tooltip("line1:N", title="W2, 1 step"),
                 alt.Tooltip("line2:N", title="spread")])
    top = base.mark_text(dy=-8, fontSize=10, color="#111827").encode(text="line1:N")
    bottom = base.mark_text(dy=8, fontSize=10, color="#111827").encode(text="line2:N")
    chart = alt.layer(cells, top, bottom).properties(width=CELL_W * len(mus), height=CELL_H * df["start"].nunique())
    chart.autosize = alt.AutoSizeParams(type="pad", contains="padding")
    return themed(chart)

