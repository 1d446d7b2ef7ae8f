"""Altair chart builders shared by every page: one palette, one domain, one size.

Every builder takes plain numpy/pandas data and returns an ``alt.Chart`` (or a
layer/concat of charts); nothing here imports Streamlit.  All point clouds are
drawn on the same fixed square domain (``DOMAIN``) with equal width and height,
so two panels anywhere in the app can be compared by eye.  Large inputs are
thinned deterministically to ``MAX_POINTS_PER_PANEL`` rows per panel, and the
5,000-row guard of Altair is switched off for the few combined charts that
legitimately exceed it (several panels of 2,000 points).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd

# Combined charts (a grid of panels) may exceed 5,000 rows; each panel is capped instead.
alt.data_transformers.disable_max_rows()

DOMAIN = (-4.5, 4.5)  # both axes, every panel: panels stay comparable
MAX_POINTS_PER_PANEL = 2000  # thin larger clouds (speed of the browser, size of the page)
PANEL_SIZE = 200  # px, width == height: equal aspect on a square domain (4 panels fit a 1,000 px page)
POINT_SIZE = 9  # area of one sample dot
POINT_OPACITY = 0.55
GRID_COLOR = "#2a2f3d"
TEXT_COLOR = "#e5e7eb"
MUTED_TEXT = "#9ca3af"
FONT = "sans-serif"

# One colour per role, used by every page (dark-theme friendly, colour-blind aware).
PALETTE: dict[str, str] = {
    "real": "#60a5fa",  # real data (blue)
    "teacher": "#34d399",  # teacher, many ODE steps (green)
    "teacher_one": "#f59e0b",  # teacher, one step / x0 prediction (amber)
    "consistency": "#a78bfa",  # consistency model (violet)
    "ode_k": "#22d3ee",  # teacher, k ODE steps (cyan)
    "highlight": "#fbbf24",  # chosen points on a trajectory (yellow)
    "endpoint": "#f87171",  # true endpoint (red)
    "arrow": "#e5e7eb",  # arrows, jumps (light grey)
}
TRAJECTORY_COLOR = "#94a3b8"  # the trajectories not chosen (slate); the chosen one is PALETTE["ode_k"]

_AXIS = dict(gridColor=GRID_COLOR, domainColor=GRID_COLOR, tickColor=GRID_COLOR, labelColor=MUTED_TEXT,
             titleColor=MUTED_TEXT, labelFontSize=10, titleFontSize=11, titleFontWeight="normal")


def _style(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Transparent background, muted axes, titles in the theme's text colour."""
    return (chart.configure(background="transparent", font=FONT)
            .configure_view(stroke=GRID_COLOR, strokeWidth=1)
            .configure_axis(**_AXIS)
            .configure_title(color=TEXT_COLOR, subtitleColor=MUTED_TEXT, fontSize=13, subtitleFontSize=11,
                             fontWeight="normal", anchor="start")
            .configure_legend(labelColor=TEXT_COLOR, titleColor=MUTED_TEXT, orient="bottom", labelFontSize=11)
            .configure_header(labelColor=TEXT_COLOR, titleColor=MUTED_TEXT, labelFontSize=12))


def _x(title: str | None = "x₁") -> alt.X:
    return alt.X("x:Q", title=title, scale=alt.Scale(domain=list(DOMAIN), clamp=True, nice=False),
                 axis=alt.Axis(values=[-4, -2, 0, 2, 4]))


def _y(title: str | None = "x₂") -> alt.Y:
    return alt.Y("y:Q", title=title, scale=alt.Scale(domain=list(DOMAIN), clamp=True, nice=False),
                 axis=alt.Axis(values=[-4, -2, 0, 2, 4]))


