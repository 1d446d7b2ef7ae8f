"""Background jobs: a small worker pool with joinable, watchable, cancellable, pausable jobs.

The dashboard must keep answering while a model trains, so training runs in
worker threads owned by one process-wide ``JobManager``:

* at most ``max_running`` jobs run at once; the others wait and know their
  place in the queue.  **Shortest estimated first, with pauses:** a job may
  come with an estimate of its running time; waiting jobs are ranked by their
  estimated time left less their time spent waiting (``AGING``: a job that
  waited as long as its own estimate outranks any new one), jobs without an
  estimate last, each group in arrival order.  When the first waiting job ranks
  before a running one and its time left is under ``PREEMPT_RATIO`` of that
  one's, the running one is *paused* at its next step (its work blocks in its cancel check) and resumes when it ranks first
  again, at most ``max_paused`` at a time.  So a class's short runs never wait
  behind one long run, and the long run still finishes: its waiting counts for
  it.  Why not time slices: five runs sharing the trainer would each take five
  times as long; shortest-first finishes the short ones at their own pace and
  delays the long one by no more than what ran before it;
* a job is keyed by a hashable value (the dashboard uses a digest of the
  ``(TeacherConfig, ConsistencyConfig)`` pair); submitting a key that is
  already queued or running *joins* that job instead of starting a second one;
* every session that starts or joins a job is one of its *watchers*;
  ``stop(job, watcher)`` removes that watcher and cancels the job only when no
  watcher is left, so one person's Stop never kills another person's run;
* with a lease, a job whose watchers all stopped polling (closed tabs never
  press Stop) is cancelled: a running one before its next step, a queued one
  as soon as the manager next looks at its queue (any submit, read of a queue
  position or progress, or a slot freeing up), so it never starts;
* a finished job keeps its result (bounded LRU) so its model can be fetched
  later; a cancelled or failed job keeps none;
* ``Job.progress()`` is a consistent, immutable snapshot for a UI to poll;
* a job may be made of named *phases* (e.g. training a teacher, then
  distilling it), each a number of its steps, then ``SCORING`` once the steps
  are done and the work still runs: progress names the phase, and the step
  rate and time left are measured per phase (a teacher step costs less than a
  distillation step) and smoothed over ``RATE_TAU_S`` seconds of the work's own
  clock, so the estimate follows a change of load without swinging;
* a job measures, per phase, the steps it trained and the seconds they took,
  pauses excluded (``Job.timing()``): what ``cmcore.costs`` learns a step's
  cost from (``on_settled`` hands every finished job to the caller).

The work itself is injected as ``fn(on_step, cancel) -> result`` so tests can
drive fake jobs step by step; ``cancel()`` is also where a paused job waits
(``cancel.paused()`` and ``cancel.cancelled()`` ask without waiting, for work
that runs elsewhere: ``cmcore.procjob``).  Generic: nothing here imports torch or
Streamlit (the dashboard's training job is ``cmcore.retrain_job``).  An
exception the work raises after its cancel flag tripped counts as the
cancellation it reports.  An interrupt (``KeyboardInterrupt``, ``SystemExit``)
still settles the job and frees its slot, then propagates.

Longer than 300 lines because a ``Job`` and the ``JobManager`` share one locking order (the manager's
lock, then a job's; a job asks the manager for its queue place never under its own lock), and the
queue's order, pauses and resumes read and change both under it: split in two modules, that order
would have to be kept across both.
"""
from __future__ import annotations

import itertools
import math
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Callable, Hashable, NamedTuple

import numpy as np

from .series import window_means

QUEUED, RUNNING, DONE, CANCELLED, FAILED = "queued", "running", "done", "cancelled", "failed"
ACTIVE_STATES = (QUEUED, RUNNING)
FINAL_STATES = (DONE, CANCELLED, FAILED)

MAX_LOSS_POINTS = 1000  # losses in a progress snapshot: longer histories are averaged into this many bins
DEFAULT_KEEP_FINISHED = 64  # finished jobs (and their ~0.3 MB models) kept for fetching; least recently used dropped

