"""Training in a child process: reports relayed, errors kept, Stop immediate, same weights as in a thread."""
from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import sys
import time
import types

import pytest
import torch

from cmcore import evaluate, jobs, procjob, retrain_job, zoo
from cmcore.train import StepInfo

GUARD_S = 300  # a bound against a hang on a busy machine, not a speed limit


# Work functions travel to the child by reference, so they live at module level.
def three_steps(on_step, cancel):
    for step in range(1, 4):
        on_step(StepInfo(step, 3, 1.0 / step, 0.1 * step))
    return {"pid": os.getpid(), "answer": 42}


def raises(on_step, cancel):
    on_step(StepInfo(1, 5, 1.0, 0.0))
    raise ValueError("the learning rate is not a number")


def dies(on_step, cancel):
    os._exit(3)


def forever(on_step, cancel):
    step = 0
    while True:
        step += 1
        on_step(StepInfo(step, 10**9, 1.0, 0.0))
        time.sleep(0.05)


@pytest.fixture
def manager():
    m = jobs.JobManager(max_running=1)
    yield m
    m.shutdown()


def test_steps_are_relayed_and_the_result_comes_back_from_another_process(manager):
    job = manager.submit("ok", procjob.in_child(three_steps), watcher="w")
    assert job.wait(GUARD_S)
    p = job.progress()
    assert p.state == jobs.DONE, p.error
    assert p.step == 3 and p.total == 3 and p.losses == pytest.approx([1.0, 0.5, 1 / 3])
    assert job.result["answer"] == 42 and job.result["pid"] != os.getpid()


def test_an_error_in_the_child_fails_the_job_with_its_message_and_frees_the_slot(manager):
    job = manager.submit("bad", procjob.in_child(raises), watcher="w")
    assert job.wait(GUARD_S)
    p = job.progress()
    assert p.state == jobs.FAILED
    assert p.error == "ValueError: the learning rate is not a number"
    nxt = manager.submit("next", procjob.in_child(three_steps), watcher="w")
    assert nxt.wait(GUARD_S) and nxt.state == jobs.DONE


def test_a_child_that_dies_is_reported_with_its_exit_code(manager):
    job = manager.submit("dies", procjob.in_child(dies), watcher="w")
    assert job.wait(GUARD_S)
    assert job.state == jobs.FAILED
    assert "ended without a result (exit code 3)" in job.progress().error


def test_stop_ends_the_child_process_and_keeps_nothing(manager):
    job = manager.submit("long", procjob.in_child(forever), watcher="w")
    deadline = time.monotonic() + GUARD_S
    while job.progress().step < 2:  # wait until the child is really running (spawn imports take a while)
        assert time.monotonic() < deadline and job.progress().active, job.progress()
        job.wait(0.05)
    manager.stop(job, "w")
    assert job.wait(GUARD_S)
    assert job.state == jobs.CANCELLED and job.result is None
    assert not [c for c in mp.active_children() if c.name == "cmcore-train"]


def test_a_retrain_in_a_child_gives_the_weights_of_the_same_retrain_in_a_thread(manager):
    teacher = zoo.load_teacher(zoo.DEFAULT.teacher).model
    cfg = dataclasses.replace(zoo.DEFAULT.consistency, steps=30, batch=64)
    noise, _ = evaluate.eval_noise(0, 100)
    tracker = retrain_job.Tracker("ours", cfg, "two_moons", noise)
    work = retrain_job.RetrainWork(cfg, teacher, "two_moons", noise, score_steps=(1,))
    job = manager.submit("child", procjob.in_child(work), watcher="w", preview=tracker, info=tracker)
    assert job.wait(GUARD_S)
    assert job.state == jobs.DONE, job.progress().error
    in_thread = retrain_job.consistency_job(cfg, teacher, "two_moons")(lambda info: None, lambda: False)
    for a, b in zip(in_thread.model.state_dict().values(), job.result.model.state_dict().values()):
        assert torch.equal(a, b)
    # The server-side tracker holds what the child measured: the latest snapshot and the W2 track.
    assert tracker.latest[0] == cfg.steps and torch.equal(
        next(iter(tracker.latest[1].state_dict().values())), next(iter(job.result.model.state_dict().values())))
    assert tracker.points and tracker.points[-1].step == cfg.steps
    assert job.progress().samples.shape == (100, 2)
    (k, score), = job.result.scores
    assert k == 1 and score.n == evaluate.EvalSpec().n and len(score.values) == len(evaluate.EvalSpec().seeds)


def test_a_child_starts_whatever_file_is_the_parents_main(manager, tmp_path, monkeypatch):
    """A Streamlit script run makes its file the process's ``__main__`` (under AppTest, a generated file that
    fails when run alone); spawn would run it again in the child.  The child must start all the same, and the
    parent's ``__main__`` must be back afterwards."""
    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('the page script ran again in the training child')\n")
    page_main = types.ModuleType("__main__")
    page_main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page_main)
    job = manager.submit("ok", procjob.in_child(three_steps), watcher="w")
    assert job.wait(GUARD_S)
    p = job.progress()
    assert p.state == jobs.DONE, p.error
    assert sys.modules["__main__"] is page_main


def gated(on_step, cancel):
    """Steps until stopped, asking its cancel flag before each step, as the trainer does (the pause point)."""
    step = 0
    while not cancel():
        step += 1
        on_step(StepInfo(step, 10**9, 1.0, 0.01 * step))
        time.sleep(0.02)


def test_a_paused_child_waits_at_a_step_boundary_and_resumes_where_it_stopped(manager):
    job = manager.submit("gated", procjob.in_child(gated), watcher="w")
    deadline = time.monotonic() + GUARD_S
    while job.progress().step < 2:
        assert time.monotonic() < deadline and job.progress().active, job.progress()
        job.wait(0.05)
    job.pause()  # what the manager does for a much shorter run
    still, last, since = False, -1, time.monotonic()
    while not still:  # the child stops sending steps: the step stays put for a second (it sent 50 a second)
        assert time.monotonic() < deadline, "the paused child kept stepping"
        step = job.progress().step
        if step != last:
            last, since = step, time.monotonic()
        still = time.monotonic() - since > 1.0
        job.wait(0.05)
    assert job.progress().paused and job.state == jobs.RUNNING
    job.resume()
    while job.progress().step <= last:  # the same child goes on from the next step
        assert time.monotonic() < deadline, "the child did not resume"
        job.wait(0.05)
    p = job.progress()
    assert len(p.losses) == p.step  # one report per step, numbered on from the pause: not started again
    manager.stop(job, "w")
    assert job.wait(GUARD_S) and job.state == jobs.CANCELLED
