"""Altair chart builders shared by every page: one palette, one domain, one size.

Every builder takes plain numpy/pandas data and returns an Altair chart (a ``Chart``
or a layer/concat of charts); nothing here imports Streamlit.  Point clouds are drawn
on the same fixed square domain (``DOMAIN``) with equal width and height, so two
panels anywhere in the app can be compared by eye.

Data handling, for speed and for Altair's 5,000-row limit:
  * each panel is thinned deterministically to ``MAX_POINTS_PER_PANEL`` rows; a grid of
    panels legitimately exceeds 5,000 rows in total, so Altair's row guard is off;
  * layers hold pandas frames, which ``st.altair_chart`` ships as Arrow; ``to_spec`` (``viz/spec.py``)
    gives a plain Vega-Lite dict without Altair's per-row JSON checks (for caching);
  * the theme is one ``alt.Config`` set on the finished chart (``.configure_*()``
    would deep-copy the chart once per call).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd

from viz.spec import to_spec, with_data, with_table  # (to_spec is used through this module too)

alt.data_transformers.disable_max_rows()

DOMAIN = (-4.5, 4.5)  # both axes, every panel: panels stay comparable
AXIS_TICKS = [-4, -2, 0, 2, 4]
MAX_POINTS_PER_PANEL = 2000  # thin larger clouds (speed of the browser, size of the page)
PANEL_SIZE = 200  # px, width == height: equal aspect on a square domain (4 panels fit a 1,000 px page)
POINT_SIZE = 9  # area of one sample dot
POINT_OPACITY = 0.55
GRID_COLOR = "#2a2f3d"
TEXT_COLOR = "#e5e7eb"
MUTED_TEXT = "#9ca3af"
FONT = "sans-serif"

# One colour per role, used by every page (dark-theme friendly).
PALETTE: dict[str, str] = {
    "real": "#60a5fa",  # real data (blue)
    "teacher": "#34d399",  # the teacher's Euler ODE with several steps (green)
    "teacher_one": "#f59e0b",  # the teacher's single step from noise / its x0 prediction (amber)
    "consistency": "#a78bfa",  # consistency model (violet)
    "heun": "#f472b6",  # the Heun solver, wherever solvers are compared (pink)
    "chosen": "#22d3ee",  # the trajectory picked on page 1 (cyan)
    "highlight": "#fbbf24",  # chosen points on a trajectory (yellow)
    "endpoint": "#f87171",  # true endpoint (red)
    "arrow": "#e5e7eb",  # arrows (light grey)
}
TRAJECTORY_COLOR = "#94a3b8"  # the trajectories not chosen (slate)
POINT_SCHEME = "category10"  # one hue per followed point in the multi-step panels
MULTISTEP_BG_POINTS = 500  # real data behind each multi-step panel (repeated per panel)
TRAJ_SELECTION = "traj"  # name of the click selection on trajectory lines (field "traj")
HIT_WIDTH = 12  # px: how close to a line a click must land to choose it

CONFIG = alt.Config(
    background="transparent", font=FONT,
    view=alt.ViewConfig(stroke=GRID_COLOR, strokeWidth=1),
    axis=alt.AxisConfig(gridColor=GRID_COLOR, domainColor=GRID_COLOR, tickColor=GRID_COLOR, labelColor=MUTED_TEXT,
                        titleColor=MUTED_TEXT, labelFontSize=10, titleFontSize=11, titleFontWeight="normal"),
    title=alt.TitleConfig(color=TEXT_COLOR, subtitleColor=MUTED_TEXT, fontSize=13, subtitleFontSize=11,
                          fontWeight="normal", anchor="start"),
    legend=alt.LegendConfig(labelColor=TEXT_COLOR, titleColor=MUTED_TEXT, orient="bottom", labelFontSize=11),
    header=alt.HeaderConfig(labelColor=TEXT_COLOR, titleColor=MUTED_TEXT, labelFontSize=12),
)


def chart_data(df: pd.DataFrame) -> pd.DataFrame:
    """A frame as a chart's data (a fresh index; Streamlit and ``to_spec`` turn it into a named dataset)."""
    return df.reset_index(drop=True)


def themed(chart):
    """Attach the theme to a freshly built top-level chart (in place: ``.configure_*()`` would copy it)."""
    chart.config = CONFIG
    return chart


def square(chart):
    """Finish a chart whose ``width``/``height`` are its plot area (Streamlit would otherwise fit the axes and
    title inside them, squashing a square panel)."""
    chart.autosize = alt.AutoSizeParams(type="pad", contains="padding")
    return themed(chart)


