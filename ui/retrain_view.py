"""Page 3 while and after a run trains: live progress with W2, Stop (keep or discard), the session's runs compared.

``live_section`` draws ``progress_fragment`` every ``POLL_SECONDS`` while this
session's job is queued or running; the fragment names the phase (teacher,
distillation, scoring) and shows the loss and, beside it, the one-step W2 the run's
``retrain_job.Tracker`` measured at each snapshot (the loss compares the model with
its own EMA copy, so it is not a quality score; W2 is).  When the run ends, one full
rerun makes its model this session's model, and the same curves stay on screen
while that model and its dataset are the ones in view.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cmcore import datasets, jobs, retrain_job, zoo
from cmcore.config import ConsistencyConfig, to_dict
from ui import compute, models, retrain_costs, runs
from viz import charts, compare_charts, glossary, names
from viz.words import claims as claim_words
from viz.words.english import plural
from viz.words.loss import run_loss_story

POLL_SECONDS = 1.0  # how often the progress fragment redraws (each redraw costs the trainer ~0.1 s of CPU)
RATE_AFTER_STEPS = 5  # steps of a phase before its rate and time left are shown (the first include warm-up)
LIVE_LOSS_POINTS = 400  # points of the live loss curve
STOP_KEY, KEEP_KEY = "retrain_stop", "retrain_keep"
_HANDLED = "_retrain_handled"  # serial of the finished job already made the session's model
_NOTE = "_retrain_note"  # a one-off message for the next full run
_SHOWN_WITH = "_retrain_shown_with"  # {message: (dataset, model) in view when it was first shown}
PHASE_WORDS = {"teacher": "Training the teacher", "distillation": "Distilling the teacher",
               "training": "Consistency training"}
TRACK_NAME = "this run: one-step W2"
WHO_GOES_FIRST = ("the run estimated shortest first, so a class's quick retrains never wait long behind a long "
                  "one; a long run pauses for them and resumes where it stopped, and a run that has waited as long "
                  "as its own estimate goes before any new one.")


def cost_section(teacher_name: str, cfg: ConsistencyConfig, dataset: str) -> str | None:
    """Before anything is queued: the run's estimated time on this server, where it would go in the queue and the
    host's limits as time.  Returns why this server will not start it now (None: it may)."""
    parts = retrain_costs.phases(teacher_name, cfg, dataset, not models.has_teacher(zoo.recipe(teacher_name, dataset).teacher))
    est = retrain_costs.COSTS.estimate(parts)
    ahead, ahead_s, pauses = runs.manager().outlook(est.seconds)
    d, host = retrain_costs.duration, retrain_costs.HOST
    rate, note = retrain_costs.basis(est)
    st.caption(f":material/timer: **Estimated time on this server: about {d(est.seconds)}** ({est.steps:,} steps at "
               f"{rate}, plus about {d(retrain_costs.COSTS.overhead_s)} to start and score). "
               f"{retrain_costs.outlook_words(ahead, ahead_s, pauses)}{note}")
    largest = retrain_costs.largest(teacher_name, cfg, dataset)
    st.caption(f"This server's limits: {host.max_steps:,} steps and batch {host.max_batch:,} per run (the largest "
               f"run would take about {d(largest.seconds)} here), at most {d(host.max_run_minutes * 60)} of training "
               f"per run, and "
               f"{d(retrain_costs.BUDGET.budget_s)} of training per session per hour (about "
               f"{d(retrain_costs.BUDGET.left(runs.watcher_id()))} left to you).")
    return retrain_costs.refusal(parts, est, runs.watcher_id())


def progress_text(p: jobs.Progress) -> str:
    """The progress bar's line: the phase, its steps, its measured rate and time left, what comes after."""
    if p.state == jobs.QUEUED:
        return f"Waiting in the queue: place {p.queue_position}"
    if p.stopping:
        return f"Stopping after step {p.step:,} …"
    if p.paused:
        return f"Paused at step {p.step:,} of {p.total:,} for shorter runs"
    if not p.total:
        return "Starting …"
    if p.phase == jobs.SCORING:
        return f"Scoring: measuring W2 of the new model (protocol, {compute.STANDARD.describe()}) …"
    head = f"{PHASE_WORDS.get(p.phase, p.phase.capitalize())}: step {p.phase_step:,} of {p.phase_total:,}"
    then = "".join(f", then {steps:,} {name} steps" for name, steps in p.later)
    if p.phase_step < RATE_AFTER_STEPS or not p.rate:
        return f"{head} · measuring speed …{then}"
    rate = f"{p.rate:,.0f}" if p.rate >= 10 else f"{p.rate:.1f}"
    return f"{head} · {rate} steps/s · about {runs.elapsed_label(p.eta)} left in this phase{then}"


