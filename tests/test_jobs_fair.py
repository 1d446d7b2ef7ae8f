"""Fair training (issue 20): the queue's order with fake jobs, pauses, aging, and the estimate against measured time.

Every job here is a FakeWork that steps only when the test says so; time is the test's Clock (the manager's
and the work's own), so nothing depends on how fast this machine is.
"""
from __future__ import annotations

import pytest

from cmcore import costs
from cmcore.config import HostLimits
from cmcore.jobs import CANCELLED, DONE, QUEUED, RUNNING
from tests.conftest import Clock
from tests.test_jobs import SAFETY, FakeWork, started


class TimedWork(FakeWork):
    """A FakeWork whose reports carry ``elapsed`` from the test's clock (the work's own clock, as a trainer's)."""

    def __init__(self, clock: Clock, total: int = 3, result="model"):
        super().__init__(total=total, result=result)
        self.clock, self.t0 = clock, None

    def begin(self) -> None:
        self.t0 = self.clock.now

    def elapsed(self, step: int) -> float:
        return self.clock.now - self.t0


@pytest.fixture
def clock():
    return Clock()


def test_shorter_runs_go_first_and_a_long_run_pauses_for_them(make_manager, clock):
    m = make_manager(max_running=1, clock=clock)
    long_work = FakeWork(total=10)
    long_job = m.submit("long", long_work, watcher="ann", estimate_s=900.0)
    assert started(long_work)
    long_work.advance(2)
    works = {k: FakeWork(total=1) for k in ("s20", "s30", "s10")}
    jobs = {"s20": m.submit("s20", works["s20"], watcher="bo", estimate_s=20.0)}
    assert started(works["s20"])  # the long run paused for it
    p = long_job.progress()
    assert p.paused and p.state == RUNNING and p.step == 2 and p.ahead == 1 and p.ahead_s == pytest.approx(20.0)
    jobs["s30"] = m.submit("s30", works["s30"], watcher="cy", estimate_s=30.0)
    jobs["s10"] = m.submit("s10", works["s10"], watcher="di", estimate_s=10.0)
    assert [jobs[k].state for k in ("s30", "s10")] == [QUEUED, QUEUED]
    assert [m.queue_position(jobs[k]) for k in ("s10", "s30")] == [1, 2]  # shortest first, not arrival order
    assert long_job.progress().ahead == 3  # behind the running one and both queued ones
    order = []
    for _ in range(3):
        running = next(k for k, j in jobs.items() if j.state == RUNNING)
        order.append(running)
        works[running].finish(jobs[running])
        if len(order) < 3:
            assert works[next(k for k in ("s10", "s30") if k not in order)].started.wait(SAFETY)
    assert order == ["s20", "s10", "s30"]
    assert _until(lambda: not long_job.progress().paused)  # nothing shorter waits: it resumes where it stopped
    long_work.finish(long_job)
    assert long_job.state == DONE and long_work.calls == 1


def test_a_long_wait_lets_the_long_run_go_before_new_short_ones(make_manager, clock):
    m = make_manager(max_running=1, clock=clock)
    long_work, short = FakeWork(total=5), FakeWork(total=1)
    long_job = m.submit("long", long_work, watcher="ann", estimate_s=600.0)
    assert started(long_work)
    short_job = m.submit("short", short, watcher="bo", estimate_s=20.0)
    assert started(short) and long_job.progress().paused
    clock.now = 700.0  # the long run has waited longer than its own estimate
    later = FakeWork(total=1)
    later_job = m.submit("later", later, watcher="cy", estimate_s=20.0)
    assert m.queue_position(later_job) == 2 and long_job.progress().ahead == 1  # the aged long run goes first
    assert short_job.state == RUNNING and not short_job.progress().paused  # but waits for the running short one
    short.finish(short_job)
    assert _until(lambda: not long_job.progress().paused)
    assert later_job.state == QUEUED  # the aged long run took the slot before the newer short run
    long_work.finish(long_job)
    assert started(later)
    later.finish(later_job)


def test_runs_without_an_estimate_keep_arrival_order_after_estimated_ones(make_manager):
    m = make_manager(max_running=1)
    first = FakeWork(total=1)
    jobs = {"first": m.submit("first", first, watcher="w")}
    assert started(first)
    jobs.update({k: m.submit(k, FakeWork(total=1), watcher="w", estimate_s=e)
                 for k, e in (("a", None), ("b", None), ("c", 50.0))})
    assert [m.queue_position(jobs[k]) for k in ("c", "a", "b")] == [1, 2, 3]
    assert not jobs["first"].progress().paused  # nothing pauses a job without an estimate


def test_a_close_estimate_does_not_pause_the_running_run(make_manager):
    m = make_manager(max_running=1)
    a, b = FakeWork(total=2), FakeWork(total=1)
    ja = m.submit("a", a, watcher="w", estimate_s=30.0)
    assert started(a)
    jb = m.submit("b", b, watcher="w", estimate_s=20.0)  # shorter, but not by half: no thrashing
    assert jb.state == QUEUED and not ja.progress().paused
    assert m.outlook(20.0) == (2, pytest.approx(30.0 + 20.0), False)
    assert m.outlook(5.0) == (0, None, True)  # much shorter: it would start at once, pausing the running one


