"""Export what a page shows: points and trajectories as CSV, models as checkpoint files (and back in through
an upload), charts as PNG and SVG, the current view as a link.

The byte-level helpers are plain functions (tested without a browser); the ``*_button`` helpers draw
Streamlit download buttons whose data is built only when clicked (deferred downloads).

A checkpoint file is exactly what ``cmcore.store`` writes: safetensors (raw tensors and a JSON header), so
loading an uploaded file never unpickles anything; every refusal says what was wrong.
"""
from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st
from torch import nn

from cmcore import store
from cmcore.config import config_hash

MAX_UPLOAD_MB = 5  # a shipped checkpoint is about 0.3 MB; anything far larger is not one of ours
EXPORT_WIDTH = 640  # px given to a chart whose width follows its container (a file has no container)
EXPORT_BACKGROUND = "#0e1117"  # the dark theme's background: the charts' light text stays readable in a file
PNG_SCALE = 2  # pixels per CSS pixel in a PNG


class UploadError(ValueError):
    """An uploaded file that is not a usable checkpoint; the message says why, for the person who chose it."""


# --- CSV ----------------------------------------------------------------------------------------

def points_csv(points: np.ndarray, **columns) -> bytes:
    """Points [n, 2] as CSV with columns x, y (plus any constant ``columns``, e.g. sampler="consistency")."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    df = pd.DataFrame({"x": pts[:, 0], "y": pts[:, 1]})
    for name, value in columns.items():
        df[name] = value
    return df.to_csv(index=False, float_format="%.6g").encode()


def trajectories_csv(xs: np.ndarray, ts: np.ndarray) -> bytes:
    """ODE paths [steps+1, n, 2] at times [steps+1] as long CSV: path, step, t, x, y."""
    xs, ts = np.asarray(xs, dtype=np.float64), np.asarray(ts, dtype=np.float64)
    steps, n = xs.shape[0], xs.shape[1]
    df = pd.DataFrame({"path": np.repeat(np.arange(n), steps), "step": np.tile(np.arange(steps), n),
                       "t": np.tile(ts, n), "x": xs[:, :, 0].T.ravel(), "y": xs[:, :, 1].T.ravel()})
    return df.to_csv(index=False, float_format="%.6g").encode()


# --- Checkpoints --------------------------------------------------------------------------------

def checkpoint_bytes(kind: str, model: nn.Module, config, teacher_config=None, metrics: dict | None = None) -> bytes:
    """The file ``cmcore.store.save`` writes, as bytes (it writes atomically to a path: a temporary folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = store.save(Path(tmp) / "model.safetensors", kind, model, config, teacher_config, metrics)
        return path.read_bytes()


def checkpoint_name(kind: str, config, teacher_config=None) -> str:
    """Named as the shipped files are: kind plus a hash of the configs."""
    cfgs = (config,) if teacher_config is None else (teacher_config, config)
    return f"{kind}-{config_hash(*cfgs)}.safetensors"


def read_checkpoint(data: bytes, name: str = "the uploaded file") -> store.Checkpoint:
    """``store.load`` on uploaded bytes; ``UploadError`` says what is wrong with the file."""
    if not data:
        raise UploadError(f"{name} is empty.")
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        raise UploadError(f"{name} is {len(data) / 1024 / 1024:.1f} MB; a checkpoint here is under {MAX_UPLOAD_MB} MB.")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.safetensors"
        path.write_bytes(data)
        try:
            return store.load(path)
        except store.CheckpointError as exc:
            raise UploadError(f"{name} cannot be loaded: {_problem(exc, path)}.") from None


def _problem(exc: store.CheckpointError, path: Path) -> str:
    """The problem part of a CheckpointError (without the temporary path and the advice for shipped files)."""
    text = str(exc).removeprefix(f"Checkpoint {path}: ")
    return text.split(". " + store.FIX.format(path=path))[0]


# --- Charts -------------------------------------------------------------------------------------

def for_file(spec: dict, width: int = EXPORT_WIDTH) -> dict:
    """A copy of a Vega-Lite spec fit for a file: fixed widths instead of "container", an opaque background."""
    out = copy.deepcopy(spec)

    def fix(node) -> None:
        if isinstance(node, dict):
            if node.get("width") == "container":
                node["width"] = width
            for key, value in node.items():
                if key != "datasets":
                    fix(value)
        elif isinstance(node, list):
            for item in node:
                fix(item)

    fix(out)
    out["config"] = {**out.get("config", {}), "background": EXPORT_BACKGROUND}
    return out


def chart_svg(spec: dict) -> str:
    import vl_convert  # imported on first use: only an export needs it

    return vl_convert.vegalite_to_svg(for_file(spec))


def chart_png(spec: dict, scale: float = PNG_SCALE) -> bytes:
    import vl_convert

    return vl_convert.vegalite_to_png(for_file(spec), scale=scale)


def chart_buttons(spec: dict, name: str, key: str) -> None:
    """PNG and SVG download buttons for one chart (rendered only when clicked)."""
    c = st.columns(2)
    c[0].download_button("PNG", lambda: chart_png(spec), f"{name}.png", "image/png", key=f"{key}_png",
                         icon=":material/image:", on_click="ignore")
    c[1].download_button("SVG", lambda: chart_svg(spec), f"{name}.svg", "image/svg+xml", key=f"{key}_svg",
                         icon=":material/draw:", on_click="ignore")


# --- The view as a link -------------------------------------------------------------------------

def view_link() -> str:
    """The page's address with every widget's value (``ui.params`` keeps them all in the query string)."""
    base = st.context.url or ""
    query = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    return base.split("?")[0] + ("?" + urlencode(query, doseq=True) if query else "")


def link_box() -> None:
    st.code(view_link(), language=None, wrap_lines=True)
    st.caption("Copy this link (button at its right) to reopen this exact view: every setting is in it.")


def csv_button(label: str, make, file_name: str, key: str) -> None:
    """A CSV download button; ``make()`` returns the bytes and runs only when clicked."""
    st.download_button(label, make, file_name, "text/csv", key=key, icon=":material/download:",
                       on_click="ignore")  # no rerun: a rerun could retire the file before the browser fetched it

