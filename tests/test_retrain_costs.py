"""What page 3 says about a run's cost and its wait (ui/retrain_costs.py): every number in the words is the
one it was given."""
from __future__ import annotations

import dataclasses

import numpy as np

from cmcore import costs, jobs, zoo
from ui import retrain_costs


def progress(**fields) -> jobs.Progress:
    base = jobs.Progress(jobs.RUNNING, 0, 0, np.array([]), np.array([]), 0.0, None, None, None, 0, None, 1, None)
    return dataclasses.replace(base, **fields)


def test_a_paused_run_says_how_many_shorter_runs_it_waits_for_and_for_how_long():
    words = retrain_costs.waiting_words(progress(step=1234, total=20_000, paused=True, ahead=2, ahead_s=75.0))
    assert words.startswith("Paused at step 1,234 while 2 runs estimated shorter train (about 1 min 15 s)")
    queued = retrain_costs.waiting_words(progress(state=jobs.QUEUED, queue_position=3, ahead=3, ahead_s=None))
    assert queued == "Place 3 in the queue, behind 3 runs; it starts by itself."


def test_what_a_run_would_meet_is_said_from_the_managers_outlook():
    assert retrain_costs.outlook_words(0, None, False) == "The trainer is free: it would start at once."
    assert "a longer run in progress pauses for it" in retrain_costs.outlook_words(0, None, True)
    assert retrain_costs.outlook_words(1, 42.0, False) == "It would wait for 1 run ahead of it, about 42 s."


def test_an_upload_run_counts_its_teacher_first():
    cfg = zoo.DEFAULT.consistency
    parts = retrain_costs.phases("ours", cfg, "two_moons", train_teacher=True)
    teacher = zoo.recipe("ours", "two_moons").teacher
    assert parts == (costs.Phase("teacher", teacher.batch, teacher.steps),
                     costs.Phase("distillation-heun", cfg.batch, cfg.steps))
    assert retrain_costs.phases("ours", cfg, "two_moons", train_teacher=False) == parts[1:]


def test_durations_read_at_a_glance():
    assert [retrain_costs.duration(s) for s in (4.4, 75, 3725, 1200, 3600)] == ["4 s", "1 min 15 s", "1 h 02 min",
                                                                                  "20 min", "1 h"]