def xy_channels(domain_x: Sequence[float] = DOMAIN, domain_y: Sequence[float] | None = None, x: str = "x", y: str = "y",
        titles: bool = True) -> tuple[alt.X, alt.Y]:
    """Position channels on a square window (the shared ``DOMAIN`` unless a zoom is given)."""
    domain_y = domain_x if domain_y is None else domain_y
    ticks = AXIS_TICKS if list(domain_x) == list(DOMAIN) else alt.Undefined
    return (alt.X(f"{x}:Q", title="x₁" if titles else None, axis=alt.Axis(values=ticks),
                  scale=alt.Scale(domain=list(domain_x), clamp=True, nice=False)),
            alt.Y(f"{y}:Q", title="x₂" if titles else None, axis=alt.Axis(values=ticks),
                  scale=alt.Scale(domain=list(domain_y), clamp=True, nice=False)))


XY_TOOLTIP = [alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")]


def evenly_spaced(rows: int, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` evenly spaced rows out of ``rows``: deterministic, so the same input draws
    the same picture (the one thinning rule of every chart)."""
    return np.arange(rows) if rows <= limit else np.linspace(0, rows - 1, limit).round().astype(int)


def thin(points: np.ndarray, limit: int = MAX_POINTS_PER_PANEL) -> np.ndarray:
    """A point cloud thinned to ``limit`` evenly spaced rows."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return points[evenly_spaced(len(points), limit)]


def points_frame(points: np.ndarray, limit: int = MAX_POINTS_PER_PANEL, **columns) -> pd.DataFrame:
    pts = thin(points, limit)
    df = pd.DataFrame({"x": pts[:, 0].round(4), "y": pts[:, 1].round(4)})
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
    title = alt.TitleParams(panel.title, subtitle=panel.subtitle or " ")
    return (alt.Chart(chart_data(points_frame(panel.points)), title=title, width=size, height=size)
            .mark_circle(size=POINT_SIZE, opacity=POINT_OPACITY, color=PALETTE[panel.color])
            .encode(*xy_channels(titles=False), tooltip=XY_TOOLTIP))


def scatter_panels(panels: list[Panel], columns: int = 4, size: int = PANEL_SIZE) -> alt.Chart:
    """A row (wrapping after ``columns``) of equal-sized scatter panels on the shared domain."""
    if not panels:
        raise ValueError("scatter_panels needs at least one panel.")
    charts = [_panel_chart(p, size) for p in panels]
    return square(charts[0]) if len(charts) == 1 else themed(alt.concat(*charts, columns=columns, spacing=14))


@functools.lru_cache(maxsize=256)
def _panel_layout_json(title: str, color: str, subtitle: str, size: int) -> str:
    empty = Panel(title, np.zeros((0, 2)), color, subtitle)
    return json.dumps(to_spec(scatter_panels([empty], 1, size).properties(data=alt.Data(name="points"))))


def panel_spec(panel: Panel, size: int = PANEL_SIZE, table: bool = False) -> dict:
    """``to_spec(scatter_panels([panel], 1, size))``, the chart built once per title, colour and size (Altair's
    share is most of a panel's cost, and the sample grids draw a panel per sampler for every seed a student picks);
    ``table``: its points as an Arrow table (``spec.with_table``), for drawing."""
    layout = json.loads(_panel_layout_json(panel.title, panel.color, panel.subtitle, size))
    return (with_table if table else with_data)(layout, chart_data(points_frame(panel.points)))


# --- Line charts -----------------------------------------------------------------

def loss_curve(df: pd.DataFrame, color: str = "consistency") -> alt.Chart:
    """Training loss against step on a log-scale y axis (columns ``step``, ``loss``)."""
    df = df.loc[df["loss"] > 0, ["step", "loss"]]
    df = df.iloc[evenly_spaced(len(df), MAX_POINTS_PER_PANEL)]  # keep the curve's shape
    chart = (alt.Chart(chart_data(df), height=260, width="container")
             .mark_line(color=PALETTE[color], strokeWidth=1.5, clip=True)
             .encode(alt.X("step:Q", title="training step"),
                     alt.Y("loss:Q", title="loss (log scale)", scale=alt.Scale(type="log")),
                     tooltip=[alt.Tooltip("step:Q"), alt.Tooltip("loss:Q", format=".3e")]))
    return themed(chart)


def error_vs_steps(df: pd.DataFrame, highlight_steps: int | None = None) -> alt.Chart:
    """Mean endpoint error against ODE steps, one line per solver (log-log).

    ``df`` has columns steps, nfe, solver, mean_error, max_error (``evaluate.endpoint_error_curve`` rows).
    """
    df = df.assign(mean_error=df["mean_error"].clip(lower=1e-6))
    colors = alt.Scale(domain=["euler", "heun"], range=[PALETTE["teacher"], PALETTE["heun"]])
    base = alt.Chart(chart_data(df)).encode(
        alt.X("steps:Q", title="ODE steps (log scale)", scale=alt.Scale(type="log")),
        alt.Y("mean_error:Q", title="mean endpoint error (log)", scale=alt.Scale(type="log")),
        alt.Color("solver:N", scale=colors, title="solver"),
        tooltip=["solver:N", "steps:Q", "nfe:Q", alt.Tooltip("mean_error:Q", format=".4f"),
                 alt.Tooltip("max_error:Q", format=".4f")])
    layers = [base.mark_line(strokeWidth=2), base.mark_point(filled=True, size=50)]
    if highlight_steps is not None:
        rule = pd.DataFrame({"steps": [highlight_steps]})
        layers.append(alt.Chart(chart_data(rule)).mark_rule(color=PALETTE["arrow"], strokeDash=[4, 4], opacity=0.6)
                      .encode(x="steps:Q"))
    return themed(alt.layer(*layers, height=300, width="container"))


def w2_vs_nfe(df: pd.DataFrame, floor: float | None = None, floor_sem: float = 0.0,
              title: str | None = None) -> alt.Chart:
    """W2 (mean ± standard error) against network evaluations, teacher and consistency model (log-log).

    ``df`` has columns model ("teacher (Euler ODE)" / "consistency model"), nfe, w2 and optionally sem;
    ``floor`` (the W2 between two real samples at the same size) is drawn as a dashed line.
    """
    df = df.assign(sem=df["sem"] if "sem" in df else 0.0)
    df = df.assign(lo=(df["w2"] - df["sem"]).clip(lower=1e-3), hi=df["w2"] + df["sem"])
    colors = alt.Scale(domain=["teacher (Euler ODE)", "consistency model"],
                       range=[PALETTE["teacher"], PALETTE["consistency"]])
    lows = [df["lo"].min()] + ([floor] if floor is not None else [])
    y_domain = [float(min(lows)) * 0.8, float(df["hi"].max()) * 1.25]
    x_domain = [0.9, float(df["nfe"].max()) * 1.15]
    x = alt.X("nfe:Q", title="network evaluations (NFE, log scale)",
              scale=alt.Scale(type="log", domain=x_domain, nice=False))
    y_scale = alt.Scale(type="log", domain=y_domain, nice=False)
    base = alt.Chart(chart_data(df)).encode(
        x, alt.Y("w2:Q", title="W2 to real data (log, lower is better)", scale=y_scale),
        alt.Color("model:N", scale=colors, title=None, legend=alt.Legend(orient="bottom")),
        tooltip=["model:N", "nfe:Q", alt.Tooltip("w2:Q", format=".3f", title="W2 (mean)"),
                 alt.Tooltip("sem:Q", format=".3f", title="± standard error")])
    bars = alt.Chart(chart_data(df)).mark_rule(strokeWidth=2, opacity=0.8).encode(
        x, alt.Y("lo:Q", scale=y_scale), alt.Y2("hi:Q"), alt.Color("model:N", scale=colors, legend=None))
    layers = [base.mark_line(strokeWidth=2), bars, base.mark_point(filled=True, size=60)]
    if floor is not None:
        fl = chart_data(pd.DataFrame({"w2": [floor], "nfe": [df["nfe"].max()],
                                  "label": [f"floor: two real samples, {floor:.3f} ± {floor_sem:.3f}"]}))
        layers.append(alt.Chart(fl).mark_rule(color=PALETTE["real"], strokeDash=[4, 4]).encode(y="w2:Q"))
        layers.append(alt.Chart(fl).mark_text(color=PALETTE["real"], align="right", dy=-8, fontSize=11)
                      .encode(y="w2:Q", x="nfe:Q", text="label:N"))
    chart = alt.layer(*layers, height=300, width="container")
    return themed(chart.properties(title=title) if title else chart)


# --- Trajectories, arrows, jumps -----------------------------------------------------------

def trajectory_frame(xs: np.ndarray, ts: np.ndarray, max_points_per_line: int = 120) -> pd.DataFrame:
    """[steps+1, n_traj, 2] -> long frame (traj, order, t, x, y), each line thinned to a fixed length."""
    xs, ts = np.asarray(xs), np.asarray(ts)
    idx = np.unique(np.linspace(0, xs.shape[0] - 1, min(xs.shape[0], max_points_per_line)).round().astype(int))
    n_traj, n_idx = xs.shape[1], len(idx)
    return pd.DataFrame({"traj": np.repeat(np.arange(n_traj), n_idx), "order": np.tile(np.arange(n_idx), n_traj),
                         "t": np.tile(ts[idx], n_traj).round(4), "x": xs[idx, :, 0].T.ravel().round(4),
                         "y": xs[idx, :, 1].T.ravel().round(4)})


def zoom_domain(points: np.ndarray, pad: float = 0.12, min_span: float = 0.4) -> tuple[list[float], list[float]]:
    """A square window around ``points`` (same span on both axes, so the zoom keeps equal aspect)."""
    pts = np.asarray(points).reshape(-1, 2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = max(float((hi - lo).max()) * (1 + 2 * pad), min_span)
    mid = (lo + hi) / 2
    return [float(mid[0] - span / 2), float(mid[0] + span / 2)], [float(mid[1] - span / 2), float(mid[1] + span / 2)]