SCORING = "scoring"  # the phase after the last step while the work still runs (scoring the result)
TRAINING = "training"  # the one phase of a job that names none
RATE_SAMPLE_S = 1.0  # seconds of the work's clock per rate measurement (a step takes milliseconds)
RATE_TAU_S = 20.0  # time constant of the smoothed rate: a sample moves it by 1 - exp(-dt / RATE_TAU_S)
AGING = 1.0  # a waiting job's rank improves by this many seconds per second waited (queued or paused)
PREEMPT_RATIO = 0.5  # pause a running job for a waiting one that ranks below this share of its rank
DEFAULT_MAX_PAUSED = 1  # jobs paused at once (a paused training process keeps its memory)
PAUSE_POLL_S = 0.05  # how often a paused job's work looks at its cancel flag

OnStep = Callable[[Any], None]  # receives a step report with .step, .total, .loss, .elapsed (and .snapshot or None)
CancelFlag = Callable[[], bool]
JobFn = Callable[[OnStep, CancelFlag], Any]
Preview = Callable[[Any], np.ndarray]  # a step report's snapshot -> samples to draw


class ReportedError(RuntimeError):
    """A failure whose message already says what failed (shown as it is, without the exception's type)."""


@dataclass(frozen=True)
class Progress:
    """What a UI needs to draw a job at one instant (immutable; safe to keep)."""

    state: str  # queued | running | done | cancelled | failed
    step: int  # optimiser steps finished
    total: int  # steps planned (0 until the first report)
    loss_steps: np.ndarray  # x of the loss curve (1-based step, bin centre when downsampled)
    losses: np.ndarray  # y of the loss curve
    elapsed: float  # seconds of training so far (the trainer's clock)
    rate: float | None  # steps per second in the current phase, smoothed (None until measured)
    eta: float | None  # seconds left in the current phase at that rate
    samples: np.ndarray | None  # latest preview samples [n, 2] (fixed noise, comparable frames)
    samples_step: int  # the step the preview was taken at (0: none yet)
    queue_position: int | None  # 1 = next to start; None unless queued
    watchers: int
    error: str | None  # failure message, or where a cancelled run stopped
    stopping: bool = False  # cancel requested; the worker stops before its next step
    phase: str = TRAINING  # the phase the steps are in (SCORING after the last step)
    phase_step: int = 0  # steps done in this phase
    phase_total: int = 0  # steps this phase has
    later: tuple[tuple[str, int], ...] = ()  # the phases still to come: (name, steps)
    paused: bool = False  # running, but paused for shorter runs (resumes by itself)
    paused_s: float = 0.0  # seconds spent paused so far
    estimate_s: float | None = None  # the running time estimated at submission (None: not given)
    ahead: int = 0  # queued or paused: jobs that go before it (running ones included)
    ahead_s: float | None = None  # their estimated time left, shared among the slots (None: not all estimated)

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 0.0

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


class Timing(NamedTuple):
    """What a job measured of its own cost: per phase (name, steps, seconds trained), pauses excluded."""

    phases: tuple[tuple[str, int, float], ...]
    running_s: float  # seconds from its start to its end (or now), pauses excluded
    paused_s: float


class Gate:
    """The cancel flag handed to a job's work: ``gate()`` waits while the job is paused, then says whether to stop.

    ``paused()`` and ``cancelled()`` answer at once (for a relay that must keep reading while its work is paused).
    """

    def __init__(self, job: "Job"):
        self._job = job

    def __call__(self) -> bool:
        while self._job.paused() and not self._job.cancel_requested():
            self._job._go.wait(PAUSE_POLL_S)
        return self._job.cancel_requested()

    def paused(self) -> bool:
        return self._job.paused()

    def cancelled(self) -> bool:
        return self._job.cancel_requested()


class Outcome(NamedTuple):
    """How a job's work ended: its final state, its result (DONE only) and a message."""

    state: str
    result: Any = None
    error: str | None = None


