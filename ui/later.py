"""Draw the page at once; fill in its expensive numbers when they are ready.

A page asks for its per-seed numbers with ``need(what, call(fn, *args), ...)``, ``fn`` being a
``ui.shared.cached`` function.  Held values come back at once.  Otherwise the computation is handed
to the server's worker pool (one per process, shared by every session: the same model, seed and
count is computed once for everyone), the page shows what it is waiting for and how many
computations are ahead of it, stops there, and a fragment looks again every ``POLL_S`` seconds; when
the numbers are in, it reruns the page, which now draws them.  So a widget move costs the server a
cheap script run, not the computation, and no session's run waits for another session's numbers.
On a quiet server (nothing ahead in the pool) the run first waits up to ``GRACE_S`` for them, so
one student alone sees the numbers drawn at once, as before, without a note flashing up.

AppTest never runs a fragment's timer, so with ``CONSISTENCY_FILL_IN=sync`` (set by the tests)
``need`` computes inside the script run instead.
"""
from __future__ import annotations

import concurrent.futures
import os
from typing import Any, NamedTuple

import streamlit as st

from ui import shared

POLL_S = 0.3  # how often a waiting page looks again when its numbers are next in line
POLL_QUEUED_S = 1.5  # ... and when other sessions' computations are ahead of them
GRACE_S = 0.3  # first in line, numbers ready this soon are drawn in the same run: no note flashes up for them
WAIT_PREFIX = "Computing"  # the waiting note starts with this (bench/load.py watches for it)
SYNC_ENV = "CONSISTENCY_FILL_IN"  # "sync": compute inside the script run (AppTest, which never polls)


class Call(NamedTuple):
    memo: shared.SharedCache
    args: tuple


def call(memo: shared.SharedCache, *args) -> Call:
    return Call(memo, args)


def synchronous() -> bool:
    return os.environ.get(SYNC_ENV, "").strip().lower() == "sync"


def prefetch(*calls: Call) -> None:
    """Start computing what the page will need (e.g. while the student answers the prediction question)."""
    if not synchronous():
        for c in calls:
            c.memo.start(*c.args)


def need(what: str, *calls: Call) -> list[Any]:
    """The values of ``calls``, in order; if any is not ready, draw the waiting note and stop the run here."""
    if synchronous():
        return [c.memo(*c.args) for c in calls]
    futures = [c.memo.start(*c.args) for c in calls]
    pending = [f for f in futures if f is not None]
    if pending and not shared.POOL.ahead_of(pending):  # a quiet server: wait a moment (without holding the
        pending = list(concurrent.futures.wait(pending, timeout=GRACE_S).not_done)  # interpreter lock) first
    if pending:
        _waiting(what, pending)
        st.stop()
    return [c.memo(*c.args) if f is None else f.result() for c, f in zip(calls, futures)]


def waiting_text(what: str, ahead: int) -> str:
    queue = (f" {ahead:,} computation{'s' if ahead != 1 else ''} from other sessions "
             f"{'is' if ahead == 1 else 'are'} ahead of it." if ahead else "")
    return f"{WAIT_PREFIX} {what}…{queue} The page fills in by itself."


def _look(what: str, futures: list) -> None:
    if all(f.done() for f in futures):
        st.rerun(scope="app")  # a full run, which finds the values held (or shows the error)
    st.info(waiting_text(what, shared.POOL.ahead_of(futures)), icon=":material/hourglass_top:")


@st.fragment(run_every=POLL_S)
def _look_soon(what: str, futures: list) -> None:
    _look(what, futures)


@st.fragment(run_every=POLL_QUEUED_S)
def _look_later(what: str, futures: list) -> None:
    _look(what, futures)


def _waiting(what: str, futures: list) -> None:
    """The note, redrawn by a fragment that looks often when these numbers are next in line, seldom when many
    computations are ahead (every look is a fragment run: thirty sessions looking every 0.3 s cost a core)."""
    queued = shared.POOL.ahead_of(futures) >= shared.WORKERS
    (_look_later if queued else _look_soon)(what, futures)
