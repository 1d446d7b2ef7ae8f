"""Page 3 while and after a run trains: live progress with W2, Stop (keep or discard), the session's runs compared.

``live_section`` draws ``progress_fragment`` every ``POLL_SECONDS`` while this
session's job is queued or running; the fragment shows the loss and, beside it,
the one-step W2 the run's ``retrain_job.Tracker`` measured at each snapshot (the loss
compares the model with its own EMA copy, so it is not a quality score; W2 is).
When the run ends, one full rerun makes its model this session's model.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cmcore import datasets, jobs, retrain_job, zoo
from cmcore.config import ConsistencyConfig, to_dict
from ui import compute, models, runs
from viz import charts, words

POLL_SECONDS = 1.0  # how often the progress fragment redraws (each redraw costs the trainer ~0.1 s of CPU)
RATE_AFTER_STEPS = 5  # steps before a rate and time left are shown (the first steps include warm-up)
LIVE_LOSS_POINTS = 400  # points of the live loss curve
STOP_KEY, KEEP_KEY = "retrain_stop", "retrain_keep"
_HANDLED = "_retrain_handled"  # serial of the finished job already made the session's model
_NOTE = "_retrain_note"  # a one-off message for the next full run


def progress_text(p: jobs.Progress) -> str:
    if p.state == jobs.QUEUED:
        return f"Waiting in the queue: place {p.queue_position}"
    if p.stopping:
        return f"Stopping after step {p.step:,} …"
    if not p.total:
        return "Starting …"
    if p.step >= p.total:
        return f"Trained {p.total:,} steps · measuring W2 of the new model (protocol, {compute.STANDARD.describe()}) …"
    if p.step < RATE_AFTER_STEPS or not p.rate:
        return f"Step {p.step:,} of {p.total:,} · measuring speed …"
    rate = f"{p.rate:,.0f}" if p.rate >= 10 else f"{p.rate:.1f}"
    return f"Step {p.step:,} of {p.total:,} · {rate} steps/s · about {runs.elapsed_label(p.eta)} left"


def loss_frame(p: jobs.Progress, max_points: int | None = None) -> pd.DataFrame:
    df = pd.DataFrame({"step": p.loss_steps, "loss": p.losses})
    if max_points is not None:  # the live chart stays cheap to redraw
        df = df.iloc[charts.evenly_spaced(len(df), max_points)]
    return df


def track_frame(tracker: retrain_job.Tracker) -> pd.DataFrame:
    return pd.DataFrame([{"nfe": pt.step, "w2": pt.score.mean, "sem": pt.score.sem, "model": "consistency model"}
                         for pt in tracker.points])


def settings_summary(teacher: str, cfg: ConsistencyConfig) -> str:
    return words.settings_summary(to_dict(cfg), to_dict(zoo.DEFAULT.consistency), teacher == "lesson")


@st.fragment(run_every=POLL_SECONDS)
def progress_fragment() -> None:
    """Redrawn every POLL_SECONDS while this session's job is queued or running."""
    job = runs.current_job()
    if job is None or not job.progress().active:  # stopped (see _stop) or ended: the page shows the outcome
        st.rerun(scope="app")  # in a full run (with the new model, if any)
    job.touch(runs.watcher_id())
    p, tracker = job.progress(), job.info
    with st.container(border=True):
        st.markdown(f"**:material/model_training: Retraining** on {datasets.noun(tracker.dataset)} · "
                    f"{settings_summary(tracker.teacher, tracker.cfg)}")
        if tracker.teacher_steps:
            stage = ("training the teacher" if p.step <= tracker.teacher_steps else "distilling the teacher")
            st.caption(f"No teacher existed for these points, so this run trains one first ({tracker.teacher_steps:,} "
                       f"steps), then distils it ({tracker.cfg.steps:,} steps): now {stage}.")
        b = st.columns([1, 1, 2])
        b[0].button("Stop, keep the model so far", key=KEEP_KEY, icon=":material/save:", on_click=_stop,
                    args=(job, True), disabled=p.stopping or tracker.latest is None,
                    help="Keeps the model at its last snapshot (step shown in the W2 chart)."
                    if tracker.latest is not None else "No snapshot yet: wait for the first W2 point.")
        b[1].button("Stop and discard", key=STOP_KEY, icon=":material/stop_circle:", on_click=_stop,
                    args=(job, False), disabled=p.stopping)
        st.progress(p.fraction, text=progress_text(p))
        if p.state == jobs.QUEUED:
            st.info(f"Another retrain is using the trainer (this server trains {runs.MAX_RUNNING} model at a time). "
                    f"Yours is number {p.queue_position} in the queue and starts by itself; you can keep "
                    "exploring meanwhile.", icon=":material/hourglass_top:")
            return
        if p.watchers > 1:
            st.caption(f"{p.watchers - 1} other session(s) asked for the same settings and watch this same run.")
        cols = st.columns(3, gap="medium")
        with cols[0]:
            if len(p.losses) > 1:
                st.vega_lite_chart(charts.to_spec(charts.loss_curve(loss_frame(p, LIVE_LOSS_POINTS))),  # new every
                                   key="retrain_loss_live", width="stretch")  # second: not cached
            else:
                st.caption("The loss curve (log scale) appears after the first steps.")
        with cols[1]:
            if tracker.points:
                floor = compute.floor_score(tracker.dataset, retrain_job.TRACK_SPEC)
                st.vega_lite_chart(compute.chart_spec("w2_vs_nfe", track_frame(tracker), floor.mean, floor.sem,
                                                      title="One-step W2 while training (x: step)"),
                                   key="retrain_w2_live", width="stretch")
                last = tracker.points[-1]
                st.caption(f"At step {last.step:,}: W2 {last.score} on {retrain_job.TRACK_SPEC.describe()} "
                           f"(floor {floor}).")
            else:
                st.caption(f"W2 of the one-step samples appears at step {retrain_job.snapshot_every(tracker.cfg.steps):,}.")
        with cols[2]:
            if p.samples is not None:
                panel = charts.Panel(f"One-step samples at step {p.samples_step:,}", p.samples, "consistency",
                                     subtitle=f"f(z, T) on the same {len(p.samples):,} noise points")
                st.vega_lite_chart(compute.chart_spec("panel_spec", panel, 220), key="retrain_preview_live",
                                   width="content")


