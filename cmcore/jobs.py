"""Background training jobs: a small FIFO worker pool with joinable, watchable, cancellable jobs.

The dashboard must keep answering while a model trains, so training runs in
worker threads owned by one process-wide ``JobManager``:

* at most ``max_running`` jobs run at once; later ones wait in FIFO order and
  know their place in the queue;
* a job is keyed by a hashable value (the dashboard uses the frozen
  ``(TeacherConfig, ConsistencyConfig)`` pair); submitting a key that is
  already queued or running *joins* that job instead of starting a second one;
* every session that starts or joins a job is one of its *watchers*;
  ``stop(job, watcher)`` removes that watcher and cancels the job only when no
  watcher is left, so one person's Stop never kills another person's run;
* a finished job keeps its result (bounded LRU) so its model can be fetched
  later; a cancelled or failed job keeps none (the trainer raises on cancel);
* ``Job.progress()`` is a consistent, immutable snapshot for a UI to poll.

The work itself is injected as ``fn(on_step, cancel) -> result`` so tests can
drive fake jobs step by step.  Nothing here imports Streamlit.
"""
from __future__ import annotations

import itertools
import math
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Callable, Hashable

import numpy as np
import torch
from torch import nn

from .config import ConsistencyConfig
from .consistency import sample_one_step
from .train import Cancelled, TrainResult, train_consistency

QUEUED, RUNNING, DONE, CANCELLED, FAILED = "queued", "running", "done", "cancelled", "failed"
ACTIVE_STATES = (QUEUED, RUNNING)
FINAL_STATES = (DONE, CANCELLED, FAILED)

MAX_LOSS_POINTS = 1000  # losses in a progress snapshot: longer histories are averaged into this many bins
DEFAULT_KEEP_FINISHED = 64  # finished jobs (and their ~0.3 MB models) kept for fetching; least recently used dropped

OnStep = Callable[[Any], None]  # receives a train.StepInfo (step, total, loss, elapsed, snapshot)
CancelFlag = Callable[[], bool]
JobFn = Callable[[OnStep, CancelFlag], Any]
Preview = Callable[[Any], np.ndarray]  # StepInfo.snapshot -> samples to draw


@dataclass(frozen=True)
class Progress:
    """What a UI needs to draw a job at one instant (immutable; safe to keep)."""

    state: str  # queued | running | done | cancelled | failed
    step: int  # optimiser steps finished
    total: int  # steps planned (0 until the first report)
    loss_steps: np.ndarray  # x of the loss curve (1-based step, bin centre when downsampled)
    losses: np.ndarray  # y of the loss curve
    elapsed: float  # seconds of training so far (the trainer's clock)
    rate: float | None  # steps per second so far
    eta: float | None  # seconds left at that rate
    samples: np.ndarray | None  # latest preview samples [n, 2] (fixed noise, comparable frames)
    samples_step: int  # the step the preview was taken at (0: none yet)
    queue_position: int | None  # 1 = next to start; None unless queued
    watchers: int
    error: str | None  # failure message, or where a cancelled run stopped
    stopping: bool = False  # cancel requested; the worker stops before its next step

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 0.0

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


