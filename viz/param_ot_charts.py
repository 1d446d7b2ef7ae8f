"""Altair builders for the lab pages (no Streamlit, no torch), on ``viz.charts``' palette and theme.

Colour keeps its meaning across the app (``charts.PALETTE``): consistency models are violet,
teachers green, real data (and the floor it sets) blue.  Where two variants of one role share a
chart they differ by dash or shape, and a legend says which is which.  Every chart here is
``width="container"``, so it fits a 420 px phone screen.
"""
from __future__ import annotations

from typing import Sequence

import altair as alt
import pandas as pd

from viz.charts import XY_TOOLTIP, PALETTE, TRAJECTORY_COLOR, themed, chart_data, xy_channels, scatter_panels

HEIGHT = 330  # whole chart (Streamlit fits legend and axes inside): about 230 px of plot
LEGEND = alt.Legend(orient="top", direction="vertical", title=None)  # above the plot: the height stays the plot's
DASHES = [[1, 0], [6, 4], [2, 3], [8, 3, 2, 3], [1, 5]]  # solid first: the reference variant


def _dash_scale(domain: Sequence[str]) -> alt.Scale:
    return alt.Scale(domain=list(domain), range=DASHES[:len(domain)])


def coefficient_chart(df: pd.DataFrame, coefficient: str, forms: Sequence[str]) -> alt.Chart:
    """One coefficient (``c_skip`` or ``c_out``) against t, one line per form (columns t, form, value).

    Both forms belong to a consistency model, so both are violet; the first form is solid, the rest dashed.
    """
    data = df[df["coefficient"] == coefficient]
    chart = (alt.Chart(chart_data(data), height=HEIGHT, width="container")
             .mark_line(color=PALETTE["consistency"], strokeWidth=2.2)
             .encode(alt.X("t:Q", title="t (0 = data, 1 = noise)", scale=alt.Scale(domain=[0, 1])),
                     alt.Y("value:Q", title=coefficient, scale=alt.Scale(domain=[0, 1.05])),
                     alt.StrokeDash("form:N", scale=_dash_scale(forms), title=None,
                                    legend=LEGEND),
                     tooltip=["form:N", alt.Tooltip("t:Q", format=".3f"), alt.Tooltip("value:Q", format=".3f")]))
    return themed(chart)


def score_bars(df: pd.DataFrame, floor: float, floor_sem: float, chosen: str | None = None) -> alt.Chart:
    """W2 mean ± sem per variant as a dot with an error bar (columns variant, w2, sem); the floor as a blue band.

    The chosen variant is drawn larger.  Horizontal layout: long variant names stay readable on a phone.
    """
    data = df.assign(lo=df["w2"] - df["sem"], hi=df["w2"] + df["sem"],
                     size=[160 if v == chosen else 70 for v in df["variant"]])
    order = list(df["variant"])
    y = alt.Y("variant:N", sort=order, title=None, axis=alt.Axis(labelLimit=170))
    lo = min(float(data["lo"].min()), floor - floor_sem) * 0.9
    x_scale = alt.Scale(domain=[max(lo, 0), float(data["hi"].max()) * 1.08], nice=False, zero=False)
    base = alt.Chart(chart_data(data))
    bars = base.mark_rule(color=PALETTE["consistency"], strokeWidth=2).encode(
        alt.X("lo:Q", title="one-step W2 (lower is better)", scale=x_scale), alt.X2("hi:Q"), y)
    dots = base.mark_circle(color=PALETTE["consistency"], opacity=1).encode(
        alt.X("w2:Q", scale=x_scale), y, alt.Size("size:Q", scale=None),
        tooltip=["variant:N", alt.Tooltip("w2:Q", format=".3f", title="W2"), alt.Tooltip("sem:Q", format=".3f")])
    fl = chart_data(pd.DataFrame({"lo": [floor - floor_sem], "hi": [floor + floor_sem], "w2": [floor],
                              "label": [f"floor {floor:.3f}"]}))
    band = alt.Chart(fl).mark_rect(color=PALETTE["real"], opacity=0.25).encode(
        alt.X("lo:Q", scale=x_scale), alt.X2("hi:Q"))
    rule = alt.Chart(fl).mark_rule(color=PALETTE["real"], strokeDash=[4, 4]).encode(
        alt.X("w2:Q", scale=x_scale), tooltip=[alt.Tooltip("label:N", title="two real samples")])
    return themed(alt.layer(band, rule, bars, dots, height=60 + 36 * len(order), width="container"))


def variant_curves(df: pd.DataFrame, y: str, y_title: str, variants: Sequence[str], log: bool = False,
                   floor: float | None = None) -> alt.Chart:
    """``y`` against training step, one violet line per variant told apart by dash (columns step, variant, y)."""
    scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
    base = alt.Chart(chart_data(df)).encode(
        alt.X("step:Q", title="training step"), alt.Y(f"{y}:Q", title=y_title, scale=scale),
        alt.StrokeDash("variant:N", scale=_dash_scale(variants), title=None,
                       legend=LEGEND),
        alt.Detail("line:N"),
        tooltip=["variant:N", "step:Q", alt.Tooltip(f"{y}:Q", format=".4f")])
    layers = [base.mark_line(color=PALETTE["consistency"], strokeWidth=1.6, opacity=0.85)]
    if floor is not None:
        fl = chart_data(pd.DataFrame({y: [floor], "label": [f"floor {floor:.3f}"]}))
        layers.append(alt.Chart(fl).mark_rule(color=PALETTE["real"], strokeDash=[4, 4]).encode(
            alt.Y(f"{y}:Q"), tooltip=[alt.Tooltip("label:N", title="two real samples")]))
    return themed(alt.layer(*layers, height=HEIGHT, width="container"))


