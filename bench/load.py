"""Load test: N real sessions against a running Consistency Explorer, over Streamlit's own websocket.

    python bench/load.py --start --sessions 30 --retrainers 5 --json out.json --md bench/LOAD.md
    python bench/load.py --url http://127.0.0.1:8501 --server-pid PID --sessions 8 --retrainers 0

Each simulated user is one browser tab, spoken for at the protocol level (no browser, no AppTest):
it GETs the page (as a browser does; through a proxy this is where a sticky-session cookie is set),
opens ``/_stcore/stream`` with that cookie, and sends ``BackMsg.rerun_script`` messages with a
``ClientState`` (page, query string, widget states), exactly what Streamlit's frontend sends.  It
reads every ``ForwardMsg``: widget ids come from the deltas (a widget with a user key has the id
``$$ID-<hash>-<key>``), the query string follows ``page_info_changed``, and ``auto_rerun`` and
``stop_auto_rerun`` messages start, retime and stop the same fragment timers the frontend runs (the retrain
progress polls this way, and so does a page part whose numbers are still being computed, ``ui/later.py``).

* Browsing users open every page in ``--pages`` (results shown through the page's ``*_show=1`` URL
  flag, as a shared link does), and on each page move ``--actions`` widgets (seeds, counts, sliders)
  to random valid values from their own random stream; they think ``--think`` seconds between steps.
* ``--retrainers`` users open page 3, set ``cd_steps`` (``--cd-steps``) and their own ``cd_seed`` in
  the settings form, press Retrain, keep polling like a browser, and wait for the finished run.

Reported: sessions served, errors (exceptions and error alerts in deltas, disconnects, timeouts),
retrains finished, queue wait, time from each widget change to Streamlit's "script finished" for the
browsing sessions (p50/p95/max) and, beside it, the time until its numbers were on screen (no waiting
note left after the fragment runs that fill them in), the server's peak RSS (its process tree, read with psutil; needs
``--server-pid`` or ``--start``) and its RSS after every session has left (sampled for ``--settle``
seconds).  Through a proxy that tags responses (deploy/haproxy.cfg sets ``X-Served-By``), each
session's backend is recorded on every request and a session that moved counts as an error.

``--faults`` (with ``--start``) also injects three faults while the others browse, and reports each faulty
session apart from the rest: (1) a browsing session opens page 1 with the noise seed whose pooled computation
raises (the server runs with ``CONSISTENCY_FAULT_SEED``, ``ui/faults.py``); (2) the first retrain's training
child is killed (SIGKILL) once it has run for ``--kill-after`` seconds; (3) the server reads its checkpoints from
a copy of ``checkpoints/`` (``CMCORE_CHECKPOINT_DIR``) in which one dataset's teacher is junk, and a browsing
session opens page 1 on that dataset.  Runs go to a temporary folder (``CMCORE_RUN_DIR``).  A faulty session
passes when it showed a message (an error alert) and no traceback; every other session must have 0 errors.

``--long-run`` (issue 20) measures fairness instead: default retrains alone first (``--idle-runs``: the first
warms the server, the last one's time is its time on an idle server), then one session asks for the largest run the host allows (``--long-steps``/``--long-batch``, by default
the server's ``CMCORE_MAX_STEPS``/``CMCORE_MAX_BATCH``) and ``--defaults`` sessions press Retrain with the
page's defaults (each its own seed) ``--long-gap`` seconds after it.  Reported: each default run's queue wait and
total time against the idle one (target: within 60 s of it), and the long run's total time and whether it was
paused and finished.  ``--server-env KEY=VALUE`` sets the started server's environment (the host's limits).

Figures only: nothing here fails on a missed target (exit status 1 means errors, not slowness).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

REPO = Path(__file__).resolve().parents[1]

# The app's pages by url path (app.py's st.Page url_path; "" is Home), and each page's
# "results shown" URL flag (ui.teach.reveal_param) so a browsing user sees the results.
PAGES = ("", "self-consistency", "one-step-ode", "distillation", "multistep")
PAGE_NAMES = {"home": "", **{p: p for p in PAGES if p}}
REVEAL = {"self-consistency": "sc_show", "one-step-ode": "os_show", "distillation": "cd_show", "multistep": "ms_show"}
# Widgets a browsing user moves, per page (the keys of pages/*.py); any number_input or plain slider works.
MOVES = {"self-consistency": ("sc_seed", "sc_n_traj", "sc_steps"), "one-step-ode": ("os_seed", "os_k"),
         "multistep": ("ms_seed", "ms_paths")}
RETRAIN_PAGE, RETRAIN_FORM_KEYS = "distillation", ("cd_steps", "cd_seed")
RETRAIN_DONE = "Retrained on "  # ui/retrain_view.py's success message ("Retrained on two moons: ...")
RETRAIN_BUTTON = "Retrain"  # ui/retrain_form.py settings_form's button
WAITING = "Computing"  # ui/later.py's note, drawn where a page's numbers go until a fragment run fills them in
KEY_RE = re.compile(r"^\$\$ID-[0-9a-f]+-(.+)$")  # element id of a widget with a user key

# --faults: what each injected fault is, and how the faulty session is told apart (its role, or for the killed
# training child, the retrain's error message: ui/retrain_view.py + cmcore/procjob.py's exit code)
FAULT_SEED = 4242  # page 1's noise seed whose pooled computation raises (ui/faults.py); browsing users avoid it
FAULT_DATASET = "checkerboard"  # whose shipped teacher is junk in the server's copy of checkpoints/
KILLED_TEXT = "exit code -9"  # a retrain whose training child got SIGKILL says this in its error message
FAULTS = {"pool": "page 1's pooled computation raises (noise seed {seed})",
          "checkpoint": "the {dataset} teacher's checkpoint is junk (in the server's copy of checkpoints/)",
          "killed": "the first retrain's training child is killed with SIGKILL"}

# Issue 8's targets on 2 cores: 30 sessions, 5 of them retraining at once.
TARGETS = {"errors": 0, "p95_interaction_s": 1.0, "peak_rss_mb": 1536.0, "after_leave_ratio": 1.20}

FINISHED_OK = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY


class SessionError(Exception):
    """A timeout or a disconnect: the session cannot go on."""


# ---------------------------------------------------------------------------- one browser tab

@dataclass
class Widget:
    id: str
    kind: str  # element type: number_input, slider, button, ...
    proto: Any


class Tab:
    """One Streamlit session over one websocket, behaving like the frontend for the messages used here."""

    def __init__(self, base_url: str, timeout_s: float):
        self.base = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.cookies: dict[str, str] = {}
        self.served_by: list[str] = []  # X-Served-By of every HTTP response and of the websocket upgrade
        self.errors: list[tuple[str, str]] = []  # (kind, text)
        self.ws = None
        self.session_id = ""  # the server's id for this session (NewSession.initialize)
        self.page_hashes: dict[str, str] = {}  # url path -> page_script_hash (from navigation)
        self.page_hash = ""  # current page
        self.query = ""  # current query string (page_info_changed keeps it in step, like the address bar)
        self.states: dict[str, WidgetState] = {}  # widget id -> value this tab has set (sent on every rerun)
        self.widgets: dict[str, Widget] = {}  # user key -> widget, from this run's deltas
        self.alerts: list[tuple[int, str]] = []  # (format, body) of this run
        self.progress_text = ""
        self._runs_started = 0  # full (non-fragment) script runs started
        self._finished_upto = 0  # the latest full run that finished successfully
        self._run_seq: dict[str, int] = {}  # script_run_id -> run number
        self._run_fragments: tuple[str, ...] = ()  # fragment ids of the run in progress (() for a full run)
        self._last_timed = ""  # the fragment the run in progress (re)timed last: the note after it is that one's
        #                        (one fragment run may run several: Streamlit folds their timer ticks together)
        self._run_waiting: set[str] = set()  # fragments the run in progress drew ui/later.py's note in
        self.waiting: set[str] = set()  # fragments whose note is on screen: their numbers are still coming
        self.waited = False  # the latest finished full run drew the note (its numbers came by fragment runs)
        self.fragment_runs = 0  # fragment runs finished (timer ticks of the retrain progress and of notes)
        self._changed = asyncio.Condition()
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (interval, its timer)
        self._reader: asyncio.Task | None = None
        self._closing = False

    # --- HTTP, as a browser does before opening the websocket -----------------------------

    def _get(self, path: str) -> None:
        req = urllib.request.Request(f"{self.base}/{path.lstrip('/')}")
        if self.cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
            resp.read()
            self._note_headers(resp.headers)

    def _note_headers(self, headers) -> None:
        for raw in headers.get_all("Set-Cookie") or []:
            name, _, value = raw.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        if headers.get("X-Served-By"):
            self.served_by.append(headers["X-Served-By"])

    async def open(self, path: str, query: str = "") -> float:
        """Load the page and connect; returns seconds until its first full run finished."""
        t0 = time.perf_counter()
        try:
            await asyncio.to_thread(self._get, f"{path}?{query}" if query else path)
        except OSError as exc:
            raise self._fail("connect", f"{type(exc).__name__}: {exc}") from None
        await self._connect()
        await self._rerun(page_name=path, query=query)
        return time.perf_counter() - t0

    async def _connect(self, resume: str = "") -> None:
        # The frontend's subprotocol list: "streamlit", an auth/XSRF token slot, the session id to resume.
        protocols = ["streamlit", "PLACEHOLDER_AUTH_TOKEN", resume] if resume else ["streamlit"]
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else None
        try:
            self.ws = await connect(self.base.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=protocols,
                                    additional_headers=headers, max_size=None, open_timeout=self.timeout_s,
                                    ping_interval=None, close_timeout=5)
        except (OSError, asyncio.TimeoutError) as exc:
            raise self._fail("connect", f"{type(exc).__name__}: {exc}") from None
        self._note_headers(self.ws.response.headers)
        self._closing = False
        self._reader = asyncio.create_task(self._read())

    async def reconnect(self) -> float:
        """Drop the websocket and reconnect as the frontend does after a network blip: same cookie, asking to
        resume this session, then a rerun with the widgets it had.  The server resumes the session only if
        this is the process that holds it (through replicas: only on the same replica)."""
        old = self.session_id
        self._closing = True
        self._stop_timers()
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)
        t0 = time.perf_counter()
        await self._connect(resume=old)
        await self._rerun(page_hash=self.page_hash, query=self.query)
        if self.session_id != old:
            self.errors.append(("not_resumed", f"reconnect got session {self.session_id}, not {old}"))
        return time.perf_counter() - t0

    async def close(self) -> None:
        self._closing = True
        self._stop_timers()
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        if self.cookies:  # one more request after the session: still the same backend?
            try:
                await asyncio.to_thread(self._get, "_stcore/health")
            except OSError as exc:
                self.errors.append(("http", f"health check after the session: {exc}"))

    # --- what a user does ------------------------------------------------------------------

    async def navigate(self, path: str, query: str = "") -> float:
        """Switch page as the sidebar does (by page hash), with a link's query string; seconds until run done."""
        t0 = time.perf_counter()
        self.states.clear()  # the page's widgets go away (app.py's sidebar keeps its own, not set here)
        if path in self.page_hashes:
            await self._rerun(page_hash=self.page_hashes[path], query=query)
        else:
            await self._rerun(page_name=path, query=query)
        return time.perf_counter() - t0

    async def filled(self, t0: float) -> float:
        """Wait until no waiting note is left (fragment runs drew the numbers in its place); seconds since t0."""
        if self.waiting:
            await self.wait_for(lambda: not self.waiting, "numbers filled in")
        return time.perf_counter() - t0

    @property
    def timers(self) -> int:
        """Fragment timers running now (a part that has its numbers must have stopped its own)."""
        return len(self._timers)

    async def change(self, states: list[WidgetState], trigger: str | None = None) -> float:
        """Set widget values (and press ``trigger``, a button id) like the frontend; seconds until run done."""
        for s in states:
            self.states[s.id] = s
        extra = []
        if trigger is not None:
            extra.append(WidgetState(id=trigger, trigger_value=True))
        t0 = time.perf_counter()
        await self._rerun(page_hash=self.page_hash, query=self.query, extra=extra)
        return time.perf_counter() - t0

    # --- protocol ------------------------------------------------------------------------------

    def _back_msg(self, page_hash: str = "", page_name: str = "", query: str = "", extra=(),
                  fragment_id: str = "", auto: bool = False) -> bytes:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string, cs.page_script_hash, cs.page_name = query, page_hash, page_name
        cs.fragment_id, cs.is_auto_rerun = fragment_id, auto
        cs.widget_states.widgets.extend([*self.states.values(), *extra])
        return msg.SerializeToString()

    async def _rerun(self, **kwargs) -> None:
        """Send one rerun request and wait until a full run started after it finishes successfully."""
        self.query = kwargs.get("query", self.query)  # the address bar: what was asked for, then page_info_changed
        mark = self._runs_started
        await self._send(self._back_msg(**kwargs))
        await self.wait_for(lambda: self._finished_upto > mark, "script run")

    async def _send(self, data: bytes) -> None:
        try:
            await self.ws.send(data)
        except ConnectionClosed as exc:
            raise self._fail("disconnect", f"send failed: {exc}") from None

    async def wait_for(self, predicate, what: str, timeout_s: float | None = None) -> None:
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: predicate() or self._reader.done()), timeout_s)
            except asyncio.TimeoutError:
                raise self._fail("timeout", f"no {what} within {timeout_s:.0f} s") from None
        if not predicate():
            raise self._fail("disconnect", f"connection closed while waiting for {what}")

    def _fail(self, kind: str, text: str) -> SessionError:
        self.errors.append((kind, text))
        return SessionError(f"{kind}: {text}")

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._handle(msg)
                async with self._changed:
                    self._changed.notify_all()
        except ConnectionClosed as exc:
            if not self._closing:
                self.errors.append(("disconnect", f"server closed the connection: {exc}"))
        finally:
            async with self._changed:
                self._changed.notify_all()

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        run_id = msg.metadata.run.script_run_id
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            self._run_fragments, self._last_timed, self._run_waiting = tuple(msg.metadata.run.fragment_ids), "", set()
            if not self._run_fragments:  # a full run: the frontend drops its fragment timers here
                self._runs_started += 1
                self._run_seq[run_id] = self._runs_started
                self.widgets, self.alerts = {}, []
                self._stop_timers()
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element)
        elif kind == "script_finished":
            if msg.script_finished == FINISHED_OK and run_id in self._run_seq:
                if self._run_seq[run_id] > self._finished_upto:
                    self.waiting, self.waited = set(self._run_waiting), bool(self._run_waiting)
                self._finished_upto = max(self._finished_upto, self._run_seq[run_id])
            elif run_id not in self._run_seq:  # a fragment run, finished or stopped for the next run (what it
                self.fragment_runs += 1      # drew stays on screen either way, as in the frontend)
                self.waiting |= self._run_waiting
        elif kind == "navigation":
            self.page_hashes = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            self.page_hash = msg.navigation.page_script_hash  # the page this run shows (new_session has app.py's)
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":  # as the frontend: a timer already at this interval is kept, else replaced
            fid, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            self._last_timed = fid
            if fid not in self._timers or self._timers[fid][0] != interval:
                self._stop_timers([fid])
                self._timers[fid] = (interval, asyncio.create_task(self._auto_rerun(interval, fid)))
        elif kind == "stop_auto_rerun":  # ui/later.py stops a part's timer once it has drawn the part's numbers
            self._stop_timers(msg.stop_auto_rerun.fragment_ids)
            self.waiting -= set(msg.stop_auto_rerun.fragment_ids)
        elif kind == "page_not_found":
            self.errors.append(("page_not_found", msg.page_not_found.page_name))
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            self.errors.append(("exception", msg.session_event.script_compilation_exception.message))

    def _element(self, el) -> None:
        kind = el.WhichOneof("type")
        proto = getattr(el, kind)
        widget_id = getattr(proto, "id", "") if kind != "exception" else ""
        if widget_id:
            m = KEY_RE.match(widget_id)
            key = m.group(1) if m else widget_id
            if kind == "button" and (proto.is_form_submitter or proto.label == RETRAIN_BUTTON):
                key = "__submit__"
            self.widgets[key] = Widget(widget_id, kind, proto)
        if kind == "exception":
            self.errors.append(("exception", f"{proto.type}: {proto.message}"[:500]))
        elif kind == "alert":
            self.alerts.append((proto.format, proto.body))
            if proto.body.startswith(WAITING):  # ui/later.py times its fragment just before drawing the note
                self._run_waiting.add(self._last_timed or (self._run_fragments or ("",))[0])
            if proto.format == Alert.ERROR:
                self.errors.append(("error_alert", proto.body[:500]))
        elif kind == "progress":
            self.progress_text = proto.text

    def _stop_timers(self, fragment_ids=None) -> None:
        for fid in list(self._timers) if fragment_ids is None else fragment_ids:
            if fid in self._timers:
                self._timers.pop(fid)[1].cancel()

    async def _auto_rerun(self, interval: float, fragment_id: str) -> None:
        """The frontend's setInterval for a fragment's run_every: a fragment rerun with the current widgets."""
        try:
            while True:
                await asyncio.sleep(interval)
                await self.ws.send(self._back_msg(page_hash=self.page_hash, query=self.query,
                                                  fragment_id=fragment_id, auto=True))
        except (asyncio.CancelledError, ConnectionClosed):
            pass


