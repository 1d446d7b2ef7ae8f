"""ui/pool.py and ui/shared.start_together: work is asked for once, queued work nobody polls is cancelled (the
lease), and the queue is bounded.

Plain functions, events and a fake clock stand in for the pages' numbers and for time; nothing sleeps.
"""
import threading
from concurrent.futures import wait

import pytest

from ui import pool as pool_module, shared
from tests.conftest import Clock

WAIT_S = 60  # generous bound on events that must happen; the tests never wait on time otherwise


class Busy:
    """A pool of one worker held busy by a job that runs until ``free()``; what is submitted after it queues."""

    def __init__(self, **pool_kwargs):
        self.clock = Clock()
        self.pool = shared.Pool(1, hold_s=0, clock=self.clock, **pool_kwargs)
        self.started, self.gate = threading.Event(), threading.Event()
        self.blocker = shared.SharedCache(self._block, max_entries=4, pool=self.pool)
        self.running = self.blocker.start(0)
        assert self.started.wait(WAIT_S)  # running, so it is not in the queue

    def _block(self, _):
        self.started.set()
        assert self.gate.wait(WAIT_S)
        return "blocker"

    def memo(self, fn=lambda x: x * 10, **kwargs):
        return shared.SharedCache(fn, max_entries=16, pool=self.pool, **kwargs)

    def free(self):
        self.gate.set()
        assert self.running.result(WAIT_S) == "blocker"


def test_asking_again_for_work_in_flight_neither_resubmits_nor_reorders_it():
    busy = Busy()
    a, b = busy.memo(), busy.memo()
    page_one = shared.start_together([(a, (1,)), (b, (1,))], pool=busy.pool)
    page_two = shared.start_together([(a, (2,))], pool=busy.pool)
    assert busy.pool.queued() == 2 and busy.pool.ahead_of(page_two) == 3  # the blocker and page one's two
    for _ in range(3):  # page one's reruns and its fragment's looks ask again
        again = shared.start_together([(a, (1,)), (b, (1,))], pool=busy.pool)
        assert again == page_one  # the same computations, joined
    assert busy.pool.queued() == 2 and busy.pool.ahead_of(page_two) == 3 and busy.pool.ahead_of(page_one) == 1
    busy.free()
    wait(page_one + page_two, timeout=WAIT_S)
    assert [f.result() for f in page_one + page_two] == [10, 10, 20]
    assert a.computed == 2 and b.computed == 1  # each once


def test_queued_work_nobody_polls_is_cancelled_and_a_later_ask_computes_it():
    busy = Busy(lease_s=15)
    memo = busy.memo()
    first = memo.start(7)
    busy.clock.now = 15.0
    assert busy.pool.drop_lapsed() == 0  # within its lease
    busy.clock.now = 15.5
    assert busy.pool.drop_lapsed() == 1
    assert first.cancelled() and busy.pool.queued() == 0 and busy.pool.busy() == 1  # the running blocker only
    again = memo.start(7)  # asked for again: a new computation, not the cancelled one
    assert again is not first and not again.done()
    busy.free()
    assert again.result(WAIT_S) == 70 and memo.computed == 1


def test_polled_work_keeps_its_lease_and_running_work_is_never_cancelled():
    busy = Busy(lease_s=15)
    memo = busy.memo()
    mine = memo.start(3)
    for now in (10.0, 20.0, 30.0):  # a waiting part looks (here every 10 s): its lease starts over each time
        busy.clock.now = now
        busy.pool.touch([mine])
        assert busy.pool.drop_lapsed() == 0
    joined = memo.start(3)  # another session asking for the same numbers renews the lease too
    assert joined is mine
    busy.clock.now = 1000.0  # the blocker has run for ages without anyone polling it: it still runs
    assert busy.pool.drop_lapsed() == 1 and mine.cancelled() and not busy.running.done()
    busy.free()


def test_a_full_queue_drops_prefetched_work_first_then_refuses_new_work():
    busy = Busy(max_queued=2)
    memo = busy.memo()
    prefetched = shared.start_together([(memo, (1,))], pool=busy.pool, leased=False)[0]
    awaited = memo.start(2)
    third = memo.start(3)  # over the bound: the prefetch (nobody waits for it yet) goes
    assert prefetched.cancelled() and busy.pool.queued() == 2
    with pytest.raises(shared.QueueFull) as refused:
        memo.start(4)  # every queued job is awaited: refused, and nothing of it stays claimed
    assert refused.value.queued == 2 and "queue is full" in str(refused.value)
    assert memo.claim(4)[1]  # a new claim: the refused ask left no computation in flight behind
    memo.release((4,), memo.claim(4)[0])
    busy.free()
    assert awaited.result(WAIT_S) == 20 and third.result(WAIT_S) == 30


def test_a_prefetch_someone_then_waits_for_is_kept_when_the_queue_is_full():
    busy = Busy(max_queued=1)
    memo = busy.memo()
    prefetched = shared.start_together([(memo, (1,))], pool=busy.pool, leased=False)[0]
    assert shared.start_together([(memo, (1,))], pool=busy.pool) == [prefetched]  # the page now waits for it
    with pytest.raises(shared.QueueFull):
        memo.start(2)
    assert not prefetched.cancelled()
    busy.free()
    assert prefetched.result(WAIT_S) == 10


def test_work_a_caller_took_over_is_not_cancelled_with_its_job():
    """A worker that needs a value queued in a dropped job computes it itself: its waiters still get it."""
    busy = Busy(lease_s=15)
    gate, entered = threading.Event(), threading.Event()

    def slow(x):
        entered.set()
        assert gate.wait(WAIT_S)
        return x

    memo = busy.memo(slow)
    queued = memo.start(5)
    result = []
    taker = threading.Thread(target=lambda: result.append(memo(5)))  # takes the queued computation over
    taker.start()
    assert entered.wait(WAIT_S)
    busy.clock.now = 100.0
    assert busy.pool.drop_lapsed() == 1  # the job goes, its computation (being computed) stays
    gate.set()
    taker.join(WAIT_S)
    assert result == [5] and queued.result(WAIT_S) == 5 and not queued.cancelled()
    busy.free()


def test_the_pool_refuses_impossible_settings():
    with pytest.raises(ValueError, match="lease_s"):
        pool_module.Pool(1, lease_s=0)
    with pytest.raises(ValueError, match="max_queued"):
        pool_module.Pool(1, max_queued=0)