TRAJ_SIZE = 300  # px, square: fits a 420 px screen; two side by side on a wide one


def trajectory_chart(df: pd.DataFrame, title: str, subtitle: str = "", size: int = TRAJ_SIZE) -> alt.LayerChart:
    """ODE paths from noise (grey circle) to data (green diamond) on the shared square domain.

    ``df`` is ``charts.trajectory_frame`` output (traj, order, t, x, y), ordered from t = 1 to t = 0.
    """
    ex, ey = xy_channels(titles=False)
    ends = df.sort_values("order").groupby("traj")
    starts, finals = chart_data(ends.head(1)), chart_data(ends.tail(1))
    tips = [alt.Tooltip("traj:N", title="path"), alt.Tooltip("t:Q", format=".2f"), *XY_TOOLTIP]
    layers = [
        alt.Chart(chart_data(df)).mark_line(color=TRAJECTORY_COLOR, strokeWidth=1.3, opacity=0.75, clip=True)
        .encode(ex, ey, alt.Detail("traj:N"), alt.Order("order:Q"), tooltip=tips),
        alt.Chart(starts).mark_circle(color=TRAJECTORY_COLOR, size=28, opacity=0.9, clip=True).encode(ex, ey),
        alt.Chart(finals).mark_point(shape="diamond", filled=True, color=PALETTE["teacher"], size=45, clip=True)
        .encode(ex, ey, tooltip=tips),
    ]
    return themed(alt.layer(*layers, width=size, height=size, title=alt.TitleParams(title, subtitle=subtitle or " ")))


ROLE_COLORS = {"teacher (Euler ODE)": PALETTE["teacher"], "consistency model": PALETTE["consistency"]}


def coupling_w2_chart(df: pd.DataFrame, floor: float, floor_sem: float, couplings: Sequence[str]) -> alt.LayerChart:
    """W2 ± sem against NFE (log-log): colour is the model's role (teacher green, consistency violet), dash the
    teacher's coupling; the floor (two real samples) is a blue band.  Columns: role, coupling, nfe, w2, sem."""
    data = df.assign(lo=df["w2"] - df["sem"], hi=df["w2"] + df["sem"], series=df["role"] + ", " + df["coupling"])
    y_scale = alt.Scale(type="log", domain=[min(floor - floor_sem, float(data["lo"].min())) * 0.85,
                                            float(data["hi"].max()) * 1.2], nice=False)
    x_scale = alt.Scale(type="log", domain=[0.85, float(data["nfe"].max()) * 1.2], nice=False)
    color = alt.Color("role:N", scale=alt.Scale(domain=list(ROLE_COLORS), range=list(ROLE_COLORS.values())),
                      legend=alt.Legend(orient="top", direction="vertical", title=None))
    dash = alt.StrokeDash("coupling:N", scale=_dash_scale(couplings), legend=LEGEND)
    base = alt.Chart(chart_data(data)).encode(
        alt.X("nfe:Q", title="network evaluations (NFE, log)", scale=x_scale),
        alt.Y("w2:Q", title="W2 to real data (log, lower is better)", scale=y_scale), color, alt.Detail("series:N"))
    tips = ["role:N", "coupling:N", "nfe:Q", alt.Tooltip("w2:Q", format=".3f", title="W2"),
            alt.Tooltip("sem:Q", format=".3f", title="± sem")]
    fl = chart_data(pd.DataFrame({"lo": [floor - floor_sem], "hi": [floor + floor_sem], "w2": [floor],
                              "label": [f"floor {floor:.3f}: two real samples"]}))
    layers = [
        alt.Chart(fl).mark_rect(color=PALETTE["real"], opacity=0.25).encode(alt.Y("lo:Q", scale=y_scale),
                                                                            alt.Y2("hi:Q")),
        alt.Chart(fl).mark_rule(color=PALETTE["real"], strokeDash=[4, 4]).encode(
            alt.Y("w2:Q", scale=y_scale), tooltip=[alt.Tooltip("label:N", title="floor")]),
        base.mark_line(strokeWidth=2).encode(dash),
        base.mark_rule(strokeWidth=1.5).encode(alt.Y("lo:Q", scale=y_scale), alt.Y2("hi:Q")),
        base.mark_point(filled=True, size=45).encode(alt.Shape("coupling:N", legend=None), tooltip=tips),
    ]
    return themed(alt.layer(*layers, height=HEIGHT + 40, width="container"))


def scatter(panel, size: int = 200) -> alt.Chart:
    """One ``charts.Panel`` as its own square chart (several of them wrap on a narrow screen)."""
    return scatter_panels([panel], columns=1, size=size)
