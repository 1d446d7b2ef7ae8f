"""Draw the page at once; fill in its expensive numbers where they belong when they are ready.

A page hands the part of it that shows per-seed numbers to ``fill_in(what, draw, call(fn, *args), ...)``,
``fn`` being a ``ui.shared.cached`` function and ``draw(*values)`` the code that draws that part.
Held values are drawn at once.  One student alone (nothing in flight on the server) has them computed at
once on the express worker (``shared.EXPRESS``, at the script runs' priority) while the run waits up to
``QUIET_WAIT_S`` for them: the numbers are drawn in the same run, with no note and no polling, and a widget
moved meanwhile ends the wait at once (the next run joins the computation).  Otherwise the computations go
to the server's worker pool (one per process, shared by every session: the same model, seed and count is
computed once for everyone), and with nothing ahead of them in the pool the run waits up to ``GRACE_S``
for them, so no note flashes up for quick ones.  If they are not in by then, the
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

A part never raises: a computation (or a drawing) that fails shows a message in the part's place that says
what failed and how to ask again, and its timer stops (a fragment's run bypasses app.py's guard, so an
exception there would be a traceback, again at every tick).  A computation the pool dropped before it started
(its lease lapsed, e.g. while the tab was hidden) is asked for again at the next look; a full queue gives a
message too (``ui/pool.py``).  Every look renews the lease on what the part waits for.

AppTest never runs a fragment's timer, so with ``CONSISTENCY_FILL_IN=sync`` (set by the tests)
``fill_in`` computes inside the script run instead; tests/test_later.py drives the pool path itself.
"""
from __future__ import annotations

import concurrent.futures
import logging
import os
import time
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import streamlit as st

from ui import shared, streamlit_internals

POLL_S = 0.3  # a waiting part looks again this often while its numbers are next in line, and
POLL_PER_AHEAD_S = 0.1  # this much less often per computation ahead of them (every look is a script run:
POLL_MAX_S = 3.0  # thirty sessions looking every 0.3 s cost a core), but at least this often
GRACE_S = 0.3  # first in line, numbers ready this soon are drawn in the same run: no note flashes up for them
QUIET_WAIT_S = 3.0  # one student alone waits this long in the run for numbers computed at once (a page's take
WAIT_SLICE_S = 0.05  # well under a second), looking this often whether a moved widget asked for another run
WAIT_PREFIX = "Computing"  # the waiting note starts with this (bench/load.py and the browser tests watch for it)
SYNC_ENV = "CONSISTENCY_FILL_IN"  # "sync": compute inside the script run (AppTest, which never polls)
MAX_REASON_CHARS = 200  # an error's own message, cut to this, is quoted in the part's place

log = logging.getLogger(__name__)


class Call(NamedTuple):
    memo: shared.SharedCache
    args: tuple


def call(memo: shared.SharedCache, *args) -> Call:
    return Call(memo, args)


def synchronous() -> bool:
    return os.environ.get(SYNC_ENV, "").strip().lower() == "sync"


class Part:
    """A part of a page that fills in: what it shows, how, and the computations it waits for (``None``: held).
    The fragment reruns with this same object, so a computation asked for again replaces its cancelled one."""

    def __init__(self, what: str, draw: Callable[..., None], calls: Sequence[Call]):
        self.what, self.draw, self.calls = what, draw, tuple(calls)
        self.futures: list[concurrent.futures.Future | None] = [None] * len(self.calls)

    def ask(self, indexes: Iterable[int], pool: shared.Pool | None = None) -> None:
        """Ask ``pool`` (default: the shared one) for ``calls[indexes]`` (joining work in flight), then renew the
        lease on all that is pending.  Raises ``shared.QueueFull`` when the pool refuses them."""
        indexes = list(indexes)
        if indexes:
            asked = shared.start_together([(self.calls[i].memo, self.calls[i].args) for i in indexes], pool)
            for i, future in zip(indexes, asked):
                self.futures[i] = future
        shared.touch(self.pending())

    def pending(self) -> list[concurrent.futures.Future]:
        return [f for f in self.futures if f is not None and not f.done()]

    def cancelled(self) -> list[int]:
        return [i for i, f in enumerate(self.futures) if f is not None and f.cancelled()]

    def values(self) -> list[Any]:
        return [c.memo(*c.args) if f is None else f.result() for c, f in zip(self.calls, self.futures)]


