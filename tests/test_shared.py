"""ui/shared.py: one computation per key for every session, off the script run, bounded in size and time.

Plain functions and events stand in for the pages' numbers; nothing here sleeps or times anything.
"""
import os
import threading
from concurrent.futures import Future, wait
from dataclasses import dataclass

import numpy as np
import pytest

from ui import later, shared
from tests.conftest import Clock

WAIT_S = 60  # generous bound on events that must happen; the tests never wait on time otherwise


def test_sessions_asking_at_once_share_one_computation():
    gate, calls = threading.Event(), []

    def slow(seed):
        calls.append(seed)
        assert gate.wait(WAIT_S)
        return seed * 10

    memo = shared.SharedCache(slow, max_entries=8, pool=shared.Pool(1))
    first = memo.start(3)
    others = [memo.start(3) for _ in range(5)]  # five more sessions ask while it is computing
    assert all(f is first for f in others)
    gate.set()
    assert first.result(WAIT_S) == 30
    assert memo(3) == 30 and memo.start(3) is None  # held now: no future, no computation
    assert calls == [3] and memo.computed == 1


def test_a_worker_that_needs_a_value_queued_behind_itself_computes_it():
    """Page 2's k-step error needs the 200-step reference: with one worker, waiting on it would hang."""
    pool = shared.Pool(1)
    reference = shared.SharedCache(lambda seed: seed + 0.5, max_entries=8, pool=pool)
    k_step = shared.SharedCache(lambda seed: reference(seed) * 2, max_entries=8, pool=pool)
    blocker, gate = shared.SharedCache(lambda _: gate_wait(), max_entries=1, pool=pool), threading.Event()

    def gate_wait():
        assert gate.wait(WAIT_S)
        return 0

    held = blocker.start(0)  # the only worker is busy: both jobs below queue behind it
    later_k, later_ref = k_step.start(7), reference.start(7)
    gate.set()
    done, not_done = wait([held, later_k, later_ref], timeout=WAIT_S)
    assert not not_done
    assert later_k.result() == 15.0 and later_ref.result() == 7.5
    assert reference.computed == 1  # taken over by the k-step job, not computed twice


def test_values_are_bounded_least_recently_used_out_first():
    memo = shared.SharedCache(lambda x: [x], max_entries=2)
    memo(1), memo(2), memo(1), memo(3)  # 2 is the least recently asked for when 3 arrives
    assert memo.holds(1) and memo.holds(3) and not memo.holds(2) and len(memo) == 2


def test_values_nobody_asked_for_lately_expire():
    clock = Clock()
    memo = shared.SharedCache(lambda x: x, max_entries=8, ttl_s=120, clock=clock)
    memo(1), memo(2)
    clock.now = 100
    memo(1)  # asked for again: its two minutes start over
    clock.now = 150
    assert memo.expire() == 1
    assert memo.holds(1) and not memo.holds(2)
    clock.now = 400
    assert memo.expire() == 1 and len(memo) == 0


def test_expire_all_reaches_every_cache_the_pages_use():
    from ui import compute

    memos = [v for v in vars(compute).values() if isinstance(v, shared.SharedCache)]
    assert compute.one_step in memos and compute.cm_points in memos
    assert all(any(m is r for r in shared._ALL) for m in memos)  # each registered by @shared.cached


def test_expire_all_drops_exactly_the_values_past_their_time_in_every_cache(monkeypatch):
    clock = Clock()
    a = shared.SharedCache(lambda x: x, max_entries=8, ttl_s=120, clock=clock)
    b = shared.SharedCache(lambda x: -x, max_entries=8, ttl_s=60, clock=clock)
    monkeypatch.setattr(shared, "_ALL", [a, b])
    a(1), a(2), b(1)
    clock.now = 50
    a(3), b(2)
    clock.now = 100  # a keeps everything (120 s); b's 1 is 100 s old (60 s), its 2 only 50 s
    assert shared.expire_all() == 1
    assert [a.holds(x) for x in (1, 2, 3)] == [True, True, True] and [b.holds(x) for x in (1, 2)] == [False, True]
    clock.now = 121  # a's 1 and 2 are 121 s old, its 3 71 s; b's 2 is 71 s old
    assert shared.expire_all() == 3
    assert (len(a), len(b)) == (1, 0) and a.holds(3)
    assert shared.expire_all() == 0  # nothing else is due


def test_expire_all_also_drops_queued_work_whose_lease_lapsed(monkeypatch):
    clock, gate = Clock(), threading.Event()
    pool = shared.Pool(1, hold_s=0, lease_s=150, clock=clock)
    first, second = (shared.SharedCache(lambda x: x, max_entries=8, ttl_s=120, clock=clock, pool=pool) for _ in "ab")
    first(1), first(2), second(1)
    started = threading.Event()
    blocker = shared.SharedCache(lambda x: started.set() or gate.wait(WAIT_S), max_entries=1, pool=pool).start(0)
    assert started.wait(WAIT_S)  # running: never dropped
    queued = second.start(9)  # behind the blocker; nobody polls it
    monkeypatch.setattr(shared, "_ALL", [first, second])
    monkeypatch.setattr(shared, "POOL", pool)
    clock.now = 100
    first(2)  # asked for again: kept
    assert shared.expire_all() == 0 and not queued.cancelled()
    clock.now = 200
    assert shared.expire_all() == 2  # first's 1 and second's 1; first's 2 was asked for at 100
    assert first.holds(2) and not first.holds(1) and not second.holds(1)
    assert queued.cancelled()  # its lease (150 s here) lapsed: dropped from the queue
    gate.set()
    assert blocker.result(WAIT_S)


