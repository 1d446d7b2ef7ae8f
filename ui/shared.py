"""One computation per question for every session of the server, off the script runs that ask for it.

``cached`` replaces ``st.cache_data`` for the pages' per-seed numbers (a trajectory set, a 200-step
reference, a sampler's points).  The memo is shared by every session of the process and bounded:

- **one computation per key**: sessions asking for the same model, seed and count while it is being
  computed wait on the same ``Future`` instead of computing it again;
- **off the script run**: ``start`` hands the computation to one small pool of worker threads, so a page
  can draw at once and fill the numbers in when they are ready (``ui/later.py``); torch releases the
  interpreter lock while it computes, so the server keeps answering other sessions meanwhile;
- **bounded in size and in time**: at most ``max_entries`` values per function, least recently used out
  first, and ``expire_all`` (called by ``ui/upkeep.py``) drops every value nobody asked for in
  ``IDLE_TTL_S`` seconds, so the memory a class filled with its own seeds is handed back once it leaves;
  the computations in flight are bounded by the pool's queue (``ui/pool.py``: its bound and its lease);
- **asked once**: asking again for a computation in flight joins it and renews its lease, never hands it to
  the pool a second time nor moves it in the queue.  A computation the pool dropped before it started
  (its lease lapsed: nobody polled it) is forgotten here, so the next ask computes it.

Streamlit-free: tests drive it with plain functions.
"""
from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from typing import Any, Callable, Hashable

import numpy as np

from ui.pool import HOLD_ENV, WORKER_NICE, WORKERS, Pool, QueueFull, lower_priority  # noqa: F401 (home: ui.pool)

IDLE_TTL_S = 120.0  # a value nobody asked for in two minutes is dropped (recomputing one costs under a second)


