"""JobManager: queueing, joining, watchers, leases, cancel/failure/interrupt, progress.  Fake jobs step only when told to.

Two tests run the dashboard's real training job (cmcore.retrain_job) through the manager.
"""
from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
import torch

from cmcore import retrain_job, zoo
from cmcore.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING
from cmcore.series import window_means
from cmcore.train import Cancelled, StepInfo

SAFETY = 10.0  # seconds; only a guard against a hung test, never part of an assertion


class FakeWork:
    """``fn(on_step, cancel)`` that takes one step each time the test calls ``advance()``."""

    def __init__(self, total: int = 3, result="model", fail_at: int | None = None, snapshot_every: int = 0):
        self.total, self.result, self.fail_at, self.snapshot_every = total, result, fail_at, snapshot_every
        self.calls = 0
        self.started = threading.Event()
        self._gate = threading.Semaphore(0)
        self._ack = threading.Semaphore(0)

    def elapsed(self, step: int) -> float:
        """The seconds a report says the work has run (a fixed 0.5 s a step; a subclass may read a clock)."""
        return 0.5 * step

    def begin(self) -> None:
        """Called once as the work starts (a subclass starts its clock here)."""

    def __call__(self, on_step, cancel):
        self.calls += 1
        self.started.set()
        self.begin()
        for step in range(1, self.total + 1):
            while not self._gate.acquire(timeout=0.005):
                if cancel():
                    raise Cancelled(f"stopped at {step - 1}")
            if cancel():
                raise Cancelled(f"stopped at {step - 1}")
            if step == self.fail_at:
                self._ack.release()
                raise RuntimeError("the fake job broke")
            snap = step if self.snapshot_every and step % self.snapshot_every == 0 else None
            on_step(StepInfo(step, self.total, loss=1.0 / step, elapsed=self.elapsed(step), snapshot=snap))
            self._ack.release()
        return self.result

    def advance(self, n: int = 1) -> None:
        """Let ``n`` steps happen and wait until each has been reported."""
        for _ in range(n):
            self._gate.release()
            assert self._ack.acquire(timeout=SAFETY), "fake job did not step"

    def finish(self, job) -> None:
        self.advance(self.total - job.progress().step)
        assert job.wait(SAFETY)


@pytest.fixture
def manager(make_manager):
    return make_manager(max_running=1)


def started(work: FakeWork) -> bool:
    return work.started.wait(SAFETY)


def test_job_runs_to_done_and_keeps_its_result(manager):
    work = FakeWork(total=3, result="weights")
    job = manager.submit("a", work, watcher="alice")
    assert started(work)
    work.finish(job)
    assert job.state == DONE and job.result == "weights"
    assert manager.result("a") == "weights"
    assert manager.get("a") is job


def test_at_most_max_running_and_fifo_queue_positions(manager):
    works = {k: FakeWork(total=1) for k in "abc"}
    job = {k: manager.submit(k, works[k], watcher="w") for k in "abc"}
    assert started(works["a"])
    assert job["a"].state == RUNNING
    assert [job[k].state for k in "bc"] == [QUEUED, QUEUED]
    assert [manager.queue_position(job[k]) for k in "abc"] == [None, 1, 2]
    assert job["c"].progress().queue_position == 2
    works["a"].finish(job["a"])
    assert started(works["b"])
    assert job["b"].state == RUNNING and manager.queue_position(job["c"]) == 1
    assert not works["c"].started.is_set()
    works["b"].finish(job["b"])
    assert started(works["c"])
    works["c"].finish(job["c"])
    assert [job[k].state for k in "abc"] == [DONE, DONE, DONE]


def test_two_slots_run_two_jobs_at_once(make_manager):
    m = make_manager(max_running=2)
    works = [FakeWork(total=1) for _ in range(3)]
    handles = [m.submit(i, w, watcher="w") for i, w in enumerate(works)]
    assert started(works[0]) and started(works[1])
    assert [h.state for h in handles] == [RUNNING, RUNNING, QUEUED]
    works[1].finish(handles[1])
    assert started(works[2])
    for w, h in zip(works, handles):
        if h.state != DONE:
            w.finish(h)


