"""Draw the page at once; its expensive numbers are computed beside the run and drawn when ready.

A page asks for its per-seed numbers with ``need(what, call(fn, *args), ...)``, ``fn`` being a
``ui.shared.cached`` function.  Held values come back at once.  Otherwise the computation is handed
to the server's worker pool (one per process, shared by every session: the same model, seed and
count is computed once for everyone), and the run, having drawn everything above, shows a note
saying what it waits for and how many computations are ahead of it, redraws that note when the
count changes (at least every ``REDRAW_S`` seconds) until the numbers are in, then removes it and
goes on drawing.  The wait holds
no interpreter lock, and every redraw lets Streamlit stop the run: a widget moved meanwhile starts
the new run at once instead of waiting for numbers nobody wants any more.  On a quiet server
(nothing ahead in the pool) the note appears only if the numbers take longer than ``GRACE_S``.

(A first version stopped the run at the note and let a polling fragment rerun the page when the
numbers were in; under load the browser then sometimes showed the link's widgets at their minimum
while the numbers were the link's: tests/browser/test_pages.py caught it twice in three runs.)

AppTest cannot run a wait like this deterministically, so with ``CONSISTENCY_FILL_IN=sync`` (set by
the tests) ``need`` computes inside the script run instead.
"""
from __future__ import annotations

import concurrent.futures
import os
import time
from typing import Any, NamedTuple

import streamlit as st

from ui import shared

POLL_S = 0.25  # how often a waiting run looks at its numbers
REDRAW_S = 1.0  # the note is redrawn when its queue count changes, and at least this often (a redraw is where a
#                 moved widget stops the run; thirty sessions redrawing four times a second cost the server a core)
GRACE_S = 0.3  # first in line, numbers ready this soon are drawn in the same run: no note flashes up for them
WAIT_PREFIX = "Computing"  # the waiting note starts with this (bench/load.py watches for it)
SYNC_ENV = "CONSISTENCY_FILL_IN"  # "sync": compute inside the script run (the AppTest tests)


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


def need(what: str, *calls: Call) -> list[Any]:
    """The values of ``calls``, in order, computed in the pool; the note above says what the run waits for."""
    if synchronous():
        return [c.memo(*c.args) for c in calls]
    futures = shared.start_together([(c.memo, c.args) for c in calls])
    pending = [f for f in futures if f is not None]
    if pending and not shared.POOL.ahead_of(pending):  # a quiet server: no note for numbers this quick
        pending = list(concurrent.futures.wait(pending, timeout=GRACE_S).not_done)
    if pending:
        note, shown, drawn_at = st.empty(), "", 0.0
        while pending:  # a redraw is where Streamlit stops this run if a widget moved meanwhile
            text = waiting_text(what, shared.POOL.ahead_of(pending))
            if text != shown or time.monotonic() - drawn_at >= REDRAW_S:
                note.info(text, icon=":material/hourglass_top:")
                shown, drawn_at = text, time.monotonic()
            pending = list(concurrent.futures.wait(pending, timeout=POLL_S).not_done)
        note.empty()
    return [c.memo(*c.args) if f is None else f.result() for c, f in zip(calls, futures)]


def waiting_text(what: str, ahead: int) -> str:
    queue = (f" {ahead:,} computation{'s' if ahead != 1 else ''} from other sessions "
             f"{'is' if ahead == 1 else 'are'} ahead of it." if ahead else "")
    return f"{WAIT_PREFIX} {what}…{queue} The numbers appear here by themselves."