def test_the_express_worker_serves_only_a_quiet_server(monkeypatch):
    gate, started = threading.Event(), threading.Event()
    pool, express = shared.Pool(1, hold_s=0), shared.Pool(1, hold_s=0, nice=0, name="express")
    monkeypatch.setattr(shared, "POOL", pool)
    monkeypatch.setattr(shared, "EXPRESS", express)
    assert shared.quiet_pool() is express  # nothing in flight: one student alone
    for busy in (pool, express):  # anything in flight in either pool: the shared queue
        running = shared.SharedCache(lambda x: started.set() or gate.wait(WAIT_S), max_entries=1, pool=busy).start(0)
        assert started.wait(WAIT_S) and shared.quiet_pool() is None
        gate.set()
        assert running.result(WAIT_S)
        wait([busy._executor.submit(lambda: None)], WAIT_S)  # the worker has finished the job and forgotten it
        gate.clear(), started.clear()
    assert shared.quiet_pool() is express
    monkeypatch.setattr(shared, "POOL", shared.Pool(1, hold_s=1.5))  # held: it stands for a class's queue
    assert shared.POOL.held and shared.quiet_pool() is None


def test_an_error_reaches_every_waiter_and_the_next_ask_tries_again():
    attempts = []

    def flaky(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise LookupError("the run is no longer held")
        return x

    memo = shared.SharedCache(flaky, max_entries=4, pool=shared.Pool(1))
    f = memo.start(5)
    with pytest.raises(LookupError):
        f.result(WAIT_S)
    assert not memo.holds(5)
    assert memo(5) == 5 and attempts == [5, 5]


@dataclass(frozen=True)
class View:
    points: np.ndarray


def test_shared_arrays_are_read_only():
    memo = shared.SharedCache(lambda n: View(np.zeros((n, 2))), max_entries=2)
    v = memo(3)
    with pytest.raises(ValueError):
        v.points[0, 0] = 1.0
    with pytest.raises(ValueError):
        shared.SharedCache(lambda n: np.ones(n), max_entries=1)(4)[0] = 2.0


def test_the_queue_count_says_how_much_is_ahead():
    pool, gate = shared.Pool(1), threading.Event()
    block = shared.SharedCache(lambda x: gate.wait(WAIT_S), max_entries=4, pool=pool)
    fast = shared.SharedCache(lambda x: x, max_entries=4, pool=pool)
    first, second, mine = block.start(1), block.start(2), fast.start(3)
    assert pool.ahead_of([first]) == 0 and pool.ahead_of([mine]) == 2 and pool.busy() == 3
    gate.set()
    wait([first, second, mine], timeout=WAIT_S)
    assert pool.busy() == 0 and mine.result() == 3


def test_waiting_note_words():
    assert later.waiting_text("the trajectories of noise seed 4", 0) == (
        "Computing the trajectories of noise seed 4… The numbers appear here by themselves.")
    assert "1 computation is ahead of it in the server's queue." in later.waiting_text("x", 1)
    assert "1,204 computations are ahead of it in the server's queue." in later.waiting_text("x", 1204)


def test_one_pages_numbers_go_in_one_job_not_scattered_behind_others():
    pool, gate, order = shared.Pool(1), threading.Event(), []
    blocker = shared.SharedCache(lambda x: gate.wait(WAIT_S), max_entries=4, pool=pool)
    a = shared.SharedCache(lambda x: order.append(("a", x)) or x, max_entries=4, pool=pool)
    b = shared.SharedCache(lambda x: order.append(("b", x)) or x, max_entries=4, pool=pool)
    first = blocker.start(0)
    page_one = shared.start_together([(a, (1,)), (b, (1,))], pool=pool)
    other = a.start(2)  # another session's number, asked for after page one's
    assert pool.ahead_of(page_one) == 1 and pool.ahead_of([other]) == 3  # computations ahead, page one's included
    gate.set()
    wait([first, *page_one, other], timeout=WAIT_S)
    assert order == [("a", 1), ("b", 1), ("a", 2)]
    assert shared.start_together([(a, (1,)), (b, (1,))], pool=pool) == [None, None]  # held: nothing to start


def test_pool_threads_yield_the_cores_to_script_runs():
    pool = shared.Pool(workers=1, nice=7)
    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = []
    f = Future()
    pool.submit(lambda: (seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())),
                         f.set_result(None)), f)
    wait([f], timeout=60)
    assert seen == [min(19, here + 7)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == here  # the caller's thread is untouched


def test_a_waiting_part_looks_less_often_behind_a_longer_queue():
    steps = [later.poll_interval(a) for a in range(0, 80)]
    assert steps[0] == later.POLL_S == steps[shared.WORKERS]  # next in line (or nearly): as often as it may
    assert all(a <= b for a, b in zip(steps, steps[1:])) and steps[-1] == later.POLL_MAX_S
