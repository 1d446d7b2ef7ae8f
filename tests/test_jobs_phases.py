"""Job progress by phase (teacher, distillation, scoring): step rate and time left measured per phase, smoothed.

The work's own clock is the ``elapsed`` of each step report, so these reports are the fake clock: every number
below is exact, whatever the machine's speed.
"""
from __future__ import annotations

import pytest

from cmcore import jobs
from cmcore.train import StepInfo

PHASES = (("teacher", 100), ("distillation", 50))


def job(phases=PHASES) -> jobs.Job:
    j = jobs.Job("k", fn=lambda on_step, cancel: None, preview=None, serial=1, phases=phases)
    j.mark_running()
    return j


def feed(j: jobs.Job, durations: list[float], start_step: int = 0, start_elapsed: float = 0.0, total: int = 150):
    """Report one step per duration (seconds on the work's clock); returns (step, elapsed) after the last."""
    step, elapsed = start_step, start_elapsed
    for d in durations:
        step, elapsed = step + 1, elapsed + d
        j.report(StepInfo(step, total, loss=1.0, elapsed=elapsed))
    return step, elapsed


def test_progress_names_the_phase_and_its_own_steps():
    j = job()
    step, t = feed(j, [0.1] * 60)  # the teacher at 10 steps/s
    p = j.progress()
    assert (p.phase, p.phase_step, p.phase_total, p.later) == ("teacher", 60, 100, (("distillation", 50),))
    assert p.rate == pytest.approx(10.0) and p.eta == pytest.approx(4.0)  # 40 teacher steps left
    step, t = feed(j, [0.1] * 40 + [0.5] * 10, step, t)  # distillation steps cost 5 times more
    p = j.progress()
    assert (p.phase, p.phase_step, p.phase_total, p.later) == ("distillation", 10, 50, ())
    assert p.rate == pytest.approx(2.0) and p.eta == pytest.approx(20.0)  # measured on distillation steps alone
    feed(j, [0.5] * 40, step, t)
    p = j.progress()  # every step done, the work still runs: it scores the model
    assert (p.phase, p.rate, p.eta) == (jobs.SCORING, None, None)


def test_the_time_left_follows_a_change_of_load_without_jumping():
    j = job((("distillation", 10_000),))
    step, t = feed(j, [0.1] * 600, total=10_000)  # 60 s at 10 steps/s
    before = j.progress().rate
    feed(j, [0.2] * 15, step, t, total=10_000)  # then the server gets busy: 5 steps/s for 3 s
    after = j.progress().rate
    assert before == pytest.approx(10.0)
    assert 9.0 < after < 10.0  # moved toward the new rate, by about 1 - exp(-3 / RATE_TAU_S)


def test_the_estimate_does_not_swing_with_bursty_steps():
    """Steps alternate between fast and slow seconds (20 and 5 steps/s): the time left must not jump around."""
    j = job((("distillation", 5_000),))
    step, t, etas = 0, 0.0, []
    for _ in range(60):
        for d in ([0.05] * 20, [0.2] * 5):
            step, t = feed(j, d, step, t, total=5_000)
            etas.append(j.progress().eta)
    late = etas[10:]
    rises = [b / a - 1 for a, b in zip(late, late[1:])]
    assert max(rises) < 0.05, max(rises)  # each second's new estimate is within 5 % of the last one


def test_a_job_without_phases_is_one_training_phase():
    j = job(())
    feed(j, [0.5], total=4)
    p = j.progress()
    assert (p.phase, p.phase_step, p.phase_total, p.later) == (jobs.TRAINING, 1, 4, ())
    assert p.rate == pytest.approx(2.0) and p.eta == pytest.approx(1.5)


def test_a_phase_needs_steps():
    with pytest.raises(ValueError, match="at least one step"):
        job((("teacher", 0),))
