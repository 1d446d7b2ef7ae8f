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

from viz.charts import square, DOMAIN, PALETTE, TRAJECTORY_COLOR, themed, chart_data, xy_channels

LAB_SIZE = 330  # px, square plot area: with axis labels it fits a 420 px screen (~388 px of content)
SECOND_REAL = "#bfdbfe"  # a second, independent real sample (light blue: real data, another draw)
COST = "#f472b6"  # a distance being paid for: a long matched line (W2), the loss gap (distillation) (pink)
LONG_LINE = COST  # a matched line longer than the floor's long-line threshold
TARGET = "#ddd6fe"  # the target network f_theta^- (light violet: the consistency model's slow EMA copy)
LINE = PALETTE["arrow"]  # a matched pair
NOISY = TRAJECTORY_COLOR  # x_t, the noised input of a network (slate, as the trajectories not chosen)
# Which colour draws each W2 sampler (keys of cmcore.lab.W2_SAMPLERS).
SAMPLER_COLORS = {"teacher_1": PALETTE["teacher_one"], "teacher_50": PALETTE["teacher"],
                  "cm_1": PALETTE["consistency"], "floor": SECOND_REAL}
REAL_LABEL = "real sample"


def legend_scale(items: Sequence[tuple[str, str]]) -> alt.Scale:
    return alt.Scale(domain=[k for k, _ in items], range=[c for _, c in items])


# --- What f_theta does at each t ---------------------------------------------------------------------

T_PARAM = "t_frame"  # the Vega-Lite parameter the t slider drives (no server round trip)
JUMPS_PARAM = "jump_lines"  # which jumps are drawn as lines from x_t
CM_JUMP, TEACHER_JUMP, ENDPOINT, X_T = ("consistency f_θ(x_t, t)", "teacher x_t − t·v(x_t, t)",
                                        "ODE endpoint (200 steps)", "x_t (noised data)")
JUMP_CHOICES = ("consistency model", "teacher x₀", "both", "none")


def jump_frames_chart(frames: pd.DataFrame, curve: pd.DataFrame, t_start: float, size: int = LAB_SIZE - 20):
    """Every frame of a cloud x_t and its jumps in one spec; a slider bound to ``T_PARAM`` picks the frame.

    ``frames``: one row per (t, point) with columns t, xt_x, xt_y, cm_x, cm_y, tx_x, tx_y, end_x, end_y.
    ``curve``: one row per (t, series) with columns t, series (CM_JUMP / TEACHER_JUMP), error.
    Below the plane, the mean distance of each jump to the endpoint against t, with a rule at the slider's t.
    """
    ts = np.sort(frames["t"].unique())
    step = float(np.diff(ts).min()) if len(ts) > 1 else 1.0
    t_param = alt.param(name=T_PARAM, value=float(t_start),
                        bind=alt.binding_range(min=float(ts[0]), max=float(ts[-1]), step=round(step, 6), name="t  "))
    jumps = alt.param(name=JUMPS_PARAM, value=JUMP_CHOICES[0],
                      bind=alt.binding_radio(options=list(JUMP_CHOICES), name="lines from x_t to  "))
    in_frame = f"abs(datum.t - {T_PARAM}) < {step / 2}"
    scale = legend_scale([(X_T, NOISY), (TEACHER_JUMP, PALETTE["teacher_one"]), (CM_JUMP, PALETTE["consistency"]),
                           (ENDPOINT, PALETTE["endpoint"])])
    color = alt.Color("series:N", scale=scale, title=None, legend=alt.Legend(columns=2, labelLimit=160))
    base = alt.Chart().transform_filter(in_frame)

    def cloud(prefix: str, series: str, **mark) -> alt.Chart:
        ex, ey = xy_channels(x=f"{prefix}_x", y=f"{prefix}_y", titles=False)
        return (base.transform_calculate(series=f"'{series}'").mark_circle(**mark)
                .encode(ex, ey, color, tooltip=[alt.Tooltip("t:Q", format=".2f"), alt.Tooltip("point:Q")]))

    def lines(prefix: str, choice: str, hue: str) -> alt.Chart:
        ex, ey = xy_channels(x="xt_x", y="xt_y", titles=False)
        return (base.transform_filter(f"{JUMPS_PARAM} == '{choice}' || {JUMPS_PARAM} == 'both'")
                .mark_rule(color=hue, opacity=0.35, strokeWidth=1)
                .encode(ex, ey, alt.X2(f"{prefix}_x:Q"), alt.Y2(f"{prefix}_y:Q")))

    plane = alt.layer(
        lines("tx", "teacher x₀", PALETTE["teacher_one"]), lines("cm", "consistency model", PALETTE["consistency"]),
        cloud("xt", X_T, size=14, opacity=0.6), cloud("end", ENDPOINT, size=30, opacity=0.9),
        cloud("tx", TEACHER_JUMP, size=18, opacity=0.85), cloud("cm", CM_JUMP, size=18, opacity=0.95),
        data=chart_data(frames.round(4)), width=size, height=size,
        title=alt.TitleParams("Where each x_t is sent", subtitle="drag t below the chart: no reload"))
    curve_color = alt.Color("series:N", scale=scale, title=None, legend=None)
    xs = alt.X("t:Q", title="t", scale=alt.Scale(domain=[0, 1]))
    ys = alt.Y("error:Q", title="error (mean)")
    here = alt.Chart().transform_filter(in_frame)
    errors = alt.layer(
        alt.Chart().mark_line(strokeWidth=2).encode(xs, ys, curve_color),
        here.mark_point(filled=True, size=60).encode(xs, ys, curve_color,
                                                     tooltip=["series:N", alt.Tooltip("t:Q", format=".2f"),
                                                              alt.Tooltip("error:Q", format=".3f")]),
        data=chart_data(curve.round(5)), width=size, height=130)
    return square(alt.vconcat(frame_readout(curve, in_frame, scale, size), plane, errors, spacing=12)
                   .add_params(t_param, jumps))


