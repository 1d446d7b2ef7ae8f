"""Live retraining for page 3: settings form, background job, progress fragment, results, the step's code.

Training never runs in a script run.  ``start`` hands a ``cmcore.jobs`` work
function to the process-wide ``JobManager`` (one per server, in
``st.cache_resource``) and remembers the ``Job`` in this session's state; the
page then draws ``progress_fragment`` every ``POLL_SECONDS`` while the job is
queued or running.  When it finishes, one full rerun makes the new model this
session's model (``ui.models.set_session_model``), which every page then shows.
A session only ever sees the jobs it started or joined, so one person's retrain
never changes what another person sees.
"""
from __future__ import annotations

import html
import inspect
import io
import keyword
import textwrap
import tokenize
import uuid
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
import pandas as pd
import streamlit as st
from torch import nn

from cmcore import consistency, evaluate, flow, jobs, zoo
from viz import charts
from cmcore.config import (LOSSES, LR_SCHEDULES, MODES, RANGES, SCHEDULES, SOLVERS, ConsistencyConfig, TeacherConfig,
                           config_hash)
from cmcore.train import ConsistencyObjective
from ui import compute, models
from ui.params import Param, Spec

POLL_SECONDS = 1.0  # how often the progress fragment redraws (each redraw costs the trainer ~0.1 s of CPU)
RATE_AFTER_STEPS = 5  # steps before a rate and time left are shown (the first steps include warm-up)
LIVE_LOSS_POINTS = 400  # points of the live loss curve (the finished run's curve keeps jobs.MAX_LOSS_POINTS)
MAX_RUNNING = 1  # training jobs at once on this server (2 cores; each job uses 2 torch threads)
WATCHER_LEASE_S = 60.0  # a run nobody has polled for this long (tab closed, no Stop) is cancelled
PREVIEW_POINTS = 1000  # one-step samples redrawn during training: the panel noise, so the last frame is the panel
PANEL_POINTS = 1000  # points per result panel (W2 is measured on exactly these; as page 4 by default)
PANEL_SEED = 0  # evaluation noise/reference seed of the panels
PANEL_SIZE = 190  # px per panel: four fit side by side in the wide layout at 1400 px
CLOSE = evaluate.CLOSE_RATIO  # "as good as": within 10 % of a W2

_JOB = "_retrain_job"  # session_state: the Job this session started or joined
_HANDLED = "_retrain_handled"  # serial of the finished job already made the session's model
_WATCHER = "_retrain_watcher"  # this session's watcher id
_NOTE = "_retrain_note"  # a one-off message for the next full run
STOP_KEY = "retrain_stop"


# --- The job manager ----------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def manager() -> jobs.JobManager:
    """One per server process, shared by every session."""
    return jobs.JobManager(max_running=MAX_RUNNING, lease_s=WATCHER_LEASE_S)


def watcher_id() -> str:
    return st.session_state.setdefault(_WATCHER, uuid.uuid4().hex)


def job_key(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig) -> str:
    """A digest of the (teacher, consistency) config pair's values.

    Values, not the config objects: Streamlit re-imports an edited module while the server
    runs, and an instance of the re-imported class never equals one of the old class.
    """
    return config_hash(teacher_cfg, cfg)


def same_config(a, b) -> bool:
    return a is not None and b is not None and config_hash(a) == config_hash(b)


def finished_model(teacher_cfg: TeacherConfig, cfg: ConsistencyConfig) -> nn.Module:
    """The model a finished retrain produced in this server process (LookupError if there is none)."""
    try:
        return manager().result(job_key(teacher_cfg, cfg)).model
    except LookupError:
        raise LookupError(
            f"No consistency model with these settings was trained in this server process ({cfg}); "
            "it may have been stopped, or the server restarted. Press Retrain on page 3 to train it.") from None


def current_job() -> jobs.Job | None:
    return st.session_state.get(_JOB)


def busy() -> bool:
    """True while this session's retrain is queued or running."""
    job = current_job()
    return job is not None and job.progress().active


