"""What a retrain costs before it starts, and what this server allows: the host's limits, the estimate, the queue.

One per server process (module globals, like the job manager in ``ui.runs``): the host's limits
(``cmcore.config.HostLimits`` from the environment), the step costs this server has measured
(``cmcore.costs.StepCosts``, fed by every run that ends) and each session's training budget.  No Streamlit
calls here: the pages draw what these functions return.
"""
from __future__ import annotations

import dataclasses
import os

from cmcore import costs, jobs, retrain_job, zoo
from cmcore.config import ConsistencyConfig, HostLimits

HOST = HostLimits.from_env(os.environ)  # read once per process: the host sets it before starting the server
COSTS = costs.StepCosts()
BUDGET = costs.SessionBudget(HOST.session_minutes * 60)


def duration(seconds: float) -> str:
    """``"25 s"``, ``"4 min 05 s"``, ``"20 min"``, ``"1 h 02 min"``: a time a person reads at a glance (a
    zero remainder is left out: a limit of 20 minutes reads "20 min", not "20 min 00 s")."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min" + (f" {seconds % 60:02d} s" if seconds % 60 else "")
    return f"{seconds // 3600} h" + (f" {seconds % 3600 // 60:02d} min" if seconds % 3600 // 60 else "")


def phases(teacher: str, cfg: ConsistencyConfig, dataset: str, train_teacher: bool) -> tuple[costs.Phase, ...]:
    """The parts of a run, as the cost model counts them (a teacher first when none exists for the data)."""
    first = ()
    if train_teacher:
        teacher_cfg = zoo.recipe(teacher, dataset).teacher
        first = (costs.Phase("teacher", teacher_cfg.batch, teacher_cfg.steps),)
    return first + (costs.Phase(costs.kind_of(cfg.mode, cfg.teacher_solver), cfg.batch, cfg.steps),)


def estimate(teacher: str, cfg: ConsistencyConfig, dataset: str, train_teacher: bool = False) -> costs.Estimate:
    return COSTS.estimate(phases(teacher, cfg, dataset, train_teacher))


def largest(teacher: str, cfg: ConsistencyConfig, dataset: str) -> costs.Estimate:
    """The estimate of the largest run the limits allow (the form's settings at the most steps and batch)."""
    return estimate(teacher, dataclasses.replace(cfg, steps=HOST.max_steps, batch=HOST.max_batch), dataset)


def refusal(parts: tuple[costs.Phase, ...], est: costs.Estimate, session) -> str | None:
    """Why this server will not start a run of ``parts`` now (its time limit, the session's budget), or None."""
    limit_s = HOST.max_run_minutes * 60
    if est.seconds > limit_s:
        fit = COSTS.max_steps(parts, limit_s)
        return (f"It would train for about {duration(est.seconds)} on this server, and a run may take at most "
                f"{duration(limit_s)} here. At batch {parts[-1].batch:,}, up to about {fit:,} steps fit; a smaller "
                "batch fits more.")
    left = BUDGET.left(session)
    if est.seconds > left:
        wait = BUDGET.frees_in(session, est.seconds)
        when = f"It fits again in about {duration(wait)}" if wait is not None else "It never fits"
        return (f"This session has started {duration(BUDGET.used(session))} of training in the last hour, and a "
                f"session may start {duration(BUDGET.budget_s)} per hour here, so about {duration(left)} is left; "
                f"this run needs about {duration(est.seconds)}. {when}; fewer steps or a smaller batch fit sooner.")
    return None


def charge(session, job: jobs.Job, est: costs.Estimate) -> None:
    """Charge ``session`` for a run it started: the estimate while the run is active, then what it really ran."""
    def cost() -> float:
        ran = job.timing().running_s
        return max(est.seconds, ran) if job.state in jobs.ACTIVE_STATES else ran

    BUDGET.charge(session, cost)


def learn(job: jobs.Job) -> None:
    """The job manager's ``on_settled``: record what each phase of a finished run cost per step."""
    tracker = job.info
    if not isinstance(tracker, retrain_job.Tracker):  # not a retrain (a test's job): nothing to learn
        return
    timing = job.timing()
    teacher_batch = zoo.recipe(tracker.teacher, tracker.dataset).teacher.batch
    counted = [COSTS.record(*(("teacher", teacher_batch) if name == "teacher" else
                              (costs.kind_of(tracker.cfg.mode, tracker.cfg.teacher_solver), tracker.cfg.batch)),
                            steps, seconds) for name, steps, seconds in timing.phases]
    if job.state == jobs.DONE and counted and all(counted):  # every step measured: the rest is the overhead
        COSTS.record_overhead(timing.running_s - sum(seconds for _, _, seconds in timing.phases))


def basis(est: costs.Estimate) -> tuple[str, str]:
    """Where an estimate's step cost comes from: ("8.4 ms a step as this server measured it", a note or "")."""
    per_step = " then ".join(f"{1000 * s:.1f} ms" for s in est.per_step)
    if est.measured:
        return f"{per_step} a step as this server measured it", ""
    return f"{per_step} a step", " This server has not timed such steps yet: the step cost is the development machine's."


def outlook_words(ahead: int, ahead_s: float | None, pauses: bool) -> str:
    """What would happen to a run submitted now: starts at once, pauses a longer one, or waits behind others."""
    if pauses:
        return "It would start at once: a longer run in progress pauses for it."
    if not ahead:
        return "The trainer is free: it would start at once."
    wait = f", about {duration(ahead_s)}" if ahead_s is not None else ""
    return f"It would wait for {ahead} run{'s' if ahead != 1 else ''} ahead of it{wait}."


def waiting_words(p: jobs.Progress) -> str:
    """What a queued or paused run's owner sees: why it waits and for about how long."""
    others = f"{p.ahead} run{'s' if p.ahead != 1 else ''}"
    about = f" (about {duration(p.ahead_s)})" if p.ahead_s is not None else ""
    if p.paused:
        return (f"Paused at step {p.step:,} while {others} estimated shorter train{about}; it resumes by itself "
                "where it stopped.")
    return f"Place {p.queue_position} in the queue, behind {others}{about}; it starts by itself."