def prefetch(*calls: Call) -> None:
    """Start computing what the page will need (e.g. while the student answers the prediction question); nobody
    waits for it yet, so it is the first work a full queue drops, and nothing is said if it is refused."""
    if not synchronous():
        try:
            shared.start_together([(c.memo, c.args) for c in calls], leased=False)
        except shared.QueueFull:
            pass


def fill_in(what: str, draw: Callable[..., None], *calls: Call) -> None:
    """``draw(*values of calls)`` here: now if they are ready, else by a fragment once the pool has them."""
    if synchronous():
        draw(*[c.memo(*c.args) for c in calls])
        return
    part, express = Part(what, draw, calls), shared.quiet_pool()
    try:
        part.ask(range(len(calls)), express)
    except shared.QueueFull as full:
        st.warning(busy_text(what, full.queued), icon=":material/hourglass_disabled:")
        return
    pending = part.pending()
    if pending and express is not None:  # one student alone: his numbers are being computed now
        pending = wait(pending, QUIET_WAIT_S)
    elif pending and not shared.POOL.ahead_of(pending):  # first in the queue: wait a moment
        pending = wait(pending, GRACE_S)
    if pending or part.cancelled():
        _waiting_part(part)
    else:
        look(part)


def wait(futures: list[concurrent.futures.Future], timeout_s: float) -> list[concurrent.futures.Future]:
    """Wait up to ``timeout_s`` for ``futures`` (without holding the interpreter lock), ending the run at once if
    the student asked for another meanwhile; returns those not done."""
    deadline = time.monotonic() + timeout_s
    while futures:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        futures = list(concurrent.futures.wait(futures, timeout=min(WAIT_SLICE_S, left)).not_done)
        streamlit_internals.end_run_if_asked()
    return futures


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


def failed_text(what: str, exc: BaseException) -> str:
    """What the part shows when its computation or its drawing raised: what failed, why, what to do."""
    lines = str(exc).strip().splitlines()
    reason = lines[0][:MAX_REASON_CHARS] if lines else type(exc).__name__
    return (f"Could not compute {what} ({reason}). Move a widget or reload the page to try again; "
            "if it fails again, the server's log has the details for whoever runs it.")


def busy_text(what: str, queued: int) -> str:
    return (f"The server is busy: {queued:,} computations are waiting to start, the most it queues, so {what} "
            "could not be queued. Wait a little, then move a widget or reload the page to ask again.")


def look(part: Part) -> None:
    """One look of a part (the fragment's body; a full run's, when its numbers are in): ask again for what the
    pool dropped, then the waiting note with its timer, or the numbers drawn, or a message; never an exception."""
    try:
        part.ask(part.cancelled())
        pending = part.pending()
        if pending:
            ahead = shared.POOL.ahead_of(pending)
            streamlit_internals.rerun_fragment_every(poll_interval(ahead))  # (sent first: bench/load.py reads
            st.info(waiting_text(part.what, ahead), icon=":material/hourglass_top:")  # the note as the timed
            return                                                                      # fragment's)
        part.draw(*part.values())
    except shared.QueueFull as full:
        _say_and_stop(st.warning, busy_text(part.what, full.queued), ":material/hourglass_disabled:")
        return
    except Exception as exc:  # noqa: BLE001 - shown in the part's place; the traceback goes to the log
        log.error("Could not compute %s", part.what, exc_info=exc)
        _say_and_stop(st.error, failed_text(part.what, exc), ":material/error:")
        return
    streamlit_internals.rerun_fragment_every(None)  # after the drawing: a run stopped halfway (Streamlit does that
    # when another rerun is asked for: not an Exception) leaves the timer on, and the next tick draws the part again


def _say_and_stop(say: Callable[..., Any], text: str, icon: str) -> None:
    """Show ``text`` in the part's place, then stop its timer, whatever happens (a timer left on would fail again
    at every tick).  The message goes first, as the numbers do: a client that reads the stop as "the part is
    drawn" (bench/load.py) finds it there."""
    try:
        say(text, icon=icon)
    finally:
        streamlit_internals.rerun_fragment_every(None)


_waiting_part = st.fragment(look)