def test_stop_and_join_work_on_a_paused_run(make_manager):
    m = make_manager(max_running=1)
    long_work, short = FakeWork(total=5), FakeWork(total=1)
    long_job = m.submit("long", long_work, watcher="ann", estimate_s=600.0)
    assert started(long_work)
    short_job = m.submit("short", short, watcher="bo", estimate_s=10.0)
    assert started(short) and long_job.progress().paused
    assert m.submit("long", FakeWork(), watcher="cy") is long_job  # joining a paused run
    assert m.outlook(10.0) == (1, pytest.approx(10.0), False)  # one paused at most: a new short run waits
    assert m.stop(long_job, "ann") is False and m.stop(long_job, "cy") is True
    assert long_job.wait(SAFETY) and long_job.state == CANCELLED and long_job.result is None
    short.finish(short_job)
    assert short_job.state == DONE


def test_measured_cost_excludes_pauses_and_the_estimate_follows_it(make_manager, clock):
    """A run of 200 steps at 0.05 s a step, paused for 100 s in the middle: 0.05 s a step is learned, and the next
    estimate of that kind and batch is steps x 0.05 s plus the measured overhead, whatever the prior said."""
    step_costs = costs.StepCosts(prior={k: (1.0, 0.0) for k in costs.KINDS}, overhead_s=99.0)  # a poor prior
    learned = []

    def on_settled(job):
        timing = job.timing()  # as ui.retrain_costs.learn does: a run too short to measure teaches nothing
        if timing.phases and all(step_costs.record("distillation-heun", 512, n, s) for _, n, s in timing.phases):
            step_costs.record_overhead(timing.running_s - sum(s for _, _, s in timing.phases))
            learned.append(job.key)

    m = make_manager(max_running=1, clock=clock, on_settled=on_settled)
    work = TimedWork(clock, total=200)
    job = m.submit("run", work, watcher="w", estimate_s=500.0)
    assert started(work)
    clock.now += 3.0  # starting the training process: overhead, before the first step
    work.t0 = clock.now
    for step in range(1, 201):
        if step == 100:
            short = FakeWork(total=1)
            short_job = m.submit("short", short, watcher="v", estimate_s=1.0)
            assert started(short) and job.progress().paused
            clock.now += 100.0  # the pause
            short.finish(short_job)
            assert _until(lambda: not job.progress().paused)
        clock.now += 0.05
        work.advance()
    assert job.wait(SAFETY) and job.state == DONE
    assert _until(lambda: learned)
    timing = job.timing()
    assert timing.paused_s == pytest.approx(100.0, abs=1.0)
    per_step, measured = step_costs.per_step("distillation-heun", 512)
    assert measured and per_step == pytest.approx(0.05, rel=0.05)
    est = step_costs.estimate((costs.Phase("distillation-heun", 512, 1200),))
    assert est.measured and est.seconds == pytest.approx(1200 * 0.05 + 3.0, rel=0.2)


def test_a_batch_never_measured_is_the_prior_scaled_by_this_servers_speed():
    step_costs = costs.StepCosts()
    assert not step_costs.per_step("distillation-heun", 4096)[1]  # nothing measured: the prior alone
    prior_512, prior_4096 = (step_costs.prior_per_step("distillation-heun", b) for b in (512, 4096))
    assert step_costs.record("distillation-heun", 512, 1200, 1200 * prior_512 * 3)  # a server 3x slower
    assert not step_costs.record("distillation-heun", 512, 10, 1.0)  # too short to count
    per_step, measured = step_costs.per_step("distillation-heun", 4096)
    assert measured and per_step == pytest.approx(3 * prior_4096)
    assert step_costs.max_steps((costs.Phase("distillation-heun", 4096, 1),), 60.0) == \
        int((60.0 - step_costs.overhead_s) / per_step)


def test_a_session_budget_counts_what_runs_cost_and_frees_as_they_age(clock):
    budget = costs.SessionBudget(budget_s=600.0, window_s=3600.0, clock=clock)
    budget.charge("ann", lambda: 400.0)
    clock.now = 100.0
    budget.charge("ann", lambda: 150.0)
    assert budget.used("ann") == 550.0 and budget.left("ann") == 50.0 and budget.left("bo") == 600.0
    assert budget.frees_in("ann", 100.0) == pytest.approx(3500.0)  # when the first run leaves the window
    assert budget.frees_in("ann", 700.0) is None
    clock.now = 3601.0
    assert budget.used("ann") == 150.0


def test_host_limits_come_from_the_environment_with_reasons():
    assert HostLimits.from_env({}) == HostLimits()
    host = HostLimits.from_env({"CMCORE_MAX_STEPS": "50000", "CMCORE_TRAINERS": "4", "CMCORE_MAX_RUN_MINUTES": "45"})
    assert (host.max_steps, host.trainers, host.max_run_minutes) == (50_000, 4, 45.0)
    with pytest.raises(ValueError, match="CMCORE_MAX_BATCH='lots' is not a number"):
        HostLimits.from_env({"CMCORE_MAX_BATCH": "lots"})
    with pytest.raises(ValueError, match="CMCORE_TRAINERS=0 is out of range"):
        HostLimits.from_env({"CMCORE_TRAINERS": "0"})


def _until(predicate, guard_s: float = SAFETY) -> bool:
    """Wait (bounded) for a condition another thread makes true."""
    import threading

    done = threading.Event()
    for _ in range(int(guard_s / 0.005)):
        if predicate():
            return True
        done.wait(0.005)
    return bool(predicate())