def start(cfg: ConsistencyConfig) -> jobs.Job:
    """Queue a retrain distilled from the shipped default teacher (or join the same one already under way)."""
    teacher_cfg = zoo.DEFAULT.teacher
    fn = jobs.consistency_job(cfg, models.teacher(teacher_cfg), teacher_cfg.dataset)
    noise, _ = evaluate.eval_noise(PANEL_SEED, PREVIEW_POINTS)
    previous = current_job()
    job = manager().submit(job_key(teacher_cfg, cfg), fn, watcher_id(), preview=jobs.one_step_preview(noise),
                           info=cfg)
    if previous is not None and previous is not job and previous.progress().active:
        manager().stop(previous, watcher_id())  # a session follows one run at a time
    st.session_state[_JOB] = job
    return job


def stop(job: jobs.Job) -> bool:
    """This session stops watching ``job``; True if that cancelled it (nobody else was watching)."""
    cancelled = manager().stop(job, watcher_id())
    p = job.progress()
    if not cancelled and p.active:  # others still watch it: this session lets go, the run goes on
        others = p.watchers
        st.session_state.pop(_JOB, None)
        st.session_state[_NOTE] = (f"You stopped following the run; it continues for the {others} other "
                                   f"session{'s' if others != 1 else ''} that started the same settings.")
    return cancelled


# --- The settings form ---------------------------------------------------------------------

_D = ConsistencyConfig()
_LABELS = {
    "distillation": "Distillation", "training": "Training (no teacher)",
    "uniform": "Uniform (lesson)", "karras": "Karras",
    "constant": "Constant (lesson)", "onecycle": "One-cycle",
    "euler": "Euler (lesson)", "heun": "Heun",
    "l2": "Squared L2 (lesson)", "pseudo_huber": "Pseudo-Huber",
}
_FLOAT_FORMAT = "%g"


def _p(key: str, field: str, kind: str, choices: tuple = ()) -> Param:
    lo, hi = RANGES.get(field, (None, None))
    return Param(key, getattr(_D, field), kind, lo, hi, choices, label=field)


# URL name -> ConsistencyConfig field (the Param's label); ranges and choices come from cmcore.config.
SPEC_PARAMS = (
    _p("cd_mode", "mode", "choice", MODES),
    _p("cd_levels", "n_levels", "int"),
    _p("cd_schedule", "schedule", "choice", SCHEDULES),
    _p("cd_rho", "rho", "float"),
    _p("cd_mu", "ema_mu", "float"),
    _p("cd_lr", "lr", "float"),
    _p("cd_lr_schedule", "lr_schedule", "choice", LR_SCHEDULES),
    _p("cd_steps", "steps", "int"),
    _p("cd_batch", "batch", "int"),
    _p("cd_solver", "teacher_solver", "choice", SOLVERS),
    _p("cd_loss", "loss", "choice", LOSSES),
    _p("cd_huber", "huber_c", "float"),
    _p("cd_init", "init_from_teacher", "bool"),
    _p("cd_seed", "seed", "int"),
)
assert {p.label for p in SPEC_PARAMS} <= {f.name for f in fields(ConsistencyConfig)}


def form_config() -> ConsistencyConfig:
    """The config the form's current values describe (not validated)."""
    return ConsistencyConfig(**{p.label: st.session_state.get(p.key, p.default) for p in SPEC_PARAMS})


def _select(col, label: str, key: str, options: tuple, help: str) -> None:
    col.selectbox(label, options, key=key, format_func=lambda v: _LABELS.get(v, v), help=help)


def _number(col, label: str, key: str, help: str, step, fmt: str | None = None) -> None:
    p = next(p for p in SPEC_PARAMS if p.key == key)
    cast = float if p.kind == "float" else int
    col.number_input(label, cast(p.lo), cast(p.hi), step=step, format=fmt, key=key, help=help)