class Job:
    """One unit of background work.  Every field is guarded by ``_lock``; read them through ``progress()``.

    The manager drives a job only through its methods (``add_watcher``, ``drop_watcher``,
    ``mark_running``, ``execute``, ``finish``, ...); the worker thread calls ``report`` and
    ``cancel_requested`` through the work function.
    """

    def __init__(self, key: Hashable, fn: JobFn, preview: Preview | None, serial: int, info: Any = None,
                 lease_s: float | None = None, clock: Callable[[], float] = time.monotonic,
                 queue_position: Callable[[Job], tuple[int | None, int, float | None]] = lambda job: (None, 0, None),
                 phases: tuple[tuple[str, int], ...] = (), estimate_s: float | None = None):
        if any(steps < 1 for _, steps in phases):
            raise ValueError(f"every phase needs at least one step; got {phases!r}.")
        self.key = key
        self.phases = tuple(phases)  # (name, steps) in order; empty: one TRAINING phase of every step
        self.info = info  # what the job is about, for display (e.g. its config); never compared
        self.serial = serial  # submission order, unique per manager
        self._fn: JobFn | None = fn
        self._preview = preview
        self._lease_s = lease_s  # cancel when no watcher has touched the job for this long (None = never)
        self._clock = clock
        self._queue_position = queue_position  # asks the manager (place, jobs ahead, their time); never under _lock
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._state = QUEUED
        self._seen: dict[Hashable, float] = {}  # watcher -> last touch
        self._step = 0
        self._total = 0
        self._losses: list[float] = []
        self._elapsed = 0.0
        self._samples: np.ndarray | None = None
        self._samples_step = 0
        self._error: str | None = None
        self._result: Any = None
        self._phase_index = -1  # the phase the rate below belongs to
        self._phase_start = (0, 0.0)  # (step, elapsed) where that phase began
        self._mark = (0, 0.0)  # (step, elapsed) of the last rate measurement
        self._rate: float | None = None  # smoothed steps per second in that phase
        self.estimate_s = estimate_s  # estimated running time (seconds), for the queue's order; None: unknown
        self._go = threading.Event()  # cleared while paused
        self._go.set()
        self._submitted = clock()
        self._started: float | None = None  # clock when it started running
        self._ended: float | None = None
        self._paused_at: float | None = None
        self._paused_s = 0.0
        self._after_pause = False  # the next report's interval spans a pause: it measures no step's cost
        self._last_snapshot = False  # the last report carried a snapshot (the next interval holds its cost)
        self._trained: dict[int, list[float]] = {}  # phase index -> [steps, seconds] measured between reports

    # --- called from the worker thread ------------------------------------------

    def report(self, info: Any) -> None:
        """The ``on_step`` hook: record one finished step (and a preview when a snapshot comes with it)."""
        samples = None
        snapshot = getattr(info, "snapshot", None)
        if snapshot is not None and self._preview is not None:
            samples = np.asarray(self._preview(snapshot), dtype=np.float64)  # outside the lock: may be slow
        with self._lock:
            before = (self._step, self._elapsed)
            self._step, self._total = int(info.step), int(info.total)
            self._losses.append(float(info.loss))
            self._elapsed = float(info.elapsed)
            after_snapshot, self._last_snapshot = self._last_snapshot, snapshot is not None
            if self._after_pause:  # the interval holds the pause: the rate restarts after it
                self._after_pause = False
                self._mark = (self._step, self._elapsed)
                self._measure_rate(self._mark)
            else:
                self._measure_rate(before)
                if not after_snapshot:  # the interval after a snapshot holds its preview and measurement, not a step's cost
                    trained = self._trained.setdefault(self._phase_index, [0, 0.0])
                    trained[0] += self._step - before[0]
                    trained[1] += self._elapsed - before[1]
            if samples is not None:
                samples.setflags(write=False)
                self._samples, self._samples_step = samples, int(info.step)

    def _phase_of(self, step: int, total: int) -> tuple[int, str, int, int]:
        """(index, name, first step before it, steps) of the phase step ``step`` belongs to (1-based steps)."""
        phases = self.phases or ((TRAINING, max(total, 1)),)
        start = 0
        for i, (name, steps) in enumerate(phases):
            if step <= start + steps or i == len(phases) - 1:
                return i, name, start, steps
            start += steps
        raise AssertionError("unreachable")

    def _measure_rate(self, before: tuple[int, float]) -> None:
        """Update the smoothed step rate of the current phase (called under ``_lock`` after each report)."""
        index = self._phase_of(self._step, self._total)[0]
        if index != self._phase_index:  # a new phase: its steps cost what they cost, measured afresh
            self._phase_index, self._phase_start, self._mark, self._rate = index, before, before, None
        steps, seconds = self._step - self._mark[0], self._elapsed - self._mark[1]
        if seconds >= RATE_SAMPLE_S and steps > 0:
            now = steps / seconds
            weight = 1.0 - math.exp(-seconds / RATE_TAU_S)
            self._rate = now if self._rate is None else self._rate + weight * (now - self._rate)
            self._mark = (self._step, self._elapsed)

    def cancel_requested(self) -> bool:
        """The ``cancel`` flag handed to the work function; also trips when every watcher went away.

        A watcher that closed its tab never presses Stop; without a lease its run would hold
        the training slot to the end.
        """
        if not self._cancel.is_set() and self.abandoned():
            self._cancel.set()
        return self._cancel.is_set()

    def execute(self) -> Outcome:
        """Run the work in this thread and say how it ended (an ``Exception`` is an outcome, not a crash)."""
        try:
            result = self._fn(self.report, Gate(self))
        except Exception as exc:  # the work's own failure (or its way of stopping on cancel)
            if self.cancel_requested():
                return Outcome(CANCELLED, None, str(exc) or f"Cancelled ({type(exc).__name__}).")
            return Outcome(FAILED, None, str(exc) if isinstance(exc, ReportedError) else f"{type(exc).__name__}: {exc}")
        if self.cancel_requested():  # Stop arrived after the last step: still keep nothing
            return Outcome(CANCELLED, None, "Cancelled as it finished; the result was discarded.")
        return Outcome(DONE, result)

    # --- called by the manager (it holds its own lock) ---------------------------------

    def add_watcher(self, watcher: Hashable) -> None:
        with self._lock:
            self._seen[watcher] = self._clock()

    def drop_watcher(self, watcher: Hashable) -> bool:
        """Remove ``watcher``; cancel the job if it was the last one.  True when this call cancelled it."""
        with self._lock:
            self._seen.pop(watcher, None)
            if self._seen or self._state not in ACTIVE_STATES or self._cancel.is_set():
                return False
            self._cancel.set()
            return True

    def abandoned(self) -> bool:
        """True when it has watchers and every one of them let the lease lapse without a ``touch``."""
        if self._lease_s is None:
            return False
        now = self._clock()
        with self._lock:
            return bool(self._seen) and all(now - seen > self._lease_s for seen in self._seen.values())

    def request_cancel(self) -> None:
        self._cancel.set()

    def mark_running(self) -> None:
        with self._lock:
            self._state, self._started = RUNNING, self._clock()

    def pause(self) -> None:
        """Stop at the next step boundary (the work waits in its cancel check) until ``resume``."""
        with self._lock:
            if self._paused_at is None:
                self._paused_at = self._clock()
                self._go.clear()

    def resume(self) -> None:
        with self._lock:
            if self._paused_at is not None:
                self._paused_s += self._clock() - self._paused_at
                self._paused_at, self._after_pause = None, True
                self._go.set()

    def paused(self) -> bool:
        return not self._go.is_set()

    def pausable(self) -> bool:
        """Running and not yet scoring (a step boundary is still to come)."""
        with self._lock:
            return self._state == RUNNING and not (self._total and self._step >= self._total)

    def remaining_s(self) -> float | None:
        """Estimated seconds of work left: the estimate less the share of steps done (None without an estimate)."""
        if self.estimate_s is None:
            return None
        with self._lock:
            done = self._step / self._total if self._total else 0.0
        return self.estimate_s * (1.0 - done)

    def _paused_until(self, now: float) -> float:
        """Seconds paused up to ``now``, the pause under way included (call under ``_lock``)."""
        return self._paused_s + (now - self._paused_at if self._paused_at is not None else 0.0)

    def waited_s(self) -> float:
        """Seconds it has spent queued or paused."""
        now = self._clock()
        with self._lock:
            return (self._started if self._started is not None else now) - self._submitted + self._paused_until(now)

    def timing(self) -> Timing:
        """Its measured cost so far (see ``Timing``)."""
        now = self._clock()
        with self._lock:
            paused = self._paused_until(now)
            end = self._ended if self._ended is not None else now
            running = 0.0 if self._started is None else max(0.0, end - self._started - paused)
            phases = tuple((self._phase_name(i), int(steps), seconds)
                           for i, (steps, seconds) in sorted(self._trained.items()) if i >= 0 and steps)
        return Timing(phases, running, paused)

    def _phase_name(self, index: int) -> str:
        return self.phases[index][0] if self.phases else TRAINING

    def finish(self, outcome: Outcome) -> None:
        """Record the final state, drop what the work held (teacher, data) and wake ``wait()``ers."""
        self.resume()  # a paused job that ends (stopped, shut down) is no longer paused
        with self._lock:
            if self._started is not None:
                self._ended = self._clock()
            self._state, self._error = outcome.state, outcome.error
            self._result = outcome.result if outcome.state == DONE else None
            self._fn = None
        self._finished.set()

    # --- read side ----------------------------------------------------------------

    def touch(self, watcher: Hashable) -> None:
        """A watcher is still there (the UI calls this on every poll); others are ignored."""
        with self._lock:
            if watcher in self._seen:
                self._seen[watcher] = self._clock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    @property
    def result(self) -> Any:
        """The work's return value once DONE; None otherwise (a cancelled or failed job keeps nothing)."""
        with self._lock:
            return self._result

    def watched_by(self, watcher: Hashable) -> bool:
        with self._lock:
            return watcher in self._seen

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job reaches a final state; False on timeout."""
        return self._finished.wait(timeout)

    def progress(self) -> Progress:
        position, ahead, ahead_s = self._queue_position(self)  # may settle it first, if its lease lapsed queued
        paused, paused_s = self.paused(), self.timing().paused_s
        with self._lock:
            losses = list(self._losses)
            state, step, total, elapsed = self._state, self._step, self._total, self._elapsed
            samples, samples_step, error, watchers = self._samples, self._samples_step, self._error, len(self._seen)
            stopping = self._cancel.is_set() and state in ACTIVE_STATES
            rate, (start_step, start_elapsed) = self._rate, self._phase_start
        index, phase, before, steps = self._phase_of(step, total)
        later = tuple(self.phases[index + 1:]) if self.phases else ()
        if step and total and step >= total:
            phase, before, steps, later = SCORING, step, 0, ()
        done = step - before
        if rate is None and phase != SCORING and done and elapsed > start_elapsed and start_step == before:
            rate = done / (elapsed - start_elapsed)  # the phase's first second: its average so far
        if phase == SCORING or not step:
            rate = None
        paused = paused and state == RUNNING
        eta = (steps - done) / rate if rate and state == RUNNING and not paused else None
        _, loss_steps, loss_values = window_means(losses, MAX_LOSS_POINTS)
        waiting = state == QUEUED or paused
        return Progress(state, step, total, loss_steps, loss_values, elapsed, rate, eta, samples, samples_step,
                        position if state == QUEUED else None, watchers, error, stopping, phase, done, steps, later,
                        paused, paused_s, self.estimate_s, ahead if waiting else 0, ahead_s if waiting else None)

    def __repr__(self) -> str:
        return f"Job(#{self.serial}, {self.state}, key={self.key!r})"


class JobManager:
    """Runs jobs in worker threads, ``max_running`` at a time, shortest estimated first with pauses (see the
    module's docstring); joins equal keys; cancels by watchers.  ``on_settled(job)`` is called (outside the lock)
    after a job that ran has ended."""

    def __init__(self, max_running: int = 1, keep_finished: int = DEFAULT_KEEP_FINISHED,
                 lease_s: float | None = None, clock: Callable[[], float] = time.monotonic,
                 max_paused: int = DEFAULT_MAX_PAUSED, on_settled: Callable[[Job], None] | None = None):
        if max_running < 1:
            raise ValueError(f"max_running must be at least 1; got {max_running}.")
        if keep_finished < 1:
            raise ValueError(f"keep_finished must be at least 1; got {keep_finished}.")
        if lease_s is not None and lease_s <= 0:
            raise ValueError(f"lease_s must be positive seconds (or None for no lease); got {lease_s}.")
        self.max_running = max_running
        self.keep_finished = keep_finished
        if max_paused < 0:
            raise ValueError(f"max_paused must be 0 or more; got {max_paused}.")
        self.lease_s, self._clock = lease_s, clock
        self.max_paused, self._on_settled = max_paused, on_settled
        self._lock = threading.RLock()
        self._active: dict[Hashable, Job] = {}  # queued or running, by key
        self._queue: deque[Job] = deque()  # queued, in arrival order
        self._running: set[Job] = set()  # with a worker thread, paused ones included
        self._paused: set[Job] = set()
        self._finished: OrderedDict[Hashable, Job] = OrderedDict()  # last final job per key, LRU order
        self._serial = itertools.count(1)

    # --- public API ---------------------------------------------------------------

    def submit(self, key: Hashable, fn: JobFn, watcher: Hashable, preview: Preview | None = None,
               info: Any = None, phases: tuple[tuple[str, int], ...] = (), estimate_s: float | None = None) -> Job:
        """Start (or queue) ``fn`` under ``key``; if that key is queued, running or already done, join it.

        A job of that key that is being cancelled is not joined: a fresh one starts.
        ``preview(snapshot) -> samples`` turns a model snapshot into points to draw; ``info`` rides along;
        ``phases``: the job's named parts, (name, steps) in order (see ``Progress.phase``);
        ``estimate_s``: its estimated running time, which places it in the queue (None: after every estimated job).
        """
        with self._lock:
            self._drop_abandoned()
            job = self._active.get(key)
            if job is not None and job.cancel_requested():
                job = None
            if job is None and key in self._finished and self._finished[key].state == DONE:
                job = self._finished[key]
                self._finished.move_to_end(key)
            if job is None:
                job = Job(key, fn, preview, next(self._serial), info, self.lease_s, self._clock,
                          queue_position=self._place, phases=phases, estimate_s=estimate_s)
                self._active[key] = job
                self._queue.append(job)
            job.add_watcher(watcher)
            self._pump()
            return job

    def get(self, key: Hashable) -> Job | None:
        """The active job for ``key``, else the last finished one (None if unknown or evicted)."""
        with self._lock:
            self._drop_abandoned()
            return self._active.get(key) or self._finished.get(key)

    def result(self, key: Hashable) -> Any:
        """The result of the finished job for ``key``; LookupError if there is none (never run, evicted, cancelled)."""
        with self._lock:
            job = self._finished.get(key)
            if job is not None:
                self._finished.move_to_end(key)
        if job is None or job.state != DONE:
            raise LookupError(f"No finished job for {key!r} in this process.")
        return job.result

    def stop(self, job: Job, watcher: Hashable) -> bool:
        """``watcher`` stops watching ``job``; the job is cancelled when nobody watches it any more.

        Returns True when this call cancelled the job.  A queued job is dropped at once;
        a running one stops before its next step (its state turns CANCELLED when the worker exits).
        """
        with self._lock:
            if not job.drop_watcher(watcher):
                return False
            if self._active.get(job.key) is job:
                del self._active[job.key]  # a new submit of this key starts afresh instead of joining a dying job
            if job.state == QUEUED:
                self._queue.remove(job)
                self._settle(job, Outcome(CANCELLED, None, "Removed from the queue before it started."))
            return True

    def queue_position(self, job: Job) -> int | None:
        """1-based place of ``job`` among waiting jobs, paused ones included (1 = goes next); None unless queued."""
        return self._place(job)[0]

    def _place(self, job: Job) -> tuple[int | None, int, float | None]:
        """(queue place or None, jobs that go before it, their estimated seconds left per slot or None)."""
        with self._lock:
            self._drop_abandoned()
            waiting = self._waiting()
            if job not in waiting:
                return None, 0, None
            index = waiting.index(job)
            before = self._training() + waiting[:index]
            left = [j.remaining_s() for j in before]
            ahead_s = None if None in left else sum(left) / self.max_running
            return (index + 1 if job.state == QUEUED else None), len(before), ahead_s

    def outlook(self, estimate_s: float) -> tuple[int, float | None, bool]:
        """What a new job estimated at ``estimate_s`` would meet now: (jobs that would go before it, their
        estimated seconds left per slot or None, whether it would pause a running job to start at once)."""
        with self._lock:
            self._drop_abandoned()
            running = self._training()
            if len(running) < self.max_running:
                return 0, None, False
            ahead = [j for j in self._waiting() if self._rank(j) < (0, estimate_s, math.inf)]
            pausable = [j for j in running if j.pausable()]
            if not ahead and pausable and len(self._paused) < self.max_paused and \
                    self._preempts((0, estimate_s, math.inf), estimate_s, max(pausable, key=self._rank)):
                return 0, None, True
            left = [j.remaining_s() for j in running + ahead]
            return len(running) + len(ahead), None if None in left else sum(left) / self.max_running, False

    def _rank(self, job: Job) -> tuple[int, float, int]:
        """Lower goes first: estimated time left less AGING x time waited; jobs without an estimate last."""
        left = job.remaining_s()
        return (1, 0.0, job.serial) if left is None else (0, left - AGING * job.waited_s(), job.serial)

    def _training(self) -> list[Job]:
        """Running jobs that are not paused."""
        return [j for j in self._running if j not in self._paused]

    def _waiting(self) -> list[Job]:
        """Queued and paused jobs, in the order they go."""
        return sorted([*self._queue, *self._paused], key=self._rank)

    def jobs(self) -> list[Job]:
        """Active jobs in submission order, then finished ones (oldest use first)."""
        with self._lock:
            self._drop_abandoned()
            return sorted(self._active.values(), key=lambda j: j.serial) + list(self._finished.values())

    def shutdown(self, timeout: float | None = 10.0) -> None:
        """Cancel everything (watchers or not) and wait for running workers; for tests and process exit."""
        with self._lock:
            queued, running = list(self._queue), list(self._running)  # paused ones included
            self._queue.clear()
            for job in queued + running:
                job.request_cancel()
            for job in queued:
                self._settle(job, Outcome(CANCELLED, None, "Cancelled at shutdown."))
        for job in running:
            job.wait(timeout)

    # --- internals (callers hold the lock) ---------------------------------------------

    def _drop_abandoned(self) -> None:
        """Cancel queued jobs whose watchers all let the lease lapse: they never start."""
        for job in [queued for queued in self._queue if queued.abandoned()]:
            job.request_cancel()
            self._queue.remove(job)
            self._settle(job, Outcome(CANCELLED, None,
                                      f"Removed from the queue: nobody had looked at it for {self.lease_s:g} s."))

    def _pump(self) -> None:
        """Fill free slots with the waiting jobs that go first, then pause running jobs for much shorter ones."""
        self._drop_abandoned()
        waiting = self._waiting()
        while waiting and len(self._running) - len(self._paused) < self.max_running:
            self._run(waiting.pop(0))
        while waiting and (waiting[0] in self._paused or len(self._paused) < self.max_paused):
            running = [j for j in self._training() if j.pausable()]
            if not running:
                return
            victim = max(running, key=self._rank)
            if not self._preempts(self._rank(waiting[0]), waiting[0].remaining_s(), victim):
                return
            victim.pause()
            self._paused.add(victim)
            self._run(waiting.pop(0))

    def _preempts(self, rank: tuple[int, float, int], left: float | None, victim: Job) -> bool:
        """A waiting job (its rank, its estimated time left) pauses ``victim`` when it ranks first and its time
        left is under PREEMPT_RATIO of the victim's: a waiting long run that aged goes next, but never pauses a
        short one that is training."""
        worst, victim_left = self._rank(victim), victim.remaining_s()
        return (not rank[0] and not worst[0] and rank < worst and left is not None and victim_left is not None
                and left < PREEMPT_RATIO * victim_left)

    def _run(self, job: Job) -> None:
        """Resume a paused job, or start a queued one in a worker thread of its own."""
        if job in self._paused:
            self._paused.discard(job)
            job.resume()
            return
        self._queue.remove(job)
        job.mark_running()
        self._running.add(job)
        threading.Thread(target=self._work, args=(job,), name=f"cm-job-{job.serial}", daemon=True).start()

    def _work(self, job: Job) -> None:
        """Worker thread body: run the job, then settle it and free its slot, even if interrupted."""
        outcome = None
        try:
            outcome = job.execute()
        finally:
            if outcome is None:  # a BaseException (KeyboardInterrupt, SystemExit) is on its way up: let it go
                outcome = Outcome(CANCELLED if job.cancel_requested() else FAILED, None,
                                  "Interrupted before it finished.")
            with self._lock:
                self._running.discard(job)
                self._paused.discard(job)
                self._settle(job, outcome)
                self._pump()
        if self._on_settled is not None:
            self._on_settled(job)

    def _settle(self, job: Job, outcome: Outcome) -> None:
        """Finish ``job`` and move it to the finished LRU."""
        job.finish(outcome)
        if self._active.get(job.key) is job:
            del self._active[job.key]
        newer = self._finished.get(job.key)
        if newer is None or newer.serial < job.serial:  # a late-ending cancelled run never hides a newer one
            self._finished.pop(job.key, None)
            self._finished[job.key] = job
        while len(self._finished) > self.keep_finished:
            self._finished.popitem(last=False)