def test_same_key_joins_the_running_job(manager):
    first, second = FakeWork(total=2, result="one"), FakeWork(total=2, result="two")
    job = manager.submit(("teacher", "cm"), first, watcher="alice", info="alice's settings")
    assert started(first)
    joined = manager.submit(("teacher", "cm"), second, watcher="bob", info="bob's settings")
    assert joined is job and joined.info == "alice's settings"
    assert job.progress().watchers == 2
    first.finish(job)
    assert second.calls == 0 and job.result == "one"


def test_same_key_joins_a_queued_job_and_a_done_job(manager):
    blocker = FakeWork(total=1)
    manager.submit("blocker", blocker, watcher="x")
    work = FakeWork(total=1, result="r")
    queued = manager.submit("k", work, watcher="alice")
    assert manager.submit("k", FakeWork(), watcher="bob") is queued
    blocker.finish(manager.get("blocker"))
    work.finish(queued)
    again = FakeWork()
    assert manager.submit("k", again, watcher="carol") is queued  # already trained: no second run
    assert again.calls == 0


def test_stop_with_two_watchers_only_detaches_until_the_last_one_stops(manager):
    work = FakeWork(total=5)
    job = manager.submit("k", work, watcher="alice")
    manager.submit("k", FakeWork(), watcher="bob")
    assert started(work)
    assert manager.stop(job, "alice") is False
    work.advance(1)  # still running for bob
    assert job.state == RUNNING and not job.progress().stopping
    assert not job.watched_by("alice") and job.watched_by("bob")
    assert manager.stop(job, "bob") is True
    assert job.progress().stopping
    assert job.wait(SAFETY)
    assert job.state == CANCELLED and job.result is None
    with pytest.raises(LookupError):
        manager.result("k")


def test_stop_by_a_stranger_does_not_cancel(manager):
    work = FakeWork(total=2)
    job = manager.submit("k", work, watcher="alice")
    assert started(work)
    assert manager.stop(job, "mallory") is False
    work.finish(job)
    assert job.state == DONE


def test_stopping_a_queued_job_drops_it_from_the_queue_at_once(manager):
    blocker, a, b = FakeWork(total=1), FakeWork(), FakeWork()
    running = manager.submit("blocker", blocker, watcher="x")
    ja, jb = manager.submit("a", a, watcher="alice"), manager.submit("b", b, watcher="bob")
    assert manager.stop(ja, "alice") is True
    assert ja.state == CANCELLED and ja.wait(0)
    assert manager.queue_position(jb) == 1
    blocker.finish(running)
    assert started(b)
    b.finish(jb)
    assert a.calls == 0


def test_cancel_leaves_no_result_even_if_the_work_returns(manager):
    finished_anyway = threading.Event()

    def ignores_cancel(on_step, cancel):
        on_step(StepInfo(1, 1, 0.1, 0.1))
        assert finished_anyway.wait(SAFETY)
        return "complete model"

    job = manager.submit("k", ignores_cancel, watcher="alice")
    assert manager.stop(job, "alice")
    finished_anyway.set()
    assert job.wait(SAFETY)
    assert job.state == CANCELLED and job.result is None
    with pytest.raises(LookupError):
        manager.result("k")


def test_resubmitting_a_cancelled_key_starts_afresh(manager):
    work = FakeWork(total=3)
    job = manager.submit("k", work, watcher="alice")
    assert started(work)
    manager.stop(job, "alice")
    again = FakeWork(total=1, result="second")
    new = manager.submit("k", again, watcher="alice")
    assert new is not job
    assert job.wait(SAFETY) and job.state == CANCELLED
    assert started(again)
    again.finish(new)
    assert manager.result("k") == "second" and manager.get("k") is new


def test_failure_is_captured_and_the_queue_moves_on(manager):
    bad, good = FakeWork(total=3, fail_at=2), FakeWork(total=1, result="ok")
    jb, jg = manager.submit("bad", bad, watcher="w"), manager.submit("good", good, watcher="w")
    assert started(bad)
    bad.advance(2)
    assert jb.wait(SAFETY)
    progress = jb.progress()
    assert progress.state == FAILED and jb.result is None
    assert "RuntimeError" in progress.error and "fake job broke" in progress.error
    assert started(good)
    good.finish(jg)
    assert jg.result == "ok"