def settings_form() -> bool:
    """Every setting of the distillation in one form; returns True when Retrain was pressed."""
    with st.form("retrain_form", border=True):
        c = st.columns(4, gap="medium")
        c[0].markdown("**What to learn from**")
        _select(c[0], "Mode", "cd_mode", MODES, "Distillation: the teacher takes one ODE step from t_{n+1} to "
                "t_n (Algorithm 2). Training: no teacher; both levels share the same noise (Algorithm 3).")
        _select(c[0], "Teacher solver", "cd_solver", SOLVERS, "The ODE step the teacher takes between "
                "neighbouring levels: Euler (one network call, the lesson) or Heun (two calls, second order).")
        c[0].checkbox("Init from teacher", key="cd_init", help="Initialise the network so that f "
                      "starts as one Euler jump of the teacher. Needs a teacher (distillation mode).")
        _number(c[0], "Seed", "cd_seed", "One seed for the initial weights, data and noise.", 1)
        c[1].markdown("**Noise levels**")
        _number(c[1], "Levels N", "cd_levels", "Discrete levels t_1 < ... < t_N between sigma_min and 1; "
                "the loss compares neighbours t_n and t_{n+1}.", 1)
        _select(c[1], "Spacing", "cd_schedule", SCHEDULES, "Uniform spacing (the lesson) or Karras et al.'s "
                "spacing, which packs levels near the data (t = 0).")
        _number(c[1], "ρ (Karras only)", "cd_rho", "Karras exponent: larger packs more levels near t = 0. "
                "Ignored for uniform spacing.", 0.5, _FLOAT_FORMAT)
        c[2].markdown("**Loss and target**")
        _select(c[2], "Distance", "cd_loss", LOSSES, "How f_θ(x_{t_{n+1}}) and f_θ⁻(x̂_{t_n}) are compared.")
        _number(c[2], "Huber c (pseudo-Huber only)", "cd_huber", "sqrt(|a - b|² + c²) - c: quadratic below c, "
                "linear above.", 0.005, _FLOAT_FORMAT)
        _number(c[2], "EMA μ of the target", "cd_mu", "θ⁻ ← μ θ⁻ + (1 - μ) θ after every step. 0 copies θ; "
                "close to 1 moves the target slowly.", 0.005, _FLOAT_FORMAT)
        c[3].markdown("**Optimiser**")
        _number(c[3], "Learning rate", "cd_lr", "Peak Adam learning rate.", 1e-4, _FLOAT_FORMAT)
        _select(c[3], "Learning-rate schedule", "cd_lr_schedule", LR_SCHEDULES, "Constant, or one-cycle: "
                "warm up for 15 % of the steps, then anneal.")
        _number(c[3], "Steps", "cd_steps", "Optimiser steps.", 100)
        _number(c[3], "Batch", "cd_batch", "Data points per step.", 64)
        return st.form_submit_button("Retrain", type="primary", icon=":material/model_training:")


def validation_error(cfg: ConsistencyConfig) -> str | None:
    """ConsistencyConfig.validate()'s message for settings that cannot be trained, else None."""
    try:
        cfg.validate()
    except ValueError as exc:
        return str(exc)
    return None


# --- Live progress -------------------------------------------------------------------------

def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def progress_text(p: jobs.Progress) -> str:
    if p.state == jobs.QUEUED:
        return f"Waiting in the queue: place {p.queue_position}"
    if p.stopping:
        return f"Stopping after step {p.step:,} …"
    if not p.total:
        return "Starting …"
    if p.step < RATE_AFTER_STEPS or not p.rate:
        return f"Step {p.step:,} of {p.total:,} · measuring speed …"
    rate = f"{p.rate:,.0f}" if p.rate >= 10 else f"{p.rate:.1f}"
    return f"Step {p.step:,} of {p.total:,} · {rate} steps/s · about {duration(p.eta)} left"


def loss_frame(p: jobs.Progress, max_points: int | None = None) -> pd.DataFrame:
    df = pd.DataFrame({"step": p.loss_steps, "loss": p.losses})
    if max_points is not None and len(df) > max_points:  # every k-th point: the live chart stays cheap to redraw
        df = df.iloc[np.linspace(0, len(df) - 1, max_points).round().astype(int)]
    return df


def _cfg_summary(cfg: ConsistencyConfig) -> str:
    return (f"{cfg.mode}, N = {cfg.n_levels} {cfg.schedule} levels, μ = {cfg.ema_mu:g}, lr = {cfg.lr:g} "
            f"({cfg.lr_schedule}), {cfg.steps:,} steps × {cfg.batch}, {cfg.teacher_solver} teacher, {cfg.loss} loss, "
            f"seed {cfg.seed}")


