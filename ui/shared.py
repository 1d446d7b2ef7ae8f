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
  ``IDLE_TTL_S`` seconds, so the memory a class filled with its own seeds is handed back once it leaves.

Streamlit-free: tests drive it with plain functions.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Hashable

import numpy as np

IDLE_TTL_S = 120.0  # a value nobody asked for in two minutes is dropped (recomputing one costs under a second)
WORKERS = 2  # worker threads for every page's numbers (torch computes without the interpreter lock)
# Added to the workers' nice value: they yield the cores to script runs (short, and a student waits on each;
# the numbers fill in later), but still come before a retrain's child process (CMCORE_TRAIN_NICE, 5).
WORKER_NICE = int(os.environ.get("CONSISTENCY_POOL_NICE", "4"))
HOLD_ENV = "CONSISTENCY_POOL_HOLD_S"  # tests only: every pool job waits this long first, as behind a class's queue


def _read_only(value: Any) -> Any:
    """Shared values are never written to: make their arrays say so (a page that tried would raise)."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _read_only(getattr(value, f.name))
    return value


class Pool:
    """The process's worker threads, and the order in which work was handed to them."""

    def __init__(self, workers: int = WORKERS, hold_s: float | None = None, nice: int = WORKER_NICE):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fill-in",
                                            initializer=lower_priority, initargs=(nice,))
        self._hold_s = float(os.environ.get(HOLD_ENV) or 0) if hold_s is None else hold_s
        self._seq = itertools.count()
        self._queued: dict[Future, int] = {}  # handed over and not finished -> sequence number
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], None], *futures: Future) -> None:
        """Run ``fn``, which completes ``futures`` (one page's numbers go in one job: split into one job per
        number, a page waited for the last of its pieces, scattered behind every other session's)."""
        with self._lock:
            seq = next(self._seq)
            for future in futures:
                self._queued[future] = seq
        for future in futures:
            future.add_done_callback(self._done)
        self._executor.submit(self._held, fn) if self._hold_s > 0 else self._executor.submit(fn)

    def _held(self, fn: Callable[[], None]) -> None:
        time.sleep(self._hold_s)  # tests: the page's numbers are late, deterministically
        fn()

    def _done(self, future: Future) -> None:
        with self._lock:
            self._queued.pop(future, None)

    def ahead_of(self, futures) -> int:
        """How many unfinished computations were handed over before the first of ``futures``."""
        with self._lock:
            mine = [self._queued[f] for f in futures if f in self._queued]
            return sum(seq < min(mine) for seq in self._queued.values()) if mine else 0

    def busy(self) -> int:
        with self._lock:
            return len(self._queued)


def lower_priority(nice: int) -> None:
    """Raise this thread's nice value by ``nice`` (Linux schedules threads one by one; elsewhere nothing)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except (AttributeError, OSError):
        pass


POOL = Pool()  # one per process (a module global: clearing Streamlit's caches must not start another)
_ALL: list["SharedCache"] = []


class SharedCache:
    """``fn`` memoised on its (hashable) arguments for every caller of the process; see the module docstring."""

    def __init__(self, fn: Callable, max_entries: int, ttl_s: float = IDLE_TTL_S, pool: Pool | None = None,
                 clock: Callable[[], float] = time.monotonic):
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

    def claim(self, *args) -> Future | None:
        """Like ``start`` but hands nothing to the pool: the caller's own job computes it (``run_claimed``)."""
        found, _, future, _ = self._claim(args, take=False)
        return None if found else future

    def run_claimed(self, *args) -> None:
        self._run_queued(args, self._inflight_future(args))

    def _inflight_future(self, args) -> Future | None:
        with self._lock:
            slot = self._inflight.get(args)
            return slot[0] if slot is not None else None

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

    def _run_queued(self, args, future: Future | None) -> None:
        """The pool's job: compute unless a caller took it over meanwhile."""
        if future is None:
            return
        with self._lock:
            slot = self._inflight.get(args)
            if slot is None or slot[0] is not future or slot[1]:
                return
            slot[1] = True
        self._compute(args, future)

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


def start_together(calls, pool: Pool | None = None) -> list[Future | None]:
    """``start`` for several ``(memo, args)`` at once, computed one after another in a single pool job."""
    futures = [memo.claim(*args) for memo, args in calls]
    mine = [(memo, args) for (memo, args), f in zip(calls, futures) if f is not None]
    if mine:
        (pool or POOL).submit(lambda: [memo.run_claimed(*args) for memo, args in mine],
                              *[f for f in futures if f is not None])
    return futures


def expire_all() -> int:
    return sum(memo.expire() for memo in _ALL)


def clear_all() -> None:
    for memo in _ALL:
        memo.clear()