def downsample(values: list[float], max_points: int = MAX_LOSS_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) with at most ``max_points`` points: equal bins, mean of each (steps are 1-based)."""
    y = np.asarray(values, dtype=np.float64)
    x = np.arange(1, len(y) + 1, dtype=np.float64)
    if len(y) <= max_points:
        return x, y
    edges = np.linspace(0, len(y), max_points + 1).round().astype(int)
    sums, counts = np.add.reduceat(y, edges[:-1]), np.diff(edges)
    centres = np.add.reduceat(x, edges[:-1]) / counts
    return centres, sums / counts


class Job:
    """One unit of background work.  All fields are guarded by ``_lock``; read them through ``progress()``."""

    def __init__(self, key: Hashable, fn: JobFn, preview: Preview | None, serial: int, info: Any = None,
                 lease_s: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.key = key
        self._lease_s = lease_s  # cancel when no watcher has touched the job for this long (None = never)
        self._clock = clock
        self._seen: dict[Hashable, float] = {}  # watcher -> last touch
        self.info = info  # what the job is about, for display (e.g. its config); never compared
        self.serial = serial  # submission order, unique per manager
        self._fn = fn
        self._preview = preview
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._state = QUEUED
        self._watchers: set[Hashable] = set()
        self._step = 0
        self._total = 0
        self._losses: list[float] = []
        self._elapsed = 0.0
        self._samples: np.ndarray | None = None
        self._samples_step = 0
        self._error: str | None = None
        self._result: Any = None
        self._queue_position: Callable[[Job], int | None] = lambda job: None

    # --- called from the worker thread ------------------------------------------

    def report(self, info: Any) -> None:
        """The ``on_step`` hook: record one finished step (and a preview when a snapshot comes with it)."""
        samples = None
        snapshot = getattr(info, "snapshot", None)
        if snapshot is not None and self._preview is not None:
            samples = np.asarray(self._preview(snapshot), dtype=np.float64)  # outside the lock: may be slow
        with self._lock:
            self._step, self._total = int(info.step), int(info.total)
            self._losses.append(float(info.loss))
            self._elapsed = float(info.elapsed)
            if samples is not None:
                samples.setflags(write=False)
                self._samples, self._samples_step = samples, int(info.step)

    def cancel_requested(self) -> bool:
        """The ``cancel`` flag handed to the work function; also trips when every watcher went away.

        A watcher that closed its tab never presses Stop; without a lease its run would hold
        the training slot to the end.
        """
        if not self._cancel.is_set() and self._lease_s is not None:
            now = self._clock()
            with self._lock:
                abandoned = bool(self._seen) and all(now - seen > self._lease_s for seen in self._seen.values())
            if abandoned:
                self._cancel.set()
        return self._cancel.is_set()

    def touch(self, watcher: Hashable) -> None:
        """A watcher is still there (the UI calls this on every poll)."""
        with self._lock:
            if watcher in self._watchers:
                self._seen[watcher] = self._clock()

    # --- read side ----------------------------------------------------------------

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    @property
    def result(self) -> Any:
        """The work's return value once DONE; None otherwise (a cancelled or failed job keeps nothing)."""
        with self._lock:
            return self._result if self._state == DONE else None

    def watched_by(self, watcher: Hashable) -> bool:
        with self._lock:
            return watcher in self._watchers

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job reaches a final state; False on timeout."""
        return self._finished.wait(timeout)

    def progress(self) -> Progress:
        position = self._queue_position(self)
        with self._lock:
            losses = list(self._losses)
            state, step, total, elapsed = self._state, self._step, self._total, self._elapsed
            samples, samples_step, error, watchers = self._samples, self._samples_step, self._error, len(self._watchers)
            stopping = self._cancel.is_set() and state in ACTIVE_STATES
        rate = step / elapsed if step and elapsed > 0 else None
        eta = (total - step) / rate if rate and state == RUNNING else None
        loss_steps, loss_values = downsample(losses)
        return Progress(state, step, total, loss_steps, loss_values, elapsed, rate, eta, samples, samples_step,
                        position if state == QUEUED else None, watchers, error, stopping)

    def __repr__(self) -> str:
        return f"Job(#{self.serial}, {self.state}, key={self.key!r})"


class JobManager:
    """Runs jobs in worker threads, ``max_running`` at a time, FIFO; joins equal keys; cancels by watchers."""

    def __init__(self, max_running: int = 1, keep_finished: int = DEFAULT_KEEP_FINISHED,
                 lease_s: float | None = None, clock: Callable[[], float] = time.monotonic):
        if max_running < 1:
            raise ValueError(f"max_running must be at least 1; got {max_running}.")
        if keep_finished < 1:
            raise ValueError(f"keep_finished must be at least 1; got {keep_finished}.")
        self.max_running = max_running
        self.keep_finished = keep_finished
        self.lease_s, self._clock = lease_s, clock
        self._lock = threading.RLock()
        self._active: dict[Hashable, Job] = {}  # queued or running, by key
        self._queue: deque[Job] = deque()  # queued, FIFO
        self._running: set[Job] = set()
        self._finished: OrderedDict[Hashable, Job] = OrderedDict()  # last final job per key, LRU order
        self._serial = itertools.count(1)

    # --- public API ---------------------------------------------------------------

    def submit(self, key: Hashable, fn: JobFn, watcher: Hashable, preview: Preview | None = None,
               info: Any = None) -> Job:
        """Start (or queue) ``fn`` under ``key``; if that key is queued, running or already done, join it.

        ``preview(snapshot) -> samples`` turns a model snapshot into points to draw; ``info`` rides along.
        """
        with self._lock:
            job = self._active.get(key)
            if job is None and key in self._finished and self._finished[key].state == DONE:
                job = self._finished[key]
                self._finished.move_to_end(key)
            if job is None:
                job = Job(key, fn, preview, next(self._serial), info, self.lease_s, self._clock)
                job._queue_position = self.queue_position
                self._active[key] = job
                self._queue.append(job)
            with job._lock:
                job._watchers.add(watcher)
                job._seen[watcher] = job._clock()
            self._pump()
            return job

    def get(self, key: Hashable) -> Job | None:
        """The active job for ``key``, else the last finished one (None if unknown or evicted)."""
        with self._lock:
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
            with job._lock:
                job._watchers.discard(watcher)
                job._seen.pop(watcher, None)
                if job._watchers or job._state not in ACTIVE_STATES or job._cancel.is_set():
                    return False
                job._cancel.set()
                queued = job._state == QUEUED
            if self._active.get(job.key) is job:
                del self._active[job.key]  # a new submit of this key starts afresh instead of joining a dying job
            if queued:
                self._queue.remove(job)
                self._finish(job, CANCELLED, None, "Removed from the queue before it started.")
            return True

    def queue_position(self, job: Job) -> int | None:
        """1-based place of ``job`` among waiting jobs (1 = starts next); None when not queued."""
        with self._lock:
            for i, queued in enumerate(self._queue, start=1):
                if queued is job:
                    return i
            return None

    def jobs(self) -> list[Job]:
        """Active jobs in submission order, then finished ones (oldest use first)."""
        with self._lock:
            return sorted(self._active.values(), key=lambda j: j.serial) + list(self._finished.values())

    def shutdown(self, timeout: float | None = 10.0) -> None:
        """Cancel everything (watchers or not) and wait for running workers; for tests and process exit."""
        with self._lock:
            queued, running = list(self._queue), list(self._running)
            self._queue.clear()
            for job in queued + running:
                job._cancel.set()
            for job in queued:
                self._finish(job, CANCELLED, None, "Cancelled at shutdown.")
        for job in running:
            job.wait(timeout)

    # --- internals ------------------------------------------------------------------

    def _pump(self) -> None:
        """Start queued jobs while there is room (caller holds the lock)."""
        while self._queue and len(self._running) < self.max_running:
            job = self._queue.popleft()
            with job._lock:
                job._state = RUNNING
            self._running.add(job)
            threading.Thread(target=self._work, args=(job,), name=f"cm-job-{job.serial}", daemon=True).start()

    def _work(self, job: Job) -> None:
        state, result, error = DONE, None, None
        try:
            result = job._fn(job.report, job.cancel_requested)
        except Cancelled as exc:
            state, error = CANCELLED, str(exc)
        except BaseException as exc:  # noqa: BLE001 - a worker must never die silently
            if job.cancel_requested():
                state, error = CANCELLED, f"Cancelled ({type(exc).__name__}: {exc})."
            else:
                state, error = FAILED, f"{type(exc).__name__}: {exc}"
        else:
            if job.cancel_requested():  # Stop arrived after the last step: still keep nothing
                state, result, error = CANCELLED, None, "Cancelled as it finished; the result was discarded."
        with self._lock:
            self._running.discard(job)
            self._finish(job, state, result, error)
            self._pump()

    def _finish(self, job: Job, state: str, result: Any, error: str | None) -> None:
        """Move ``job`` to the finished LRU (caller holds the lock)."""
        with job._lock:
            job._state, job._result, job._error = state, result, error
        if self._active.get(job.key) is job:
            del self._active[job.key]
        newer = self._finished.get(job.key)
        if newer is None or newer.serial < job.serial:  # a late-ending cancelled run never hides a newer one
            self._finished.pop(job.key, None)
            self._finished[job.key] = job
        while len(self._finished) > self.keep_finished:
            self._finished.popitem(last=False)
        job._fn = None  # drop references the work held (teacher, data) once it is over
        job._finished.set()


# --- The dashboard's job: consistency distillation / training ----------------------------

SNAPSHOT_FRAMES = 12  # preview frames per run (about)
SNAPSHOT_MIN_EVERY, SNAPSHOT_MAX_EVERY = 10, 250  # steps between previews, whatever the run length


def snapshot_every(total_steps: int) -> int:
    """Steps between preview snapshots: ~SNAPSHOT_FRAMES frames, but never rarer than every 250 steps."""
    return max(SNAPSHOT_MIN_EVERY, min(SNAPSHOT_MAX_EVERY, math.ceil(total_steps / SNAPSHOT_FRAMES)))


def consistency_job(cfg: ConsistencyConfig, teacher: nn.Module | None, dataset: str) -> JobFn:
    """``fn(on_step, cancel)`` that trains one consistency model; the teacher is only read, never changed."""
    cfg.validate()

    def run(on_step: OnStep, cancel: CancelFlag) -> TrainResult:
        return train_consistency(cfg, teacher if cfg.mode == "distillation" else None, dataset, on_step=on_step,
                                 cancel=cancel, snapshot_every=snapshot_every(cfg.steps))

    return run


def one_step_preview(noise: torch.Tensor, sigma_max: float = 1.0) -> Preview:
    """Preview = f(z, T) on one fixed noise batch, so consecutive frames differ only by training."""
    noise = noise.detach().clone()

    def preview(snapshot: nn.Module) -> np.ndarray:
        return sample_one_step(snapshot, noise, sigma_max).numpy()

    return preview