READOUT_ROW = 18  # px per line of the readout: one line per series, so two values never overlap


def frame_readout(curve: pd.DataFrame, in_frame: str, scale: alt.Scale, size: int) -> alt.Chart:
    """The numbers of the frame the slider shows, one line per jump, above the plane: they follow the slider
    in the browser (a value written beside its point on the curve would overlap the other where they cross)."""
    order = [CM_JUMP, TEACHER_JUMP]
    return (alt.Chart(chart_data(curve.round(5))).transform_filter(in_frame)
            .transform_calculate(label=f"'t = ' + format(datum.t, '.2f') + ': mean error ' + format(datum.error, '.3f')"
                                       f" + (datum.series == '{CM_JUMP}' ? ' (consistency model)' : ' (teacher jump)')")
            .mark_text(align="left", baseline="middle", fontSize=13, x=2)
            .encode(alt.Y("series:N", sort=order, axis=None, scale=alt.Scale(domain=order)),
                    alt.Color("series:N", scale=scale, legend=None), alt.Text("label:N"))
            .properties(width=size, height=READOUT_ROW * len(order), view=alt.ViewBackground(stroke=None)))


# --- Anatomy of one distillation step ------------------------------------------------------------------

def _window(dx: Sequence[float], dy: Sequence[float], x: str = "x", y: str = "y") -> tuple[alt.X, alt.Y]:
    """Position channels on a zoomed window that clip (not clamp) what lies outside: a path leaving the window
    is cut at its edge instead of being bent along it."""
    return (alt.X(f"{x}:Q", title=None, scale=alt.Scale(domain=list(dx), nice=False)),
            alt.Y(f"{y}:Q", title=None, scale=alt.Scale(domain=list(dy), nice=False)))


def _points(rows: list[tuple[str, np.ndarray]]) -> pd.DataFrame:
    return pd.DataFrame([{"series": name, "x": float(p[0]), "y": float(p[1])} for name, p in rows])


