"""Trajectory charts: page 1's trajectories with restart arrows, page 4's jump-and-re-noise panels.

Built on ``viz.charts``' palette, domain and theme; no Streamlit, no torch.
"""
from __future__ import annotations

import functools
import json
from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd

from viz.charts import (XY_TOOLTIP, DOMAIN, HIT_WIDTH, MULTISTEP_BG_POINTS, PALETTE, POINT_SCHEME, TRAJ_SELECTION,
                        TRAJECTORY_COLOR, themed, chart_data, xy_channels, points_frame, square, trajectory_frame,
                        zoom_domain)
from viz.spec import to_spec, with_data, with_table


def _arrows(source: alt.Data, color: str, opacity: float, dash: list[int], domain_x: Sequence[float],
            domain_y: Sequence[float]) -> list[alt.Chart]:
    """Segments (x, y) -> (x2, y2) of a dataset with an ``angle`` column, with a triangle head at the end."""
    ex, ey = xy_channels(domain_x, domain_y)
    rule = (alt.Chart(source).mark_rule(color=PALETTE[color], opacity=opacity, strokeWidth=1.6, strokeDash=dash)
            .encode(ex, ey, alt.X2("x2:Q"), alt.Y2("y2:Q")))
    hx, hy = xy_channels(domain_x, domain_y, x="x2", y="y2")
    head = (alt.Chart(source).mark_point(shape="triangle-up", filled=True, size=60, color=PALETTE[color],
                                         opacity=opacity)
            .encode(hx, hy, angle=alt.Angle("angle:Q", scale=None)))
    return [rule, head]