def test_progress_fields_advance(manager):
    work = FakeWork(total=4, snapshot_every=2)
    job = manager.submit("k", work, watcher="w", preview=lambda snap: np.full((3, 2), float(snap)))
    assert started(work)
    p0 = job.progress()
    assert (p0.state, p0.step, p0.samples, p0.rate, p0.eta) == (RUNNING, 0, None, None, None)
    work.advance(1)
    p1 = job.progress()
    assert (p1.step, p1.total, p1.fraction) == (1, 4, 0.25)
    assert p1.rate == pytest.approx(2.0) and p1.eta == pytest.approx(1.5)  # 1 step in 0.5 s; 3 left
    assert p1.samples is None and p1.samples_step == 0
    work.advance(1)
    p2 = job.progress()
    assert p2.losses.tolist() == [1.0, 0.5] and p2.loss_steps.tolist() == [1, 2]
    assert p2.samples_step == 2 and p2.samples.shape == (3, 2) and float(p2.samples[0, 0]) == 2.0
    assert not p2.samples.flags.writeable
    work.advance(2)
    assert job.wait(SAFETY)
    p4 = job.progress()
    assert (p4.state, p4.step, p4.eta, p4.samples_step) == (DONE, 4, None, 4)
    assert p1.step == 1  # earlier snapshots are immutable


def test_window_means_bin_long_histories():
    values = [float(i) for i in range(1, 10_001)]
    ends, x, y = window_means(values, 100)
    assert len(ends) == len(x) == len(y) == 100
    assert y[0] == pytest.approx(np.mean(values[:100])) and x[0] == pytest.approx(50.5) and ends[0] == 100
    _, x_short, y_short = window_means([3.0, 2.0], 100)
    assert x_short.tolist() == [1, 2] and y_short.tolist() == [3.0, 2.0]
    assert [len(a) for a in window_means([], 100)] == [0, 0, 0]


def test_finished_jobs_are_a_bounded_lru(make_manager):
    m = make_manager(max_running=1, keep_finished=2)
    for key in "abc":
        work = FakeWork(total=1, result=key)
        work.finish(m.submit(key, work, watcher="w"))
    with pytest.raises(LookupError):
        m.result("a")
    assert m.result("b") == "b" and m.result("c") == "c"


def test_snapshot_every_gives_a_few_frames_but_at_least_every_250_steps():
    assert retrain_job.snapshot_every(30) == retrain_job.SNAPSHOT_MIN_EVERY
    assert retrain_job.snapshot_every(1200) == 100
    assert retrain_job.snapshot_every(200_000) == 250


def test_real_consistency_job_runs_previews_and_cancels(manager):
    teacher = zoo.load_teacher(zoo.DEFAULT.teacher).model
    before = [p.clone() for p in teacher.parameters()]
    cfg = dataclasses.replace(zoo.DEFAULT.consistency, steps=20, batch=64)
    noise = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    job = manager.submit("real", retrain_job.consistency_job(cfg, teacher, "two_moons"), watcher="w",
                         preview=retrain_job.one_step_preview(noise))
    assert job.wait(60)
    p = job.progress()
    assert p.state == DONE, p.error
    assert p.step == 20 and len(p.losses) == 20 and p.samples.shape == (50, 2) and p.samples_step == 20
    assert np.isfinite(p.samples).all()
    assert job.result.model(noise, torch.ones(50, 1)).shape == (50, 2)
    assert all(torch.equal(a, b) for a, b in zip(before, teacher.parameters()))  # the shared teacher is untouched

    long_cfg = dataclasses.replace(cfg, steps=100_000)
    long_job = manager.submit("long", retrain_job.consistency_job(long_cfg, teacher, "two_moons"), watcher="w")
    manager.stop(long_job, "w")
    assert long_job.wait(60)
    assert long_job.state == CANCELLED and long_job.result is None
    assert long_job.progress().step < 100_000


def test_consistency_job_rejects_an_absurd_config_before_queueing():
    with pytest.raises(ValueError, match="init_from_teacher"):
        retrain_job.consistency_job(dataclasses.replace(zoo.DEFAULT.consistency, mode="training"), None, "two_moons")


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_run_nobody_polls_any_more_is_cancelled_after_the_lease(make_manager):
    clock = FakeClock()
    m = make_manager(max_running=1, lease_s=60.0, clock=clock)
    work = FakeWork(total=5)
    job = m.submit("k", work, watcher="tab-closed")
    assert started(work)
    work.advance()
    clock.now = 59.0  # still within the lease: keeps running
    work.advance()
    assert job.state == RUNNING
    clock.now = 61.0  # nobody touched it for more than 60 s: the next step's cancel check trips
    assert job.wait(SAFETY)
    assert job.state == CANCELLED and job.result is None