@st.fragment(run_every=POLL_SECONDS)
def progress_fragment() -> None:
    """Redrawn every POLL_SECONDS while this session's job is queued or running."""
    job = current_job()
    if job is None:
        return
    job.touch(watcher_id())
    p = job.progress()
    if not p.active:
        st.rerun(scope="app")  # the page shows the final state (and the new model) in a full run
    with st.container(border=True):
        head, button = st.columns([5, 1], vertical_alignment="center")
        head.markdown(f"**:material/model_training: Retraining** · {_cfg_summary(job.info)}")
        if button.button("Stop", key=STOP_KEY, icon=":material/stop_circle:", disabled=p.stopping,
                         width="stretch"):
            stop(job)
            if current_job() is not job:  # detached from a run others still watch
                st.rerun(scope="app")
            p = job.progress()
        st.progress(p.fraction, text=progress_text(p))
        if p.state == jobs.QUEUED:
            st.info(f"Another retrain is using the trainer (this server trains {MAX_RUNNING} model at a time). "
                    f"Yours is number {p.queue_position} in the queue and starts by itself; you can keep "
                    "exploring meanwhile.", icon=":material/hourglass_top:")
            return
        if p.watchers > 1:
            st.caption(f"{p.watchers - 1} other session(s) asked for the same settings and watch this same run. "
                       "Stop only detaches you while someone else is still watching.")
        left, right = st.columns([3, 2], gap="medium")
        with left:
            if len(p.losses) > 1:
                st.altair_chart(charts.loss_curve(loss_frame(p, LIVE_LOSS_POINTS)), key="retrain_loss_live")
            else:
                st.caption("The loss curve (log scale) appears after the first steps.")
        with right:
            if p.samples is not None:
                panel = charts.Panel(f"One-step samples at step {p.samples_step:,}", p.samples, "consistency",
                                     subtitle=f"f(z, T) on the same {len(p.samples):,} noise points every frame")
                st.altair_chart(charts.scatter_panels([panel], size=260), key="retrain_preview_live")
            else:
                every = jobs.snapshot_every(p.total or job.info.steps)
                st.caption(f"The model's one-step samples appear at step {every:,} and are redrawn every "
                           f"{every:,} steps.")


def live_section() -> None:
    """The state of this session's retrain: live progress, or what the finished run left behind."""
    note = st.session_state.pop(_NOTE, None)
    if note:
        st.info(note, icon=":material/info:")
    job = current_job()
    if job is None:
        return
    p = job.progress()
    if p.active:
        progress_fragment()
        return
    cfg = job.info
    if p.state == jobs.DONE:
        if st.session_state.get(_HANDLED) != job.serial:
            st.session_state[_HANDLED] = job.serial
            models.set_session_model(cfg)
            st.rerun()  # redraw the sidebar and panels with the new model
        shown = same_config(models.session_model(), cfg) and st.query_params.get(models.MODEL_PARAM) == "session"
        where = ("It is now this session's model on every page (sidebar: *Retrained in this session*)." if shown
                 else "Pick *Retrained in this session* in the sidebar to show it.")
        st.success(f"Retrained in {duration(p.elapsed)}: {p.step:,} steps, final loss {p.losses[-1]:.2e}. {where}",
                   icon=":material/check_circle:")
        with st.expander("Loss curve of the finished run"):
            st.altair_chart(charts.loss_curve(loss_frame(p)), key="retrain_loss_final")
    elif p.state == jobs.CANCELLED:
        st.info(f"Stopped after step {p.step:,} of {p.total or cfg.steps:,}. Nothing was kept: the page still shows "
                f"*{models.selection().label}*.", icon=":material/stop_circle:")
    else:
        st.error(f"The retrain failed and produced no model: {p.error}", icon=":material/error:")


# --- Results: four panels with W2 ---------------------------------------------------------------

@dataclass(frozen=True)
class Scores:
    """W2 to real data of the four panels (same noise, same reference sample)."""

    floor: float  # a second real sample: the best any model can reach
    teacher_50: float
    teacher_1: float
    cm_1: float