def self_consistency_chart(xs: np.ndarray, ts: np.ndarray, chosen: int, points: np.ndarray, t_values: Sequence[float],
                           endpoints: np.ndarray, true_endpoint: np.ndarray, size: int = 390,
                           clickable: bool = True, part: str = "both"):
    """Two panels: every teacher trajectory on the shared domain, and a zoom on the chosen one.

    Overview: trajectories from noise (circle) to data (diamond), the chosen one bright, its restart points
    as squares; with ``clickable`` a click near a line selects it (selection ``TRAJ_SELECTION``, field
    ``traj``).  Zoom: the chosen trajectory, the restart points, dashed arrows to where each re-solve lands
    (green dots) and the true endpoint (red cross).  ``xs`` is [steps+1, n_traj, 2] from t=1 to t=0.
    """
    lines = trajectory_frame(xs, ts)
    lines["chosen"] = lines["traj"] == chosen
    # Per-row styling as columns read with scale=None (cheaper than alt.condition).
    lines["color"] = np.where(lines["chosen"], PALETTE["chosen"], TRAJECTORY_COLOR)
    lines["width"] = np.where(lines["chosen"], 3.2, 1.6)
    lines["alpha"] = np.where(lines["chosen"], 1.0, 0.55)
    ends = pd.DataFrame({"traj": np.arange(xs.shape[1]), "x0": xs[0, :, 0], "y0": xs[0, :, 1],
                         "x": xs[-1, :, 0], "y": xs[-1, :, 1]})
    ends["color"] = np.where(ends["traj"] == chosen, PALETTE["chosen"], TRAJECTORY_COLOR)
    pts, landed = np.asarray(points), np.asarray(endpoints)
    restart = pd.DataFrame({"x": pts[:, 0], "y": pts[:, 1], "x2": landed[:, 0], "y2": landed[:, 1],
                            "t": np.asarray(t_values, dtype=float)})
    restart["label"] = [f"t={t:.2f}" for t in restart["t"]]
    restart["angle"] = (90 - np.degrees(np.arctan2(restart["y2"] - restart["y"], restart["x2"] - restart["x"]))) % 360
    d_lines, d_chosen, d_ends, d_end_chosen = (chart_data(lines), chart_data(lines[lines["chosen"]]), chart_data(ends),
                                               chart_data(ends[ends["traj"] == chosen]))
    d_restart, d_true = chart_data(restart), chart_data(pd.DataFrame({"x": [float(true_endpoint[0])],
                                                          "y": [float(true_endpoint[1])]}))
    color = alt.Color("color:N", scale=None)
    line_tips = [alt.Tooltip("traj:N", title="trajectory"), alt.Tooltip("t:Q", format=".3f"),
                 alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")]

    def trajectories(src_lines: alt.Data, src_ends: alt.Data, dx, dy) -> list:
        ex, ey = xy_channels(dx, dy)
        return [
            alt.Chart(src_lines).mark_line(clip=True).encode(
                ex, ey, alt.Detail("traj:N"), color, alt.Order("order:Q"), tooltip=line_tips,
                strokeWidth=alt.StrokeWidth("width:Q", scale=None), opacity=alt.Opacity("alpha:Q", scale=None)),
            alt.Chart(src_ends).mark_circle(size=45, opacity=0.9, clip=True).encode(
                *xy_channels(dx, dy, x="x0", y="y0"), color, tooltip=[alt.Tooltip("traj:N", title="start (t = 1) of")]),
            alt.Chart(src_ends).mark_point(shape="diamond", filled=True, opacity=0.9, size=70, clip=True).encode(
                ex, ey, color, tooltip=[alt.Tooltip("traj:N", title="end (t = 0) of"), *XY_TOOLTIP]),
        ]

    def squares(dx, dy) -> alt.Chart:
        return (alt.Chart(d_restart).mark_square(size=80, color=PALETTE["highlight"], stroke="white", strokeWidth=1)
                .encode(*xy_channels(dx, dy), tooltip=[alt.Tooltip("t:Q", format=".3f", title="restart t"), *XY_TOOLTIP]))

    overview = trajectories(d_lines, d_ends, DOMAIN, DOMAIN) + [squares(DOMAIN, DOMAIN)]
    if clickable:  # a wide, nearly invisible copy of the lines catches clicks near a line
        overview.insert(0, alt.Chart(d_lines).mark_line(strokeWidth=HIT_WIDTH, opacity=0.01, color=TRAJECTORY_COLOR)
                        .encode(*xy_channels(), alt.Detail("traj:N"), alt.Order("order:Q"), tooltip=line_tips)
                        .add_params(alt.selection_point(name=TRAJ_SELECTION, fields=["traj"], on="click",
                                                        clear=False)))
    zx, zy = zoom_domain(np.concatenate([xs[:, chosen, :], landed, np.asarray(true_endpoint).reshape(1, 2)]))
    ex, ey = xy_channels(zx, zy)
    landed_tips = [alt.Tooltip("label:N", title="re-solved from"), alt.Tooltip("x2:Q", format=".4f", title="x"),
                   alt.Tooltip("y2:Q", format=".4f", title="y")]
    zoom = [*trajectories(d_chosen, d_end_chosen, zx, zy),
            *_arrows(d_restart, "arrow", 0.6, [4, 3], zx, zy), squares(zx, zy),
            alt.Chart(d_restart).mark_circle(size=60, color=PALETTE["teacher"], opacity=0.9)
            .encode(*xy_channels(zx, zy, x="x2", y="y2"), tooltip=landed_tips),
            alt.Chart(d_true).mark_point(shape="cross", filled=True, size=300, color=PALETTE["endpoint"], opacity=0.85,
                                         stroke="white", strokeWidth=0.8)
            .encode(ex, ey, tooltip=[alt.Tooltip("x:Q", format=".4f", title="true endpoint x₁"),
                                     alt.Tooltip("y:Q", format=".4f", title="true endpoint x₂")]),
            alt.Chart(d_restart).mark_text(color=PALETTE["highlight"], align="left", dx=9, dy=-7, fontSize=11)
            .encode(ex, ey, alt.Text("label:N"))]
    left = alt.layer(*overview, width=size, height=size, title=alt.TitleParams(
        "All trajectories", subtitle="noise (circle) → data (diamond); click a line to choose it"))
    right = alt.layer(*zoom, width=size, height=size, title=alt.TitleParams(
        f"Trajectory {chosen}, zoomed", subtitle="restart points (squares) → where each lands (green)"))
    if part == "overview":
        return square(left)
    if part == "zoom":
        return square(right)
    return themed(alt.hconcat(left, right, spacing=30))  # concatenated views keep their own scales


def _steps_frame(inputs: np.ndarray, x0_hats: np.ndarray, levels: Sequence[float], samples_bg: np.ndarray | None,
                 only_step: int | None) -> tuple[tuple[str, ...], pd.DataFrame]:
    """The panels' titles and the rows of ``multistep_steps_chart``."""
    inputs, x0_hats = np.asarray(inputs), np.asarray(x0_hats)
    k_levels, m = inputs.shape[0], inputs.shape[1]
    panel = tuple(f"Step {i + 1}: τ = {float(levels[i]):.3f}" + (" (from pure noise)" if i == 0 else "")
                  for i in range(k_levels))
    steps = range(k_levels) if only_step is None else [only_step]  # one panel per chart: the page lays panels
    frames = []                                                     # out in columns that reflow
    for i in steps:
        frames.append(pd.DataFrame({"panel": panel[i], "kind": "jump", "point": np.arange(m), "x": inputs[i, :, 0],
                                    "y": inputs[i, :, 1], "x2": x0_hats[i, :, 0], "y2": x0_hats[i, :, 1]}))
        if i > 0:
            frames.append(pd.DataFrame({"panel": panel[i], "kind": "renoise", "point": np.arange(m),
                                        "x": x0_hats[i - 1, :, 0], "y": x0_hats[i - 1, :, 1],
                                        "x2": inputs[i, :, 0], "y2": inputs[i, :, 1]}))
        if samples_bg is not None:
            frames.append(points_frame(samples_bg, limit=MULTISTEP_BG_POINTS, panel=panel[i], kind="real"))
    return panel, chart_data(pd.concat(frames, ignore_index=True).round(4))


def _steps_layout(panel: tuple[str, ...], size: int, columns: int, data) -> alt.FacetChart:
    color = alt.Color("point:N", scale=alt.Scale(scheme=POINT_SCHEME), legend=None)
    ex, ey = xy_channels(titles=False)
    ex2, ey2 = xy_channels(titles=False, x="x2", y="y2")
    tips = [alt.Tooltip("point:N"), *XY_TOOLTIP]

    def only(kind: str) -> alt.Chart:
        return alt.Chart().transform_filter(alt.datum.kind == kind)

    layers = [
        only("real").mark_circle(size=5, opacity=0.22, color=PALETTE["real"]).encode(ex, ey),
        only("renoise").mark_rule(strokeDash=[3, 3], opacity=0.7, strokeWidth=1.2).encode(ex, ey, alt.X2("x2:Q"),
                                                                                          alt.Y2("y2:Q"), color),
        only("renoise").mark_circle(size=30, opacity=0.35).encode(ex, ey, color),
        only("jump").mark_rule(opacity=0.95, strokeWidth=1.8).encode(ex, ey, alt.X2("x2:Q"), alt.Y2("y2:Q"), color),
        only("jump").mark_point(size=45, filled=False, strokeWidth=1.6, opacity=1).encode(ex, ey, color, tooltip=tips),
        only("jump").mark_circle(size=60, opacity=1, stroke="white", strokeWidth=0.6).encode(
            ex2, ey2, color, tooltip=[alt.Tooltip("point:N"), alt.Tooltip("x2:Q", format=".3f", title="x̂₀ x"),
                                      alt.Tooltip("y2:Q", format=".3f", title="x̂₀ y")]),
    ]
    chart = alt.layer(*layers, width=size, height=size).facet(
        facet=alt.Facet("panel:N", sort=list(panel), title=None,
                        header=alt.Header(labelAnchor="start", labelFontSize=12)),
        columns=columns, data=data, spacing=14)
    return themed(chart)


def multistep_steps_chart(inputs: np.ndarray, x0_hats: np.ndarray, levels: Sequence[float],
                          samples_bg: np.ndarray | None = None, size: int = 200, columns: int = 4,
                          only_step: int | None = None) -> alt.FacetChart:
    """Multi-step consistency for a few points, one panel per step (a facet: the same six layers for any K).

    Panel i: the previous jump's x̂₀ (faint), a dashed line for re-noising it to level τ_i, the network's
    input x_τ (hollow circle) and a solid line for the jump to the new x̂₀ (filled circle); one hue per point.
    ``inputs`` and ``x0_hats`` are [K, m, 2] (``consistency.sample_multistep``), ``levels`` [K].
    """
    panel, source = _steps_frame(inputs, x0_hats, levels, samples_bg, only_step)
    return _steps_layout(panel, size, columns, source)


@functools.lru_cache(maxsize=32)
def _steps_layout_json(panel: tuple[str, ...], size: int, columns: int) -> str:
    return json.dumps(to_spec(_steps_layout(panel, size, columns, alt.Data(name="steps"))))


def multistep_steps_spec(inputs: np.ndarray, x0_hats: np.ndarray, levels: Sequence[float],
                         samples_bg: np.ndarray | None = None, size: int = 200, columns: int = 4,
                         only_step: int | None = None, table: bool = False) -> dict:
    """``to_spec(multistep_steps_chart(...))``, the layers built once per set of panel titles and sizes (Altair
    takes ~50 ms to build and convert this facet, page 4 draws one per step for every seed a student picks);
    ``table``: its rows as an Arrow table (``spec.with_table``), for drawing."""
    panel, source = _steps_frame(inputs, x0_hats, levels, samples_bg, only_step)
    return (with_table if table else with_data)(json.loads(_steps_layout_json(panel, size, columns)), source)
