"""Layout helpers shared by pages: panel grids that reflow on a phone, colour legends, scores as text.

A multi-panel figure is drawn as one chart per panel inside ``st.columns``: on a
wide screen the panels sit side by side, below ~640 px Streamlit stacks the columns,
so no page scrolls sideways.
"""
from __future__ import annotations

from typing import Sequence

import streamlit as st

from cmcore.evaluate import Score
from viz import legend as legends
from viz import charts
from viz.charts import Panel

PANEL_SIZE = 210  # px per panel: fits a 420 px phone and four columns of the wide layout
# Point clouds are drawn on a canvas: thousands of SVG nodes per panel cost the browser most of a page's redraw.
CANVAS = {"embedOptions": {"renderer": "canvas"}}


def on_canvas(spec: dict) -> dict:
    """``spec`` drawn on a canvas (a shallow copy: the cached spec is shared)."""
    return {**spec, "usermeta": {**spec.get("usermeta", {}), **CANVAS}}


def panel_grid(panels: Sequence[Panel], per_row: int = 4, size: int = PANEL_SIZE) -> None:
    """Scatter panels, ``per_row`` to a row on wide screens, one per row on a phone."""
    for start in range(0, len(panels), per_row):
        cols = st.columns(per_row)
        for col, panel in zip(cols, panels[start:start + per_row]):
            col.vega_lite_chart(on_canvas(charts.panel_spec(panel, size, table=True)), width="content")


def charts_in_columns(specs: Sequence[dict], per_row: int) -> None:
    """Prepared Vega-Lite specs laid out like ``panel_grid``."""
    for start in range(0, len(specs), per_row):
        cols = st.columns(per_row)
        for col, spec in zip(cols, specs[start:start + per_row]):
            col.vega_lite_chart(spec, width="content")  # (SVG: few marks, and their headers stay text)


def legend(roles: Sequence[str]) -> None:
    """What each colour means, for the roles drawn on this part of the page."""
    st.html(legends.legend_html(roles))


def w2(score: Score, floor: Score | None = None) -> str:
    """A W2 as a page shows it: mean ± standard error (and the floor it is read against)."""
    return f"W2 {score}" + (f" (floor {floor})" if floor is not None else "")