def loss_frame(p: jobs.Progress, teacher_steps: int = 0, teacher: bool = False,
               max_points: int | None = None) -> pd.DataFrame:
    """The loss of one phase: the teacher's (``teacher``) or the consistency model's, counted from its own step 1."""
    df = pd.DataFrame({"step": p.loss_steps, "loss": p.losses})
    if teacher_steps:
        df = (df[df.step <= teacher_steps] if teacher
              else df[df.step > teacher_steps].assign(step=lambda d: d.step - teacher_steps))
    if max_points is not None:  # the live chart stays cheap to redraw
        df = df.iloc[charts.evenly_spaced(len(df), max_points)]
    return df


def track_frame(tracker: retrain_job.Tracker) -> pd.DataFrame:
    return pd.DataFrame([{"run": TRACK_NAME, "step": pt.step, "w2": pt.score.mean, "sem": pt.score.sem}
                         for pt in tracker.points])


def settings_summary(teacher: str, cfg: ConsistencyConfig) -> str:
    return claim_words.settings_summary(to_dict(cfg), to_dict(zoo.DEFAULT.consistency), teacher == "lesson")


def curves(p: jobs.Progress, tracker: retrain_job.Tracker, live: bool) -> None:
    """The run's loss, its one-step W2 against step and its latest samples: while it trains and once it ended."""
    teaching = p.active and p.phase == "teacher"
    suffix = "live" if live else "done"
    df = loss_frame(p, tracker.teacher_steps, teaching, LIVE_LOSS_POINTS if live else None)
    cols = st.columns(3, gap="medium")
    with cols[0]:
        st.markdown("**The teacher's loss**" if teaching else "**Consistency loss** (not a score)")
        if len(df) > 1:
            st.vega_lite_chart(charts.to_spec(charts.loss_curve(df, "teacher" if teaching else "consistency")),
                               key=f"retrain_loss_{suffix}", width="stretch")  # new every second: not cached
        else:
            st.caption("The loss curve (log scale) appears after the first steps.")
    with cols[1]:
        st.markdown("**One-step W2 while training** (the score)")
        if teaching:
            st.caption("The teacher trains first. W2 of the consistency model's one-step samples is measured once "
                       "distillation starts.")
        elif tracker.points:
            floor = compute.floor_score(tracker.dataset, retrain_job.TRACK_SPEC)
            st.vega_lite_chart(compute.chart_spec(compare_charts.track_chart, track_frame(tracker), [TRACK_NAME],
                                                  [charts.PALETTE["consistency"]], floor.mean, floor.sem),
                               key=f"retrain_w2_{suffix}", width="stretch")
            last = tracker.points[-1]
            st.caption(f"At step {last.step:,}: W2 {last.score} on {retrain_job.TRACK_SPEC.describe()} "
                       f"({glossary.floor_words(retrain_job.TRACK_SPEC.n)}: {floor}).")
        else:
            st.caption(f"W2 of the one-step samples appears at step {retrain_job.snapshot_every(tracker.cfg.steps):,}.")
    with cols[2]:
        if p.samples is not None and not teaching:
            panel = charts.Panel(f"One-step samples at step {p.samples_step - tracker.teacher_steps:,}", p.samples,
                                 "consistency", subtitle=f"f(z, T) on the same {len(p.samples):,} noise points")
            st.vega_lite_chart(compute.chart_spec(charts.panel_spec, panel, 220), key=f"retrain_preview_{suffix}",
                               width="content")
    if not teaching and len(df) > 1:
        st.caption(run_loss_story(df.step.to_numpy(), df.loss.to_numpy()))


@st.fragment(run_every=POLL_SECONDS)
def progress_fragment() -> None:
    """Redrawn every POLL_SECONDS while this session's job is queued or running."""
    job = runs.current_job()
    if job is None or not job.progress().active:  # stopped (see _stop) or ended: the page shows the outcome
        st.rerun(scope="app")  # in a full run (with the new model, if any)
    job.touch(runs.watcher_id())
    p, tracker = job.progress(), job.info
    with st.container(border=True):
        st.markdown(f"**:material/model_training: Retraining** {names.run_name(tracker.teacher, tracker.cfg)} "
                    f"on {datasets.noun(tracker.dataset)}")
        if tracker.teacher_steps:
            st.caption(f"No teacher existed for these points, so this run trains one first ({tracker.teacher_steps:,} "
                       f"steps), then distils it ({tracker.cfg.steps:,} steps), then scores the new model.")
        b = st.columns([1, 1, 2])
        b[0].button("Stop, keep the model so far", key=KEEP_KEY, icon=":material/save:", on_click=_stop,
                    args=(job, True), disabled=p.stopping or tracker.latest is None,
                    help="Keeps the model at its last snapshot (step shown in the W2 chart)."
                    if tracker.latest is not None else "No snapshot yet: wait for the first W2 point.")
        b[1].button("Stop and discard", key=STOP_KEY, icon=":material/stop_circle:", on_click=_stop,
                    args=(job, False), disabled=p.stopping)
        st.progress(p.fraction, text=progress_text(p))
        if p.state == jobs.QUEUED or p.paused:
            trainers = retrain_costs.HOST.trainers
            st.info(f"{retrain_costs.waiting_words(p)} This server trains {trainers} model{'s' if trainers > 1 else ''} "
                    f"at a time, {WHO_GOES_FIRST} You can keep exploring meanwhile.", icon=":material/hourglass_top:")
            if p.state == jobs.QUEUED:
                return
        if p.watchers > 1:
            st.caption(f"{p.watchers - 1} other session(s) asked for the same settings and watch this same run.")
        curves(p, tracker, live=True)