def _read_only(value: Any) -> Any:
    """Shared values are never written to: make their arrays say so (a page that tried would raise)."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _read_only(getattr(value, f.name))
    return value


POOL = Pool()  # one per process (a module global: clearing Streamlit's caches must not start another)
# One student alone (nothing in flight anywhere): their page's numbers start at once on this worker, at the script
# runs' priority, and the run waits for them (``ui.later``); with anything in flight, work goes to ``POOL``.
EXPRESS = Pool(workers=1, nice=0, name="express")
_ALL: list["SharedCache"] = []


class SharedCache:
    """``fn`` memoised on its (hashable) arguments for every caller of the process; see the module docstring."""

    def __init__(self, fn: Callable, max_entries: int, ttl_s: float = IDLE_TTL_S, pool: Pool | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1; got {max_entries}.")
        functools.update_wrapper(self, fn)
        self.fn, self.max_entries, self.ttl_s = fn, max_entries, ttl_s
        self._pool, self._clock = pool, clock
        self._values: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()  # key -> (value, last asked)
        self._inflight: dict[Hashable, list] = {}  # key -> [Future, taken by a computing thread]
        self._lock = threading.Lock()
        self.computed = 0  # how many times fn ran (tests and benchmarks read it)

    # --- asking -----------------------------------------------------------------------------

    def __call__(self, *args):
        """The value, computed here if nobody has started it (or waiting for whoever is computing it).

        A computation still waiting in the pool is taken over here: a worker that needs another
        function's value (page 2's k-step error needs the 200-step reference) never waits on a
        computation queued behind itself."""
        found, value, future, mine = self._claim(args, take=True)
        if found:
            return value
        if mine:
            self._compute(args, future)
        return future.result()

    def start(self, *args) -> Future | None:
        """None if the value is held; otherwise the Future of its computation, handed to the pool if new."""
        return start_together([(self, args)], self._pool)[0]

    def claim(self, *args) -> tuple[Future | None, bool]:
        """(future, new): None if the value is held; else its computation's Future, and whether this call
        created it (then the caller's own job must compute it: ``run_claimed``).  Hands nothing to the pool."""
        found, _, future, new = self._claim(args, take=False)
        return (None, False) if found else (future, new)

    def release(self, args, future: Future) -> bool:
        """Forget ``future``'s computation of ``args`` unless someone is computing it; True when forgotten
        (the pool dropped the job before it started: the next ask computes it again)."""
        with self._lock:
            slot = self._inflight.get(args)
            if slot is None or slot[0] is not future or slot[1]:
                return False
            del self._inflight[args]
            return True

    def run_claimed(self, args: tuple, future: Future) -> None:
        """The pool job's part: compute ``args`` into ``future`` unless a caller took it over meanwhile."""
        with self._lock:
            slot = self._inflight.get(args)
            if slot is None or slot[0] is not future or slot[1]:
                return
            slot[1] = True
        self._compute(args, future)

    def holds(self, *args) -> bool:
        with self._lock:
            return args in self._values

    def __len__(self) -> int:
        return len(self._values)

    # --- keeping ----------------------------------------------------------------------------

    def expire(self, now: float | None = None) -> int:
        """Drop the values nobody asked for in ``ttl_s`` seconds; returns how many went."""
        now = self._clock() if now is None else now
        with self._lock:
            old = [k for k, (_, asked) in self._values.items() if now - asked > self.ttl_s]
            for k in old:
                del self._values[k]
        return len(old)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    # --- inside -----------------------------------------------------------------------------

    def _claim(self, args, take: bool):
        """(found, value, future, mine): a held value, or the computation to wait on; ``mine``: the
        caller must start it (``take``: run it now, taking it over from the pool if it is still queued)."""
        with self._lock:
            held = self._values.get(args)
            if held is not None:
                self._values[args] = (held[0], self._clock())
                self._values.move_to_end(args)
                return True, held[0], None, False
            slot = self._inflight.get(args)
            if slot is not None:
                if take and not slot[1]:
                    slot[1] = True
                    return False, None, slot[0], True
                return False, None, slot[0], False
            future = Future()
            self._inflight[args] = [future, take]
            return False, None, future, True

    def _compute(self, args, future: Future) -> None:
        try:
            value = _read_only(self.fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter; the next ask tries again
            with self._lock:
                self._inflight.pop(args, None)
            future.set_exception(exc)
            return
        with self._lock:
            self.computed += 1
            self._values[args] = (value, self._clock())
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)
            self._inflight.pop(args, None)
        future.set_result(value)


def cached(max_entries: int, ttl_s: float = IDLE_TTL_S):
    """Decorator: a ``SharedCache`` of ``fn``, registered for ``expire_all``."""
    def wrap(fn):
        memo = SharedCache(fn, max_entries, ttl_s)
        _ALL.append(memo)
        return memo
    return wrap


def start_together(calls, pool: Pool | None = None, leased: bool = True) -> list[Future | None]:
    """``start`` for several ``(memo, args)`` at once: what is not held and not in flight is computed one after
    another in a single pool job.  Work already in flight is joined (its lease renewed), never handed over again.
    ``leased=False`` (a prefetch): the new job is the first to go when the queue is full.  Raises
    ``QueueFull`` when the pool refuses the new job (nothing of it stays claimed)."""
    pool = pool or POOL
    claims = [memo.claim(*args) for memo, args in calls]
    futures = [future for future, _ in claims]
    pool.touch([f for (f, new) in claims if f is not None and not new])
    mine = [(memo, args, future) for (memo, args), (future, new) in zip(calls, claims) if new]
    if mine:
        try:
            pool.submit(lambda: [memo.run_claimed(args, f) for memo, args, f in mine], *[f for _, _, f in mine],
                        release=functools.partial(_release, mine), leased=leased)
        except QueueFull:
            _release(mine)
            raise
    return futures


def _release(claimed) -> None:
    """Give back computations claimed for a job that will not run; whoever waits on them sees them cancelled."""
    for memo, args, future in claimed:
        if memo.release(args, future):
            future.cancel()


def quiet_pool() -> Pool | None:
    """``EXPRESS`` when nothing is in flight in either pool (a held ``POOL`` stands for a class's queue), else None."""
    return EXPRESS if not POOL.held and not POOL.busy() and not EXPRESS.busy() else None


def touch(futures) -> None:
    """Renew the lease on ``futures``, in whichever pool they wait."""
    futures = list(futures)
    POOL.touch(futures)
    EXPRESS.touch(futures)


def expire_all() -> int:
    """Drop the values nobody asked for lately, and the queued work whose lease lapsed; returns how many values went."""
    POOL.drop_lapsed()
    EXPRESS.drop_lapsed()
    return sum(memo.expire() for memo in _ALL)


def clear_all() -> None:
    for memo in _ALL:
        memo.clear()
