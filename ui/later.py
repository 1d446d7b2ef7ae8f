"""Draw the page at once; fill in its expensive numbers where they belong when they are ready.

A page hands the part of it that shows per-seed numbers to ``fill_in(what, draw, call(fn, *args), ...)``,
``fn`` being a ``ui.shared.cached`` function and ``draw(*values)`` the code that draws that part.
Held values are drawn at once.  Otherwise the computations go to the server's worker pool (one per
process, shared by every session: the same model, seed and count is computed once for everyone), and
on a quiet server (nothing ahead in the pool) the run waits up to ``GRACE_S`` for them, so one student
alone sees the numbers in the same run, without a note flashing up.  If they are not in by then, the
script run ends with a note in their place saying what is being computed and how much work is queued
ahead of it (other sessions' and this page's own other parts).  That place is a fragment: the browser
reruns it (only it) every ``POLL_S`` seconds, less often the longer the queue ahead of it, and the run
that finds the numbers draws them there and stops the timer.  So a widget move costs the server a short
script run, never the computation, and no session's run waits for another session's numbers.

Widgets whose value the page keeps belong above the part, in the page itself: a widget the fragment drew
reruns that part alone, and the browser forgets its value whenever a full run draws the note in its place
(it then shows the widget's default beside numbers made from the kept value; tests/browser/test_fill_in.py).
A chart selection drawn inside ``draw`` calls ``rerun_page`` from its callback, so a click reruns the page.

(Two earlier designs, for the record.  A fragment that reran the whole page with ``st.rerun`` when the
numbers were in: under load the browser sometimes showed a link's widgets at their minimum, caught by
tests/browser/test_pages.py twice in three runs.  Waiting for the numbers inside the run: correct, but a
widget change then took as long as the queue, p95 27 s under the stress load of bench/LOAD.md.)

AppTest never runs a fragment's timer, so with ``CONSISTENCY_FILL_IN=sync`` (set by the tests)
``fill_in`` computes inside the script run instead.
"""
from __future__ import annotations

import concurrent.futures
import os
from typing import Any, Callable, NamedTuple, Sequence

import streamlit as st
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx

from ui import shared

POLL_S = 0.3  # a waiting part looks again this often while its numbers are next in line, and
POLL_PER_AHEAD_S = 0.1  # this much less often per computation ahead of them (every look is a script run:
POLL_MAX_S = 3.0  # thirty sessions looking every 0.3 s cost a core), but at least this often
GRACE_S = 0.3  # first in line, numbers ready this soon are drawn in the same run: no note flashes up for them
WAIT_PREFIX = "Computing"  # the waiting note starts with this (bench/load.py and the browser tests watch for it)
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
        shared.start_together([(c.memo, c.args) for c in calls])


def fill_in(what: str, draw: Callable[..., None], *calls: Call) -> None:
    """``draw(*values of calls)`` here: now if they are ready, else by a fragment once the pool has them."""
    if synchronous():
        draw(*[c.memo(*c.args) for c in calls])
        return
    futures = shared.start_together([(c.memo, c.args) for c in calls])
    pending = [f for f in futures if f is not None]
    if pending and not shared.POOL.ahead_of(pending):  # a quiet server: wait a moment (without holding the
        pending = list(concurrent.futures.wait(pending, timeout=GRACE_S).not_done)  # interpreter lock) first
    if not pending:
        draw(*_values(calls, futures))
        return
    _waiting_part(what, draw, tuple(calls), tuple(futures))


def rerun_page() -> None:
    """For the callback of a chart selection drawn by ``draw``: the whole page reruns, not only its part."""
    st.rerun()


def poll_interval(ahead: int) -> float:
    """Seconds between a waiting part's looks when ``ahead`` computations are queued before its numbers."""
    return round(min(POLL_MAX_S, POLL_S + POLL_PER_AHEAD_S * max(0, ahead - shared.WORKERS)), 1)


def waiting_text(what: str, ahead: int) -> str:
    queue = (f" {ahead:,} computation{'s' if ahead != 1 else ''} {'is' if ahead == 1 else 'are'} ahead of it in "
             "the server's queue." if ahead else "")  # (this page's other parts count too: not "other sessions")
    return f"{WAIT_PREFIX} {what}…{queue} The numbers appear here by themselves."


def _values(calls: Sequence[Call], futures: Sequence) -> list[Any]:
    return [c.memo(*c.args) if f is None else f.result() for c, f in zip(calls, futures)]


@st.fragment
def _waiting_part(what: str, draw: Callable[..., None], calls: tuple, futures: tuple) -> None:
    pending = [f for f in futures if f is not None and not f.done()]
    if not pending:
        draw(*_values(calls, futures))
        _poll_every(None)  # after the drawing: a run stopped halfway (Streamlit does that when another rerun is
        return             # asked for) leaves the timer on, and the next tick draws the part again
    ahead = shared.POOL.ahead_of(pending)
    _poll_every(poll_interval(ahead))  # (sent first: bench/load.py reads the
    st.info(waiting_text(what, ahead), icon=":material/hourglass_top:")  # note as the timed fragment's)


def _poll_every(seconds: float | None) -> None:
    """Start, retime or stop the browser's timer that reruns the fragment running now.

    ``st.fragment(run_every=...)`` fixes the interval when the page draws the fragment and never stops it;
    this sends the messages Streamlit sends for it: ``auto_rerun`` (the browser keeps a timer that already
    runs at this interval) and ``stop_auto_rerun`` (which Streamlit sends for a nested timer no longer drawn),
    so a part that has its numbers stops asking."""
    ctx = get_script_run_ctx()
    fragment_id = ThreadState.get().fragment_id if ctx is not None else None
    if fragment_id is None:
        return
    msg = ForwardMsg()
    if seconds is None:
        msg.stop_auto_rerun.fragment_ids.append(fragment_id)
    else:
        msg.auto_rerun.interval, msg.auto_rerun.fragment_id = seconds, fragment_id
    ctx.enqueue(msg)