def test_touching_keeps_a_watched_run_alive_and_one_live_watcher_is_enough(make_manager):
    clock = FakeClock()
    m = make_manager(max_running=1, lease_s=60.0, clock=clock)
    work = FakeWork(total=3)
    job = m.submit("k", work, watcher="a")
    m.submit("k", work, watcher="b")  # b joins, then b's tab closes (never touches again)
    assert started(work)
    for t in (50.0, 100.0, 150.0):
        clock.now = t
        job.touch("a")  # a keeps polling
        work.advance()
    assert job.wait(SAFETY)
    assert job.state == DONE and job.result == "model"
    job.touch("stranger")  # touching by someone who never watched is ignored


def test_a_queued_job_nobody_polls_any_more_is_cancelled_in_the_queue(make_manager):
    clock = FakeClock()
    m = make_manager(max_running=1, lease_s=60.0, clock=clock)
    blocker, left, waiting = FakeWork(total=1), FakeWork(total=1), FakeWork(total=1)
    running = m.submit("blocker", blocker, watcher="x")
    gone = m.submit("gone", left, watcher="tab-closed")
    kept = m.submit("kept", waiting, watcher="bob")
    assert started(blocker)
    assert [m.queue_position(gone), m.queue_position(kept)] == [1, 2]
    clock.now = 30.0
    running.touch("x")
    kept.touch("bob")
    clock.now = 61.0  # "tab-closed" was last seen at 0: its lease lapsed while it waited
    assert kept.progress().queue_position == 1  # a read settles the abandoned job ahead of it
    assert gone.wait(0) and gone.state == CANCELLED and "nobody" in gone.progress().error
    assert running.state == RUNNING and m.get("gone") is gone
    blocker.finish(running)
    assert started(waiting)
    waiting.finish(kept)
    assert left.calls == 0


def test_an_abandoned_queued_job_is_skipped_when_a_slot_frees_up(make_manager):
    clock = FakeClock()
    m = make_manager(max_running=1, lease_s=60.0, clock=clock)
    blocker, left, waiting = FakeWork(total=1), FakeWork(total=1), FakeWork(total=1)
    running = m.submit("blocker", blocker, watcher="x")
    gone = m.submit("gone", left, watcher="tab-closed")
    kept = m.submit("kept", waiting, watcher="bob")
    assert started(blocker)
    clock.now = 30.0
    running.touch("x")
    kept.touch("bob")
    clock.now = 61.0
    blocker.advance()  # nobody reads anything; the blocker's last step frees the slot
    assert running.wait(SAFETY) and started(waiting)
    assert gone.state == CANCELLED and left.calls == 0
    waiting.finish(kept)


def test_a_key_whose_run_lost_its_watchers_starts_afresh_instead_of_joining_it(make_manager):
    clock = FakeClock()
    m = make_manager(max_running=2, lease_s=60.0, clock=clock)
    work = FakeWork(total=5)
    job = m.submit("k", work, watcher="tab-closed")
    assert started(work)
    clock.now = 61.0
    again = FakeWork(total=1, result="fresh")
    new = m.submit("k", again, watcher="bob")
    assert new is not job
    assert job.wait(SAFETY) and job.state == CANCELLED
    assert started(again)
    again.finish(new)
    assert m.result("k") == "fresh"


def test_an_interrupt_settles_the_job_frees_its_slot_and_is_not_swallowed(manager):
    raised, hooked = [], threading.Event()

    def hook(args):
        raised.append(args.exc_type)
        hooked.set()

    def interrupted(on_step, cancel):
        raise KeyboardInterrupt

    previous_hook, threading.excepthook = threading.excepthook, hook
    try:
        nxt = FakeWork(total=1, result="next")
        job = manager.submit("k", interrupted, watcher="w")
        after = manager.submit("n", nxt, watcher="w")
        assert job.wait(SAFETY)
        assert job.state == FAILED and job.result is None and "Interrupted" in job.progress().error
        assert hooked.wait(SAFETY) and raised == [KeyboardInterrupt]  # it left the worker thread
        assert started(nxt)
        nxt.finish(after)
    finally:
        threading.excepthook = previous_hook
