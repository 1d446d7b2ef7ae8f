"""The server's worker threads for the pages' per-seed numbers: one bounded queue, with a lease on queued work.

``ui.shared`` hands each page part's computations to ``POOL`` as one job.  The pool keeps, per job, the order
it was handed over (``ahead_of``: the "N ahead" of the waiting note and the interval a waiting part polls at)
and when somebody last asked for it or polled it (``touch``), like ``cmcore.jobs.JobManager``'s lease:

- **lease**: a job that has not started and that nobody asked for or polled in ``lease_s`` seconds is
  cancelled the next time the pool looks at its queue (every ``submit`` and ``ahead_of``, and the server's
  upkeep through ``shared.expire_all``).  Its computations are given back to their memo (``release``), so a
  later ask computes them again.  A page part that is drawn polls every 0.3-3 s (``ui.later``), so only work
  nobody waits for lapses: the seeds a slider passed, a closed tab's numbers.
- **bound**: at most ``max_queued`` jobs wait to start.  When a new one would exceed it, the oldest job that
  only a prefetch asked for (nobody waits for it yet: *unleased*) is dropped; if every queued job is awaited,
  the new one is refused with ``QueueFull``, which ``ui.later`` shows as a message saying to ask again.

A running job is never cancelled: its numbers are shared, and stopping torch halfway saves nothing.
Streamlit-free: tests drive it with plain functions and a fake clock.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

WORKERS = 2  # worker threads for every page's numbers (torch computes without the interpreter lock)
# Added to the workers' nice value: they yield the cores to script runs (short, and a student waits on each;
# the numbers fill in later), but still come before a retrain's child process (CMCORE_TRAIN_NICE, 5).
WORKER_NICE = int(os.environ.get("CONSISTENCY_POOL_NICE", "4"))
HOLD_ENV = "CONSISTENCY_POOL_HOLD_S"  # tests only: every pool job waits this long first, as behind a class's queue
LEASE_S = 15.0  # queued work nobody asked for or polled this long is cancelled (parts poll at least every 3 s)
MAX_QUEUED = 100  # jobs waiting to start (one page part each; a class of 30 has about 30-60 at its busiest)

QUEUED, RUNNING, DROPPED = "queued", "running", "dropped"


class QueueFull(RuntimeError):
    """Every one of the ``max_queued`` jobs waiting to start is awaited by someone: new work is refused."""

    def __init__(self, queued: int):
        self.queued = queued
        super().__init__(f"the server's queue is full: {queued:,} computations are waiting to start")


@dataclass(eq=False)
class _Job:
    seq: int
    futures: tuple[Future, ...]
    release: Callable[[], None]  # cancels the job's computations that nobody took over and forgets them
    asked: float  # when somebody last asked for it or polled it (the lease)
    leased: bool  # False while only a prefetch asked for it: the first to go when the queue is full
    state: str = QUEUED
    task: Future | None = field(default=None, repr=False)  # the executor's handle (cancelled when dropped)


class Pool:
    """The process's worker threads, the order work was handed to them, and the lease on queued work."""

    def __init__(self, workers: int = WORKERS, hold_s: float | None = None, nice: int = WORKER_NICE,
                 lease_s: float = LEASE_S, max_queued: int = MAX_QUEUED, clock: Callable[[], float] = time.monotonic,
                 name: str = "fill-in"):
        if lease_s <= 0 or max_queued < 1:
            raise ValueError(f"lease_s must be positive and max_queued at least 1; got {lease_s}, {max_queued}.")
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name,
                                            initializer=lower_priority, initargs=(nice,))
        self._hold_s = float(os.environ.get(HOLD_ENV) or 0) if hold_s is None else hold_s
        self.lease_s, self.max_queued, self._clock = lease_s, max_queued, clock
        self._seq = itertools.count()
        self._jobs: dict[Future, _Job] = {}  # an unfinished computation handed over -> its job
        self._waiting: dict[_Job, None] = {}  # jobs not started yet, in the order they were handed over
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], None], *futures: Future, release: Callable[[], None] = lambda: None,
               leased: bool = True) -> None:
        """Run ``fn``, which completes ``futures`` (one page's numbers go in one job: split into one job per
        number, a page waited for the last of its pieces, scattered behind every other session's).

        ``release`` gives the futures back if the job is dropped before it starts; ``leased=False`` for a
        prefetch.  Raises ``QueueFull`` (having run nothing) when the queue is full of awaited work."""
        dropped = self._drop(self._lapsed)
        with self._lock:
            if len(self._waiting) >= self.max_queued:
                unleased = next((job for job in self._waiting if not job.leased), None)
                if unleased is None:
                    raise QueueFull(len(self._waiting))
                self._unqueue(unleased)
                dropped.append(unleased)
            job = _Job(next(self._seq), futures, release, self._clock(), leased)
            self._waiting[job] = None
            for future in futures:
                self._jobs[future] = job
        self._settle(dropped)
        for future in futures:
            future.add_done_callback(self._done)
        job.task = self._executor.submit(self._run, job, fn)

    def touch(self, futures: Iterable[Future]) -> None:
        """Somebody still waits for ``futures``: renew their jobs' lease (and count a prefetch as awaited)."""
        now = self._clock()
        with self._lock:
            for future in futures:
                job = self._jobs.get(future)
                if job is not None:
                    job.asked, job.leased = now, True

    def drop_lapsed(self) -> int:
        """Cancel the queued jobs whose lease lapsed; returns how many went."""
        return len(self._drop(self._lapsed))

    def ahead_of(self, futures) -> int:
        """How many unfinished computations were handed over before the first of ``futures``."""
        self.drop_lapsed()
        with self._lock:
            mine = [self._jobs[f].seq for f in futures if f in self._jobs]
            return sum(job.seq < min(mine) for job in self._jobs.values()) if mine else 0

    @property
    def held(self) -> bool:
        """Every job waits first (``HOLD_ENV``: tests standing in for a class's queue)."""
        return self._hold_s > 0

    def busy(self) -> int:
        """Unfinished computations handed over (queued or running)."""
        with self._lock:
            return len(self._jobs)

    def queued(self) -> int:
        """Jobs waiting to start."""
        with self._lock:
            return len(self._waiting)

    # --- inside -----------------------------------------------------------------------------

    def _run(self, job: _Job, fn: Callable[[], None]) -> None:
        with self._lock:
            if job.state != QUEUED:
                return
            job.state = RUNNING
            self._waiting.pop(job, None)
        if self._hold_s > 0:
            time.sleep(self._hold_s)  # tests: the page's numbers are late, deterministically
        fn()

    def _lapsed(self, job: _Job, now: float) -> bool:
        return now - job.asked > self.lease_s

    def _drop(self, which: Callable[[_Job, float], bool]) -> list[_Job]:
        now = self._clock()
        with self._lock:
            dropped = [job for job in self._waiting if which(job, now)]
            for job in dropped:
                self._unqueue(job)
        self._settle(dropped)
        return dropped

    def _unqueue(self, job: _Job) -> None:  # (the caller holds the lock)
        job.state = DROPPED
        self._waiting.pop(job, None)
        if job.task is not None:
            job.task.cancel()

    @staticmethod
    def _settle(dropped: list[_Job]) -> None:
        for job in dropped:  # outside the lock: cancelling a future runs its callbacks (self._done among them)
            job.release()

    def _done(self, future: Future) -> None:
        with self._lock:
            self._jobs.pop(future, None)


def lower_priority(nice: int) -> None:
    """Raise this thread's nice value by ``nice`` (Linux schedules threads one by one; elsewhere nothing)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except (AttributeError, OSError):
        pass
