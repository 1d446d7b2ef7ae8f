"""Retraining runs: the server's job manager, the store of models runs produced, and each session's runs.

Training never runs in a script run.  ``start`` hands a work function to the
process-wide ``JobManager`` (one per server process: a module global, so clearing Streamlit's caches never
starts a second one while the first trains, and the host's number of trainers holds; ``ui.retrain_costs``
holds the limits, the estimate each run is queued by, and learns each finished run's step cost); a
``retrain_job.Tracker`` rides along as the job's preview hook and records, at every snapshot,
the one-step samples, the W2 of those samples under a small protocol spec
(``retrain_job.TRACK_SPEC``) and the latest snapshot model, so Stop can keep the model so far.

A finished run's model goes into ``store()`` under a content address: the hash of
its (teacher, consistency) configs (training is deterministic), or that hash plus
the step for a run stopped early; the tracker's W2 points go with it (``RunModel.track``).  That id is what the sidebar picker and the URL
(``?model=<id>``) carry, so a link to a run opens it for anyone on the same server
while the store holds it.  A session remembers its last ``SESSION_RUNS`` runs.

Nothing here imports another ``ui`` module except ``ui.params``-free helpers, so
``ui.models`` can look models up here without an import circle.
"""
from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import streamlit as st
from torch import nn

from cmcore import evaluate, jobs, procjob, retrain_job, runstore, zoo
from cmcore.config import DEFAULT_DATASET, ConsistencyConfig, TeacherConfig, config_hash
from cmcore.paths import run_root
from ui import retrain_costs

WATCHER_LEASE_S = 60.0  # a run nobody has polled for this long (tab closed, no Stop) is cancelled
STORE_SIZE = 64  # models kept by the server (each ~70 kB); least recently used dropped
SESSION_RUNS = 5  # runs a session remembers (picker, comparison table)
PREVIEW_POINTS = 1000  # one-step samples redrawn during training

_JOB = "_retrain_job"  # session_state: the Job this session follows
_RUNS = "_session_runs"  # session_state: model ids of this session's runs, oldest first
_WATCHER = "_retrain_watcher"


# --- Models that runs produced ---------------------------------------------------------------

@dataclass(frozen=True)
class RunModel:
    """A consistency model a run produced, with what is needed to describe and reproduce it."""

    model_id: str
    teacher: str  # "ours" | "lesson": the shipped teacher it was distilled from
    cfg: ConsistencyConfig
    model: nn.Module
    steps_done: int
    seconds: float
    scores: tuple[tuple[int, evaluate.Score], ...] = ()  # k -> W2 at the standard spec, measured as the run ended
    dataset: str = DEFAULT_DATASET  # what the teacher learned
    track: retrain_job.Track | None = None  # one-step W2 against step, measured while it trained

    @property
    def teacher_cfg(self) -> TeacherConfig:
        return zoo.recipe(self.teacher, self.dataset).teacher

    @property
    def partial(self) -> bool:
        return self.steps_done < self.cfg.steps