def _applies(message: str) -> bool:
    """True while the dataset and model in view are those that were in view when ``message`` was first shown:
    a message about a run goes away when either changes."""
    sel = models.current()
    here = (sel.dataset, sel.model_id)
    return st.session_state.setdefault(_SHOWN_WITH, {}).setdefault(message, here) == here


def _stop(job: jobs.Job, keep: bool) -> None:
    """The Stop buttons' callback.

    A callback runs before the fragment's next run starts, so the click takes effect even
    when the fragment's one-second redraw interrupts the run that carries it (a busy server).
    The fragment sees the job end and reruns the whole page, which shows the note.
    """
    step, where = job.progress().step, datasets.noun(job.info.dataset)
    kept = runs.stop(job, keep=keep)
    others = job.progress().watchers
    if kept:
        models.choose(kept)
        st.session_state[_NOTE] = (f"Stopped the retrain on {where}; its model at step {kept.rsplit('-s', 1)[1]} was "
                                   "kept and is now shown.")
    elif others:
        st.session_state[_NOTE] = (f"You stopped following the retrain on {where}; it continues for the {others} "
                                   f"other session{'s' if others != 1 else ''} that asked for the same settings.")
    else:
        st.session_state[_NOTE] = f"Stopped the retrain on {where} after step {step:,}; the run was discarded."


def start(teacher_name: str, cfg, dataset: str) -> None:
    """Queue a run on ``dataset``; with no teacher for it yet (an upload), the run trains the teacher first."""
    st.session_state.pop(_NOTE, None)
    teacher_cfg = zoo.recipe(teacher_name, dataset).teacher
    runs.start(teacher_name, cfg, models.teacher(teacher_cfg) if models.has_teacher(teacher_cfg) else None, dataset)


def live_section() -> None:
    """The state of this session's retrain: live progress, or what the finished run left behind (only while
    the dataset and model it is about are the ones in view)."""
    note = st.session_state.get(_NOTE)  # kept until the next Retrain
    if note and _applies(note):
        st.info(note, icon=":material/info:")
    job = runs.current_job()
    if job is None:
        return
    p = job.progress()
    if p.active:
        progress_fragment()
        return
    tracker: retrain_job.Tracker = job.info
    where = datasets.noun(tracker.dataset)
    if p.state == jobs.DONE:
        mid = runs.model_id(tracker.teacher, tracker.cfg, dataset=tracker.dataset)
        if st.session_state.get(_HANDLED) != job.serial:
            st.session_state[_HANDLED] = job.serial
            runs.remember(mid)
            models.choose(mid)
            st.rerun()  # redraw the sidebar and panels with the new model
        if models.current().model_id != mid:  # another dataset or model is in view: this is not about it
            return
        steps = (f"{tracker.teacher_steps:,} teacher steps, then {tracker.cfg.steps:,} distillation steps"
                 if tracker.teacher_steps else plural(tracker.cfg.steps))
        paused = f", {runs.elapsed_label(p.paused_s)} of it paused for shorter runs" if p.paused_s >= 1 else ""
        st.success(f"Retrained on {where}: {steps}, final loss {p.losses[-1]:.2e}. It is the "
                   f"model every page shows now, and the sidebar lists it under {datasets.label(tracker.dataset)} "
                   f"with this session's other runs. (It took {runs.elapsed_label(p.elapsed)} of wall-clock time"
                   f"{paused}, which depends on the server's load.)", icon=":material/check_circle:")
        curves(p, tracker, live=False)
        return
    message = (f"The retrain on {where} was stopped after step {p.step:,} of {p.total or tracker.cfg.steps:,} and "
               "discarded." if p.state == jobs.CANCELLED else
               f"The retrain on {where} failed and produced no model: {p.error}")
    if _applies(message):
        (st.info if p.state == jobs.CANCELLED else st.error)(
            message, icon=":material/stop_circle:" if p.state == jobs.CANCELLED else ":material/error:")


def runs_table() -> None:
    """This session's runs side by side: what differs, the steps trained, W2 at 1/2/4 steps (standard spec)."""
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
                         "steps trained": f"{r.steps_done:,} of {r.cfg.steps:,}",
                         **{f"W2, {k} step{'s' if k > 1 else ''}": str(compute.cm_score(sel, k)) for k in (1, 2, 4)}})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(f"W2 as mean ± standard error over {compute.STANDARD.describe()}; floor "
               f"{compute.floor_score(dataset)}. Runs on {datasets.noun(dataset)} only. Training time is not "
               "compared: it depends on how busy the server was, not on the settings. Pick any run in the sidebar "
               "to see it on every page.")