def result_panels(sel: models.Selection) -> tuple[list[charts.Panel], Scores]:
    dataset = sel.teacher_cfg.dataset
    real = compute.real_data(dataset, PANEL_POINTS, PANEL_SEED)
    t50 = compute.teacher_samples(sel.teacher_cfg, 50, PANEL_POINTS, PANEL_SEED)
    t1 = compute.teacher_samples(sel.teacher_cfg, 1, PANEL_POINTS, PANEL_SEED)
    cm = compute.cm_samples(sel.teacher_cfg, sel.cm_cfg, 1, PANEL_POINTS, PANEL_SEED)
    panels = [
        charts.Panel("Real data", real.points, "real", f"W2 floor {real.w2:.3f} (a second real sample)"),
        charts.Panel("Teacher · 50 Euler steps", t50.points, "teacher", f"W2 {t50.w2:.3f} · 50 evaluations"),
        charts.Panel("Teacher · 1 Euler step", t1.points, "teacher_one", f"W2 {t1.w2:.3f} · 1 evaluation"),
        charts.Panel("Consistency model · 1 step", cm.points, "consistency", f"W2 {cm.w2:.3f} · 1 evaluation"),
    ]
    return panels, Scores(real.w2, t50.w2, t1.w2, cm.w2)


# The predict-first options, each with the test the numbers must pass for it to be right.
PREDICTIONS = (
    "Clearly better: it was trained to land on the endpoint",
    "About the same: same network size, same single evaluation",
    "Worse: it only ever compared neighbouring noise levels",
)


def measured_prediction(s: Scores) -> str:
    if s.cm_1 * CLOSE < s.teacher_1:
        return PREDICTIONS[0]
    if s.cm_1 > s.teacher_1 * CLOSE:
        return PREDICTIONS[2]
    return PREDICTIONS[1]


def _times(a: float, b: float) -> str:
    return f"{a / b:.1f}×"


def what_happened(s: Scores, sel: models.Selection, run: jobs.Progress | None = None,
                  default: Scores | None = None) -> str:
    """A few sentences built only from the numbers on screen (and the settings that produced them)."""
    cfg, lines = sel.cm_cfg, []
    if s.teacher_1 > s.teacher_50:
        lines.append(f"The teacher needs its steps: one Euler step scores W2 {s.teacher_1:.3f}, fifty steps "
                     f"{s.teacher_50:.3f}, so the single step is {_times(s.teacher_1, s.teacher_50)} worse.")
    else:
        lines.append(f"This teacher is no better with fifty Euler steps ({s.teacher_50:.3f}) than with one "
                     f"({s.teacher_1:.3f}), so its trajectories give a student little to learn from.")
    if s.cm_1 * CLOSE < s.teacher_1:
        lines.append(f"With the same single network evaluation, the consistency model scores {s.cm_1:.3f}: "
                     f"{_times(s.teacher_1, s.cm_1)} closer to the data than the teacher's one step.")
    else:
        reasons = []
        if cfg.ema_mu >= 0.99:
            reasons.append(f"with μ = {cfg.ema_mu:g} the target θ⁻ trails θ by about {1 / (1 - cfg.ema_mu):,.0f} "
                           f"steps, a large share of the {cfg.steps:,} steps trained")
        if not cfg.init_from_teacher:
            reasons.append("the network started from random weights")
        if cfg.steps < 500:
            reasons.append(f"{cfg.steps:,} steps is a short run")
        why = f" Settings that may explain it: {'; '.join(reasons)}." if reasons else ""
        lines.append(f"Here the consistency model's one step ({s.cm_1:.3f}) does not beat the teacher's one step "
                     f"({s.teacher_1:.3f}): this model has not learned the jump to the endpoint.{why}")
    if s.cm_1 <= s.teacher_50 * CLOSE:
        lines.append(f"It is within {round((CLOSE - 1) * 100)} % of the 50-step teacher ({s.teacher_50:.3f}) "
                     "while using 1/50 of the network evaluations.")
    else:
        lines.append(f"The 50-step teacher is still {_times(s.cm_1, s.teacher_50)} better ({s.teacher_50:.3f}): one "
                     "jump from pure noise is harder than fifty small steps. Page 4 shows what a few more jumps buy.")
    lines.append(f"For scale, two independent samples of real data are W2 {s.floor:.3f} apart; no model scores "
                 "lower than that.")
    if run is not None and len(run.losses) > 1:
        first, last = float(run.losses[0]), float(run.losses[-1])
        trend = (f"fell from {first:.2e} to {last:.2e}" if last < first else
                 f"rose from {first:.2e} to {last:.2e} (the loss compares the model with its own EMA copy, so "
                 "it is not a score of sample quality; W2 is)")
        lines.append(f"Your retrain took {duration(run.elapsed)} for {run.step:,} steps; its loss {trend}.")
    if default is not None and not same_config(sel.cm_cfg, zoo.DEFAULT.consistency):
        if f"{s.cm_1:.3f}" == f"{default.cm_1:.3f}":
            verdict = f"score the same to three decimals ({s.cm_1:.3f})"
        else:
            verdict = f"score {'better' if s.cm_1 < default.cm_1 else 'worse'} ({s.cm_1:.3f})"
        lines.append(f"Compared with the shipped default settings (one-step W2 {default.cm_1:.3f}), these settings "
                     f"{verdict}.")
    return "\n".join(f"- {line}" for line in lines)