def _stop(job: jobs.Job, keep: bool) -> None:
    """The Stop buttons' callback.

    A callback runs before the fragment's next run starts, so the click takes effect even
    when the fragment's one-second redraw interrupts the run that carries it (a busy server).
    The fragment sees the job end and reruns the whole page, which shows the note.
    """
    step = job.progress().step
    kept = runs.stop(job, keep=keep)
    others = job.progress().watchers
    if kept:
        models.choose(kept)
        st.session_state[_NOTE] = f"Stopped; the model at step {kept.rsplit('-s', 1)[1]} was kept and is now shown."
    elif others:
        st.session_state[_NOTE] = (f"You stopped following the run; it continues for the {others} other "
                                   f"session{'s' if others != 1 else ''} that asked for the same settings.")
    else:
        st.session_state[_NOTE] = f"Stopped after step {step:,}; the run was discarded."


def start(teacher_name: str, cfg, dataset: str) -> None:
    """Queue a run on ``dataset``; with no teacher for it yet (an upload), the run trains the teacher first."""
    st.session_state.pop(_NOTE, None)
    teacher_cfg = zoo.recipe(teacher_name, dataset).teacher
    runs.start(teacher_name, cfg, models.teacher(teacher_cfg) if models.has_teacher(teacher_cfg) else None, dataset)


def live_section() -> None:
    """The state of this session's retrain: live progress, or what the finished run left behind."""
    note = st.session_state.get(_NOTE)  # kept until the next Retrain
    if note:
        st.info(note, icon=":material/info:")
    job = runs.current_job()
    if job is None:
        return
    p = job.progress()
    if p.active:
        progress_fragment()
        return
    tracker: retrain_job.Tracker = job.info
    if p.state == jobs.DONE:
        mid = runs.model_id(tracker.teacher, tracker.cfg, dataset=tracker.dataset)
        if st.session_state.get(_HANDLED) != job.serial:
            st.session_state[_HANDLED] = job.serial
            runs.remember(mid)
            models.choose(mid)
            st.rerun()  # redraw the sidebar and panels with the new model
        st.success(f"Retrained in {runs.elapsed_label(p.elapsed)}: {p.step:,} steps, final loss {p.losses[-1]:.2e}. "
                   "It is in the sidebar's model list with this session's other runs.", icon=":material/check_circle:")
    elif p.state == jobs.CANCELLED:
        st.info(f"Stopped after step {p.step:,} of {p.total or tracker.cfg.steps:,}; the run was discarded.",
                icon=":material/stop_circle:")
    else:
        st.error(f"The retrain failed and produced no model: {p.error}", icon=":material/error:")


def runs_table() -> None:
    """This session's runs side by side: what differs, W2 at 1/2/4 steps (standard spec), training time."""
    dataset = models.current().dataset
    session = [r for r in runs.session_runs() if r.dataset == dataset]
    if not session:
        return
    st.markdown("#### Your runs, compared")
    rows = []
    with st.spinner(f"Scoring {len(session)} run(s) at 1, 2 and 4 steps ({compute.STANDARD.describe()}; once per run) ..."):
        for r in session:
            sel = models.of_run(r)
            rows.append({"run": sel.label, "settings that differ from ours": settings_summary(r.teacher, r.cfg),
                         **{f"W2, {k} step{'s' if k > 1 else ''}": str(compute.cm_score(sel, k)) for k in (1, 2, 4)},
                         "training time": runs.elapsed_label(r.seconds)})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(f"W2 as mean ± standard error over {compute.STANDARD.describe()}; floor "
               f"{compute.floor_score(dataset)}. Runs on {datasets.noun(dataset)} only. Pick any run in the sidebar to see it on "
               "every page.")
