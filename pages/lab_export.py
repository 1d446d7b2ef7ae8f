"""Lab: take things away (samples and trajectories as CSV, models as checkpoint files, charts as PNG/SVG, the
view as a link) and bring a model back in through an upload."""
import streamlit as st

from ui import compute, export, models, params, studies
from ui.params import Param, Spec, bind, restore_empty, sync
from viz import charts
from viz.charts import Panel

SAMPLERS = {"consistency": "Consistency model", "teacher": "Teacher (Euler ODE)"}
spec = bind(Spec("lab_export", [
    Param("ex_sampler", "consistency", "choice", choices=tuple(SAMPLERS)), Param("ex_steps", 1, lo=1, hi=100),
    Param("ex_n", 1000, "choice", choices=(500, 1000, 2000)), Param("ex_seed", 0, lo=0, hi=9999),
    Param("ex_paths", 32, lo=1, hi=500)]))
restore_empty(spec)  # a segmented control clicked twice is empty: fall back to its default

st.title("Export")
sel = models.current()
st.markdown(f"Take the numbers, the models and the pictures with you. Everything here is for the models "
            f"chosen in the sidebar: **{sel.label}**.")

st.markdown("#### Samples as CSV")
c = st.columns([2, 1, 2, 1])
params.segmented(spec, "ex_sampler", "Sampler", c[0], format_func=SAMPLERS.get)
params.number(spec, "ex_steps", "Steps", c[1])
params.segmented(spec, "ex_n", "Points", c[2])
params.number(spec, "ex_seed", "Noise seed", c[3])
sampler, steps, n, seed = (st.session_state[k] for k in ("ex_sampler", "ex_steps", "ex_n", "ex_seed"))
if sampler == "consistency":
    samples = compute.cm_points(sel, steps, n, seed)
else:
    samples = compute.teacher_points(sel.teacher_cfg, steps, n, seed)
role = "consistency" if sampler == "consistency" else "teacher_one" if steps == 1 else "teacher"
name = f"{sampler}-{steps}step-{n}pts-seed{seed}"
chart = compute.chart_spec(charts.scatter_panels, [Panel(f"{SAMPLERS[sampler]}, {steps} step{'s' * (steps > 1)}",
                                                    samples, role, f"{n:,} points, noise seed {seed}")],
                           size=260)
st.vega_lite_chart(chart, width="content")
c = st.columns(3)
with c[0]:
    export.csv_button("Samples (CSV)", lambda: export.points_csv(samples, sampler=sampler, steps=steps),
                      f"{name}.csv", "ex_csv")
paths = st.session_state["ex_paths"]  # read now: a deferred download runs later, outside this session's run
with c[1]:
    export.csv_button(f"Teacher paths (CSV, {paths})",
                      lambda: export.trajectories_csv(*studies.selection_paths(sel.teacher_cfg, paths, seed)),
                      f"teacher-paths-seed{seed}.csv", "ex_paths_csv")
params.number(spec, "ex_paths", "Paths in the CSV", c[2])
st.caption(f"Samples: one row per point (x, y). Paths: the teacher's {studies.TRAJECTORY_STEPS}-step Euler ODE "
           "from the same noise seed, one row per path and step (path, step, t, x, y), t from 1 (noise) to 0.")

st.markdown("#### Charts as PNG and SVG")
export.chart_buttons(chart, name, "ex_chart")
st.caption("Every chart in the app also has a toolbar (hover over it, top right) with **Download as PNG**; "
           "that toolbar has no SVG, so the buttons above render either format on the server, from the very "
           "chart the browser draws.")

st.markdown("#### Models as checkpoint files")
teacher, cm = models.teacher(sel.teacher_cfg), models.consistency(sel)
c = st.columns(2)
c[0].download_button("Teacher (.safetensors)", lambda: export.checkpoint_bytes("teacher", teacher, sel.teacher_cfg),
                     export.checkpoint_name("teacher", sel.teacher_cfg), "application/octet-stream",
                     key="ex_teacher", icon=":material/download:", on_click="ignore")
c[1].download_button("Consistency model (.safetensors)",
                     lambda: export.checkpoint_bytes("consistency", cm, sel.cm_cfg, sel.teacher_cfg),
                     export.checkpoint_name("consistency", sel.cm_cfg, sel.teacher_cfg), "application/octet-stream",
                     key="ex_cm", icon=":material/download:", on_click="ignore")
st.caption("The file format of the shipped checkpoints (safetensors: raw tensors plus the configs as JSON; "
           "no code inside). The upload below reads it back.")

st.markdown("#### Load a model back")
upload = st.file_uploader("A checkpoint file (.safetensors)", type=["safetensors"],
                          max_upload_size=export.MAX_UPLOAD_MB, key="ex_upload")
if upload is not None:
    try:
        view = studies.upload_preview(upload.getvalue(), upload.name)
    except export.UploadError as exc:
        st.error(str(exc), icon=":material/block:")
    else:
        st.success(f"Loaded a **{view.kind}** model from {upload.name}.", icon=":material/check_circle:")
        st.caption(view.summary)
        st.vega_lite_chart(compute.chart_spec(charts.scatter_panels, [Panel(
            f"Uploaded {view.kind}: {view.sampler}", view.points, view.kind, f"W2 {view.score}")], size=260),
            width="content")
        st.markdown(f"W2 ({view.sampler}, {studies.PREVIEW_SPEC.describe()}): **{view.score}**, against a floor of "
                    f"{view.floor} for two real samples of {studies.PREVIEW_SPEC.n:,} points.")

st.markdown("#### This view as a link")
sync(spec)
export.link_box()