TAKEAWAY = ("Distillation gives the student neither a bigger network nor more compute; it changes the question the "
            "network answers. The teacher learned which way to move at $(x_t, t)$; the consistency model learns where "
            "the whole ODE path ends. Asking only that neighbouring noise levels agree — with a slowly moving EMA "
            "copy as the target so the answer cannot collapse to a constant — is enough to stitch the teacher's "
            "small steps into one long jump.")


def narrative(s: Scores, sel: models.Selection) -> str:
    """``what_happened`` for the shown model, with its retrain (if any) and the shipped default for comparison."""
    default = None
    if not same_config(sel.cm_cfg, zoo.DEFAULT.consistency):
        default = result_panels(models.Selection("ours", zoo.DEFAULT.teacher, zoo.DEFAULT.consistency))[1]
    return what_happened(s, sel, finished_run(sel), default)


def finished_run(sel: models.Selection) -> jobs.Progress | None:
    """Progress of the finished retrain that produced the shown model, if it was retrained here."""
    job = manager().get(job_key(sel.teacher_cfg, sel.cm_cfg))
    return job.progress() if job is not None and job.state == jobs.DONE else None


# --- The training step, as the code that runs -------------------------------------------------

@dataclass(frozen=True)
class ExerciseLine:
    number: int
    title: str  # what the lesson asks the learner to write (trusted HTML: subscripts)
    patterns: tuple[str, ...]  # a source line containing any of these is this exercise


_TN1, _TN = "t<sub>n+1</sub>", "t<sub>n</sub>"
EXERCISES = (
    ExerciseLine(1, f"Noise x₀ up to the higher level: x<sub>{_TN1}</sub> = (1 − {_TN1}) x₀ + {_TN1} ε",
                 ("x_tn1 = interpolate(", "return (1 - t) * x0 + t * eps")),
    ExerciseLine(2, f"The teacher's ODE step from {_TN1} down to {_TN}: x̂<sub>{_TN}</sub>",
                 ("x_hat_tn = ode_step(", "x_euler = x + h * d", "return x + h * 0.5 * (d + model(x_euler, t_next))")),
    ExerciseLine(3, f"The loss d( f<sub>θ</sub>(x<sub>{_TN1}</sub>, {_TN1}), f<sub>θ⁻</sub>(x̂<sub>{_TN}</sub>, {_TN}) )",
                 ("return distance(pred_online, pred_target", "return ((a - b) ** 2).mean()",
                  "return (torch.sqrt(((a - b) ** 2).sum(dim=1) + c * c) - c).mean()")),
    ExerciseLine(4, "The EMA target update θ⁻ ← μ θ⁻ + (1 − μ) θ", ("p_target.lerp_(p_online, 1.0 - mu)",)),
)

# One optimiser step of distillation, in the order it runs (cmcore.train.fit calls loss, backward, Adam, after_step).
STEP_FUNCTIONS = (ConsistencyObjective.loss, consistency.distillation_pair, flow.interpolate, flow.ode_step,
                  consistency.consistency_loss, consistency.distance, ConsistencyObjective.after_step,
                  consistency.ema_update)


@dataclass(frozen=True)
class Source:
    name: str  # e.g. cmcore/consistency.py · distillation_pair
    lines: tuple[str, ...]
    marks: dict  # line index -> exercise number


def step_sources() -> list[Source]:
    out = []
    for fn in STEP_FUNCTIONS:
        lines = tuple(textwrap.dedent(inspect.getsource(fn)).rstrip("\n").split("\n"))
        marks = {i: ex.number for i, line in enumerate(lines) for ex in EXERCISES
                 if any(pat in line for pat in ex.patterns)}
        module = inspect.getmodule(fn).__name__.replace(".", "/") + ".py"
        out.append(Source(f"{module} · {fn.__qualname__}", lines, marks))
    return out


