"""Export helpers: CSV layouts, checkpoint round trip through bytes, junk refused with a clear message, charts
to SVG/PNG."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
import torch

from cmcore import store, zoo
from cmcore.config import ConsistencyConfig, TeacherConfig
from cmcore.nets import MLP, ConsistencyModel
from ui import export
from viz import charts


def test_points_csv_round_trips():
    pts = np.array([[0.5, -1.25], [2.0, 3.0]])
    df = pd.read_csv(io.BytesIO(export.points_csv(pts, sampler="teacher")))
    assert list(df.columns) == ["x", "y", "sampler"] and np.allclose(df[["x", "y"]].to_numpy(), pts)


def test_trajectories_csv_is_long_format():
    xs = np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2)  # 3 times, 2 paths
    df = pd.read_csv(io.BytesIO(export.trajectories_csv(xs, np.array([1.0, 0.5, 0.0]))))
    assert list(df.columns) == ["path", "step", "t", "x", "y"] and len(df) == 6
    row = df[(df.path == 1) & (df.step == 2)].iloc[0]
    assert (row.t, row.x, row.y) == (0.0, xs[2, 1, 0], xs[2, 1, 1])


def test_checkpoint_round_trip_through_bytes():
    torch.manual_seed(0)
    cfg, tcfg = ConsistencyConfig(steps=5), TeacherConfig(steps=5)
    model = ConsistencyModel.from_teacher(MLP(tcfg.hidden), cfg.sigma_min)
    data = export.checkpoint_bytes("consistency", model, cfg, tcfg, {"seconds": 1.5})
    back = export.read_checkpoint(data)
    assert back.kind == "consistency" and back.config == cfg and back.teacher_config == tcfg
    assert back.metrics == {"seconds": 1.5} and back.model.backbone == "x0_from_velocity"
    x, t = torch.randn(16, 2), torch.rand(16, 1)
    assert torch.equal(back.model(x, t), model(x, t))
    assert export.checkpoint_name("consistency", cfg, tcfg) == zoo.consistency_path(tcfg, cfg).name


def test_shipped_checkpoint_bytes_load_back():
    path = zoo.teacher_path(zoo.DEFAULT.teacher)
    assert export.read_checkpoint(path.read_bytes()).config == zoo.DEFAULT.teacher


@pytest.mark.parametrize("data,why", [
    (b"", "is empty"),
    (b"not a checkpoint at all", "not a readable safetensors file"),
    (b"\x80\x04\x95pickle-ish" * 10, "not a readable safetensors file"),
])
def test_junk_is_refused_clearly(data, why):
    with pytest.raises(export.UploadError, match=why) as exc:
        export.read_checkpoint(data, "junk.safetensors")
    assert "junk.safetensors" in str(exc.value) and "git checkout" not in str(exc.value)


def safetensors_metadata(data: bytes) -> dict:
    """The ``__metadata__`` of a safetensors file: an 8-byte little-endian header length, then JSON."""
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size])["__metadata__"]


def test_an_exported_checkpoint_carries_the_format_and_another_version_is_refused():
    cfg = TeacherConfig(steps=5)
    data = export.checkpoint_bytes("teacher", MLP(cfg.hidden), cfg)
    assert safetensors_metadata(data)["format"] == store.FORMAT == "consistency-explorer/1"
    assert export.read_checkpoint(data).config == cfg
    newer = data.replace(b'"consistency-explorer/1"', b'"consistency-explorer/2"')  # same length: still readable
    assert safetensors_metadata(newer)["format"] == "consistency-explorer/2"
    with pytest.raises(export.UploadError, match=r"^newer\.safetensors cannot be loaded: not a Consistency Explorer "
                                                 r"checkpoint \(format 'consistency-explorer/2'\)\.$"):
        export.read_checkpoint(newer, "newer.safetensors")


def test_foreign_safetensors_and_oversize_are_refused(tmp_path):
    from safetensors.torch import save

    foreign = save({"w": torch.zeros(2, 2)}, metadata={"format": "someone-else/1"})
    with pytest.raises(export.UploadError, match="not a Consistency Explorer checkpoint"):
        export.read_checkpoint(foreign)
    with pytest.raises(export.UploadError, match="MB"):
        export.read_checkpoint(b"0" * (export.MAX_UPLOAD_MB * 1024 * 1024 + 1))
    bad = zoo.teacher_path(zoo.DEFAULT.teacher).read_bytes()
    bad = bad.replace(b'\\"hidden\\": 128', b'\\"hidden\\":  64')  # same header length, a config that lies
    assert bad != zoo.teacher_path(zoo.DEFAULT.teacher).read_bytes()
    with pytest.raises(export.UploadError, match="weights do not fit"):
        export.read_checkpoint(bad)


def test_chart_files():
    spec = charts.to_spec(charts.loss_curve(pd.DataFrame({"step": [1, 2, 3], "loss": [1.0, 0.5, 0.2]})))
    fixed = export.for_file(spec)
    assert fixed["width"] == export.EXPORT_WIDTH and spec["width"] == "container"  # the original is untouched
    assert fixed["config"]["background"] == export.EXPORT_BACKGROUND
    assert export.chart_svg(spec).lstrip().startswith("<svg")
    assert export.chart_png(spec)[:8] == b"\x89PNG\r\n\x1a\n"