_XY_TOOLTIP = [alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")]


def thin(points: np.ndarray, limit: int = MAX_POINTS_PER_PANEL) -> np.ndarray:
    """Deterministic thinning: every k-th point, so the same input draws the same picture."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(points) <= limit:
        return points
    idx = np.linspace(0, len(points) - 1, limit).round().astype(int)
    return points[idx]


def points_frame(points: np.ndarray, limit: int = MAX_POINTS_PER_PANEL, **columns) -> pd.DataFrame:
    pts = thin(points, limit)
    df = pd.DataFrame({"x": pts[:, 0], "y": pts[:, 1]})
    for name, value in columns.items():
        df[name] = value
    return df


# --- Small multiples of point clouds ---------------------------------------------

@dataclass(frozen=True)
class Panel:
    """One scatter panel: a title, its points [n, 2], a PALETTE key and an optional subtitle (e.g. 'W2 0.167')."""

    title: str
    points: np.ndarray
    color: str = "real"
    subtitle: str = ""


def _panel_chart(panel: Panel, size: int) -> alt.Chart:
    if panel.color not in PALETTE:
        raise ValueError(f"Unknown colour {panel.color!r}; use one of {', '.join(PALETTE)}.")
    df = points_frame(panel.points)
    title = alt.TitleParams(panel.title, subtitle=panel.subtitle or " ")
    return (alt.Chart(df, title=title, width=size, height=size)
            .mark_circle(size=POINT_SIZE, opacity=POINT_OPACITY, color=PALETTE[panel.color])
            .encode(_x(None), _y(None), tooltip=_XY_TOOLTIP))


def scatter_panels(panels: list[Panel], columns: int = 4, size: int = PANEL_SIZE) -> alt.Chart:
    """A row (wrapping after ``columns``) of equal-sized scatter panels on the shared domain."""
    if not panels:
        raise ValueError("scatter_panels needs at least one panel.")
    charts = [_panel_chart(p, size) for p in panels]
    if len(charts) == 1:
        return _style(charts[0])
    return _style(alt.concat(*charts, columns=columns, spacing=14))


def sample_grid(rows: Sequence[tuple[str, list[Panel]]], size: int = 145) -> alt.Chart:
    """A grid: one row per group (label, panels), all panels on the shared domain."""
    row_charts = []
    for label, panels in rows:
        if not panels:
            continue
        charts = [_panel_chart(p, size) for p in panels]
        row_charts.append(alt.hconcat(*charts, spacing=14, title=alt.TitleParams(label, fontSize=14,
                                                                                 color=TEXT_COLOR)))
    if not row_charts:
        raise ValueError("sample_grid needs at least one non-empty row.")
    return _style(alt.vconcat(*row_charts, spacing=22))


# --- Line charts -----------------------------------------------------------------

def loss_curve(df: pd.DataFrame, color: str = "consistency") -> alt.Chart:
    """Training loss against step on a log-scale y axis (columns ``step``, ``loss``)."""
    df = df[["step", "loss"]].copy()
    df = df[df["loss"] > 0]
    if len(df) > MAX_POINTS_PER_PANEL:  # keep the curve's shape: every k-th row
        df = df.iloc[np.linspace(0, len(df) - 1, MAX_POINTS_PER_PANEL).round().astype(int)]
    chart = (alt.Chart(df, height=260)
             .mark_line(color=PALETTE[color], strokeWidth=1.5, clip=True)
             .encode(alt.X("step:Q", title="training step"),
                     alt.Y("loss:Q", title="loss (log scale)", scale=alt.Scale(type="log")),
                     tooltip=[alt.Tooltip("step:Q"), alt.Tooltip("loss:Q", format=".3e")]))
    return _style(chart.properties(width="container"))


def error_vs_steps(df: pd.DataFrame, highlight_steps: int | None = None) -> alt.Chart:
    """Mean endpoint error against ODE steps, one line per solver (log-log).

    ``df`` has columns steps, nfe, solver, mean_error, max_error (``evaluate.endpoint_error_curve`` rows).
    """
    df = df.copy()
    df["mean_error"] = df["mean_error"].clip(lower=1e-6)
    colors = alt.Scale(domain=["euler", "heun"], range=[PALETTE["teacher_one"], PALETTE["ode_k"]])
    base = alt.Chart(df, height=300).encode(
        alt.X("steps:Q", title="ODE steps (log scale)", scale=alt.Scale(type="log")),
        alt.Y("mean_error:Q", title="mean endpoint error (log)", scale=alt.Scale(type="log")),
        alt.Color("solver:N", scale=colors, title="solver"),
        tooltip=["solver:N", "steps:Q", "nfe:Q", alt.Tooltip("mean_error:Q", format=".4f"),
                 alt.Tooltip("max_error:Q", format=".4f")])
    layers = [base.mark_line(strokeWidth=2), base.mark_point(filled=True, size=50)]
    if highlight_steps is not None:
        rule = pd.DataFrame({"steps": [highlight_steps], "label": [f"k = {highlight_steps}"]})
        layers.append(alt.Chart(rule).mark_rule(color=PALETTE["arrow"], strokeDash=[4, 4], opacity=0.6)
                      .encode(x="steps:Q"))
    return _style(alt.layer(*layers).properties(width="container"))


def w2_vs_nfe(df: pd.DataFrame, floor: float | None = None) -> alt.Chart:
    """W2 against network evaluations for the teacher and the consistency model.

    ``df`` has columns model ("teacher (Euler ODE)" / "consistency model"), nfe, w2.
    """
    domain = ["teacher (Euler ODE)", "consistency model"]
    colors = alt.Scale(domain=domain, range=[PALETTE["teacher"], PALETTE["consistency"]])
    lows = [df["w2"].min()] + ([floor] if floor is not None else [])
    y_domain = [float(min(lows)) * 0.8, float(df["w2"].max()) * 1.25]
    x_domain = [0.9, float(df["nfe"].max()) * 1.15]
    base = alt.Chart(df, height=300).encode(
        alt.X("nfe:Q", title="network evaluations (NFE, log scale)",
              scale=alt.Scale(type="log", domain=x_domain, nice=False)),
        alt.Y("w2:Q", title="W2 to real data (log, lower is better)",
              scale=alt.Scale(type="log", domain=y_domain, nice=False)),
        alt.Color("model:N", scale=colors, title=None),
        tooltip=["model:N", "nfe:Q", alt.Tooltip("w2:Q", format=".3f")])
    layers = [base.mark_line(strokeWidth=2), base.mark_point(filled=True, size=60)]
    if floor is not None:
        fl = pd.DataFrame({"w2": [floor], "nfe": [df["nfe"].max()],
                           "label": [f"floor: two real samples differ by {floor:.3f}"]})
        layers.append(alt.Chart(fl).mark_rule(color=PALETTE["real"], strokeDash=[4, 4]).encode(y="w2:Q"))
        layers.append(alt.Chart(fl).mark_text(color=PALETTE["real"], align="right", dy=-8, fontSize=11)
                      .encode(y="w2:Q", x="nfe:Q", text="label:N"))
    return _style(alt.layer(*layers).properties(width="container"))


# --- Trajectories and arrows -----------------------------------------------------------

TRAJ_SELECTION = "traj"  # name of the click selection on trajectory lines


def trajectory_frame(xs: np.ndarray, ts: np.ndarray, max_points_per_line: int = 120) -> pd.DataFrame:
    """[steps+1, n_traj, 2] -> long frame (traj, order, t, x, y), each line thinned to a fixed length."""
    xs = np.asarray(xs)
    n_t = xs.shape[0]
    idx = np.unique(np.linspace(0, n_t - 1, min(n_t, max_points_per_line)).round().astype(int))
    rows = []
    for j in range(xs.shape[1]):
        rows.append(pd.DataFrame({"traj": j, "order": np.arange(len(idx)), "t": np.asarray(ts)[idx],
                                  "x": xs[idx, j, 0], "y": xs[idx, j, 1]}))
    return pd.concat(rows, ignore_index=True)


def _xy(domain: Sequence[float], x: str = "x", y: str = "y", titles: bool = True) -> tuple[alt.X, alt.Y]:
    """Position channels on a given square domain (a zoom) with the shared axis styling."""
    scale = alt.Scale(domain=list(domain), clamp=True, nice=False)
    return (alt.X(f"{x}:Q", title="x₁" if titles else None, scale=scale),
            alt.Y(f"{y}:Q", title="x₂" if titles else None, scale=scale))


def zoom_domain(points: np.ndarray, pad: float = 0.12, min_span: float = 0.4) -> tuple[list[float], list[float]]:
    """A square window around ``points`` (same span on both axes, so the zoom keeps equal aspect)."""
    pts = np.asarray(points).reshape(-1, 2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = max(float((hi - lo).max()) * (1 + 2 * pad), min_span)
    mid = (lo + hi) / 2
    return [float(mid[0] - span / 2), float(mid[0] + span / 2)], [float(mid[1] - span / 2), float(mid[1] + span / 2)]


def _arrows(df: pd.DataFrame, color: str, opacity: float = 0.8, dash: list[int] | None = None,
            domain_x: Sequence[float] = DOMAIN, domain_y: Sequence[float] = DOMAIN) -> list[alt.Chart]:
    """Segments (x, y) -> (x2, y2) with a triangle head at the end pointing along the segment."""
    df = df.copy()
    df["angle"] = (90 - np.degrees(np.arctan2(df["y2"] - df["y"], df["x2"] - df["x"]))) % 360
    ex, ey = _xy(domain_x)[0], _xy(domain_y)[1]
    rule = (alt.Chart(df).mark_rule(color=PALETTE[color], opacity=opacity, strokeWidth=1.6, strokeDash=dash or [1, 0])
            .encode(ex, ey, x2="x2:Q", y2="y2:Q"))
    head = (alt.Chart(df).mark_point(shape="triangle-up", filled=True, size=60, color=PALETTE[color], opacity=opacity)
            .encode(_xy(domain_x, "x2")[0], _xy(domain_y, "x2", "y2")[1], angle=alt.Angle("angle:Q", scale=None)))
    return [rule, head]


def self_consistency_chart(xs: np.ndarray, ts: np.ndarray, chosen: int, points: np.ndarray, t_values: Sequence[float],
                           endpoints: np.ndarray, true_endpoint: np.ndarray, size: int = 420,
                           clickable: bool = True) -> alt.Chart:
    """Two panels: every teacher trajectory on the shared domain, and a zoom on the chosen one.

    Overview: trajectories (start circle, end diamond), the chosen one bright; with ``clickable`` a click on
    a line selects it (selection ``TRAJ_SELECTION``, field ``traj``).  Zoom: the chosen trajectory, the
    restart points (squares), dashed arrows to where each re-solve lands (green dots) and the true endpoint
    (red cross).  ``xs`` is [steps+1, n_traj, 2] from t=1 (noise) to t=0 (data).
    """
    lines = trajectory_frame(xs, ts)
    lines["chosen"] = lines["traj"] == chosen
    ends = pd.DataFrame({"traj": np.arange(xs.shape[1]), "x0": xs[0, :, 0], "y0": xs[0, :, 1],
                         "x": xs[-1, :, 0], "y": xs[-1, :, 1]})
    ends["chosen"] = ends["traj"] == chosen
    color = alt.condition("datum.chosen", alt.value(PALETTE["ode_k"]), alt.value(TRAJECTORY_COLOR))
    line_tooltip = [alt.Tooltip("traj:N", title="trajectory"), alt.Tooltip("t:Q", format=".3f"),
                    alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")]
    pts, landed = np.asarray(points), np.asarray(endpoints)
    arrows = pd.DataFrame({"x": pts[:, 0], "y": pts[:, 1], "x2": landed[:, 0], "y2": landed[:, 1],
                           "t": np.asarray(t_values, dtype=float)})
    arrows["label"] = arrows["t"].map(lambda t: f"t={t:.2f}")
    te = pd.DataFrame({"x": [float(true_endpoint[0])], "y": [float(true_endpoint[1])]})

    def trajectories(domain_x, domain_y, only_chosen: bool) -> list:
        df = lines[lines["chosen"]] if only_chosen else lines
        ex, ey = _xy(domain_x)[0], _xy(domain_y)[1]
        line = (alt.Chart(df).mark_line(clip=True)
                .encode(ex, ey, alt.Detail("traj:N"), color=color, order="order:Q", tooltip=line_tooltip,
                        strokeWidth=alt.condition("datum.chosen", alt.value(3.2), alt.value(1.6)),
                        opacity=alt.condition("datum.chosen", alt.value(1.0), alt.value(0.55))))
        e = ends[ends["chosen"]] if only_chosen else ends
        sx, sy = _xy(domain_x, "x0")[0], _xy(domain_y, "x0", "y0")[1]
        start = (alt.Chart(e).mark_circle(size=45, opacity=0.9, clip=True)
                 .encode(sx, sy, color=color, tooltip=[alt.Tooltip("traj:N", title="start (t = 1) of trajectory")]))
        end = (alt.Chart(e).mark_point(shape="diamond", filled=True, opacity=0.9, size=70, clip=True)
               .encode(ex, ey, color=color, tooltip=[alt.Tooltip("traj:N", title="end (t = 0) of trajectory"),
                                                     alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")]))
        return [line, start, end]

    def restarts(domain_x, domain_y, labelled: bool) -> list:
        ex, ey = _xy(domain_x)[0], _xy(domain_y)[1]
        tips = [alt.Tooltip("t:Q", format=".3f", title="restart t"), alt.Tooltip("x:Q", format=".4f"),
                alt.Tooltip("y:Q", format=".4f")]
        layers = [alt.Chart(arrows).mark_square(size=80, color=PALETTE["highlight"], stroke="white", strokeWidth=1)
                  .encode(ex, ey, tooltip=tips)]
        if labelled:
            layers[:0] = _arrows(arrows, "arrow", 0.6, [4, 3], domain_x, domain_y)
            layers.append(alt.Chart(te).mark_point(shape="cross", filled=True, size=320, color=PALETTE["endpoint"],
                                                   stroke="white", strokeWidth=0.8)
                          .encode(ex, ey, tooltip=[alt.Tooltip("x:Q", format=".4f", title="true endpoint x₁"),
                                                   alt.Tooltip("y:Q", format=".4f", title="true endpoint x₂")]))
            landed_df = arrows.rename(columns={"x": "px", "y": "py", "x2": "x", "y2": "y"})
            layers.append(alt.Chart(landed_df).mark_circle(size=70, color=PALETTE["teacher"], opacity=0.95)
                          .encode(ex, ey, tooltip=[alt.Tooltip("label:N", title="re-solved from"),
                                                   alt.Tooltip("x:Q", format=".4f"), alt.Tooltip("y:Q", format=".4f")]))
            layers.append(alt.Chart(arrows).mark_text(color=PALETTE["highlight"], align="left", dx=9, dy=-7, fontSize=11)
                          .encode(ex, ey, text="label:N"))
        return layers

    overview_layers = trajectories(DOMAIN, DOMAIN, False) + restarts(DOMAIN, DOMAIN, False)
    if clickable:
        overview_layers[0] = overview_layers[0].add_params(
            alt.selection_point(name=TRAJ_SELECTION, fields=["traj"], on="click", clear=False))
    overview = alt.layer(*overview_layers, title=alt.TitleParams(
        "All trajectories", subtitle="noise (circle) → data (diamond); click a line to choose it"))
    chosen_xy = np.concatenate([xs[:, chosen, :], landed, np.asarray(true_endpoint).reshape(1, 2)])
    zx, zy = zoom_domain(chosen_xy)
    zoom = alt.layer(*trajectories(zx, zy, True), *restarts(zx, zy, True), title=alt.TitleParams(
        f"Trajectory {chosen}, zoomed", subtitle="restart points (squares) → where each lands (green)"))
    return _style(alt.hconcat(overview.properties(width=size, height=size), zoom.properties(width=size, height=size),
                              spacing=30).resolve_scale(x="independent", y="independent"))


POINT_SCHEME = "category10"  # one hue per followed point in the multi-step panels


def multistep_steps_chart(inputs: np.ndarray, x0_hats: np.ndarray, levels: Sequence[float],
                          samples_bg: np.ndarray | None = None, size: int = 200, columns: int = 4) -> alt.Chart:
    """Multi-step consistency for a few points, one panel per step.

    Panel i: the previous jump's x̂₀ (faint), a dashed arrow for re-noising it to level τ_i, the network's
    input x_τ (hollow circle) and a solid arrow for the jump to the new x̂₀ (filled circle); one hue per point.
    ``inputs`` and ``x0_hats`` are [K, m, 2] (``consistency.sample_multistep``), ``levels`` [K].
    """
    inputs, x0_hats = np.asarray(inputs), np.asarray(x0_hats)
    k_levels, m = inputs.shape[0], inputs.shape[1]
    color = alt.Color("point:N", scale=alt.Scale(scheme=POINT_SCHEME), legend=None)
    bg = points_frame(samples_bg, limit=800) if samples_bg is not None else None
    panels = []
    for i in range(k_levels):
        jump = pd.DataFrame({"point": np.arange(m), "x": inputs[i, :, 0], "y": inputs[i, :, 1],
                             "x2": x0_hats[i, :, 0], "y2": x0_hats[i, :, 1]})
        tips = [alt.Tooltip("point:N"), alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")]
        layers = []
        if bg is not None:
            layers.append(alt.Chart(bg).mark_circle(size=5, opacity=0.22, color=PALETTE["real"])
                          .encode(_x(None), _y(None)))
        if i > 0:
            prev = pd.DataFrame({"point": np.arange(m), "x": x0_hats[i - 1, :, 0], "y": x0_hats[i - 1, :, 1],
                                 "x2": inputs[i, :, 0], "y2": inputs[i, :, 1]})
            layers.append(alt.Chart(prev).mark_rule(strokeDash=[3, 3], opacity=0.7, strokeWidth=1.2)
                          .encode(_x(None), _y(None), x2="x2:Q", y2="y2:Q", color=color))
            layers.append(alt.Chart(prev).mark_circle(size=30, opacity=0.35).encode(_x(None), _y(None), color))
        layers.append(alt.Chart(jump).mark_rule(opacity=0.95, strokeWidth=1.8)
                      .encode(_x(None), _y(None), x2="x2:Q", y2="y2:Q", color=color))
        layers.append(alt.Chart(jump).mark_point(size=45, filled=False, strokeWidth=1.6, opacity=1)
                      .encode(_x(None), _y(None), color, tooltip=tips))
        ends = jump.rename(columns={"x": "x_in", "y": "y_in", "x2": "x", "y2": "y"})
        layers.append(alt.Chart(ends).mark_circle(size=60, opacity=1, stroke="white", strokeWidth=0.6)
                      .encode(_x(None), _y(None), color, tooltip=tips))
        title = alt.TitleParams(f"Step {i + 1}: τ = {float(levels[i]):.3f}",
                                subtitle="jump from pure noise" if i == 0 else "re-noise, then jump")
        panels.append(alt.layer(*layers, title=title).properties(width=size, height=size))
    return _style(alt.concat(*panels, columns=columns, spacing=14))