def missing_patterns(sources: list[Source]) -> list[str]:
    """Patterns of EXERCISES that match no line of the step's code (empty when the code view is faithful)."""
    text = [line for s in sources for line in s.lines]
    return [pat for ex in EXERCISES for pat in ex.patterns if not any(pat in line for line in text)]


_TOKEN_CLASS = {tokenize.COMMENT: "c", tokenize.STRING: "s", tokenize.NUMBER: "n"}


def _token_classes(lines: tuple[str, ...]) -> list[list[str | None]]:
    """Per character of each line: a highlight class (keyword, string, comment, number) or None."""
    classes = [[None] * len(line) for line in lines]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    except (tokenize.TokenError, IndentationError):
        return classes
    for tok in tokens:
        cls = _TOKEN_CLASS.get(tok.type)
        if tok.type == tokenize.NAME and keyword.iskeyword(tok.string):
            cls = "k"
        if cls is None:
            continue
        (r0, c0), (r1, c1) = tok.start, tok.end
        for r in range(r0 - 1, r1):
            if r >= len(lines):
                break
            a, b = (c0 if r == r0 - 1 else 0), (c1 if r == r1 - 1 else len(lines[r]))
            for i in range(a, min(b, len(lines[r]))):
                classes[r][i] = cls
    return classes


def _render_line(line: str, classes: list[str | None]) -> str:
    out, i = [], 0
    while i < len(line):
        j = i
        while j < len(line) and classes[j] == classes[i]:
            j += 1
        text = html.escape(line[i:j])
        out.append(f'<span class="{classes[i]}">{text}</span>' if classes[i] else text)
        i = j
    return "".join(out)


_CSS = """
<style>
.cm-step { font-size: 0.92rem; }
.cm-step .legend { display: grid; grid-template-columns: auto 1fr; gap: .35rem .6rem; margin: 0 0 .9rem 0; }
.cm-step .badge { display: inline-flex; align-items: center; justify-content: center; width: 1.35em; height: 1.35em;
  border-radius: 50%; background: #a78bfa; color: #0e1117; font-weight: 700; font-size: .78em;
  font-family: sans-serif; }
.cm-step .src { color: #9ca3af; font-family: monospace; font-size: .8rem; margin: .9rem 0 .2rem 0; }
.cm-step pre { background: #161a24; border: 1px solid #2a2f3d; border-radius: .5rem; padding: .5rem 0;
  margin: 0; overflow-x: auto; line-height: 1.45; }
.cm-step pre .ln { display: block; padding: 0 .9rem 0 .6rem; border-left: 3px solid transparent; white-space: pre;
  color: #e5e7eb; font-family: "Source Code Pro", monospace; font-size: .82rem; }
.cm-step pre .ln.hl { background: rgba(167, 139, 250, .17); border-left-color: #a78bfa; }
.cm-step pre .ln .badge { margin-left: .8rem; vertical-align: middle; }
.cm-step .k { color: #c792ea; } .cm-step .s { color: #a5d6a7; } .cm-step .c { color: #7f8797; font-style: italic; }
.cm-step .n { color: #f78c6c; }
</style>
"""


@lru_cache(maxsize=1)
def step_code_html() -> str:
    """The functions of one distillation step, as they are in cmcore, with the lesson's four lines marked."""
    sources = step_sources()
    parts = [_CSS, '<div class="cm-step"><div class="legend">']
    for ex in EXERCISES:
        parts.append(f'<span class="badge">{ex.number}</span><span>{ex.title}</span>')
    parts.append("</div>")
    for src in sources:
        parts.append(f'<div class="src">{html.escape(src.name)}</div><pre>')
        for i, (line, cls) in enumerate(zip(src.lines, _token_classes(src.lines))):
            mark = src.marks.get(i)
            badge = f'<span class="badge">{mark}</span>' if mark else ""
            parts.append(f'<span class="ln{" hl" if mark else ""}">{_render_line(line, cls) or " "}{badge}</span>')
        parts.append("</pre>")
    parts.append("</div>")
    return "".join(parts)