# ---------------------------------------------------------------------------- simulated users

def new_value(w: Widget, rng: random.Random) -> WidgetState | None:
    """A random valid value, different from the current one, for a number_input or a plain slider (never the
    noise seed ``--faults`` makes fail)."""
    p = w.proto
    if w.kind == "number_input":
        lo, hi, step, cur = p.min, p.max, p.step or 1, p.value if p.set_value else p.default
        choices = int((hi - lo) // step) + 1
        for _ in range(10):
            v = lo + step * rng.randrange(choices)
            if v != cur and v != FAULT_SEED:
                return WidgetState(id=w.id, double_value=v)
    elif w.kind == "slider" and not p.options:  # a select_slider carries options: left alone here
        lo, hi, step = p.min, p.max, p.step or 1
        cur = list(p.value if p.set_value else p.default)
        choices = int(round((hi - lo) / step)) + 1
        for _ in range(10):
            v = lo + step * rng.randrange(choices)
            if [v] != cur:
                s = WidgetState(id=w.id)
                s.double_array_value.data.append(v)
                return s
    return None


@dataclass
class UserResult:
    index: int
    role: str  # browse | retrain | fault-pool | fault-checkpoint (--faults)
    served: bool = False
    first_page_s: float | None = None
    reconnect_s: float | None = None  # --reconnect: websocket dropped and reopened until the rerun finished
    page_s: list[float] = field(default_factory=list)  # navigating to a page until its run finished
    interaction_s: list[float] = field(default_factory=list)  # widget change until the run finished
    filled_s: list[float] = field(default_factory=list)  # widget change until its numbers were on screen
    waited: list[bool] = field(default_factory=list)  # that run drew the waiting note (numbers filled in later)
    page_filled_s: list[float] = field(default_factory=list)  # page asked for until its numbers were on screen
    timers_left: int = 0  # fragment timers still running after a page had every number (should stay 0)
    fragment_runs: int = 0
    retrain: dict | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    served_by: list[str] = field(default_factory=list)
    cookie: str = ""
    timers_after_fault: int | None = None  # --faults: fragment timers still running once the fault's message showed


async def think(rng: random.Random, seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds * rng.uniform(0.5, 1.5))


async def browse(tab: Tab, res: UserResult, args, rng: random.Random, deadline: float | None) -> None:
    pages = [PAGE_NAMES[p] for p in args.pages]
    rounds = 0
    while True:
        for i, path in enumerate(pages):
            query = f"{REVEAL[path]}=1" if path in REVEAL else ""
            t0 = time.perf_counter()
            if rounds == 0 and i == 0:
                res.first_page_s = await tab.open(path, query)
                if args.reconnect:
                    res.reconnect_s = await tab.reconnect()
            else:
                res.page_s.append(await tab.navigate(path, query))
            res.page_filled_s.append(await tab.filled(t0))  # the widgets below the numbers are drawn with them
            for key in rng.sample(MOVES.get(path, ()), min(args.actions, len(MOVES.get(path, ())))):
                if key not in tab.widgets:
                    tab.errors.append(("widget", f"{key} not drawn on /{path}"))
                    continue
                state = new_value(tab.widgets[key], rng)
                if state is None:
                    continue
                await think(rng, args.think)
                t0 = time.perf_counter()
                res.interaction_s.append(await tab.change([state]))
                res.waited.append(tab.waited)
                res.filled_s.append(await tab.filled(t0))
                res.timers_left = max(res.timers_left, tab.timers)
            await think(rng, args.think)
        rounds += 1
        if deadline is None and rounds >= args.rounds or deadline is not None and time.monotonic() > deadline:
            return


async def retrain(tab: Tab, res: UserResult, args, rng: random.Random, steps: int | None = -1,
                  batch: int | None = None) -> None:
    """Set the form (``steps`` -1: ``--cd-steps``; None: the page's default; ``batch`` None: the default), press
    Retrain and wait for the finished page."""
    steps = args.cd_steps if steps == -1 else steps
    res.first_page_s = await tab.open(RETRAIN_PAGE)
    missing = [k for k in (*RETRAIN_FORM_KEYS, "cd_batch", "__submit__") if k not in tab.widgets]
    if missing:
        raise tab._fail("widget", f"retrain form widgets not drawn: {missing}")
    form = [WidgetState(id=tab.widgets["cd_seed"].id, double_value=float(rng.randrange(1, 2**31 - 1)))]
    for key, value in (("cd_steps", steps), ("cd_batch", batch)):
        if value is not None:
            form.append(WidgetState(id=tab.widgets[key].id, double_value=value))
    await think(rng, args.think)
    t0 = time.monotonic()
    info = res.retrain = {"steps": steps, "batch": batch, "finished": False, "queue_wait_s": None, "train_s": None,
                          "total_s": None, "outcome": "timeout", "paused_seen": False}
    await tab.change(form, trigger=tab.widgets["__submit__"].id)
    started = None

    def progressed() -> bool:
        nonlocal started
        if tab.progress_text.startswith("Paused"):
            info["paused_seen"] = True
        if started is None and tab.progress_text and not tab.progress_text.startswith("Waiting in the queue"):
            started = time.monotonic()
        return any(body.startswith(RETRAIN_DONE) or fmt == Alert.ERROR or body.startswith("Stopped the retrain")
                   or "was stopped after step" in body for fmt, body in tab.alerts)  # ui/retrain_view.py's wording

    await tab.wait_for(progressed, "finished retrain", timeout_s=args.retrain_timeout)
    end = time.monotonic()
    started = started or end  # finished before any progress frame showed it running
    ok = any(body.startswith(RETRAIN_DONE) for _, body in tab.alerts)
    info.update(finished=ok, outcome="done" if ok else "failed or stopped", queue_wait_s=started - t0,
                train_s=end - started, total_s=end - t0)
    if not ok and not any(fmt == Alert.ERROR for fmt, _ in tab.alerts):  # an error alert is counted already
        tab.errors.append(("retrain", next(body for _, body in tab.alerts if not body.startswith(RETRAIN_DONE))))


def message_shown(tab: Tab) -> bool:
    """An error alert or a traceback is on screen (what a faulty session waits for)."""
    return any(kind in ("error_alert", "exception") for kind, _ in tab.errors)


async def faulty(tab: Tab, res: UserResult, args) -> None:
    """Open page 1 as a link would, on the fault's seed or dataset, and wait (bounded) for what the page shows."""
    query = f"{REVEAL['self-consistency']}=1&" + (f"sc_seed={FAULT_SEED}" if res.role == "fault-pool"
                                                   else f"data={FAULT_DATASET}")
    t0 = time.perf_counter()
    try:
        res.first_page_s = await tab.open("self-consistency", query)
    except SessionError:
        return
    if not message_shown(tab):  # the fault surfaces after the run: in the fragment run that fills the numbers in
        try:
            await tab.wait_for(lambda: message_shown(tab) or not tab.waiting, "the fault's message", args.fault_wait)
        except SessionError:
            return
    res.page_filled_s.append(time.perf_counter() - t0)
    res.timers_after_fault = tab.timers


async def user(index: int, role: str, args, start_at: float, deadline: float | None) -> UserResult:
    res = UserResult(index, role)
    rng = random.Random(args.seed * 100_003 + index)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    tab = Tab(args.url, args.timeout)
    try:
        if role == "retrain":
            await retrain(tab, res, args, rng)
        elif role == "default":  # --long-run: the page's settings, a seed of its own
            await retrain(tab, res, args, rng, steps=None)
        elif role == "long":  # --long-run: the largest run the host allows
            await retrain(tab, res, args, rng, steps=args.long_steps, batch=args.long_batch)
        elif role.startswith("fault-"):
            await faulty(tab, res, args)
        else:
            await browse(tab, res, args, rng, deadline)
        res.served = True
    except SessionError:
        pass
    except Exception as exc:  # noqa: BLE001 - one user's crash is one user's error, the run goes on
        tab.errors.append(("client", f"{type(exc).__name__}: {exc}"))
    finally:
        await tab.close()
    res.errors = tab.errors
    res.fragment_runs = tab.fragment_runs
    res.served_by = tab.served_by
    res.cookie = "; ".join(f"{k}={v}" for k, v in tab.cookies.items())
    return res


# ---------------------------------------------------------------------------- the server's memory

def _processes(pids: list[int]) -> list[psutil.Process]:
    """Every process of the server trees rooted at ``pids`` (the roots first); gone ones are skipped."""
    out = []
    for pid in pids:
        try:
            root = psutil.Process(pid)
            out += [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
    return out


def _sum(pids: list[int], read) -> float:
    total = 0.0
    for proc in _processes(pids):
        try:
            total += read(proc)
        except psutil.Error:  # it exited between listing and reading
            pass
    return total


def tree(pid: int) -> list[int]:
    return [proc.pid for proc in _processes([pid])]


def rss_mb(pids: list[int]) -> float:
    """RSS of every server process tree, summed, in MiB."""
    return _sum(pids, lambda proc: proc.memory_info().rss) / 2**20


def _hwm_kb(proc: psutil.Process) -> int:
    """VmHWM, the kernel's peak RSS of one process (psutil does not report it), from /proc/<pid>/status."""
    try:
        with open(f"/proc/{proc.pid}/status") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


def hwm_mb(pids: list[int]) -> float:
    """The kernel's peak RSS (VmHWM) of every server process tree, summed (peaks since each process started)."""
    return _sum(pids, _hwm_kb) / 1024


def cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by every server process tree."""
    return _sum(pids, lambda proc: sum(proc.cpu_times()[:2]))


def loadavg() -> float:
    return psutil.getloadavg()[0]


class MemorySampler:
    """The server's RSS (peak) and the machine's 1-minute load average, every ``every_s`` seconds."""

    def __init__(self, pids: list[int], every_s: float = 0.5):
        self.pids, self.every_s, self.peak, self.samples = pids, every_s, 0.0, 0
        self.loads: list[float] = []
        self.lags: list[float] = []  # the load client's own event-loop delay: time it adds to every figure
        self._tasks: list[asyncio.Task] = []

    async def _run(self) -> None:
        while True:
            if self.pids:
                self.peak = max(self.peak, await asyncio.to_thread(rss_mb, self.pids))
            self.loads.append(loadavg())
            self.samples += 1
            await asyncio.sleep(self.every_s)

    async def _lag(self, every_s: float = 0.1) -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(every_s)
            self.lags.append(max(0.0, time.monotonic() - t - every_s))

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._lag())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _cmdline(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ""


async def kill_first_training_child(pids: list[int], after_s: float, log: dict) -> None:
    """--faults: SIGKILL the first training child (multiprocessing's spawn_main, not its resource tracker) once it
    has lived ``after_s`` seconds; what was killed goes into ``log``."""
    seen: dict[int, float] = {}
    while True:
        for p in tree(pids[0])[1:]:
            cmd = _cmdline(p)
            if "spawn_main" in cmd and "resource_tracker" not in cmd:
                seen.setdefault(p, time.monotonic())
                if time.monotonic() - seen[p] >= after_s:
                    try:
                        os.kill(p, signal.SIGKILL)
                        log.update(pid=p, alive_s=round(time.monotonic() - seen[p], 1))
                    except ProcessLookupError:  # it finished first: wait for the next one
                        continue
                    return
        await asyncio.sleep(0.2)


def fault_files(root: Path) -> dict:
    """--faults: a copy of checkpoints/ with FAULT_DATASET's teacher replaced by junk, and an empty run folder.
    Never the shipped files: the copy lives in ``root`` (a temporary folder)."""
    import shutil

    ckpt, runs = root / "checkpoints", root / "runs"
    shutil.copytree(REPO / "checkpoints", ckpt)
    runs.mkdir()
    name = subprocess.run(  # the engine's own naming (a child process: the load client stays free of torch)
        [sys.executable, "-c", "import sys; from pathlib import Path; from cmcore import zoo; "
         f"print(zoo.teacher_path(zoo.recipe('ours', {FAULT_DATASET!r}).teacher, Path(sys.argv[1])).name)", str(ckpt)],
        cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    (ckpt / name).write_bytes(b"junk, not a checkpoint " * 64)
    return {"CMCORE_CHECKPOINT_DIR": str(ckpt), "CMCORE_RUN_DIR": str(runs), "CONSISTENCY_FAULT_SEED": str(FAULT_SEED),
            "junk_file": name}


# ---------------------------------------------------------------------------- a server to test

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


class Server:
    """``streamlit run app.py`` in its own process group (``--start``)."""

    def __init__(self, port: int | None = None, extra: list[str] | None = None, env: dict[str, str] | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="load-streamlit-", suffix=".log", delete=False)
        self.cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
                    "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType",
                    "none", "--browser.gatherUsageStats", "false", *(extra or [])]
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        env.pop("CONSISTENCY_FILL_IN", None)  # as deployed: numbers computed in the worker pool, never "sync"
        self.proc = subprocess.Popen(self.cmd, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

    def wait_healthy(self, timeout_s: float = 120) -> float:
        t0 = time.monotonic()
        while not healthy(self.url):
            if self.proc.poll() is not None or time.monotonic() - t0 > timeout_s:
                raise RuntimeError(f"streamlit did not become healthy:\n{Path(self.log.name).read_text()[-3000:]}")
            time.sleep(0.1)
        return time.monotonic() - t0

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)


# ---------------------------------------------------------------------------- the run

def percentile(values: list[float], q: float) -> float | None:
    """``numpy.percentile`` (linear interpolation between closest ranks) at fraction ``q``; None for no values."""
    return float(np.percentile(values, 100 * q)) if values else None


def spread(values: list[float]) -> dict:
    return {"n": len(values), "p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
            "max": max(values) if values else None}


async def settle(pids: list[int], seconds: float) -> tuple[float | None, float | None, float]:
    """RSS after the sessions left: sampled every second for ``seconds``; (last, lowest, seconds waited)."""
    if not pids:
        return None, None, 0.0
    t0, low, last = time.monotonic(), float("inf"), rss_mb(pids)
    while True:
        last = rss_mb(pids)
        low = min(low, last)
        if time.monotonic() - t0 >= seconds:
            return last, low, time.monotonic() - t0
        await asyncio.sleep(1.0)


async def settled_rss(pids: list[int], quiet_s: float = 2.0, tol_mb: float = 2.0, timeout_s: float = 60.0) -> float:
    """RSS once it has stayed within ``tol_mb`` for ``quiet_s`` (what a server does after a page, e.g. the
    preload that app.py starts after its first page, is part of its level), or after ``timeout_s``."""
    t0 = time.monotonic()
    base, since = rss_mb(pids), time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        await asyncio.sleep(0.25)
        now = rss_mb(pids)
        if abs(now - base) > tol_mb:
            base, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return rss_mb(pids)


async def run(args, pids: list[int]) -> dict:
    t_begin = time.monotonic()
    cold = rss_mb(pids) if pids else None
    home = None
    for i in range(args.warmup):  # a first visitor walks every page once: the baseline is a warm, idle server
        tab = Tab(args.url, args.timeout)
        try:
            await tab.open("")
            home = home or (await settled_rss(pids) if pids else None)
            for path in [PAGE_NAMES[p] for p in args.pages if PAGE_NAMES[p]]:
                await tab.navigate(path, f"{REVEAL[path]}=1" if path in REVEAL else "")
                await tab.filled(0.0)
        except SessionError:
            pass
        finally:
            await tab.close()
        if tab.errors:
            raise RuntimeError(f"warm-up session failed: {tab.errors}")
    baseline = await settled_rss(pids) if pids else None
    sampler = MemorySampler(pids)
    sampler.start()
    cpu0 = cpu_s(pids) if pids else None
    client_cpu0 = time.process_time()
    roles = ["retrain"] * args.retrainers + ["browse"] * (args.sessions - args.retrainers)
    killed: dict = {}
    injector = None
    if args.faults:  # two browsing sessions become faulty ones, arriving mid-ramp among the others
        mid = args.retrainers + (args.sessions - args.retrainers) // 2
        roles[mid - 1], roles[mid] = "fault-pool", "fault-checkpoint"
        if args.retrainers:
            injector = asyncio.create_task(kill_first_training_child(pids, args.kill_after, killed))
    t0 = time.monotonic()
    deadline = t0 + args.duration if args.duration else None
    starts = [t0 + (args.ramp * i / max(1, len(roles) - 1) if len(roles) > 1 else 0) for i in range(len(roles))]
    results = await asyncio.gather(*(user(i, role, args, starts[i], deadline) for i, role in enumerate(roles)))
    load_s = time.monotonic() - t0
    if injector is not None:
        injector.cancel()
        await asyncio.gather(injector, return_exceptions=True)
    server_cpu = cpu_s(pids) - cpu0 if pids else None
    client_cpu = time.process_time() - client_cpu0
    await sampler.stop()
    peak = max(sampler.peak, rss_mb(pids)) if pids else None
    end_rss = rss_mb(pids) if pids else None
    after, lowest, waited = await settle(pids, args.settle)
    return summarize(args, results, {"cold_mb": cold, "home_mb": home, "baseline_mb": baseline, "peak_mb": peak,
                                     "hwm_mb": hwm_mb(pids) if pids else None, "at_end_mb": end_rss,
                                     "after_leave_mb": after, "after_leave_lowest_mb": lowest,
                                     "settle_s": waited, "samples": sampler.samples},
                     load_s, time.monotonic() - t_begin,
                     {"server_cpu_s": server_cpu, "cores": os.cpu_count(), "client_cpu_s": client_cpu,
                      "client_loop_lag_s": spread(sampler.lags),
                      "loadavg_1min_mean": sum(sampler.loads) / len(sampler.loads) if sampler.loads else None,
                      "loadavg_1min_max": max(sampler.loads, default=None)},
                     killed if args.faults else None)


async def long_run(args, pids: list[int]) -> dict:
    """``--long-run``: a default retrain alone, then the largest run and ``--defaults`` default ones right after."""
    sampler = MemorySampler(pids)
    sampler.start()
    t_begin = time.monotonic()
    for i in range(args.idle_runs):  # the first ones warm the server (pages, a training process, its step cost)
        idle = await user(-args.idle_runs + 1 + i, "default", args, time.monotonic(), None)
    idle_loads, sampler.loads = list(sampler.loads), []
    t0 = time.monotonic()
    results = await asyncio.gather(user(1, "long", args, t0, None), *(
        user(2 + i, "default", args, t0 + args.long_gap + 0.5 * i, None) for i in range(args.defaults)))
    await sampler.stop()
    idle_s = idle.retrain["total_s"] if idle.retrain else None
    rows = []
    for r in [idle, *results]:
        rt = r.retrain or {}
        rows.append({"session": r.index, "role": "idle" if r is idle else r.role, "steps": rt.get("steps"),
                     "batch": rt.get("batch"), "finished": rt.get("finished", False),
                     "queue_wait_s": rt.get("queue_wait_s"), "total_s": rt.get("total_s"),
                     "over_idle_s": None if idle_s is None or rt.get("total_s") is None else rt["total_s"] - idle_s,
                     "paused_seen": rt.get("paused_seen", False), "errors": r.errors})
    defaults = [row for row in rows if row["role"] == "default"]
    return {"config": {"long_steps": args.long_steps, "long_batch": args.long_batch, "defaults": args.defaults,
                       "idle_runs": args.idle_runs,
                       "long_gap_s": args.long_gap, "server_env": args.server_env},
            "rows": rows, "idle_s": idle_s, "target_over_idle_s": 60.0,
            "met": bool(defaults) and all(row["finished"] and row["over_idle_s"] is not None
                                         and row["over_idle_s"] <= 60.0 for row in defaults)
            and all(row["finished"] for row in rows if row["role"] == "long"),
            "errors": sum(len(row["errors"]) for row in rows), "total_s": time.monotonic() - t_begin,
            "loadavg_idle": [min(idle_loads, default=None), max(idle_loads, default=None)],
            "loadavg_1min_mean": sum(sampler.loads) / len(sampler.loads) if sampler.loads else None,
            "loadavg_1min_max": max(sampler.loads, default=None), "cores": os.cpu_count()}


def long_run_report(r: dict) -> str:
    lines = [f"{row['role']:<8} steps {row['steps'] or 'default'} batch {row['batch'] or 'default'}: "
             f"{'finished' if row['finished'] else 'NOT finished'}; wait {fmt(row['queue_wait_s'], ' s', 1)}, total "
             f"{fmt(row['total_s'], ' s', 1)} ({fmt(row['over_idle_s'], ' s', 1)} over idle)"
             f"{'; was paused' if row['paused_seen'] else ''}" for row in r["rows"]]
    return "\n".join(lines + [f"target (each default within 60 s of idle, the long run finishes): "
                              f"{'met' if r['met'] else 'missed'}; errors {r['errors']}"]) + "\n"


def long_run_markdown(r: dict, command: str, title: str) -> str:
    c = r["config"]
    out = [title, "", f"`{command}`", "",
           f"Commit {_git('rev-parse', '--short', 'HEAD')}, {r['cores']} cores; 1-minute load average "
           f"{fmt(r['loadavg_idle'][0], '', 1)}-{fmt(r['loadavg_idle'][1], '', 1)} during the idle run, mean "
           f"{fmt(r['loadavg_1min_mean'], '', 1)} (max {fmt(r['loadavg_1min_max'], '', 1)}) during the rest. "
           + (f"{c['idle_runs'] - 1} default retrain(s) warmed the server, then one" if c.get("idle_runs", 1) > 1
              else "One") + " default retrain ran alone (its time is the idle-server time); then one session asked for "
           f"{c['long_steps']:,} steps at batch {c['long_batch']:,} (the largest run the server allowed"
           + (f", with {', '.join(c['server_env'])}" if c["server_env"] else "") + f") and {c['defaults']} sessions "
           f"pressed Retrain with the page's defaults, each with its own seed, {c['long_gap_s']:g} s after it.", "",
           "| run | steps × batch | finished | queue wait | Retrain → finished page | over the idle run | paused |",
           "|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        size = f"{row['steps']:,} × {row['batch']:,}" if row["steps"] else "defaults"
        out.append(f"| {row['role']} (session {row['session']}) | {size} | {'yes' if row['finished'] else 'no'} | "
                   f"{fmt(row['queue_wait_s'], ' s', 1)} | {fmt(row['total_s'], ' s', 1)} | "
                   f"{'—' if row['role'] == 'idle' else fmt(row['over_idle_s'], ' s', 1)} | "
                   f"{'yes' if row['paused_seen'] else 'no'} |")
    out += ["", f"Target: every default run within 60 s of the idle run, and the long run finishes: "
                f"**{'met' if r['met'] else 'missed'}**. Errors: {r['errors']}."]
    return "\n".join(out) + "\n"


def fault_of(r: UserResult) -> str | None:
    """Which injected fault this session met: its role, or a retrain whose training child was killed."""
    if r.role.startswith("fault-"):
        return r.role.removeprefix("fault-")
    if r.role == "retrain" and any(KILLED_TEXT in text for _, text in r.errors):
        return "killed"
    return None


def fault_report(results: list[UserResult], killed: dict, args) -> dict:
    """--faults: each faulty session, whether it showed a message (an error alert) and no traceback."""
    rows = []
    for r in results:
        fault = fault_of(r)
        if fault:
            kinds = [k for k, _ in r.errors]
            message = next((t for k, t in r.errors if k == "error_alert"), "")
            traceback = next((t for k, t in r.errors if k == "exception"), "")
            rows.append({"session": r.index, "fault": fault, "message_shown": bool(message), "traceback": traceback[:300],
                         "traceback_shown": "exception" in kinds, "other_errors": [k for k in kinds if k not in (
                             "error_alert", "exception")], "message": message[:300],
                         "timers_after_message": r.timers_after_fault})
    met = {f: any(x["fault"] == f and x["message_shown"] and not x["traceback_shown"] and not x["other_errors"]
                  for x in rows) for f in FAULTS if f != "killed" or args.retrainers}
    return {"injected": {f: FAULTS[f].format(seed=FAULT_SEED, dataset=FAULT_DATASET) for f in met},
            "killed_child": killed, "sessions": rows, "met": met,
            "all_shown_as_messages": all(met.values()) and all(
                x["message_shown"] and not x["traceback_shown"] and not x["other_errors"] for x in rows)}


def summarize(args, results: list[UserResult], memory: dict, load_s: float, total_s: float, machine: dict,
              killed: dict | None = None) -> dict:
    faults = fault_report(results, killed or {}, args) if killed is not None else None
    faulty = {x["session"] for x in faults["sessions"]} if faults else set()
    browse = [r for r in results if r.role == "browse"]
    retrainers = [r for r in results if r.role == "retrain"]
    errors = [(r.index, kind, text) for r in results if r.index not in faulty for kind, text in r.errors]
    by_backend: dict[str, int] = {}
    moved = []
    for r in results:
        backends = set(r.served_by)
        if len(backends) > 1:
            moved.append(r.index)
            errors.append((r.index, "moved", f"served by {sorted(backends)}"))
        for b in backends:
            by_backend[b] = by_backend.get(b, 0) + 1
    kinds: dict[str, int] = {}
    for _, kind, _ in errors:
        kinds[kind] = kinds.get(kind, 0) + 1
    rt = [r.retrain for r in retrainers if r.retrain and r.index not in faulty]
    waits = [x["queue_wait_s"] for x in rt if x["queue_wait_s"] is not None]
    finished = sum(bool(x["finished"]) for x in rt)
    inter = spread([s for r in browse for s in r.interaction_s])
    waited = [w for r in browse for w in r.waited]
    out = {
        "config": {k: v for k, v in vars(args).items() if k not in ("json", "md")},
        "sessions": {"planned": len(results), "browsing": len(browse), "retraining": len(retrainers),
                     "served": sum(r.served for r in results), "faulty": len(faulty),
                     "others_served": sum(r.served for r in results if r.index not in faulty),
                     "resumed_after_reconnect": sum(r.reconnect_s is not None and not any(
                         k == "not_resumed" for k, _ in r.errors) for r in results)},
        "errors": len(errors), "errors_by_kind": kinds,
        "error_samples": [{"session": i, "kind": k, "text": t} for i, k, t in errors[:20]],
        "faults": faults,
        "retrains": {"asked": len(retrainers) - len(faulty & {r.index for r in retrainers}), "finished": finished, "queue_wait_s": spread(waits),
                     "train_s": spread([x["train_s"] for x in rt if x["train_s"] is not None]),
                     "total_s": spread([x["total_s"] for x in rt if x["total_s"] is not None])},
        "interaction_s": inter,  # browsing sessions: widget change -> script finished
        "filled_s": spread([s for r in browse for s in r.filled_s]),  # widget change -> numbers on screen
        "changes_that_waited": {"n": len(waited), "waited": sum(waited)},
        "page_filled_s": spread([s for r in browse for s in r.page_filled_s]),
        "fragment_runs": sum(r.fragment_runs for r in results),
        "timers_left_after_filled": max([r.timers_left for r in browse], default=0),
        "page_open_s": spread([s for r in browse for s in r.page_s]),
        "first_page_s": spread([r.first_page_s for r in results if r.first_page_s is not None]),
        "memory_mb": memory,
        "backends": {"sessions_per_backend": by_backend, "sessions_that_moved": moved,
                     "sessions_tagged": sum(bool(r.served_by) for r in results)},
        "load_s": load_s, "total_s": total_s, "machine": machine,
        "when_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "commit": _git("rev-parse", "--short", "HEAD"),
        "users": [asdict(r) for r in results],
    }
    peak, base, after = memory["peak_mb"], memory["baseline_mb"], memory["after_leave_mb"]
    out["targets"] = {
        "errors": {"measured": len(errors), "target": 0, "met": not errors},
        "retrains_finished": {"measured": finished, "target": len(retrainers) - len(faulty & {r.index for r in retrainers}),
                              "met": finished == len(retrainers) - len(faulty & {r.index for r in retrainers})},
        "p95_interaction_s": {"measured": inter["p95"], "target": TARGETS["p95_interaction_s"],
                              "ratio": inter["p95"] / TARGETS["p95_interaction_s"] if inter["p95"] is not None else None,
                              "met": inter["p95"] is not None and inter["p95"] <= TARGETS["p95_interaction_s"]},
        "peak_rss_mb": {"measured": peak, "target": TARGETS["peak_rss_mb"],
                        "ratio": peak / TARGETS["peak_rss_mb"] if peak else None,
                        "met": peak is not None and peak <= TARGETS["peak_rss_mb"]},
        "after_leave_vs_baseline": {"measured": after / base if after and base else None,
                                    "target": TARGETS["after_leave_ratio"],
                                    "met": bool(after and base and after / base <= TARGETS["after_leave_ratio"])},
    }
    if faults:
        out["targets"]["faults_shown_as_messages"] = {"measured": sum(x["message_shown"] and not x["traceback_shown"]
                                                                      for x in faults["sessions"]),
                                                      "target": len(faults["sessions"]),
                                                      "met": faults["all_shown_as_messages"]}
    home = memory.get("home_mb")
    if home:  # the stricter reading: against the server after its first visitor's Home page (and its preload)
        out["targets"]["after_leave_vs_home"] = {"measured": after / home if after else None,
                                                 "target": TARGETS["after_leave_ratio"],
                                                 "met": bool(after and after / home <= TARGETS["after_leave_ratio"])}
    return out


# ---------------------------------------------------------------------------- report

def fmt(v, unit: str = "", digits: int = 2) -> str:
    return "—" if v is None else f"{v:,.{digits}f}{unit}"


def _lag(r: dict, key: str) -> float | None:
    return (r["machine"].get("client_loop_lag_s") or {}).get(key)


def text_report(r: dict) -> str:
    s, m, t, rt = r["sessions"], r["memory_mb"], r["targets"], r["retrains"]
    lines = [
        f"sessions: {s['served']}/{s['planned']} served ({s['browsing']} browsing, {s['retraining']} retraining); "
        f"load phase {r['load_s']:.0f} s",
        f"errors: {r['errors']} {r['errors_by_kind'] or ''}",
        f"retrains: {rt['finished']}/{rt['asked']} finished; queue wait p50 {fmt(rt['queue_wait_s']['p50'], ' s', 1)}"
        f", max {fmt(rt['queue_wait_s']['max'], ' s', 1)}; submit to done max {fmt(rt['total_s']['max'], ' s', 1)}",
        f"interaction (browsing, widget change -> script finished): n={r['interaction_s']['n']} "
        f"p50 {fmt(r['interaction_s']['p50'], ' s')} p95 {fmt(r['interaction_s']['p95'], ' s')} "
        f"max {fmt(r['interaction_s']['max'], ' s')}",
        f"numbers on screen (widget change -> no waiting note left): p50 {fmt(r['filled_s']['p50'], ' s')} "
        f"p95 {fmt(r['filled_s']['p95'], ' s')} max {fmt(r['filled_s']['max'], ' s')}; "
        f"{r['changes_that_waited']['waited']} of {r['changes_that_waited']['n']} changes showed the waiting note; "
        f"{r['fragment_runs']:,} fragment runs; timers left after a page filled in: {r['timers_left_after_filled']}",
        f"page open (browsing): p50 {fmt(r['page_open_s']['p50'], ' s')} p95 {fmt(r['page_open_s']['p95'], ' s')} "
        f"max {fmt(r['page_open_s']['max'], ' s')}; first page p50 {fmt(r['first_page_s']['p50'], ' s')}",
        f"server RSS: cold {fmt(m['cold_mb'], ' MiB', 0)}, warm baseline {fmt(m['baseline_mb'], ' MiB', 0)}, "
        f"peak {fmt(m['peak_mb'], ' MiB', 0)} (VmHWM {fmt(m['hwm_mb'], ' MiB', 0)}), after leaving "
        f"{fmt(m['after_leave_mb'], ' MiB', 0)} after {m['settle_s']:.0f} s",
        f"machine: {r['machine']['cores']} cores, 1-min load average mean {fmt(r['machine']['loadavg_1min_mean'], '', 1)}"
        f" (max {fmt(r['machine']['loadavg_1min_max'], '', 1)}); server CPU during the load "
        f"{fmt(r['machine']['server_cpu_s'], ' s', 0)} in {r['load_s']:.0f} s",
        f"load client: CPU {fmt(r['machine'].get('client_cpu_s'), ' s', 0)}; its event-loop delay (added to every "
        f"time above) p50 {fmt(_lag(r, 'p50'), ' s', 3)} p95 {fmt(_lag(r, 'p95'), ' s', 3)} max {fmt(_lag(r, 'max'), ' s', 3)}",
    ]
    if r.get("faults"):
        f = r["faults"]
        lines.append(f"faults: {'; '.join(f['injected'].values())}; killed child {f['killed_child'] or 'none'}")
        lines.append(f"  other sessions: {s['others_served']}/{s['planned'] - s['faulty']} served, {r['errors']} errors")
        for x in f["sessions"]:
            lines.append(f"  session {x['session']} ({x['fault']}): message shown {x['message_shown']}, traceback "
                         f"shown {x['traceback_shown']}, other errors {x['other_errors'] or 'none'}; {x['message'][:160]!r}")
    if r["backends"]["sessions_tagged"]:
        lines.append(f"backends: {r['backends']['sessions_per_backend']}; sessions that moved: "
                     f"{r['backends']['sessions_that_moved'] or 'none'}")
    for e in r["error_samples"][:8]:
        lines.append(f"  error (session {e['session']}, {e['kind']}): {e['text'][:200]}")
    lines.append("targets: " + "; ".join(f"{k} {'met' if v['met'] else 'MISSED'}" for k, v in t.items()))
    return "\n".join(lines)


def scenario_title(args) -> str:
    """The heading of a report section when none is given: what the scenario was."""
    if args.long_run:
        return "Fair training: one long run, then default retrains (`--long-run`)"
    pace = "every ~1 s" if args.think <= 2 else f"every ~{args.think:g} s"
    faults = ", 3 faults" if args.faults else ""
    return f"{args.sessions} sessions acting {pace}, {args.retrainers} retraining{faults}"


def markdown_report(r: dict, command: str, title: str = "# Load test: a class on one server") -> str:
    t, m, rt = r["targets"], r["memory_mb"], r["retrains"]

    def row(name, target, measured, ratio, met):
        return f"| {name} | {target} | {measured} | {ratio} | {'yes' if met else '**no**'} |"

    ratio = lambda v: "—" if v is None else f"{v:.2f}×"  # noqa: E731
    after_ratio = t["after_leave_vs_baseline"]["measured"]
    lines = [
        title,
        "",
        f"Written by `bench/load.py` ({r.get('when_utc')} UTC, commit {r.get('commit')}; "
        f"{r['machine']['cores']} cores, load client on the same machine). "
        "Rerun it to refresh:",
        "",
        f"```bash\n{command}\n```",
        "",
        f"{r['sessions']['planned']} sessions over Streamlit's websocket, arriving over {r['config']['ramp']:g} s: "
        f"{r['sessions']['browsing']} browse every page ({', '.join(r['config']['pages'])}; results shown via "
        f"the pages' `*_show=1` link flag) and move {r['config']['actions']} widget(s) per page to random values of "
        f"their own (noise seeds, counts, slider positions), thinking ~{r['config']['think']:g} s between steps; "
        f"{r['sessions']['retraining']} open page 3, set `cd_steps={r['config']['cd_steps']}` and a seed of their own "
        "in the form, press Retrain and poll like a browser until it finishes. Interaction time = from sending the "
        "widget change to Streamlit's script-finished message for that run (browsing sessions only). A run whose "
        "numbers are not ready within 0.3 s ends with a note in their place, and fragment runs fill them in as the "
        "worker pool delivers them (`ui/later.py`), so the time until the numbers are on screen is reported beside "
        "it, and it is the figure a student feels when the pool is busy.",
        "",
        "| target (issue 8) | target | measured | ratio to target | met |",
        "|---|---|---|---|---|",
        row("errors (exceptions, error alerts, disconnects, timeouts)", "0", str(t["errors"]["measured"]),
            "—", t["errors"]["met"]),
        row("retrains finished", str(rt["asked"]), str(rt["finished"]), "—", t["retrains_finished"]["met"]),
        *([row("faulty sessions that showed a message, no traceback", str(t["faults_shown_as_messages"]["target"]),
               str(t["faults_shown_as_messages"]["measured"]), "—", t["faults_shown_as_messages"]["met"])]
          if "faults_shown_as_messages" in t else []),
        row("p95 interaction, browsing sessions", "≤ 1 s", fmt(t["p95_interaction_s"]["measured"], " s"),
            ratio(t["p95_interaction_s"]["ratio"]), t["p95_interaction_s"]["met"]),
        row("peak server memory (RSS)", "≤ 1.5 GB (1,536 MiB)", fmt(m["peak_mb"], " MiB", 0),
            ratio(t["peak_rss_mb"]["ratio"]), t["peak_rss_mb"]["met"]),
        row("memory after all left / warm baseline", "≤ 1.20", ratio(after_ratio),
            ratio(after_ratio / TARGETS["after_leave_ratio"] if after_ratio else None),
            t["after_leave_vs_baseline"]["met"]),
        *([row("memory after all left / after the first Home visit (server settled)", "≤ 1.20",
               ratio(t["after_leave_vs_home"]["measured"]),
               ratio(t["after_leave_vs_home"]["measured"] / TARGETS["after_leave_ratio"]
                     if t["after_leave_vs_home"]["measured"] else None), t["after_leave_vs_home"]["met"])]
          if "after_leave_vs_home" in t else []),
        "",
        "| figure | value |",
        "|---|---|",
        f"| sessions served (every request answered) | {r['sessions']['served']} / {r['sessions']['planned']} |",
        f"| errors by kind | {r['errors_by_kind'] or 'none'} |",
        f"| interaction, browsing: n / p50 / p95 / max | {r['interaction_s']['n']} / "
        f"{fmt(r['interaction_s']['p50'], ' s')} / {fmt(r['interaction_s']['p95'], ' s')} / "
        f"{fmt(r['interaction_s']['max'], ' s')} |",
        f"| numbers on screen after a widget change (no waiting note left): n / p50 / p95 / max | "
        f"{r['filled_s']['n']} / {fmt(r['filled_s']['p50'], ' s')} / {fmt(r['filled_s']['p95'], ' s')} / "
        f"{fmt(r['filled_s']['max'], ' s')} |",
        f"| widget changes whose run ended with the waiting note (numbers filled in by fragment runs) | "
        f"{r['changes_that_waited']['waited']} of {r['changes_that_waited']['n']} |",
        f"| page opened → its numbers on screen: n / p50 / p95 / max | {r['page_filled_s']['n']} / "
        f"{fmt(r['page_filled_s']['p50'], ' s')} / {fmt(r['page_filled_s']['p95'], ' s')} / "
        f"{fmt(r['page_filled_s']['max'], ' s')} |",
        f"| fragment runs (all sessions; note timers and retrain progress) / timers left after a page filled in | "
        f"{r['fragment_runs']:,} / {r['timers_left_after_filled']} |",
        f"| page open, browsing: n / p50 / p95 / max | {r['page_open_s']['n']} / {fmt(r['page_open_s']['p50'], ' s')}"
        f" / {fmt(r['page_open_s']['p95'], ' s')} / {fmt(r['page_open_s']['max'], ' s')} |",
        f"| first page (connect to first run finished): n / p50 / max | {r['first_page_s']['n']} / "
        f"{fmt(r['first_page_s']['p50'], ' s')} / {fmt(r['first_page_s']['max'], ' s')} |",
        f"| retrain queue wait (Retrain pressed → running): p50 / max | {fmt(rt['queue_wait_s']['p50'], ' s', 1)} / "
        f"{fmt(rt['queue_wait_s']['max'], ' s', 1)} |",
        f"| retrain pressed → finished page: p50 / max | {fmt(rt['total_s']['p50'], ' s', 1)} / "
        f"{fmt(rt['total_s']['max'], ' s', 1)} |",
        f"| server RSS: cold / after the first visitor's Home page (once settled) / warm baseline (after {r['config']['warmup']} "
        f"visitor walked every page once, default settings) | {fmt(m['cold_mb'], ' MiB', 0)} / "
        f"{fmt(m.get('home_mb'), ' MiB', 0)} / {fmt(m['baseline_mb'], ' MiB', 0)} |",
        f"| server RSS: peak sampled every 0.5 s / kernel VmHWM | {fmt(m['peak_mb'], ' MiB', 0)} / "
        f"{fmt(m['hwm_mb'], ' MiB', 0)} |",
        f"| server RSS: when the last session left / {m['settle_s']:.0f} s later (lowest) | "
        f"{fmt(m['at_end_mb'], ' MiB', 0)} / {fmt(m['after_leave_mb'], ' MiB', 0)} "
        f"({fmt(m['after_leave_lowest_mb'], ' MiB', 0)}) |",
        f"| load phase (first arrival → last session left) | {r['load_s']:.0f} s |",
        f"| server CPU time during the load phase | {fmt(r['machine']['server_cpu_s'], ' s', 0)} "
        f"({fmt(r['machine']['server_cpu_s'] / r['load_s'] if r['machine']['server_cpu_s'] else None, '', 2)} "
        "cores on average) |",
        f"| machine load average (1 min) during the load: mean / max | "
        f"{fmt(r['machine']['loadavg_1min_mean'], '', 1)} / {fmt(r['machine']['loadavg_1min_max'], '', 1)} "
        f"on {r['machine']['cores']} cores (the machine is shared: other work's load counts here too) |",
        f"| the load client on the same machine: CPU time / its event-loop delay p50 / p95 / max (added to every "
        f"time it measures) | {fmt(r['machine'].get('client_cpu_s'), ' s', 0)} / {fmt(_lag(r, 'p50'), ' s', 3)} / "
        f"{fmt(_lag(r, 'p95'), ' s', 3)} / {fmt(_lag(r, 'max'), ' s', 3)} |",
    ]
    if r.get("faults"):
        f, s = r["faults"], r["sessions"]
        lines += ["", f"Faults injected while the others browsed (`--faults`): {'; '.join(f['injected'].values())}"
                  + (f" (pid {f['killed_child']['pid']}, after {f['killed_child']['alive_s']} s of training)"
                     if f["killed_child"] else "") + ". Every other session: "
                  f"**{s['others_served']} / {s['planned'] - s['faulty']} served, {r['errors']} errors**. "
                  "The faulty sessions (a message = an error alert in the page; a traceback = an exception element):",
                  "", "| session | fault | message shown | traceback shown | other errors | timers left after it | "
                  "what the page said |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {x['session']} | {x['fault']} | {'yes' if x['message_shown'] else '**no**'} | "
                  f"{'**yes**' if x['traceback_shown'] else 'no'} | {', '.join(x['other_errors']) or 'none'} | "
                  f"{'—' if x['timers_after_message'] is None else x['timers_after_message']} | "
                  + (x["message"] or "a traceback of " + x.get("traceback", ""))[:220].replace("|", "/").replace("\n", " ")
                  + " |" for x in f["sessions"]]
    if r["error_samples"]:
        lines += ["", "First errors:", ""]
        lines += [f"- session {e['session']} ({e['kind']}): {e['text'][:300]}" for e in r["error_samples"][:10]]
    return "\n".join(lines) + "\n"


def markers(section: str = "") -> tuple[str, str]:
    """The comment lines around one generated report (``--md-section``: several reports in one file)."""
    name = f"load.py:{section}" if section else "load.py"
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def write_md(path: Path, generated: str, section: str = "") -> None:
    """Write the generated report between its markers; text outside them (an analysis by hand, other
    sections) is kept, and a section not yet in the file is appended."""
    begin, end = markers(section)
    block = f"{begin}\n{generated.rstrip()}\n{end}"
    old = path.read_text() if path.exists() else ""
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        block = head + block + rest.split(end, 1)[1]
    elif old:
        block = old.rstrip("\n") + "\n\n" + block
    path.write_text(block if block.endswith("\n") else block + "\n")


def _git(*argv: str) -> str:
    try:
        return subprocess.run(["git", *argv], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return "?"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8501", help="the running app (ignored with --start)")
    ap.add_argument("--start", action="store_true", help="start `streamlit run app.py` on a free port and stop it after")
    ap.add_argument("--server-args", default="",
                    help="extra `streamlit run` flags for --start, e.g. \"--runner.postScriptGC false\"")
    ap.add_argument("--server-pid", type=int, action="append", default=[],
                    help="server process to read RSS from (/proc); repeat for replicas")
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--retrainers", type=int, default=5, help="how many of the sessions retrain on page 3")
    ap.add_argument("--pages", nargs="+", default=["home", *PAGES[1:]], choices=list(PAGE_NAMES),
                    help="pages a browsing session visits, in order")
    ap.add_argument("--actions", type=int, default=1, help="widget changes per page visit")
    ap.add_argument("--rounds", type=int, default=1, help="passes over the pages (unless --duration)")
    ap.add_argument("--duration", type=float, default=0, help="browse in passes until this many seconds passed")
    ap.add_argument("--think", type=float, default=1.0, help="seconds between a user's steps (x0.5-1.5)")
    ap.add_argument("--ramp", type=float, default=10.0, help="sessions arrive evenly over this many seconds")
    ap.add_argument("--cd-steps", type=int, default=600, help="optimiser steps of each retrain")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds one script run may take before it is an error")
    ap.add_argument("--retrain-timeout", type=float, default=1800.0, help="seconds from Retrain to its finished page")
    ap.add_argument("--warmup", type=int, default=1,
                    help="visitors who walk every page once before the memory baseline (the first use of each page "
                    "loads its libraries and models, once per process)")
    ap.add_argument("--settle", type=float, default=150.0,
                    help="seconds to sample RSS after every session left (Streamlit keeps a closed session 120 s)")
    ap.add_argument("--reconnect", action="store_true",
                    help="browsing sessions drop their websocket once after the first page and resume the session "
                         "(an error if the server does not resume it: through replicas, the proof of stickiness)")
    ap.add_argument("--seed", type=int, default=0, help="seed of every user's random stream")
    ap.add_argument("--faults", action="store_true",
                    help="with --start: also inject a failing pooled computation, a killed training child and a junk "
                         "checkpoint (in a copy), each met by one session; the others must have 0 errors")
    ap.add_argument("--kill-after", type=float, default=3.0,
                    help="--faults: seconds the first training child runs before it is killed")
    ap.add_argument("--fault-wait", type=float, default=120.0,
                    help="--faults: seconds a faulty session waits for the page to show what went wrong")
    ap.add_argument("--long-run", action="store_true",
                    help="issue 20's scenario: the largest run, then --defaults default retrains right after")
    ap.add_argument("--long-steps", type=int, help="--long-run: steps of the long run (default: the host's limit)")
    ap.add_argument("--long-batch", type=int, help="--long-run: its batch (default: the host's limit)")
    ap.add_argument("--defaults", type=int, default=4, help="--long-run: default retrains after the long one")
    ap.add_argument("--long-gap", type=float, default=3.0, help="--long-run: seconds between the long run and them")
    ap.add_argument("--idle-runs", type=int, default=2,
                    help="--long-run: default retrains alone first; the last one's time is the idle-server time")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                    help="with --start: an environment variable of the server (e.g. CMCORE_MAX_STEPS=6000)")
    ap.add_argument("--json", help="write the full result here")
    ap.add_argument("--md", help="write a Markdown report here (e.g. bench/LOAD.md)")
    ap.add_argument("--md-section", default="", help="name of the report's section in --md (several in one file)")
    ap.add_argument("--md-title", default="", help="heading of that section")
    args = ap.parse_args(argv)
    if not 0 <= args.retrainers <= args.sessions:
        ap.error("--retrainers must be between 0 and --sessions")
    if args.faults and not args.start:
        ap.error("--faults needs --start (the server's fault hook and its copy of the checkpoints are set through "
                 "the environment it is started with)")
    if args.faults and args.sessions - args.retrainers < 3:
        ap.error("--faults needs at least 3 browsing sessions (two of them meet a fault)")
    if args.long_run:
        sys.path.insert(0, str(REPO))
        from cmcore.config import HostLimits

        env = dict(os.environ, **dict(kv.split("=", 1) for kv in args.server_env)) if args.start else os.environ
        host = HostLimits.from_env(env)
        args.long_steps = args.long_steps or host.max_steps
        args.long_batch = args.long_batch or host.max_batch
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    server, scratch, env = None, None, {}
    if args.faults:
        scratch = tempfile.TemporaryDirectory(prefix="load-faults-")
        env = fault_files(Path(scratch.name))
        print(f"faults: {env.pop('junk_file')} is junk in {env['CMCORE_CHECKPOINT_DIR']}", file=sys.stderr)
    env.update(dict(kv.split("=", 1) for kv in args.server_env))
    if args.start:
        server = Server(extra=shlex.split(args.server_args), env=env)
        print(f"started streamlit (pid {server.proc.pid}) on {server.url}; healthy after "
              f"{server.wait_healthy():.1f} s", file=sys.stderr)
        args.url = server.url
        args.server_pid = [server.proc.pid]
    try:
        result = asyncio.run((long_run if args.long_run else run)(args, args.server_pid))
    finally:
        if server is not None:
            server.stop()
        if scratch is not None:
            scratch.cleanup()
    print((long_run_report if args.long_run else text_report)(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    if args.md:
        argv_, kept = list(argv or sys.argv[1:]), []
        while argv_:  # the command without its --md* options (they name where the report goes)
            a = argv_.pop(0)
            if a.startswith("--md"):
                if "=" not in a and argv_:
                    argv_.pop(0)
                continue
            kept.append(a)
        command = "python bench/load.py " + " ".join(shlex.quote(a) for a in kept)
        title = (f"## {args.md_title}" if args.md_title else f"## {scenario_title(args)}" if args.md_section
                 else "# Load test: a class on one server")  # a section of a longer file is a second-level heading
        report = long_run_markdown if args.long_run else markdown_report
        write_md(Path(args.md), report(result, command, title), args.md_section)
    if args.long_run:
        return 1 if result["errors"] else 0
    faults_ok = result["faults"] is None or result["faults"]["all_shown_as_messages"]
    return 1 if result["errors"] or not faults_ok else 0


if __name__ == "__main__":
    sys.exit(main())