class ModelStore:
    """Thread-safe LRU of RunModels by id, shared by every session of this server, backed by the disk store
    (``cmcore.runstore``) so a server restart or another replica sharing the folder loses no finished run."""

    def __init__(self, disk: runstore.RunStore, size: int = STORE_SIZE):
        self._lock, self._items, self._size, self.disk = threading.Lock(), OrderedDict(), size, disk

    def put(self, run: RunModel) -> None:
        self._keep(run)
        try:
            self.disk.put(runstore.Card(run.model_id, run.teacher, run.cfg, run.steps_done, run.seconds,
                                        tuple((k, s.values) for k, s in run.scores), run.dataset, run.track), run.model)
        except OSError:  # a full or read-only disk costs persistence, never the run itself
            pass

    def get(self, model_id: str) -> RunModel | None:
        with self._lock:
            run = self._items.get(model_id)
            if run is not None:
                self._items.move_to_end(model_id)
                return run
        found = self.disk.load(model_id)
        if found is None:
            return None
        card, model = found
        scores = tuple((k, evaluate.Score(values, evaluate.EvalSpec().n)) for k, values in card.scores)
        run = RunModel(card.model_id, card.teacher, card.cfg, model, card.steps_done, card.seconds, scores,
                       card.dataset, card.track)
        self._keep(run)
        return run

    def _keep(self, run: RunModel) -> None:
        """Hold ``run`` as the most recently used, dropping the least recently used beyond ``size``."""
        with self._lock:
            self._items[run.model_id] = run
            self._items.move_to_end(run.model_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def card(self, model_id: str) -> runstore.Card | None:
        return self.disk.card(model_id)


@st.cache_resource(show_spinner=False)
def store() -> ModelStore:
    return ModelStore(runstore.RunStore())


_manager: jobs.JobManager | None = None
_manager_lock = threading.Lock()


def manager() -> jobs.JobManager:
    """One per server process, shared by every session: a module global, not ``st.cache_resource``, so
    clearing Streamlit's caches (a test, a redeploy) never starts a second one beside a job still training."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = jobs.JobManager(max_running=retrain_costs.HOST.trainers, lease_s=WATCHER_LEASE_S,
                                       on_settled=retrain_costs.learn)
        return _manager


def teacher_root():
    """Where teachers trained here (on uploads) are kept: beside the runs, named like shipped ones."""
    return run_root() / "teachers"


def model_id(teacher: str, cfg: ConsistencyConfig, steps_done: int | None = None,
             dataset: str = DEFAULT_DATASET) -> str:
    """Content address of a run's model: its configs' hash (plus the step for a run stopped early)."""
    base = "run-" + config_hash(zoo.recipe(teacher, dataset).teacher, cfg)
    return base if steps_done is None or steps_done >= cfg.steps else f"{base}-s{steps_done}"


def find(model_id_: str) -> RunModel | None:
    return store().get(model_id_) if runstore.valid_id(model_id_) else None


def card(model_id_: str) -> runstore.Card | None:
    """The settings of a run this server once stored, even if its weights are gone."""
    return store().card(model_id_)


# --- Starting and stopping runs ---------------------------------------------------------------------

def _job_fn(teacher_name: str, cfg: ConsistencyConfig, teacher: nn.Module | None, dataset: str,
            tracker: retrain_job.Tracker):
    """Train (and score) in a child process at low priority, so the server keeps answering every session;
    the model is stored here as it arrives, with the W2 track the tracker recorded.  With no teacher yet (an
    upload), the child trains the recipe's teacher first, keeps it beside the runs, then distils it (one job,
    so one place in the queue)."""
    teacher_cfg = zoo.recipe(teacher_name, dataset).teacher
    cfg.validate()  # an impossible config fails before it is queued
    train = procjob.in_child(retrain_job.RetrainWork(
        cfg, teacher, dataset, tracker.noise, teacher_cfg=teacher_cfg if teacher is None else None,
        teacher_path=str(zoo.teacher_path(teacher_cfg, teacher_root())) if teacher is None else None))

    def run(on_step, cancel):
        result = train(on_step, cancel)
        store().put(RunModel(model_id(teacher_name, cfg, dataset=dataset), teacher_name, cfg, result.model, cfg.steps,
                             result.seconds, result.scores, dataset, tracker.track()))
        return result

    return run


def watcher_id() -> str:
    return st.session_state.setdefault(_WATCHER, uuid.uuid4().hex)


def current_job() -> jobs.Job | None:
    return st.session_state.get(_JOB)


def busy() -> bool:
    job = current_job()
    return job is not None and job.progress().active


def start(teacher_name: str, cfg: ConsistencyConfig, teacher: nn.Module | None,
          dataset: str = DEFAULT_DATASET) -> jobs.Job:
    """Queue a retrain (or join the same one already under way); a session follows one run at a time.

    ``teacher`` None: none exists yet for ``dataset`` (an upload), so the job trains it first.  The run is queued
    by its estimate and charged to this session's budget (joining a run charges nothing).
    """
    noise, _ = evaluate.eval_noise(0, PREVIEW_POINTS)
    tracker = retrain_job.Tracker(teacher_name, cfg, dataset, noise,
                                  teacher_steps=0 if teacher is not None else zoo.recipe(teacher_name, dataset).teacher.steps)
    key = model_id(teacher_name, cfg, dataset=dataset)
    previous = current_job()
    phases = ((("teacher", tracker.teacher_steps),) if tracker.teacher_steps else ()) + ((cfg.mode, cfg.steps),)
    est = retrain_costs.estimate(teacher_name, cfg, dataset, train_teacher=teacher is None)
    existing = manager().get(key)
    job = manager().submit(key, _job_fn(teacher_name, cfg, teacher, dataset, tracker), watcher_id(), preview=tracker,
                           info=tracker, phases=phases, estimate_s=est.seconds)
    if job is not existing:
        retrain_costs.charge(watcher_id(), job, est)
    if previous is not None and previous is not job and previous.progress().active:
        manager().stop(previous, watcher_id())
    if job.state == jobs.DONE and find(key) is None:  # trained in this process, then evicted: keep it again
        result = job.result
        store().put(RunModel(key, teacher_name, cfg, result.model, cfg.steps, result.seconds, result.scores, dataset,
                             job.info.track()))
    st.session_state[_JOB] = job
    return job


def stop(job: jobs.Job, keep: bool) -> str | None:
    """Stop following ``job`` (cancelling it if nobody else watches); with ``keep``, store the model so far.

    Returns the id of the kept model, if one was kept.
    """
    tracker: retrain_job.Tracker = job.info
    kept = None
    if keep and tracker.latest is not None:
        step, snapshot = tracker.latest
        kept = model_id(tracker.teacher, tracker.cfg, step, tracker.dataset)
        store().put(RunModel(kept, tracker.teacher, tracker.cfg, snapshot, step, job.progress().elapsed,
                             dataset=tracker.dataset, track=tracker.track(until=step)))
    manager().stop(job, watcher_id())
    if not job.progress().active or not job.watched_by(watcher_id()):
        st.session_state.pop(_JOB, None)
    if kept:
        remember(kept)
    return kept


def remember(model_id_: str) -> None:
    """Add a run's model to this session's list (newest last, at most SESSION_RUNS)."""
    runs = [m for m in st.session_state.get(_RUNS, []) if m != model_id_] + [model_id_]
    st.session_state[_RUNS] = runs[-SESSION_RUNS:]


def session_runs() -> list[RunModel]:
    """This session's runs that the server still holds, oldest first."""
    return [r for r in (find(m) for m in st.session_state.get(_RUNS, [])) if r is not None]


def elapsed_label(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return retrain_costs.duration(seconds)