def _segments(rows: list[tuple[str, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    df = pd.DataFrame([{"segment": name, "x": float(a[0]), "y": float(a[1]), "x2": float(b[0]), "y2": float(b[1])}
                       for name, a, b in rows])
    df["angle"] = (90 - np.degrees(np.arctan2(df["y2"] - df["y"], df["x2"] - df["x"]))) % 360
    return df


def anatomy_plane(real: np.ndarray, marks: list[tuple[str, str, np.ndarray, str]],
                  arrows: list[tuple[str, str, int, int]],
                  domain: tuple[Sequence[float], Sequence[float]] | None = None, title: str = "", subtitle: str = "",
                  trails: list[tuple[str, np.ndarray]] = (), size: int = LAB_SIZE) -> alt.LayerChart:
    """One step of the loss on the plane: named points, arrows between them, a symbol beside each.

    ``marks``: (label, colour, point [2], symbol); the label (a formula) is the legend entry, the symbol (may be
    "") is written beside the point.  ``arrows``: (colour, "solid"/"dashed"/"dotted", from index, to index).
    ``trails``: (colour, points [S, 2]) paths through successive checkpoints.  ``real``: faint data behind.
    ``domain``: (x range, y range), square; default the shared DOMAIN.
    """
    dx, dy = domain if domain is not None else (DOMAIN, DOMAIN)
    ex, ey = _window(dx, dy)
    dashes = {"solid": [1, 0], "dashed": [5, 3], "dotted": [1, 3]}
    scale = legend_scale([(label, color) for label, color, _, _ in marks])
    color = alt.Color("series:N", scale=scale, title=None, legend=alt.Legend(columns=1, labelLimit=size))
    layers = []
    real = np.asarray(real).reshape(-1, 2)
    inside = ((real[:, 0] >= dx[0]) & (real[:, 0] <= dx[1]) & (real[:, 1] >= dy[0]) & (real[:, 1] <= dy[1]))
    if inside.any():  # only the data inside the window: less to ship
        layers.append(alt.Chart(chart_data(pd.DataFrame({"x": real[inside, 0], "y": real[inside, 1]}).round(4)))
                      .mark_circle(size=7, opacity=0.25, color=PALETTE["real"], clip=True).encode(ex, ey))
    for hue, path in trails:
        df = pd.DataFrame({"x": path[:, 0], "y": path[:, 1], "order": np.arange(len(path))})
        layers.append(alt.Chart(chart_data(df.round(5))).mark_line(color=hue, opacity=0.55, strokeWidth=1.2, clip=True,
                                                              point=alt.OverlayMarkDef(size=12, color=hue))
                      .encode(ex, ey, alt.Order("order:Q")))
    for hue, dash, a, b in arrows:
        seg = chart_data(_segments([("", marks[a][2], marks[b][2])]).round(5))
        layers.append(alt.Chart(seg)
                      .mark_rule(color=hue, strokeWidth=2, strokeDash=dashes[dash], opacity=0.9, clip=True)
                      .encode(ex, ey, alt.X2("x2:Q"), alt.Y2("y2:Q")))
        hx, hy = _window(dx, dy, x="x2", y="y2")
        layers.append(alt.Chart(seg).mark_point(shape="triangle-up", filled=True, size=55, color=hue, clip=True)
                      .encode(hx, hy, angle=alt.Angle("angle:Q", scale=None)))
    pts = _points([(label, p) for label, _, p, _ in marks])
    layers.append(alt.Chart(chart_data(pts.round(5))).mark_point(filled=True, size=95, opacity=1, stroke="#0e1117",
                                                             strokeWidth=0.8, clip=True)
                  .encode(ex, ey, color, tooltip=["series:N", alt.Tooltip("x:Q", format=".4f"),
                                                 alt.Tooltip("y:Q", format=".4f")]))
    text = pd.DataFrame([{"series": label, "symbol": sym, "x": float(p[0]), "y": float(p[1])}
                         for label, _, p, sym in marks if sym])
    if len(text):  # symbols sit inside the window: left of points in its right half, right of the others
        mid = (dx[0] + dx[1]) / 2
        text["dx"] = np.where(text["x"] > mid, -9, 9)
        text["dy"] = -9 + 18 * (np.arange(len(text)) % 2)  # alternate above/below: neighbours do not overprint
        text["align"] = np.where(text["x"] > mid, "right", "left")
        for align in ("left", "right"):
            part = text[text["align"] == align]
            if len(part):
                layers.append(alt.Chart(chart_data(part.round(5))).mark_text(align=align, fontSize=12, fontWeight="bold")
                              .encode(ex, ey, alt.Text("symbol:N"), alt.Color("series:N", scale=scale, legend=None),
                                      xOffset=alt.XOffset("dx:Q", scale=None),
                                      yOffset=alt.YOffset("dy:Q", scale=None)))
    return square(alt.layer(*layers, width=size, height=size, title=alt.TitleParams(title, subtitle=subtitle or " ")))


def lines_against(df: pd.DataFrame, x: str, x_title: str, y_title: str, current: float, colors: dict[str, str],
                  dashed: Sequence[str] = (), x_domain: Sequence[float] | None = None) -> alt.LayerChart:
    """Values against ``x`` on a log y axis, one line per series, a dotted rule at ``x = current``.

    ``df``: columns ``x``, series, value; ``colors``: series -> colour, in legend order; ``dashed``: series
    drawn dashed.  Full width; the height is the plot's, with the legend below.
    """
    scale = legend_scale(list(colors.items()))
    dash = alt.Scale(domain=list(colors), range=[[5, 3] if s in dashed else [1, 0] for s in colors])
    base = alt.Chart(chart_data(df.assign(value=df["value"].clip(lower=1e-5)).round(6))).encode(
        alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(domain=list(x_domain)) if x_domain else alt.Undefined),
        alt.Y("value:Q", title=y_title, scale=alt.Scale(type="log")),
        alt.Color("series:N", scale=scale, title=None, legend=alt.Legend(columns=1, labelLimit=300)),
        alt.StrokeDash("series:N", scale=dash, legend=None),
        tooltip=["series:N", alt.Tooltip(f"{x}:Q"), alt.Tooltip("value:Q", format=".4f")])
    rule = (alt.Chart(chart_data(pd.DataFrame({x: [current]})))
            .mark_rule(color=PALETTE["arrow"], strokeDash=[2, 3], opacity=0.7).encode(alt.X(f"{x}:Q")))
    chart = alt.layer(base.mark_line(strokeWidth=2), base.mark_point(filled=True, size=26), rule, height=200,
                      width="container")
    chart.autosize = alt.AutoSizeParams(type="fit-x", contains="padding")  # the height is the plot's, legend below
    return themed(chart)


def anatomy_gaps(df: pd.DataFrame, current: int, colors: dict[str, str], dashed: Sequence[str] = ()) -> alt.LayerChart:
    """Distances (``df``: step, series, value) against the training step, a rule at the checkpoint shown."""
    return lines_against(df, "step", "training step", "distance (log)", current, colors, dashed)


# --- Where is the model consistent? --------------------------------------------------------------------

HOVER = "hover_cell"  # the point selection that follows the pointer over the map (field "cell")
ERROR_SCHEME = "viridis"  # consistency error, low (dark) to high (yellow), log scale
ERROR_FLOOR = 1e-3  # errors are drawn clipped below this (log colour scale)


def consistency_heatmap(cells: pd.DataFrame, paths: pd.DataFrame, noised: np.ndarray, error_max: float,
                        title: str, subtitle: str, size: int = LAB_SIZE) -> alt.LayerChart:
    """|f(x_t, t) − ODE endpoint| over a grid of x_t, with the ODE path and the jump of the cell under the pointer.

    ``cells``: one row per cell with cell, x0, x1, y0, y1 (bounds), x, y (centre), jx, jy (the jump f(x_t, t)),
    ex, ey (the ODE endpoint), error.  ``paths``: cell, order, x, y (each cell's ODE path from x_t to its end).
    ``noised``: data noised to t, drawn as white dots.  Colour: log error on [ERROR_FLOOR, error_max].
    """
    hover = alt.selection_point(name=HOVER, fields=["cell"], on="pointerover", clear="pointerout", empty=False,
                                nearest=False)
    ex, ey = xy_channels(titles=False)
    cells = cells.assign(error=cells["error"].clip(lower=ERROR_FLOOR))
    src = chart_data(cells.round(5))
    bx, by = xy_channels(x="x0", y="y0", titles=False)
    top = max(error_max, 2 * ERROR_FLOOR)
    errors = alt.Scale(type="log", scheme=ERROR_SCHEME, domain=[ERROR_FLOOR, top], clamp=True)
    heat = (alt.Chart(src).mark_rect(stroke=None).encode(
        bx, alt.X2("x1:Q"), by, alt.Y2("y1:Q"),
        alt.Color("error:Q", title="|f − ODE end|", scale=errors,
                  legend=alt.Legend(orient="bottom", gradientLength=size - 60, format=".3~f")),
        tooltip=[alt.Tooltip("error:Q", format=".4f", title="consistency error"), alt.Tooltip("x:Q", format=".2f"),
                 alt.Tooltip("y:Q", format=".2f")]).add_params(hover))
    dots = (alt.Chart(chart_data(pd.DataFrame({"x": noised[:, 0], "y": noised[:, 1]}).round(4)))
            .mark_circle(size=6, color="#ffffff", opacity=0.45).encode(ex, ey))
    chosen = alt.Chart(src).transform_filter(hover)
    path = alt.Chart(chart_data(paths.round(4))).transform_filter(hover).encode(ex, ey, alt.Order("order:Q"))
    halo = path.mark_line(color="#0e1117", strokeWidth=5.5, opacity=0.8)  # keeps the green path visible on the map
    jx, jy = xy_channels(x="jx", y="jy", titles=False)
    nx, ny = xy_channels(x="ex", y="ey", titles=False)
    layers = [heat, dots, halo, path.mark_line(color=PALETTE["teacher"], strokeWidth=2.5),
              chosen.mark_rule(color=PALETTE["consistency"], strokeWidth=2.5, strokeDash=[5, 3])
              .encode(ex, ey, alt.X2("jx:Q"), alt.Y2("jy:Q")),
              chosen.mark_circle(size=70, color="#ffffff").encode(ex, ey),
              chosen.mark_point(shape="cross", filled=True, size=140, color=PALETTE["endpoint"]).encode(nx, ny),
              chosen.mark_circle(size=80, color=PALETTE["consistency"], stroke="#ffffff", strokeWidth=1).encode(jx, jy)]
    return square(alt.layer(*layers, width=size, height=size, title=alt.TitleParams(title, subtitle=subtitle)))


def consistency_curve(df: pd.DataFrame, t_now: float, colors: dict[str, str], dashed: Sequence[str] = ()):
    """Mean consistency error (``df``: t, series, value) against t, a rule at the map's t."""
    return lines_against(df, "t", "t", "mean |f − ODE end| (log)", t_now, colors, dashed, (0, 1))
