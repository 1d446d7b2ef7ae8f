"""Vega-Lite dicts from the charts of ``viz``, fast: what ``compute.chart_spec`` caches and the pages draw.

``to_spec`` converts a chart's structure with Altair and attaches its frames' rows itself, named by
content; ``with_data`` attaches rows to a structure converted once (the layouts that
``charts.panel_spec`` and ``trajectories.multistep_steps_spec`` keep), and ``with_table`` the same data as one
Arrow table (no Python object per row: Streamlit sends a table as it is, where it converts rows to one first).
Nothing here imports Streamlit.
"""
from __future__ import annotations

import hashlib
import json

import altair as alt
import pandas as pd
import pyarrow as pa

from viz.altair_internals import chart_fields

_SUBCHART_KEYS = ("layer", "concat", "hconcat", "vconcat", "spec")


def _dataset_name(df: pd.DataFrame) -> str:
    """Named by content, as Altair does: a browser keeps datasets by name across all charts of a page."""
    digest = hashlib.sha1(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    digest.update(",".join(map(str, df.columns)).encode())
    return f"data-{digest.hexdigest()[:16]}"


def rows(df: pd.DataFrame) -> list[dict]:
    """A frame as Vega-Lite's inline rows; missing values become null, as JSON has no NaN."""
    return (df.astype(object).where(df.notna(), None) if df.isna().any().any() else df).to_dict("records")


def with_data(layout: dict, df: pd.DataFrame) -> dict:
    """``layout`` (a chart's dict built once with a placeholder ``alt.Data(name=...)`` as its top-level data) with
    ``df`` as that data, named as ``to_spec`` names it: the same dict as ``to_spec`` of the chart built on ``df``."""
    name = _dataset_name(df)
    return {**layout, "data": {"name": name}, "datasets": {**layout.get("datasets", {}), name: rows(df)}}


def with_table(layout: dict, df: pd.DataFrame) -> dict:
    """``with_data(layout, df)`` with ``df`` as an Arrow table instead of rows (for ``st.vega_lite_chart``: a
    2,000-point panel costs a millisecond instead of twenty), named by the layout, not the rows: redrawn with new
    rows (a new seed), the chart's specification is unchanged, so the browser swaps its data in place instead of
    building the chart again (Streamlit keeps each chart's datasets apart, so equal names in two charts are fine)."""
    name = "table-" + hashlib.sha1(json.dumps(layout, sort_keys=True).encode()).hexdigest()[:16]
    table = pa.Table.from_pandas(df, preserve_index=False)
    return {**layout, "data": {"name": name}, "datasets": {**layout.get("datasets", {}), name: table}}


def to_spec(chart, validate: bool = False) -> dict:
    """The Vega-Lite dict of a chart built here, quickly.

    ``chart.to_dict()`` turns every frame into JSON rows, copies them and schema-checks each row (seconds
    for a grid of 10,000 points).  Here every frame is swapped for a reference to a named dataset, the
    structure alone is converted (checked against the Vega-Lite schema with ``validate=True``; the tests
    do), and the rows are attached to the result.  The chart is left as it was.
    """
    datasets: dict[str, list] = {}
    swapped: list[tuple] = []

    def swap(node) -> None:
        kwds = chart_fields(node)
        if kwds is None:
            return
        if isinstance(kwds.get("data"), pd.DataFrame):
            df = kwds["data"]
            name = _dataset_name(df)
            if name not in datasets:
                datasets[name] = rows(df)
            swapped.append((node, df))
            node.data = alt.Data(name=name)
        for key in _SUBCHART_KEYS:
            children = kwds.get(key, alt.Undefined)
            for child in children if isinstance(children, list) else [children]:
                swap(child)

    swap(chart)
    try:
        spec = chart.to_dict(validate=validate)
    finally:
        for node, df in swapped:
            node.data = df
    if datasets:
        spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec
