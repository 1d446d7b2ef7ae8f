"""Run a job's work in a child process, so training never competes with the server for its interpreter.

A Streamlit server answers every session from one Python process: all script runs share one
interpreter lock.  A training loop of small torch ops holds that lock most of the time, so a
retrain in a server thread slows every page of every user.  ``in_child(work)`` returns a
``jobs.JobFn`` that runs ``work(on_step, cancel)`` in a fresh process started with *spawn* (no
forked copies of the server's threads or locks), at a lower CPU priority (``os.nice``), and
relays its step reports back to the calling thread, where ``jobs.Job`` records them as usual.

* ``work`` must be picklable (a module-level function or an object with ``__call__``); so must
  what it passes to ``on_step`` and what it returns (they travel through a pipe).
* Cancel is immediate: the child is terminated, and ``Cancelled`` is raised in the caller.
* Pause is at a step boundary: when the job's flag says ``paused()`` (``jobs.Gate``), the child waits in
  its own cancel check before its next step, keeping its state and memory, until the flag clears.
* An exception in the child becomes a ``ChildError`` with the child's message; a child that
  dies without a word (killed, out of memory) is reported with its exit code.
* The child's own CPU work and memory end with it: nothing stays resident in the server.

Generic: nothing here imports torch.  Pipes carry pickles between this process and its own
child only; nothing from a file or a user is unpickled.
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import sys
import threading
import types
from typing import Any, Callable, Iterator

from .jobs import CancelFlag, JobFn, OnStep, ReportedError

# The trainer yields CPU to the server's script runs when the cores are contended: nice 5 gives it about a
# third of a normal process's share there (10 starves it on a busy machine); CMCORE_TRAIN_NICE overrides.
CHILD_NICE = int(os.environ.get("CMCORE_TRAIN_NICE", "5"))
POLL_S = 0.1  # how often the relay checks the cancel and pause flags while the child is quiet
ORPHAN_CHECK_S = 1.0  # a paused child checks this often that the server that started it is still there
_STEP, _DONE, _ERROR = "step", "done", "error"
_START_LOCK = threading.Lock()  # one start at a time swaps the process's __main__ (below)


class Cancelled(Exception):
    """The job's cancel flag tripped; the child process was stopped and produced nothing."""


class ChildError(ReportedError):
    """The work raised in the child process (its type and message are kept) or the child died."""


@contextlib.contextmanager
def _bare_main() -> Iterator[None]:
    """Start a child with an empty ``__main__``.

    *spawn* runs the parent's ``__main__`` file again in the child before unpickling the work.  Streamlit makes
    each script run's file (app.py on a server, a generated file under AppTest) the process's ``__main__``, so a
    retrain child would draw the whole page once more in bare mode, or die at once (AppTest's function scripts
    need arguments only the test has: exit code 1, seen in the full test suite).  The child needs only ``work``,
    which it imports by its own module's name.  Streamlit sets ``__main__`` afresh at each script run, so
    putting the old one back afterwards changes nothing it relies on."""
    with _START_LOCK:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


def _child_main(conn, work: Callable[[OnStep, CancelFlag], Any], nice: int, go=None) -> None:
    """Entry point of the child process: run ``work``, report every step, then the result or the error.

    ``go`` (an event the parent clears to pause) is waited for before every step; cancel is the parent's
    ``terminate``, so the work's own flag never says stop."""
    parent = os.getppid()
    if nice:
        try:
            os.nice(nice)
        except OSError:  # not permitted here: run at the server's priority
            pass
    def send(kind: str, payload: Any) -> None:
        # Plain pickle, as bytes: a tensor then travels as a copy.  (multiprocessing's own pickler would share
        # it through a memory file that vanishes when this process exits, before the parent has read it.)
        conn.send_bytes(pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL))

    def gate() -> bool:
        while go is not None and not go.wait(ORPHAN_CHECK_S):
            if os.getppid() != parent:  # the server is gone: nobody will resume or read this run
                os._exit(1)
        return False

    try:
        result = work(lambda info: send(_STEP, info), gate)
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent, which decides
        send(_ERROR, f"{type(exc).__name__}: {exc}")
    else:
        send(_DONE, result)
    finally:
        conn.close()


def in_child(work: Callable[[OnStep, CancelFlag], Any], nice: int = CHILD_NICE) -> JobFn:
    """A ``JobFn`` that runs ``work`` in a spawned child process at ``nice`` and relays its reports."""

    def run(on_step: OnStep, cancel: CancelFlag) -> Any:
        cancelled = getattr(cancel, "cancelled", cancel)  # never waits: the relay keeps reading while paused
        paused = getattr(cancel, "paused", lambda: False)
        ctx = mp.get_context("spawn")
        here, there = ctx.Pipe(duplex=False)
        go = ctx.Event()
        go.set()
        proc = ctx.Process(target=_child_main, args=(there, work, nice, go), daemon=True, name="cmcore-train")
        with _bare_main():
            proc.start()
        there.close()  # the child holds the only writing end: EOF here means the child is gone
        try:
            while True:
                if cancelled():
                    raise Cancelled("Cancelled; the training process was stopped.")
                if paused() == go.is_set():
                    go.clear() if paused() else go.set()
                if not here.poll(POLL_S):
                    continue
                try:
                    kind, payload = pickle.loads(here.recv_bytes())  # from our own child, never from a user
                except EOFError:
                    proc.join(5)
                    raise ChildError(f"The training process ended without a result (exit code {proc.exitcode}).")
                if kind == _STEP:
                    on_step(payload)
                elif kind == _DONE:
                    return payload
                else:
                    raise ChildError(payload)
        finally:
            here.close()
            if proc.is_alive():
                proc.terminate()
            proc.join(10)

    return run
